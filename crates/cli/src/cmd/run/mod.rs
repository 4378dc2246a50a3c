//! `bpfkit run OBJ [--section S | --program NAME] --pcap IN [--out OUT]
//! [--map NAME=@FILE.json]... [--set GLOBAL=VALUE]... [--repeat N] [--json]
//! [--dump-maps] [--trace] [--kernel]`, and `bpfkit run OBJ --data HEX
//! [--ctx HEX] [--kernel]`.
//!
//! Runs an object's XDP, TC or socket filter program in the userspace
//! runtime over every frame of a pcap file (or once over one buffer, the
//! way `BPF_PROG_TEST_RUN` does): the verdict of each packet, a summary of
//! it before and after, a table of verdicts, the throughput, the packets
//! as they leave the program, the `bpf_trace_printk` output, the maps.
//! With `--kernel` the same object runs in the kernel instead, through
//! `BPF_PROG_TEST_RUN`, and prints the same lines (see [`kernel`]).

mod encode;
mod engine;
mod fill;
mod kernel;
mod summary;
mod test_run;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use bpfkit_object::kinds::ProgType;
use bpfkit_object::read::Object;
use bpfkit_vm::ctx::{SkBuff, XdpMd};
use bpfkit_vm::runtime::{verdict_name, LoadOptions, RunResult, Runtime};
use bpfkit_vm::Packet;
use pcap_file::pcap::{PcapPacket, PcapReader, PcapWriter};
use pcap_file::DataLink;
use serde_json::json;

use crate::failure::{fail, CmdResult, Failure};
use crate::files;
use engine::{maps_json, print_maps, Engine, FrameRun, UserEngine};
use fill::{fill_map, set_global};

/// Arguments of `bpfkit run`.
#[derive(clap::Args)]
pub struct Args {
    /// The BPF ELF object (clang -O2 -g -target bpf).
    object: PathBuf,
    /// Run the (first) program of this section.
    #[arg(long, conflicts_with = "program")]
    section: Option<String>,
    /// Run the program with this name.
    #[arg(long)]
    program: Option<String>,
    /// The packets: a pcap file of Ethernet frames.
    #[arg(long, required_unless_present_any = ["data", "data_file"])]
    pcap: Option<PathBuf>,
    /// Write the packets as they leave the program (every verdict but drop and aborted).
    #[arg(long, requires = "pcap")]
    out: Option<PathBuf>,
    /// Fill map NAME from a JSON file: `[{"key": K, "value": V}, ...]`, keys and values encoded through the map's BTF types.
    #[arg(long = "map", value_name = "NAME=@FILE.json")]
    maps: Vec<String>,
    /// Set a global variable (.data, .bss, .rodata) before the first run; VALUE is JSON or a plain string.
    #[arg(long = "set", value_name = "GLOBAL=VALUE")]
    sets: Vec<String>,
    /// Run the whole input this many times (throughput; per-packet output is of the first pass).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..))]
    repeat: u64,
    /// JSON Lines: one object per packet, then a summary object.
    #[arg(long)]
    json: bool,
    /// Print every map's entries at the end.
    #[arg(long)]
    dump_maps: bool,
    /// Print the program's bpf_trace_printk output.
    #[arg(long)]
    trace: bool,
    /// No per-packet lines (the table, throughput and maps only).
    #[arg(long)]
    quiet: bool,
    /// One buffer (hex) to run once, as BPF_PROG_TEST_RUN does.
    #[arg(long, conflicts_with_all = ["pcap", "data_file"])]
    data: Option<String>,
    /// One buffer from a file, as --data.
    #[arg(long, conflicts_with = "pcap")]
    data_file: Option<PathBuf>,
    /// The context for --data (hex `struct xdp_md` or `struct __sk_buff`), as BPF_PROG_TEST_RUN's ctx_in.
    #[arg(long, conflicts_with = "pcap")]
    ctx: Option<String>,
    /// Run in the kernel through BPF_PROG_TEST_RUN instead of the userspace VM (root or CAP_BPF).
    #[arg(long)]
    kernel: bool,
}

/// Runs `bpfkit run`.
pub fn run(a: Args) -> CmdResult {
    let obj = Object::open(&a.object).map_err(|e| fail(format!("{}: {e}", a.object.display())))?;
    let name = select_program(&obj, &a)?;
    if a.kernel {
        return kernel::run(obj, &name, &a);
    }
    // The whole object first, so tail calls find their targets; if another
    // program cannot load here, the chosen one alone.
    let mut rt = match Runtime::load(&obj) {
        Ok(rt) => rt,
        Err(_) => {
            let opts = LoadOptions {
                only: Some(name.clone()),
                ..LoadOptions::default()
            };
            Runtime::load_with(&obj, &opts)
                .map_err(|e| fail(format!("{}: {e}", a.object.display())))?
        }
    };
    let prog = rt.program_index(&name).ok_or_else(|| {
        fail(format!(
            "{}: program {name} did not load",
            a.object.display()
        ))
    })?;
    for spec in &a.maps {
        fill_map(&mut rt, spec)?;
    }
    for spec in &a.sets {
        set_global(&mut rt, spec)?;
    }
    if a.pcap.is_none() {
        return test_run::run(&mut rt, prog, &a);
    }
    run_pcap(&mut UserEngine { rt: &mut rt, prog }, &a)
}

