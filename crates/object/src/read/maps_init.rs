//! The initial values of BTF-defined prog arrays and map-in-maps:
//! `.values = { [i] = &x }` leaves one `.rel.maps` relocation per slot.

use crate::btf::Btf;
use crate::kinds::MapType;

use super::elf::ElfView;
use super::error::ObjectError;
use super::maps::{InitialSlot, InitialTarget, MapDef, MapSource};
use super::programs::Function;

/// Fills the initial slots of BTF-defined prog arrays and map-in-maps from
/// `.rel.maps`: each `R_BPF_64_ABS64` in the `values` array names a map or
/// program, and its position gives the index.
pub(crate) fn initial_slots(
    view: &ElfView<'_>,
    btf: Option<&Btf>,
    maps: &mut [MapDef],
    functions: &[Function],
) -> Result<(), ObjectError> {
    let Some(sec) = view.section_by_name(".maps") else {
        return Ok(());
    };
    let Some(rel) = view.relocs.iter().find(|r| r.target == sec.index) else {
        return Ok(());
    };
    let ptr = btf.map_or(8, Btf::ptr_size) as u64;
    for (n, r) in rel.entries.iter().enumerate() {
        let sym = &view.symbols[r.symbol];
        let err = |message: String| ObjectError::Relocation {
            section: ".maps".into(),
            index: n,
            offset: r.offset,
            symbol: sym.name.clone(),
            message,
        };
        match r.r_type {
            // R_BPF_64_ABS64; old LLVM wrote R_BPF_64_64 for data too.
            2 | 1 => {}
            0 => continue,
            t => {
                return Err(err(format!(
                    "relocation type {t} cannot initialise a map slot"
                )))
            }
        }
        let Some(mi) = maps
            .iter()
            .position(|m| m.source == MapSource::BtfDefined && m.covers(sec.index, r.offset))
        else {
            return Err(err("patches no map definition".into()));
        };
        let values_off = maps[mi].values_offset.ok_or_else(|| {
            err(format!(
                "map '{}' has no `values` array to initialise",
                maps[mi].name
            ))
        })?;
        let rel_off = r.offset - maps[mi].offset;
        if rel_off < values_off || (rel_off - values_off) % ptr != 0 {
            return Err(err(format!(
                "offset {rel_off:#x} in map '{}' is not a slot of its `values` array",
                maps[mi].name
            )));
        }
        let index = ((rel_off - values_off) / ptr) as u32;
        let target = match maps[mi].map_type {
            Some(MapType::ProgArray) => {
                let f = functions
                    .iter()
                    .find(|f| {
                        Some(f.section_index) == sym.section() && (f.start * 8) as u64 == sym.value
                    })
                    .ok_or_else(|| err("names no program".into()))?;
                if f.is_subprogram() {
                    return Err(err(format!(
                        "'{}' is a .text subprogram, not a program",
                        f.name
                    )));
                }
                InitialTarget::Program(f.name.clone())
            }
            Some(t) if t.is_map_in_map() => {
                let inner = maps
                    .iter()
                    .find(|m| {
                        m.source == MapSource::BtfDefined
                            && Some(m.section_index) == sym.section()
                            && m.offset == sym.value
                    })
                    .ok_or_else(|| err("names no map of .maps".into()))?;
                InitialTarget::Map(inner.name.clone())
            }
            _ => {
                return Err(err(format!(
                    "map '{}' is neither a prog array nor a map-in-map",
                    maps[mi].name
                )))
            }
        };
        if index >= maps[mi].max_entries {
            return Err(err(format!(
                "slot {index} is past max_entries {} of map '{}'",
                maps[mi].max_entries, maps[mi].name
            )));
        }
        maps[mi].initial_slots.push(InitialSlot { index, target });
    }
    for m in maps.iter_mut() {
        m.initial_slots.sort_by_key(|s| s.index);
    }
    Ok(())
}
