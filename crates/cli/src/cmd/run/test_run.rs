//! `bpfkit run OBJ --data HEX [--ctx HEX] [--repeat N]`: one buffer run
//! the way `BPF_PROG_TEST_RUN` runs it (net/bpf/test_run.c): the context
//! taken from `ctx_in` with the kernel's checks, and `data_out`,
//! `ctx_out`, `retval` and the mean `duration` reported.
//!
//! XDP: `ctx_in` is a `struct xdp_md` whose `data` is the length of the
//! metadata at the start of the buffer and `data_end` the buffer's length
//! (`data_meta` and `egress_ifindex` 0); `data_out` runs from `data_meta`.
//! skb programs ([`SkbTestRun`]): `ctx_in` is a `struct __sk_buff` in
//! which only `mark`, `priority`, `ingress_ifindex`, `ifindex` (lo's, 1),
//! `cb`, `tstamp`, `wire_len`, `gso_segs`, `gso_size` and `hwtstamp` may
//! be set. Socket filter and cgroup skb programs start at the network
//! header, as in the kernel's test run (LD_ABS offset 0 is the IP header,
//! `len` leaves out the Ethernet header), and their `data_out` begins with
//! a zeroed Ethernet header. This differs from `--pcap`, where a socket
//! filter sees the frame from its Ethernet header, as on a packet socket.

use std::process::ExitCode;
use std::time::Instant;

use bpfkit_object::kinds::ProgType;
use bpfkit_vm::ctx::{SkbKind, SkbTestRun, XdpMd};
use bpfkit_vm::runtime::{verdict_name, Runtime};
use bpfkit_vm::Packet;
use serde_json::json;

use super::engine::{maps_json, print_maps, runtime_maps};
use super::Args;
use crate::failure::{fail, CmdResult, Failure};
use crate::{files, hex};

