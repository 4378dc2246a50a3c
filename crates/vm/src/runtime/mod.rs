//! Running clang-compiled objects as the kernel runs them.
//!
//! [`Runtime::load`] does what libbpf and the kernel do when an object is
//! loaded: it creates the object's maps (see [`load`]), resolves every
//! program's map references, and gives each program the helpers its type
//! may call (a program calling any other helper is refused here, with
//! the helper's name). Then the caller fills maps and globals, runs
//! packets through a program, and reads the maps back.
//!
//! ```
//! use bpfkit_object::read::Object;
//! use bpfkit_vm::ctx::XdpMd;
//! use bpfkit_vm::runtime::Runtime;
//! use bpfkit_vm::Packet;
//!
//! let obj = Object::open(concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/mplex/mplex.o")).unwrap();
//! let mut rt = Runtime::load(&obj).unwrap();
//! // tag "600" -> port 5001 (the map's key is struct tag { char id[3]; })
//! rt.map_update("tags", b"600", &5001u16.to_le_bytes()).unwrap();
//! let prog = rt.program_index("mplex").unwrap();
//! // A frame too short for an Ethernet header passes untouched.
//! let mut packet = Packet::xdp(&[0u8; 10]);
//! let out = rt.run_xdp(prog, &mut packet, &mut XdpMd::default()).unwrap();
//! assert_eq!(out.retval, 2); // XDP_PASS
//! ```
//!
//! Map values are program memory in place ([`map_values`](crate::map_values)):
//! a pointer from `bpf_map_lookup_elem` and a direct `.data` access read and
//! write the map's storage, so what a program writes is what
//! [`Runtime::map_lookup`] returns.

pub mod env;
mod error;
pub mod helpers;
pub mod load;
mod verdict;

pub use env::{Clock, Env, Prandom, Redirect, Task};
pub use error::RuntimeError;
pub use load::LoadOptions;
pub use verdict::verdict_name;

use bpfkit_object::kinds::ProgType;
use bpfkit_object::map::Map;
use bpfkit_object::read::{MapDef, Object};

use crate::ctx::{Context, SkBuff, SkbKind, SkbTestRun, XdpMd};
use crate::map_values::MapValues;
use crate::maps::UserMap;
use crate::{Packet, Vm};

/// The verifier's `may_access_skb`: only socket filter and TC programs
/// may use the classic packet loads (`LD_ABS`, `LD_IND`).
fn refuse_classic_loads(
    p: &bpfkit_object::read::Program,
    prog_type: ProgType,
) -> Result<(), RuntimeError> {
    if matches!(
        prog_type,
        ProgType::SocketFilter | ProgType::SchedCls | ProgType::SchedAct
    ) {
        return Ok(());
    }
    let at = p
        .insns
        .instructions()
        .iter()
        .find(|(_, i)| matches!(i, bpfkit_isa::Instruction::LoadPacket { .. }));
    match at {
        Some(&(pc, _)) => Err(RuntimeError::Unsupported {
            program: p.name.clone(),
            pc,
            message: format!(
                "BPF_LD_[ABS|IND] instructions not allowed for {} programs",
                prog_type.name()
            ),
        }),
        None => Ok(()),
    }
}

/// One program of the object, ready to run.
#[derive(Debug, Clone)]
pub struct LoadedProgram {
    /// The program's name (its symbol).
    pub name: String,
    /// Its ELF section.
    pub section: String,
    /// Its type, from the section name.
    pub prog_type: ProgType,
    vm: Vm,
}

impl LoadedProgram {
    /// The program's VM (budget, stack clearing).
    pub fn vm_mut(&mut self) -> &mut Vm {
        &mut self.vm
    }
}

/// What one run of a program gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunResult {
    /// The program's return value (r0): an XDP action, a TC action, a
    /// socket filter's length.
    pub retval: u64,
    /// Instructions executed.
    pub insn_count: u64,
    /// Where `bpf_redirect` asked the packet to go, in this run.
    pub redirect: Option<Redirect>,
}

/// An object's maps and programs in userspace.
#[derive(Debug, Clone)]
pub struct Runtime {
    env: Env,
    /// The object's map definitions with their registry ids, in order.
    maps: Vec<(MapDef, u32)>,
    programs: Vec<LoadedProgram>,
    btf: Option<bpfkit_object::btf::Btf>,
}

impl Runtime {
    /// Loads every program of `obj` with the default [`LoadOptions`].
    pub fn load(obj: &Object) -> Result<Runtime, RuntimeError> {
        Runtime::load_with(obj, &LoadOptions::default())
    }

