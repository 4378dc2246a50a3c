//! `bpfkit run --kernel`: the object loaded by bpfkit's own loader and
//! each frame run through `BPF_PROG_TEST_RUN`, with the output of the
//! userspace path, so that the two can be diffed.
//!
//! What differs from the userspace run, and why:
//! - `--set` writes the initial bytes of the global's map in a copy of
//!   the object before the load: `.rodata` is frozen once loaded, as a
//!   libbpf skeleton's rodata is written before `bpf_object__load`;
//! - no pins: every map is created with its pinning cleared, so nothing
//!   is reused from or left on bpffs; every descriptor closes when the
//!   command ends;
//! - the throughput is the kernel's (the sum of the test runs'
//!   `duration`), and `insn_count` is absent (the kernel does not count);
//! - the test runs run on CPU 0 (the thread is pinned there), the CPU
//!   the userspace runtime models, and per-CPU maps are dumped for it;
//!   `--map` writes a per-CPU value to every CPU;
//! - `--trace` is refused: `bpf_trace_printk` writes to the kernel's one
//!   global trace_pipe, which other programs share;
//! - the kernel's test run does not report a `bpf_redirect` target, and
//!   starts a socket filter at the network header (its `data_out` has the
//!   Ethernet header zeroed), where the userspace run gives a packet
//!   socket's view from the Ethernet header.

use std::os::fd::AsFd;
use std::process::ExitCode;
use std::time::Duration;

use bpfkit_kernel::loader::{self, LoadError, LoadOptions, LoadedObject};
use bpfkit_kernel::test_run::TestRun;
use bpfkit_object::kinds::ProgType;
use bpfkit_object::read::{MapDef, Object, Pinning};
use bpfkit_vm::runtime::verdict_name;
use serde_json::json;

use super::engine::{dump_one, maps_json, print_maps, Engine, FrameRun, MapDump};
use super::fill::{map_def, GlobalSet, MapFill};
use super::{encode, run_pcap, Args};
use crate::failure::{fail, CmdResult, Failure};
use crate::{files, hex};

const EPERM: i32 = 1;

/// The object in the kernel with the program to run.
struct KernelEngine {
    obj: Object,
    loaded: LoadedObject,
    name: String,
    prog_type: ProgType,
}

/// Runs `bpfkit run --kernel` on program `name` of `obj`.
pub(super) fn run(mut obj: Object, name: &str, a: &Args) -> CmdResult {
    if a.trace {
        return Err(fail(
            "--trace is not available with --kernel: bpf_trace_printk writes to the kernel's global trace_pipe, which bpfkit does not read",
        ));
    }
    for def in &mut obj.maps {
        unpin(def);
    }
    for spec in &a.sets {
        let set = GlobalSet::parse(obj.maps.iter(), obj.btf.as_ref(), spec)?;
        set_initial(&mut obj, &set)?;
    }
    let opts = LoadOptions {
        keep_going: true,
        ..LoadOptions::default()
    };
    let object = a.object.display();
    let mut loaded = loader::load(&obj, &opts).map_err(|e| load_failure(&object, e))?;
    let at = loaded
        .programs
        .iter()
        .position(|p| p.name == name)
        .ok_or_else(|| {
            fail(format!(
                "{object}: program {name} is not loaded automatically"
            ))
        })?;
    let prog_type = loaded.programs[at].load_type.prog_type;
    if loaded.programs[at].result.is_err() {
        if let Err(e) = loaded.programs.swap_remove(at).result {
            return Err(load_failure(&object, e));
        }
    }
    if !loaded.pins.is_empty() {
        // Pinning was cleared above; a pin here would outlive the command.
        loaded.unpin();
        return Err(fail(format!(
            "{object}: the loader pinned maps although pinning was cleared"
        )));
    }
    // Per-CPU state and bpf_get_smp_processor_id() as in the userspace
    // runtime, which models CPU 0.
    bpfkit_kernel::run_on_cpu(0).map_err(|e| fail(format!("--kernel: {e}")))?;
    let mut engine = KernelEngine {
        obj,
        loaded,
        name: name.to_string(),
        prog_type,
    };
    for spec in &a.maps {
        engine.fill_map(spec)?;
    }
    if a.pcap.is_none() {
        return engine.run_data(a);
    }
    run_pcap(&mut engine, a)
}

fn unpin(def: &mut MapDef) {
    def.pinning = Pinning::None;
    if let Some(inner) = &mut def.inner {
        unpin(inner);
    }
}