fn le32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn hex_text(b: &[u8]) -> String {
    b.iter()
        .map(|x| format!("{x:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The XDP input from `ctx_in` (`xdp_convert_md_to_buff`'s checks).
fn xdp_input(data: &[u8], ctx: &[u8]) -> Result<(Packet, XdpMd), Failure> {
    if ctx.len() != 24 {
        return Err(fail(format!(
            "--ctx: struct xdp_md is 24 bytes, got {}",
            ctx.len()
        )));
    }
    let (meta, end, data_meta) = (le32(ctx, 0) as usize, le32(ctx, 4) as usize, le32(ctx, 8));
    let md = XdpMd {
        ingress_ifindex: le32(ctx, 12),
        rx_queue_index: le32(ctx, 16),
        ..XdpMd::default()
    };
    if data_meta != 0 || end != data.len() || meta > end || meta % 4 != 0 || meta > 255 {
        return Err(fail(format!(
            "--ctx: EINVAL: xdp_md needs data_meta 0, data_end = the data's length ({}), data (the metadata length) a multiple of 4 up to 252 and at most data_end",
            data.len()
        )));
    }
    if le32(ctx, 20) != 0 {
        return Err(fail("--ctx: EINVAL: egress_ifindex must be 0"));
    }
    if md.ingress_ifindex == 0 && md.rx_queue_index != 0 {
        return Err(fail(
            "--ctx: EINVAL: rx_queue_index needs an ingress_ifindex",
        ));
    }
    // The metadata sits before data, inside the headroom.
    Ok((Packet::xdp_with_meta(&data[..meta], &data[meta..]), md))
}

/// `ctx_out` as `xdp_convert_buff_to_md` writes it.
fn xdp_ctx_out(p: &Packet, md: &XdpMd) -> Vec<u8> {
    let w = p.window();
    let mut o = Vec::with_capacity(24);
    for v in [
        (w.data - w.meta) as u32,
        (w.end - w.meta) as u32,
        0,
        md.ingress_ifindex,
        md.rx_queue_index,
        0,
    ] {
        o.extend_from_slice(&v.to_le_bytes());
    }
    o
}

/// What one test run hands back.
struct Outcome {
    retval: u64,
    insn_count: u64,
    data_out: Vec<u8>,
    ctx_out: Vec<u8>,
    /// Mean time per run, in nanoseconds.
    duration: u64,
}

/// An XDP program: a fresh frame per repetition.
fn run_xdp(
    rt: &mut Runtime,
    prog: usize,
    a: &Args,
    data: &[u8],
    ctx: Option<&[u8]>,
) -> Result<Outcome, Failure> {
    if data.len() < 14 {
        return Err(fail(format!(
            "--data: EINVAL: {} bytes, under an Ethernet header (14), which the kernel's test run refuses",
            data.len()
        )));
    }
    let mut total = std::time::Duration::ZERO;
    let mut last = None;
    for _ in 0..a.repeat {
        let (mut p, mut md) = match ctx {
            Some(c) => xdp_input(data, c)?,
            None => (Packet::xdp(data), XdpMd::default()),
        };
        let t = Instant::now();
        let r = rt.run_xdp(prog, &mut p, &mut md);
        total += t.elapsed();
        let r = r.map_err(|e| fail(format!("{}: {e}", a.object.display())))?;
        last = Some((p, md, r));
    }
    let Some((p, md, r)) = last else {
        return Err(fail("--repeat must be at least 1"));
    };
    Ok(Outcome {
        retval: r.retval,
        insn_count: r.insn_count,
        data_out: [p.meta(), p.data()].concat(),
        ctx_out: xdp_ctx_out(&p, &md),
        duration: total.as_nanos() as u64 / a.repeat.max(1),
    })
}

/// An skb program: one skb built as `bpf_prog_test_run_skb` builds it,
/// run `--repeat` times over (the kernel does not rebuild it either).
/// Without `--ctx` the run is the kernel's with a zeroed `ctx_in` (what
/// asking for `ctx_out` alone gives), so that `ctx_out` can be shown.
fn run_skb(
    rt: &mut Runtime,
    prog: usize,
    a: &Args,
    data: &[u8],
    ctx: Option<&[u8]>,
) -> Result<Outcome, Failure> {
    let kind = match rt.programs()[prog].prog_type {
        ProgType::SocketFilter => SkbKind::SocketFilter,
        ProgType::CgroupSkb => SkbKind::CgroupSkb,
        _ => SkbKind::Tc,
    };
    let mut t = SkbTestRun::new(kind, data, Some(ctx.unwrap_or(&[])))
        .map_err(|e| fail(format!("--data/--ctx: {e}")))?;
    let mut total = std::time::Duration::ZERO;
    let mut last = None;
    for _ in 0..a.repeat {
        let start = Instant::now();
        let r = rt.run_skb(prog, &mut t.packet, &mut t.skb);
        total += start.elapsed();
        last = Some(r.map_err(|e| fail(format!("{}: {e}", a.object.display())))?);
    }
    let Some(r) = last else {
        return Err(fail("--repeat must be at least 1"));
    };
    Ok(Outcome {
        retval: r.retval,
        insn_count: r.insn_count,
        data_out: t.data_out(),
        ctx_out: t.ctx_out().unwrap_or_default(),
        duration: total.as_nanos() as u64 / a.repeat.max(1),
    })
}

/// Runs the `--data` mode.
pub(super) fn run(rt: &mut Runtime, prog: usize, a: &Args) -> CmdResult {
    let data = match (&a.data, &a.data_file) {
        (Some(h), _) => hex::parse_hex(h).map_err(|e| fail(format!("--data: {e}")))?,
        (None, Some(p)) => files::read(p)?,
        (None, None) => return Err(fail("give --pcap, --data or --data-file")),
    };
    let ctx = a
        .ctx
        .as_deref()
        .map(|h| hex::parse_hex(h).map_err(|e| fail(format!("--ctx: {e}"))))
        .transpose()?;
    let prog_type = rt.programs()[prog].prog_type;
    let o = if prog_type == ProgType::Xdp {
        run_xdp(rt, prog, a, &data, ctx.as_deref())?
    } else {
        run_skb(rt, prog, a, &data, ctx.as_deref())?
    };
    let trace = rt.take_trace();
    if a.json {
        let mut out = json!({
            "retval": o.retval,
            "verdict": verdict_name(prog_type, o.retval),
            "duration": o.duration,
            "data_out": hex_text(&o.data_out),
            "ctx_out": hex_text(&o.ctx_out),
            "insn_count": o.insn_count,
            "trace": trace,
        });
        if a.dump_maps {
            out["maps"] = maps_json(runtime_maps(rt));
        }
        println!("{out}");
    } else {
        println!(
            "retval: {} ({})",
            o.retval,
            verdict_name(prog_type, o.retval)
        );
        println!("duration: {} ns", o.duration);
        println!(
            "data_out ({} bytes): {}",
            o.data_out.len(),
            hex_text(&o.data_out)
        );
        println!("ctx_out: {}", hex_text(&o.ctx_out));
        if a.trace {
            for line in trace {
                println!("trace: {line}");
            }
        }
        if a.dump_maps {
            print_maps(runtime_maps(rt));
        }
    }
    Ok(ExitCode::SUCCESS)
}
