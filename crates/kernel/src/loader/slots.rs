//! Map contents a loader sets: global data's initial bytes (and the
//! freeze of `.rodata` and `.kconfig`), and the initial slots of prog
//! arrays and map-in-maps.

use std::collections::HashMap;

use bpfkit_object::kinds::MapType;
use bpfkit_object::read::{InitialTarget, MapDef, MapSource, Object};

use super::error::LoadError;
use super::LoadedMap;
use crate::map::KernelMap;

/// Writes a new global data map's initial value (the `.kconfig` map gets
/// `kconfig`) and freezes it when its definition says so.
pub fn initialise_data(
    def: &MapDef,
    map: &KernelMap,
    kconfig: Option<&[u8]>,
) -> Result<(), LoadError> {
    let data = match def.source {
        MapSource::Kconfig => kconfig,
        MapSource::Data | MapSource::Rodata | MapSource::Bss => def.data.as_deref(),
        _ => None,
    };
    if let Some(bytes) = data {
        // .bss starts zeroed in the kernel: only a non-zero image is written.
        if def.source != MapSource::Bss || bytes.iter().any(|&b| b != 0) {
            let mut value = bytes.to_vec();
            value.resize(map.value_len(), 0);
            map.update_elem(&0u32.to_ne_bytes(), &value, 0)
                .map_err(|e| LoadError::init(&def.name, "initial value", e))?;
        }
    }
    if def.frozen {
        map.freeze_map()
            .map_err(|e| LoadError::init(&def.name, "freeze", e))?;
    }
    Ok(())
}

fn put(map: &LoadedMap, index: u32, fd: i32, what: &str) -> Result<(), LoadError> {
    map.map
        .update_elem(&index.to_ne_bytes(), &(fd as u32).to_ne_bytes(), 0)
        .map_err(|e| LoadError::init(&map.name, format!("slot {index} ({what})"), e))
}

/// Fills prog arrays and map-in-maps: `.values = { [i] = &x }` slots
/// (a program that did not load leaves its slot empty), iproute2's inner
/// maps at their `inner_idx`, and iproute2's `ID/KEY` tail-call sections
/// into the prog array whose `id` is ID.
pub fn fill(obj: &Object, maps: &[LoadedMap], progs: &HashMap<&str, i32>) -> Result<(), LoadError> {
    let by_name = |name: &str| maps.iter().find(|m| m.name == name);
    for def in &obj.maps {
        let Some(outer) = by_name(&def.name) else {
            continue;
        };
        for slot in &def.initial_slots {
            match &slot.target {
                InitialTarget::Program(p) => {
                    if let Some(&fd) = progs.get(p.as_str()) {
                        put(outer, slot.index, fd, p)?;
                    }
                }
                InitialTarget::Map(m) => {
                    let inner = by_name(m).ok_or_else(|| LoadError::Unsupported {
                        what: format!("map '{}'", def.name),
                        message: format!(
                            "slot {} names map '{m}', which was not created",
                            slot.index
                        ),
                    })?;
                    put(
                        outer,
                        slot.index,
                        crate::loader::programs::raw_fd(inner.map.fd()),
                        m,
                    )?;
                }
            }
        }
        if def.source != MapSource::Iproute2 {
            continue;
        }
        let Some([id, inner_id, _]) = def.iproute2_ids else {
            continue;
        };
        if inner_id != 0 {
            let inner = obj
                .maps
                .iter()
                .find(|m| m.iproute2_ids.is_some_and(|ids| ids[0] == inner_id));
            if let Some((inner_def, inner)) = inner.and_then(|d| Some((d, by_name(&d.name)?))) {
                let idx = inner_def.iproute2_ids.map_or(0, |ids| ids[2]);
                put(
                    outer,
                    idx,
                    crate::loader::programs::raw_fd(inner.map.fd()),
                    &inner_def.name,
                )?;
            }
        }
        if def.map_type == Some(MapType::ProgArray) && id != 0 {
            for prog in &obj.programs {
                let Some((sec_id, key)) = prog.section.split_once('/') else {
                    continue;
                };
                let (Ok(sec_id), Ok(key)) = (sec_id.parse::<u32>(), key.parse::<u32>()) else {
                    continue;
                };
                if sec_id == id {
                    if let Some(&fd) = progs.get(prog.name.as_str()) {
                        put(outer, key, fd, &prog.name)?;
                    }
                }
            }
        }
    }
    Ok(())
}
