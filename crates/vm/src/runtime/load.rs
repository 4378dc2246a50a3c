//! Loading an object as libbpf and the kernel would: the object's maps
//! created (every `MapDef` source: BTF-defined, legacy, iproute2, the inner
//! maps of map-in-maps, global data with its initial bytes, `.rodata`
//! frozen, `.kconfig` filled), then each program's pseudo `lddw`s resolved
//! to map handles and map value addresses, as `resolve_pseudo_ldimm64`
//! does with fds.

use std::collections::BTreeMap;

use bpfkit_isa::{Instruction, LddwKind};
use bpfkit_object::btf::{Btf, Kind};
use bpfkit_object::map::Map;
use bpfkit_object::read::{ExternKind, MapDef, MapSource, Object, Program, RelocTarget};

use super::error::RuntimeError;
use crate::compile::LddwValues;
use crate::map_values::{map_handle, MapValues};
use crate::maps::{InnerMapMeta, MapAttrs};

pub use crate::memory::FUNC_REGION;

/// What the caller may choose about the maps and externs.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// `num_possible_cpus()`, the CPU count of per-CPU maps.
    pub ncpus: u32,
    /// Values of `.kconfig` externs by name (`CONFIG_HZ` → 250); for
    /// `bool`/tristate externs 0 (`n`), 1 (`y`), 2 (`m`).
    pub kconfig: BTreeMap<String, u64>,
    /// Load only the program with this name (the maps are all created):
    /// for running one program of an object whose other programs call
    /// what the runtime does not provide. `None` loads every program and
    /// fails on the first that cannot load, as libbpf's object load does.
    pub only: Option<String>,
}