    /// Loads every program of `obj`: the maps are created and filled as
    /// libbpf does, each program's map references resolved, its helpers
    /// checked against what its type may call.
    pub fn load_with(obj: &Object, opts: &LoadOptions) -> Result<Runtime, RuntimeError> {
        let mut values = MapValues::default();
        let ids = load::create_maps(obj, opts, &mut values)?;
        let mut programs = Vec::with_capacity(obj.programs.len());
        if let Some(name) = &opts.only {
            if obj.program(name).is_none() {
                return Err(RuntimeError::NotFound {
                    what: "program",
                    name: name.clone(),
                });
            }
        }
        let selected = obj
            .programs
            .iter()
            .filter(|p| opts.only.as_ref().map_or(true, |n| &p.name == n));
        for p in selected {
            let lddw = load::resolve_lddw(obj, p, &ids, &mut values)?;
            let load_err = |source| RuntimeError::Load {
                program: p.name.clone(),
                section: p.section.clone(),
                source,
            };
            let prog_type = p.section_type.prog_type;
            refuse_classic_loads(p, prog_type)?;
            let mut vm = Vm::with_lddw_values(&p.insns, &lddw).map_err(load_err)?;
            vm.set_helpers(helpers::helpers_for(prog_type));
            vm.resolve_helpers().map_err(load_err)?;
            programs.push(LoadedProgram {
                name: p.name.clone(),
                section: p.section.clone(),
                prog_type,
                vm,
            });
        }
        // Prog array slots the object fills (`.values = { [0] = &prog }`).
        for (def, &id) in obj.maps.iter().zip(&ids) {
            for slot in &def.initial_slots {
                let bpfkit_object::read::InitialTarget::Program(name) = &slot.target else {
                    continue;
                };
                let Some(i) = programs.iter().position(|p| &p.name == name) else {
                    continue; // not loaded (LoadOptions::only)
                };
                if let Some(map) = values.registry_mut().get_mut(id) {
                    map.update(
                        &slot.index.to_le_bytes(),
                        &Runtime::program_id(i).to_le_bytes(),
                        0,
                    )
                    .map_err(|e| RuntimeError::Map {
                        map: def.name.clone(),
                        message: format!("initial slot {} ({name}): {e}", slot.index),
                    })?;
                }
            }
        }
        Ok(Runtime {
            env: Env::new(values),
            maps: obj.maps.iter().cloned().zip(ids).collect(),
            programs,
            btf: obj.btf.clone(),
        })
    }

    /// The loaded programs, in the object's order.
    pub fn programs(&self) -> &[LoadedProgram] {
        &self.programs
    }

    /// A program, to configure its VM.
    pub fn program_mut(&mut self, index: usize) -> Option<&mut LoadedProgram> {
        self.programs.get_mut(index)
    }

    /// The index of the program named `name`.
    pub fn program_index(&self, name: &str) -> Option<usize> {
        self.programs.iter().position(|p| p.name == name)
    }

    /// The index of the first program in section `section`.
    pub fn program_in_section(&self, section: &str) -> Option<usize> {
        self.programs.iter().position(|p| p.section == section)
    }

    /// The environment the helpers see (clock, task, random state, CPU,
    /// trace log).
    pub fn env(&self) -> &Env {
        &self.env
    }

    /// The environment, to set the clock, the task, the CPU.
    pub fn env_mut(&mut self) -> &mut Env {
        &mut self.env
    }

    /// Takes the `bpf_trace_printk` lines written so far.
    pub fn take_trace(&mut self) -> Vec<String> {
        std::mem::take(&mut self.env.trace)
    }

    /// The object's BTF, for encoding keys and values by type.
    pub fn btf(&self) -> Option<&bpfkit_object::btf::Btf> {
        self.btf.as_ref()
    }

    /// The map definitions with their registry ids, in the object's order.
    pub fn map_defs(&self) -> impl Iterator<Item = (&MapDef, u32)> {
        self.maps.iter().map(|(d, id)| (d, *id))
    }

    fn map_entry(&self, name: &str) -> Result<(&MapDef, u32), RuntimeError> {
        self.maps
            .iter()
            .find(|(d, _)| d.name == name)
            .map(|(d, id)| (d, *id))
            .ok_or_else(|| RuntimeError::NotFound {
                what: "map",
                name: name.to_string(),
            })
    }

    /// The map named `name` (its kernel-visible name: `tags`,
    /// `mplex.rodata`).
    pub fn map(&self, name: &str) -> Result<&UserMap, RuntimeError> {
        let (_, id) = self.map_entry(name)?;
        self.env
            .values
            .registry()
            .get(id)
            .ok_or_else(|| RuntimeError::NotFound {
                what: "map",
                name: name.to_string(),
            })
    }

    /// The map named `name`, to change with the [`Map`] operations.
    pub fn map_mut(&mut self, name: &str) -> Result<&mut UserMap, RuntimeError> {
        let (_, id) = self.map_entry(name)?;
        self.env
            .values
            .registry_mut()
            .get_mut(id)
            .ok_or_else(|| RuntimeError::NotFound {
                what: "map",
                name: name.to_string(),
            })
    }