/// The name of the program to run: `--program`, the first of
/// `--section`, or the object's only program.
fn select_program(obj: &Object, a: &Args) -> Result<String, Failure> {
    let names = || {
        obj.programs
            .iter()
            .map(|p| format!("{} ({})", p.name, p.section))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let found = match (&a.program, &a.section) {
        (Some(n), _) => obj.programs.iter().find(|p| &p.name == n),
        (None, Some(s)) => obj.programs.iter().find(|p| &p.section == s),
        (None, None) if obj.programs.len() == 1 => obj.programs.first(),
        (None, None) => {
            return Err(fail(format!(
                "{}: the object has {} programs; choose one with --program or --section: {}",
                a.object.display(),
                obj.programs.len(),
                names()
            )))
        }
    };
    found.map(|p| p.name.clone()).ok_or_else(|| {
        fail(format!(
            "{}: no such program; the object has: {}",
            a.object.display(),
            names()
        ))
    })
}

/// A packet and its context, built as the kernel presents a frame to a
/// program of `prog_type`.
pub(crate) enum Input {
    Xdp(Packet, XdpMd),
    Skb(Packet, Box<SkBuff>),
}

impl Input {
    pub(crate) fn new(prog_type: ProgType, frame: &[u8]) -> Input {
        if prog_type == ProgType::Xdp {
            return Input::Xdp(Packet::xdp(frame), XdpMd::default());
        }
        let skb = SkBuff {
            // skb->protocol is the EtherType in network order.
            protocol: frame
                .get(12..14)
                .map_or(0, |b| u16::from_le_bytes([b[0], b[1]]) as u32),
            wire_len: frame.len() as u32,
            ifindex: 1,
            ..SkBuff::default()
        };
        Input::Skb(Packet::new(frame, 256, 320), Box::new(skb))
    }

    pub(crate) fn run(
        &mut self,
        rt: &mut Runtime,
        prog: usize,
    ) -> Result<RunResult, bpfkit_vm::runtime::RuntimeError> {
        match self {
            Input::Xdp(p, ctx) => rt.run_xdp(prog, p, ctx),
            Input::Skb(p, skb) => rt.run_skb(prog, p, skb),
        }
    }

    pub(crate) fn packet(&self) -> &Packet {
        match self {
            Input::Xdp(p, _) | Input::Skb(p, _) => p,
        }
    }
}

/// The frame as it leaves the program, or `None` when the verdict drops it.
fn leaving(prog_type: ProgType, retval: u64, data: &[u8]) -> Option<Vec<u8>> {
    let r = retval as u32;
    match prog_type {
        ProgType::Xdp => matches!(r, 2..=4).then(|| data.to_vec()),
        ProgType::SchedCls | ProgType::SchedAct => (r != 2).then(|| data.to_vec()),
        ProgType::SocketFilter => (r != 0).then(|| data[..data.len().min(r as usize)].to_vec()),
        ProgType::CgroupSkb => (r & 1 == 1).then(|| data.to_vec()),
        _ => Some(data.to_vec()),
    }
}

fn read_pcap(path: &Path) -> Result<Vec<(Duration, Vec<u8>)>, Failure> {
    let file = std::fs::File::open(path).map_err(|e| fail(format!("{}: {e}", path.display())))?;
    let mut reader = PcapReader::new(std::io::BufReader::new(file))
        .map_err(|e| fail(format!("{}: not a pcap file: {e}", path.display())))?;
    let link = reader.header().datalink;
    if link != DataLink::ETHERNET {
        return Err(fail(format!(
            "{}: link type {link:?}: only Ethernet captures can be run",
            path.display()
        )));
    }
    let mut out = Vec::new();
    while let Some(p) = reader.next_packet() {
        let p = p.map_err(|e| fail(format!("{}: packet {}: {e}", path.display(), out.len())))?;
        out.push((p.timestamp, p.data.into_owned()));
    }
    Ok(out)
}

/// What the first pass records per packet.
struct Record {
    result: FrameRun,
    verdict: String,
    len_in: usize,
    out: Option<Vec<u8>>,
    before: String,
    after: String,
    trace: Vec<String>,
}

fn run_pcap(engine: &mut dyn Engine, a: &Args) -> CmdResult {
    let started = Instant::now();
    let pcap = a.pcap.as_deref().unwrap_or(Path::new(""));
    let frames = read_pcap(pcap)?;
    let prog_type = engine.prog_type();
    let name = engine.prog_name().to_string();
    let mut records = Vec::with_capacity(frames.len());
    let mut busy = Duration::ZERO;
    for pass in 0..a.repeat {
        for (i, (_, frame)) in frames.iter().enumerate() {
            let result = engine
                .run_frame(frame)
                .map_err(|e| fail(format!("{}: packet {i}: {e}", pcap.display())))?;
            busy += result.busy;
            if pass > 0 {
                engine.take_trace();
                continue;
            }
            let out = leaving(prog_type, result.retval, &result.data_out);
            // Summaries are only for the per-packet lines.
            let after = match &out {
                _ if a.quiet => String::new(),
                None => "(dropped)".to_string(),
                Some(o) if o == frame => "unchanged".to_string(),
                Some(o) => summary::summarize(o),
            };
            let before = if a.quiet {
                String::new()
            } else {
                summary::summarize(frame)
            };
            records.push(Record {
                verdict: verdict_name(prog_type, result.retval),
                result,
                len_in: frame.len(),
                out,
                before,
                after,
                trace: engine.take_trace(),
            });
        }
    }
    if let Some(path) = &a.out {
        write_pcap(path, &frames, &records)?;
    }
    let total = frames.len() as u64 * a.repeat;
    let pps = if busy.is_zero() {
        0.0
    } else {
        total as f64 / busy.as_secs_f64()
    };
    let wall = started.elapsed();
    let mut counts: BTreeMap<&str, u64> = BTreeMap::new();
    for r in &records {
        *counts.entry(r.verdict.as_str()).or_default() += 1;
    }
    if a.json {
        print_json(engine, a, &records, &counts, total, (busy, wall), pps);
        return Ok(ExitCode::SUCCESS);
    }
    if !a.quiet {
        for (i, r) in records.iter().enumerate() {
            let len_out = r.out.as_ref().map_or(String::new(), |o| {
                if o.len() == r.len_in {
                    String::new()
                } else {
                    format!(" -> {} B", o.len())
                }
            });
            println!(
                "{i:>5}  {:<13} {:>5} B{len_out}  {}  =>  {}",
                r.verdict, r.len_in, r.before, r.after
            );
            if let Some(t) = r.result.redirect {
                println!(
                    "       redirect to ifindex {} (flags {:#x})",
                    t.ifindex, t.flags
                );
            }
            if a.trace {
                for line in &r.trace {
                    println!("       trace: {line}");
                }
            }
        }
        println!();
    }
    println!(
        "{name} ({}), {} packets{}:",
        prog_type.name(),
        frames.len(),
        if a.repeat > 1 {
            format!(" x {} passes", a.repeat)
        } else {
            String::new()
        }
    );
    for (verdict, n) in &counts {
        println!("  {verdict:<16} {n:>8}");
    }
    println!(
        "throughput: {} packets/s {} ({total} runs in {:.3} ms); {} packets/s end to end (reading the pcap, running, printing, writing: {:.3} ms)",
        group(pps.round() as u64),
        engine.timed_where(),
        busy.as_secs_f64() * 1e3,
        group((total as f64 / wall.as_secs_f64()).round() as u64),
        wall.as_secs_f64() * 1e3
    );
    if let Some(path) = &a.out {
        let n = records.iter().filter(|r| r.out.is_some()).count();
        println!("wrote {n} packets to {}", path.display());
    }
    if a.dump_maps {
        print_maps(engine.map_dump());
    }
    Ok(ExitCode::SUCCESS)
}

/// Thousands separated by commas.
fn group(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn write_pcap(
    path: &Path,
    frames: &[(Duration, Vec<u8>)],
    records: &[Record],
) -> Result<(), Failure> {
    let mut buf = Vec::new();
    {
        let mut w =
            PcapWriter::new(&mut buf).map_err(|e| fail(format!("{}: {e}", path.display())))?;
        for ((ts, _), r) in frames.iter().zip(records) {
            if let Some(o) = &r.out {
                w.write_packet(&PcapPacket::new(*ts, o.len() as u32, o))
                    .map_err(|e| fail(format!("{}: {e}", path.display())))?;
            }
        }
    }
    files::write_atomic(path, &buf)
}

fn print_json(
    engine: &dyn Engine,
    a: &Args,
    records: &[Record],
    counts: &BTreeMap<&str, u64>,
    total: u64,
    (busy, wall): (Duration, Duration),
    pps: f64,
) {
    if !a.quiet {
        for (i, r) in records.iter().enumerate() {
            let mut o = json!({
                "index": i,
                "verdict": r.verdict,
                "retval": r.result.retval,
                "len_in": r.len_in,
                "len_out": r.out.as_ref().map(Vec::len),
                "before": r.before,
                "after": r.after,
            });
            if let Some(n) = r.result.insn_count {
                o["insn_count"] = json!(n);
            }
            if let Some(t) = r.result.redirect {
                o["redirect"] = json!({"ifindex": t.ifindex, "flags": t.flags});
            }
            if a.trace {
                o["trace"] = json!(r.trace);
            }
            println!("{o}");
        }
    }
    let mut summary = json!({
        "summary": {
            "engine": engine.engine_name(),
            "packets": records.len(),
            "repeat": a.repeat,
            "runs": total,
            "verdicts": counts,
            "seconds": busy.as_secs_f64(),
            "packets_per_second": pps,
            "wall_seconds": wall.as_secs_f64(),
        }
    });
    if a.dump_maps {
        summary["summary"]["maps"] = maps_json(engine.map_dump());
    }
    println!("{summary}");
}