impl Default for LoadOptions {
    /// One CPU, and the kconfig values libbpf computes itself
    /// (`LINUX_KERNEL_VERSION` 6.18.0, `LINUX_HAS_BPF_COOKIE`,
    /// `LINUX_HAS_SYSCALL_WRAPPER`) with `CONFIG_HZ=250` and
    /// `CONFIG_BPF_SYSCALL=y`.
    fn default() -> LoadOptions {
        let kconfig = [
            ("LINUX_KERNEL_VERSION", (6u64 << 16) | (18 << 8)),
            ("LINUX_HAS_BPF_COOKIE", 1),
            ("LINUX_HAS_SYSCALL_WRAPPER", 1),
            ("CONFIG_HZ", super::env::DEFAULT_HZ),
            ("CONFIG_BPF_SYSCALL", 1),
            ("CONFIG_BPF", 1),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        LoadOptions {
            ncpus: 1,
            kconfig,
            only: None,
        }
    }
}

fn map_err(def: &MapDef, message: impl Into<String>) -> RuntimeError {
    RuntimeError::Map {
        map: def.name.clone(),
        message: message.into(),
    }
}

/// The attributes `BPF_MAP_CREATE` gets for `def`.
fn attrs_of(def: &MapDef, btf: Option<&Btf>, ncpus: u32) -> Result<MapAttrs, RuntimeError> {
    let spec = def.spec().ok_or_else(|| {
        map_err(
            def,
            format!("map type {} is unknown to this build", def.map_type_raw),
        )
    })?;
    let mut attrs = MapAttrs::new(spec);
    attrs.ncpus = ncpus.max(1);
    attrs.map_extra = def.map_extra;
    attrs.lock_offset = def
        .value_type
        .and_then(|t| btf.and_then(|b| spin_lock_offset(b, t)));
    Ok(attrs)
}

/// The offset of a top-level `struct bpf_spin_lock` member of type `ty`.
fn spin_lock_offset(btf: &Btf, ty: u32) -> Option<u32> {
    let (_, t) = btf.resolve(ty).ok()?;
    if !matches!(t.kind, Kind::Struct) {
        return None;
    }
    t.members().iter().find_map(|m| {
        let (_, mt) = btf.resolve(m.ty).ok()?;
        (btf.name(mt) == "bpf_spin_lock").then_some(m.bit_offset / 8)
    })
}

/// The inner map template of a map-in-map.
fn inner_of<'a>(obj: &'a Object, def: &'a MapDef) -> Option<&'a MapDef> {
    if let Some(inner) = &def.inner {
        return Some(inner);
    }
    let idx = def.legacy_inner_idx? as usize;
    let mut same: Vec<&MapDef> = obj
        .maps
        .iter()
        .filter(|m| m.section_index == def.section_index)
        .collect();
    same.sort_by_key(|m| m.offset);
    same.get(idx).copied()
}

/// Creates every map of `obj` in `values`' registry; the ids, in the
/// order of `obj.maps`.
pub(crate) fn create_maps(
    obj: &Object,
    opts: &LoadOptions,
    values: &mut MapValues,
) -> Result<Vec<u32>, RuntimeError> {
    let btf = obj.btf.as_ref();
    let mut ids = Vec::with_capacity(obj.maps.len());
    for def in &obj.maps {
        let mut attrs = attrs_of(def, btf, opts.ncpus)?;
        if let Some(inner) = inner_of(obj, def) {
            let inner_attrs = attrs_of(inner, btf, opts.ncpus)?;
            attrs.inner = Some(InnerMapMeta {
                spec: inner_attrs.spec,
                lock_offset: inner_attrs.lock_offset,
            });
        }
        let id = values
            .registry_mut()
            .create(&attrs)
            .map_err(|e| map_err(def, format!("cannot be created: {e}")))?;
        let map = values
            .registry_mut()
            .get_mut(id)
            .ok_or_else(|| map_err(def, "vanished after creation"))?;
        let initial = match def.source {
            MapSource::Kconfig => Some(kconfig_data(obj, def, opts)?),
            _ => def.data.clone(),
        };
        if let Some(data) = initial {
            map.update(&0u32.to_le_bytes(), &data, 0)
                .map_err(|e| map_err(def, format!("initial value: {e}")))?;
        }
        if def.frozen {
            map.freeze()
                .map_err(|e| map_err(def, format!("freeze: {e}")))?;
        }
        ids.push(id);
    }
    for (def, &id) in obj.maps.iter().zip(&ids) {
        for slot in &def.initial_slots {
            if let bpfkit_object::read::InitialTarget::Map(name) = &slot.target {
                let pos = obj
                    .maps
                    .iter()
                    .position(|m| &m.name == name)
                    .ok_or_else(|| map_err(def, format!("initial slot names no map {name}")))?;
                let inner_id = ids[pos];
                let map = values
                    .registry_mut()
                    .get_mut(id)
                    .ok_or_else(|| map_err(def, "vanished after creation"))?;
                map.update(&slot.index.to_le_bytes(), &inner_id.to_le_bytes(), 0)
                    .map_err(|e| map_err(def, format!("initial slot {}: {e}", slot.index)))?;
            }
        }
    }
    Ok(ids)
}

/// The `.kconfig` map's bytes: each extern at its offset, little-endian,
/// from `opts.kconfig`; a weak extern without a value is 0, a strong one
/// is an error, as libbpf's `bpf_object__resolve_externs` has it.
fn kconfig_data(obj: &Object, def: &MapDef, opts: &LoadOptions) -> Result<Vec<u8>, RuntimeError> {
    let mut data = vec![0u8; def.value_size as usize];
    for ext in obj.externs.iter().filter(|e| e.kind == ExternKind::Kconfig) {
        let (Some(off), Some(size)) = (ext.kconfig_offset, ext.size) else {
            continue;
        };
        let value = match opts.kconfig.get(&ext.name) {
            Some(&v) => v,
            None if ext.weak => 0,
            None => {
                return Err(map_err(
                    def,
                    format!(
                        "extern {} has no value (pass it in LoadOptions::kconfig)",
                        ext.name
                    ),
                ))
            }
        };
        let (off, size) = (off as usize, size as usize);
        let dst = data
            .get_mut(off..off + size.min(8))
            .ok_or_else(|| map_err(def, format!("extern {} lies outside the map", ext.name)))?;
        dst.copy_from_slice(&value.to_le_bytes()[..size.min(8)]);
    }
    Ok(data)
}

/// The program address of global data map `id`'s value at `offset`.
fn value_address(
    values: &mut MapValues,
    id: u32,
    offset: u32,
    program: &Program,
    pc: usize,
) -> Result<u64, RuntimeError> {
    let unsupported = |message: String| RuntimeError::Unsupported {
        program: program.name.clone(),
        pc,
        message,
    };
    let map = values
        .registry_mut()
        .get_mut(id)
        .ok_or_else(|| unsupported(format!("map id {id} does not exist")))?;
    let slot = map
        .prog_lookup(&0u32.to_le_bytes(), 0)
        .ok()
        .flatten()
        .ok_or_else(|| {
            unsupported(format!(
                "a map value address needs an array map with an element 0 (map {})",
                map.spec().name
            ))
        })?;
    if offset as usize >= slot.len.max(1) {
        return Err(unsupported(format!(
            "offset {offset} is outside the value of map {} ({} bytes)",
            map.spec().name,
            slot.len
        )));
    }
    Ok(values.pin(id, slot) + offset as u64)
}

/// The values of `program`'s pseudo `lddw`s.
pub(crate) fn resolve_lddw(
    obj: &Object,
    program: &Program,
    ids: &[u32],
    values: &mut MapValues,
) -> Result<LddwValues, RuntimeError> {
    let mut out = LddwValues::new();
    let unsupported = |pc: usize, message: String| RuntimeError::Unsupported {
        program: program.name.clone(),
        pc,
        message,
    };
    let id_of = |pc: usize, map: usize| {
        ids.get(map)
            .copied()
            .ok_or_else(|| unsupported(pc, format!("map index {map} does not exist")))
    };
    for r in &program.relocations {
        let pc = r.insn;
        let value = match &r.target {
            RelocTarget::Map { map, .. } => map_handle(id_of(pc, *map)?),
            RelocTarget::MapValue { map, offset, .. } => {
                value_address(values, id_of(pc, *map)?, *offset, program, pc)?
            }
            RelocTarget::Extern { index, name } => {
                let ext = obj.externs.get(*index);
                match ext.map(|e| (e.kind, e.kconfig_offset)) {
                    Some((ExternKind::Kconfig, Some(off))) => {
                        let map = obj
                            .maps
                            .iter()
                            .position(|m| m.source == MapSource::Kconfig)
                            .ok_or_else(|| unsupported(pc, "no .kconfig map".into()))?;
                        value_address(values, id_of(pc, map)?, off, program, pc)?
                    }
                    _ => {
                        return Err(unsupported(
                            pc,
                            format!("kernel variable {name} (__ksym) does not exist in userspace"),
                        ))
                    }
                }
            }
            RelocTarget::KfuncCall { name, .. } => {
                return Err(unsupported(
                    pc,
                    format!("kfunc {name} is not provided by the userspace runtime"),
                ))
            }
            RelocTarget::FuncPointer { target, .. } => (FUNC_REGION << 32) | *target as u64,
            RelocTarget::Call { .. } => continue,
        };
        out.insert(pc, value);
    }
    // Hand-made programs name maps by index (BPF_PSEUDO_MAP_IDX).
    for &(pc, insn) in program.insns.instructions() {
        if let Instruction::LoadImm64 { kind, lo, hi, .. } = insn {
            if out.contains_key(&pc) {
                continue;
            }
            match kind {
                LddwKind::MapIdx => {
                    out.insert(pc, map_handle(id_of(pc, lo as u32 as usize)?));
                }
                LddwKind::MapIdxValue => {
                    let id = id_of(pc, lo as u32 as usize)?;
                    out.insert(pc, value_address(values, id, hi as u32, program, pc)?);
                }
                _ => {}
            }
        }
    }
    Ok(out)
}