    /// `BPF_MAP_UPDATE_ELEM` with `BPF_ANY` from userspace.
    pub fn map_update(&mut self, name: &str, key: &[u8], value: &[u8]) -> Result<(), RuntimeError> {
        self.map_mut(name)?
            .update(key, value, 0)
            .map_err(|error| RuntimeError::MapOp {
                map: name.to_string(),
                op: "update",
                error,
            })
    }

    /// `BPF_MAP_LOOKUP_ELEM` from userspace: `None` for no such key.
    pub fn map_lookup(&self, name: &str, key: &[u8]) -> Result<Option<Vec<u8>>, RuntimeError> {
        match self.map(name)?.lookup(key) {
            Ok(v) => Ok(Some(v)),
            Err(bpfkit_object::map::MapError::NotFound) => Ok(None),
            Err(error) => Err(RuntimeError::MapOp {
                map: name.to_string(),
                op: "lookup",
                error,
            }),
        }
    }

    /// Sets the global variable `name` (in `.data`, `.bss`, `.rodata`, ...)
    /// to `bytes`, as a libbpf skeleton does before load (so `.rodata` too,
    /// although it is frozen for programs).
    pub fn set_global(&mut self, name: &str, bytes: &[u8]) -> Result<(), RuntimeError> {
        let (map_name, offset, size) = self.global_location(name)?;
        if bytes.len() != size {
            return Err(RuntimeError::BadValue {
                what: format!("global {name}"),
                message: format!("is {size} bytes, got {}", bytes.len()),
            });
        }
        let map = self.map_mut(&map_name)?;
        let UserMap::Array(array) = map else {
            return Err(RuntimeError::BadValue {
                what: format!("global {name}"),
                message: "its map is not an array".into(),
            });
        };
        // Userspace writes the value as a skeleton writes its mmap'ed
        // data before load: past the program-side read-only flag.
        let slot = array
            .prog_lookup(&0u32.to_le_bytes(), 0)
            .ok()
            .flatten()
            .map(|s| crate::maps::ValueSlot {
                writable: true,
                ..s
            });
        let value = slot.and_then(|s| array.slot_mut(s));
        let dst = value.and_then(|v| v.get_mut(offset..offset + size));
        let Some(dst) = dst else {
            return Err(RuntimeError::BadValue {
                what: format!("global {name}"),
                message: "lies outside its map's value".into(),
            });
        };
        dst.copy_from_slice(bytes);
        Ok(())
    }

    /// The bytes of global variable `name`.
    pub fn global(&self, name: &str) -> Result<Vec<u8>, RuntimeError> {
        let (map_name, offset, size) = self.global_location(name)?;
        let value = self
            .map_lookup(&map_name, &0u32.to_le_bytes())?
            .unwrap_or_default();
        Ok(value
            .get(offset..offset + size)
            .unwrap_or_default()
            .to_vec())
    }

    /// The global data map, offset and size of variable `name`.
    pub fn global_location(&self, name: &str) -> Result<(String, usize, usize), RuntimeError> {
        self.maps
            .iter()
            .find_map(|(d, _)| {
                let v = d.variables.iter().find(|v| v.name == name)?;
                Some((d.name.clone(), v.offset as usize, v.size as usize))
            })
            .ok_or_else(|| RuntimeError::NotFound {
                what: "global variable",
                name: name.to_string(),
            })
    }

    /// The BTF type of global variable `name`.
    pub fn global_type(&self, name: &str) -> Option<u32> {
        self.maps
            .iter()
            .find_map(|(d, _)| d.variables.iter().find(|v| v.name == name))
            .map(|v| v.type_id)
    }

    /// The id a prog_array slot holds for program `index` (program ids,
    /// like the kernel's, are never 0).
    pub fn program_id(index: usize) -> u32 {
        index as u32 + 1
    }

    fn program_at(&self, index: usize) -> Result<&LoadedProgram, RuntimeError> {
        self.programs
            .get(index)
            .ok_or_else(|| RuntimeError::NotFound {
                what: "program",
                name: format!("#{index}"),
            })
    }

    /// Runs program `index` on `packet` with context `ctx`, following its
    /// tail calls.
    pub fn run(
        &mut self,
        index: usize,
        packet: &mut Packet,
        ctx: &mut dyn Context,
    ) -> Result<RunResult, RuntimeError> {
        self.run_chain(index, |vm, env| vm.run_packet_in(packet, ctx, env))
    }

    /// Runs a program whose context is plain memory (a tracing program's
    /// `struct pt_regs`, a raw buffer): r1 points at `ctx`, r2 is its
    /// length.
    pub fn run_with_memory(
        &mut self,
        index: usize,
        ctx: &mut [u8],
    ) -> Result<RunResult, RuntimeError> {
        self.run_chain(index, |vm, env| vm.run_in(ctx, env))
    }