/// Writes a `--set` value into the initial bytes of its map.
fn set_initial(obj: &mut Object, set: &GlobalSet) -> Result<(), Failure> {
    let def = obj
        .maps
        .iter_mut()
        .find(|d| d.name == set.map)
        .ok_or_else(|| fail(format!("--set {}: no map {}", set.name, set.map)))?;
    let size = def.value_size as usize;
    let data = def.data.get_or_insert_with(|| vec![0; size]);
    let end = set.offset + set.bytes.len();
    if end > size {
        return Err(fail(format!(
            "--set {}: lies outside map {} ({size} bytes)",
            set.name, set.map
        )));
    }
    data.resize(data.len().max(end), 0);
    data[set.offset..end].copy_from_slice(&set.bytes);
    Ok(())
}

fn load_failure(object: &dyn std::fmt::Display, e: LoadError) -> Failure {
    if e.errno() == Some(EPERM) {
        return fail(format!(
            "{object}: --kernel needs root (or CAP_BPF with CAP_NET_ADMIN): {e}"
        ));
    }
    match e {
        LoadError::Rejected(r) => fail(r.render().trim_end()),
        e => fail(format!("{object}: {e}")),
    }
}

fn run_failure(e: bpfkit_kernel::Error) -> String {
    if e.errno() == Some(EPERM) {
        format!("BPF_PROG_TEST_RUN needs root (or CAP_BPF with CAP_NET_ADMIN): {e}")
    } else {
        e.to_string()
    }
}

fn hex_text(b: &[u8]) -> String {
    encode::hex(b).as_str().unwrap_or_default().to_string()
}

/// The context a frame gets when none is given: for XDP a `struct xdp_md`
/// whose `data_end` is the frame's length (so `ctx_out` tells where the
/// data starts after `bpf_xdp_adjust_meta`), for skb programs an empty
/// `struct __sk_buff` (the kernel then takes `wire_len` from the length).
fn default_ctx(prog_type: ProgType, len: usize) -> Vec<u8> {
    if prog_type == ProgType::Xdp {
        let mut ctx = vec![0u8; 24];
        ctx[4..8].copy_from_slice(&(len as u32).to_le_bytes());
        ctx
    } else {
        vec![0u8; 192]
    }
}

impl KernelEngine {
    fn fill_map(&mut self, spec: &str) -> Result<(), Failure> {
        let fill = MapFill::parse(spec)?;
        let def = map_def(self.obj.maps.iter(), &fill.name)?;
        let cpus = bpfkit_kernel::possible_cpus().unwrap_or(1);
        let entries = fill.encode(self.obj.btf.as_ref(), def, cpus)?;
        let map = self
            .loaded
            .map(&fill.name)
            .ok_or_else(|| fail(format!("--map: map {} was not created", fill.name)))?;
        for (i, (key, value)) in entries.iter().enumerate() {
            map.update_elem(key, value, 0)
                .map_err(|e| fill.failed(i, e))?;
        }
        Ok(())
    }

    fn test_run(
        &self,
        run: &TestRun<'_>,
    ) -> Result<bpfkit_kernel::test_run::TestRunResult, String> {
        let prog = self
            .loaded
            .program(&self.name)
            .ok_or_else(|| format!("program {} is not loaded", self.name))?;
        run.run(prog.as_fd()).map_err(run_failure)
    }

    /// `--data` with `--kernel`: one `BPF_PROG_TEST_RUN` with `--repeat`,
    /// printed as the userspace `--data` run prints.
    fn run_data(&self, a: &Args) -> CmdResult {
        let data = match (&a.data, &a.data_file) {
            (Some(h), _) => hex::parse_hex(h).map_err(|e| fail(format!("--data: {e}")))?,
            (None, Some(p)) => files::read(p)?,
            (None, None) => return Err(fail("give --pcap, --data or --data-file")),
        };
        let ctx = match &a.ctx {
            Some(h) => hex::parse_hex(h).map_err(|e| fail(format!("--ctx: {e}")))?,
            None => default_ctx(self.prog_type, data.len()),
        };
        let repeat = u32::try_from(a.repeat).map_err(|_| {
            fail(format!(
                "--repeat {}: the kernel takes at most {}",
                a.repeat,
                u32::MAX
            ))
        })?;
        let out = self
            .test_run(&TestRun {
                data_in: &data,
                ctx_in: Some(&ctx),
                repeat,
                ..TestRun::default()
            })
            .map_err(|e| fail(format!("{}: {e}", a.object.display())))?;
        let retval = out.retval as u64;
        let verdict = verdict_name(self.prog_type, retval);
        if a.json {
            let mut v = json!({
                "retval": retval,
                "verdict": verdict,
                "duration": out.duration_ns,
                "data_out": hex_text(&out.data_out),
                "ctx_out": hex_text(&out.ctx_out),
            });
            if a.dump_maps {
                v["maps"] = maps_json(self.map_dump());
            }
            println!("{v}");
        } else {
            println!("retval: {retval} ({verdict})");
            println!("duration: {} ns (the kernel's)", out.duration_ns);
            println!(
                "data_out ({} bytes): {}",
                out.data_out.len(),
                hex_text(&out.data_out)
            );
            println!("ctx_out: {}", hex_text(&out.ctx_out));
            if a.dump_maps {
                print_maps(self.map_dump());
            }
        }
        Ok(ExitCode::SUCCESS)
    }
}

