//! What runs the frames of `bpfkit run`: the userspace runtime, or the
//! kernel through `BPF_PROG_TEST_RUN` (`--kernel`, in [`super::kernel`]).
//! Both give the same per-frame record, so the per-packet lines, the
//! verdict table, the output pcap and the map dump are printed by one
//! code path and the two engines' outputs can be diffed.

use std::time::{Duration, Instant};

use bpfkit_object::btf::Btf;
use bpfkit_object::kinds::{MapType, ProgType};
use bpfkit_object::map::Map;
use bpfkit_object::read::MapDef;
use bpfkit_vm::runtime::{Redirect, Runtime};
use serde_json::{json, Value};

use super::{encode, Input};

/// What one run of the program over one frame gave.
pub(crate) struct FrameRun {
    /// The program's return value.
    pub retval: u64,
    /// Instructions executed (the userspace VM counts them; the kernel does not).
    pub insn_count: Option<u64>,
    /// Where `bpf_redirect` sent the packet (the kernel's test run does not say).
    pub redirect: Option<Redirect>,
    /// The packet as the program left it.
    pub data_out: Vec<u8>,
    /// Time spent running the program.
    pub busy: Duration,
}

/// A loaded program that runs frames, and the maps it sees.
pub(crate) trait Engine {
    /// The program's name.
    fn prog_name(&self) -> &str;
    /// The program's type.
    fn prog_type(&self) -> ProgType;
    /// Runs the program once over `frame`, presented as the kernel
    /// presents a frame to a program of its type.
    fn run_frame(&mut self, frame: &[u8]) -> Result<FrameRun, String>;
    /// The `bpf_trace_printk` lines since the last call.
    fn take_trace(&mut self) -> Vec<String>;
    /// Every map's entries, decoded through BTF.
    fn map_dump(&self) -> Vec<MapDump>;
    /// `userspace` or `kernel`, for the JSON summary.
    fn engine_name(&self) -> &'static str;
    /// Where [`FrameRun::busy`] comes from, for the throughput line.
    fn timed_where(&self) -> &'static str;
}

/// Every map of the userspace runtime `rt`, decoded through BTF.
pub(crate) fn runtime_maps(rt: &Runtime) -> Vec<MapDump> {
    let btf = rt.btf();
    rt.map_defs()
        .filter_map(|(def, _)| {
            let map = rt.map(&def.name).ok()?;
            Some(dump_one(btf, def, map))
        })
        .collect()
}

/// `--dump-maps` as text: a blank line, then each map's name, type and
/// entries.
pub(crate) fn print_maps(dumps: Vec<MapDump>) {
    println!();
    for MapDump {
        name,
        kind,
        entries,
    } in dumps
    {
        println!("map {name} ({kind}), {} entries", entries.len());
        for (k, v) in entries {
            println!("  {k} => {v}");
        }
    }
}

/// `--dump-maps` in JSON: `[{"name", "type", "entries": [{"key", "value"}]}]`.
pub(crate) fn maps_json(dumps: Vec<MapDump>) -> Value {
    dumps
        .into_iter()
        .map(|MapDump { name, kind, entries }| {
            json!({
                "name": name,
                "type": kind,
                "entries": entries.into_iter().map(|(k, v)| json!({"key": k, "value": v})).collect::<Vec<_>>(),
            })
        })
        .collect()
}

/// One map's name, type name, and entries decoded through BTF.
pub(crate) struct MapDump {
    pub name: String,
    pub kind: String,
    pub entries: Vec<(Value, Value)>,
}

/// The dump of `map` (of definition `def`): keys and values decoded
/// through BTF. A per-CPU value that crosses the syscall once per CPU
/// is shown for CPU 0, the one CPU the userspace runtime models and the
/// CPU the kernel engine runs on. Hash maps are listed in the order of
/// their key bytes: the kernel's order and the userspace maps' differ,
/// and the two engines' dumps should diff clean.
pub(crate) fn dump_one(btf: Option<&Btf>, def: &MapDef, map: &dyn Map) -> MapDump {
    let kind = def
        .map_type
        .map_or("unknown".to_string(), |t| t.name().to_string());
    let per_cpu = matches!(
        def.map_type,
        Some(MapType::PercpuArray | MapType::PercpuHash | MapType::LruPercpuHash)
    );
    let slot = (def.value_size as usize).div_ceil(8) * 8;
    let mut raw = bpfkit_object::map::entries(map).unwrap_or_default();
    let hashed = matches!(
        def.map_type,
        Some(MapType::Hash | MapType::LruHash | MapType::PercpuHash | MapType::LruPercpuHash)
    );
    if hashed {
        raw.sort_by(|a, b| a.0.cmp(&b.0));
    }
    let entries = raw
        .into_iter()
        .map(|(k, v)| {
            let cpu0 = if per_cpu {
                &v[..slot.min(v.len())]
            } else {
                &v[..]
            };
            (
                encode::decode(btf, def.key_type, &k),
                encode::decode(btf, def.value_type, cpu0),
            )
        })
        .collect();
    MapDump {
        name: def.name.clone(),
        kind,
        entries,
    }
}

/// The userspace runtime running program `prog`.
pub(crate) struct UserEngine<'a> {
    pub rt: &'a mut Runtime,
    pub prog: usize,
}

impl Engine for UserEngine<'_> {
    fn prog_name(&self) -> &str {
        &self.rt.programs()[self.prog].name
    }

    fn prog_type(&self) -> ProgType {
        self.rt.programs()[self.prog].prog_type
    }

    fn run_frame(&mut self, frame: &[u8]) -> Result<FrameRun, String> {
        let mut input = Input::new(self.prog_type(), frame);
        let t = Instant::now();
        let result = input.run(self.rt, self.prog);
        let busy = t.elapsed();
        let result = result.map_err(|e| e.to_string())?;
        Ok(FrameRun {
            retval: result.retval,
            insn_count: Some(result.insn_count),
            redirect: result.redirect,
            data_out: input.packet().data().to_vec(),
            busy,
        })
    }

    fn take_trace(&mut self) -> Vec<String> {
        self.rt.take_trace()
    }

    fn map_dump(&self) -> Vec<MapDump> {
        runtime_maps(self.rt)
    }

    fn engine_name(&self) -> &'static str {
        "userspace"
    }

    fn timed_where(&self) -> &'static str {
        "in the program"
    }
}