    /// Runs `index`, then each program it tail-calls, with `run`.
    fn run_chain(
        &mut self,
        mut index: usize,
        mut run: impl FnMut(&mut Vm, &mut Env) -> Result<crate::RunOutcome, crate::VmError>,
    ) -> Result<RunResult, RuntimeError> {
        self.program_at(index)?;
        self.env.redirect = None;
        self.env.tail_calls = 0;
        self.env.tail_call = None;
        let mut insn_count = 0;
        loop {
            let prog = &mut self.programs[index];
            let result = run(&mut prog.vm, &mut self.env);
            let target = self.env.tail_call.take();
            match (result, target) {
                (Ok(out), _) => {
                    return Ok(RunResult {
                        retval: out.r0,
                        insn_count: insn_count + out.insn_count,
                        redirect: self.env.redirect,
                    })
                }
                (Err(crate::VmError::HelperFailed { message, .. }), Some(id))
                    if message == helpers::TAIL_CALL =>
                {
                    // The stopped run's instructions, the call included,
                    // count in the chain's total.
                    let budget = prog.vm.budget().min(i64::MAX as u64);
                    insn_count += budget.saturating_sub(self.env.tail_call_budget_left);
                    let from = prog.name.clone();
                    index = (id as usize)
                        .checked_sub(1)
                        .filter(|&i| i < self.programs.len())
                        .ok_or_else(|| RuntimeError::Unsupported {
                            program: from,
                            pc: 0,
                            message: format!(
                                "bpf_tail_call to program id {id}, which is not loaded"
                            ),
                        })?;
                }
                (Err(source), _) => {
                    return Err(RuntimeError::Run {
                        program: prog.name.clone(),
                        source,
                    })
                }
            }
        }
    }

    fn check_type(&self, index: usize, ok: &[ProgType], what: &str) -> Result<(), RuntimeError> {
        let p = self
            .programs
            .get(index)
            .ok_or_else(|| RuntimeError::NotFound {
                what: "program",
                name: format!("#{index}"),
            })?;
        if ok.contains(&p.prog_type) {
            Ok(())
        } else {
            Err(RuntimeError::WrongType {
                program: p.name.clone(),
                prog_type: p.prog_type.name().to_string(),
                message: format!("cannot run {what}"),
            })
        }
    }

    /// Runs an XDP program on a frame (build it with [`Packet::xdp`]).
    pub fn run_xdp(
        &mut self,
        index: usize,
        packet: &mut Packet,
        ctx: &mut XdpMd,
    ) -> Result<RunResult, RuntimeError> {
        self.check_type(index, &[ProgType::Xdp], "as XDP")?;
        self.run(index, packet, ctx)
    }

    /// Runs a TC, socket filter or cgroup skb program; the context's kind
    /// is set from the program's type.
    pub fn run_skb(
        &mut self,
        index: usize,
        packet: &mut Packet,
        skb: &mut SkBuff,
    ) -> Result<RunResult, RuntimeError> {
        let kinds = [
            ProgType::SchedCls,
            ProgType::SchedAct,
            ProgType::SocketFilter,
            ProgType::CgroupSkb,
        ];
        self.check_type(index, &kinds, "on an skb")?;
        skb.kind = match self.programs[index].prog_type {
            ProgType::SocketFilter => SkbKind::SocketFilter,
            ProgType::CgroupSkb => SkbKind::CgroupSkb,
            _ => SkbKind::Tc,
        };
        self.run(index, packet, skb)
    }

    /// Runs a TC, socket filter or cgroup skb program once on `data` as
    /// `BPF_PROG_TEST_RUN` does (see [`SkbTestRun`]): `ctx_in` as the
    /// kernel takes it (`None`: no context in or out). The returned run
    /// holds what the kernel hands back: `data_out()`, `ctx_out()`.
    pub fn test_run_skb(
        &mut self,
        index: usize,
        data: &[u8],
        ctx_in: Option<&[u8]>,
    ) -> Result<(RunResult, SkbTestRun), RuntimeError> {
        let p = self.program_at(index)?;
        let kind = match p.prog_type {
            ProgType::SocketFilter => SkbKind::SocketFilter,
            ProgType::CgroupSkb => SkbKind::CgroupSkb,
            _ => SkbKind::Tc,
        };
        let mut t = SkbTestRun::new(kind, data, ctx_in).map_err(|e| RuntimeError::BadValue {
            what: format!("test run input of {}", p.name),
            message: e.to_string(),
        })?;
        let r = self.run_skb(index, &mut t.packet, &mut t.skb)?;
        Ok((r, t))
    }
}