impl Engine for KernelEngine {
    fn prog_name(&self) -> &str {
        &self.name
    }

    fn prog_type(&self) -> ProgType {
        self.prog_type
    }

    fn run_frame(&mut self, frame: &[u8]) -> Result<FrameRun, String> {
        let ctx = default_ctx(self.prog_type, frame.len());
        let out = self
            .test_run(&TestRun {
                data_in: frame,
                ctx_in: Some(&ctx),
                repeat: 1,
                ..TestRun::default()
            })
            .map_err(|e| {
                // A frame the userspace runtime takes can be one the kernel's
                // test run refuses (an skb with a truncated IPv4 header).
                if e.contains("EINVAL") {
                    format!(
                        "{e}: the kernel's test run refuses this {}-byte frame",
                        frame.len()
                    )
                } else {
                    e
                }
            })?;
        let mut data_out = out.data_out;
        if self.prog_type == ProgType::Xdp {
            // data_out runs from data_meta; xdp_md.data is where the
            // packet starts, as the userspace run reports it.
            let meta = out
                .ctx_out
                .get(..4)
                .map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize);
            data_out.drain(..meta.min(data_out.len()));
        }
        Ok(FrameRun {
            retval: out.retval as u64,
            insn_count: None,
            redirect: None,
            data_out,
            busy: Duration::from_nanos(out.duration_ns as u64),
        })
    }

    fn take_trace(&mut self) -> Vec<String> {
        Vec::new()
    }

    fn map_dump(&self) -> Vec<MapDump> {
        let btf = self.obj.btf.as_ref();
        self.obj
            .maps
            .iter()
            .filter_map(|def| Some(dump_one(btf, def, self.loaded.map(&def.name)?)))
            .collect()
    }

    fn engine_name(&self) -> &'static str {
        "kernel"
    }

    fn timed_where(&self) -> &'static str {
        "in the kernel, by BPF_PROG_TEST_RUN's duration"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(path: &str) -> Object {
        Object::open(format!("{}/../../{path}", env!("CARGO_MANIFEST_DIR"))).unwrap()
    }

    #[test]
    fn set_writes_the_initial_bytes_of_rodata_before_the_load() {
        let mut obj = object("crates/object/tests/fixtures/global_data.o");
        let set =
            GlobalSet::parse(obj.maps.iter(), obj.btf.as_ref(), "cfg_sample_rate=1000").unwrap();
        set_initial(&mut obj, &set).unwrap();
        let def = obj.maps.iter().find(|d| d.name == set.map).unwrap();
        assert!(def.frozen, "{} is .rodata", def.name);
        let data = def.data.as_ref().unwrap();
        assert_eq!(
            &data[set.offset..set.offset + 4],
            &1000u32.to_le_bytes(),
            "{}",
            def.name
        );
        let outside = GlobalSet {
            name: "x".into(),
            map: set.map.clone(),
            offset: def.value_size as usize,
            bytes: vec![1],
        };
        let e = set_initial(&mut obj, &outside).unwrap_err();
        assert!(e.to_string().contains("lies outside map"), "{e}");
    }

    #[test]
    fn pinning_is_cleared_so_nothing_is_pinned() {
        let mut obj = object("crates/object/tests/fixtures/tc_classify.o");
        let flows = |o: &Object| {
            o.maps
                .iter()
                .find(|d| d.name == "fx_tc_flows")
                .unwrap()
                .pinning
        };
        assert_eq!(flows(&obj), Pinning::ByName);
        for def in &mut obj.maps {
            unpin(def);
        }
        assert_eq!(flows(&obj), Pinning::None);
    }

    #[test]
    fn the_default_xdp_context_ends_at_the_frame() {
        let ctx = default_ctx(ProgType::Xdp, 60);
        assert_eq!(ctx.len(), 24);
        assert_eq!(&ctx[4..8], &60u32.to_le_bytes());
        assert_eq!(default_ctx(ProgType::SchedCls, 60), vec![0u8; 192]);
    }
}
