//! struct_ops maps, as libbpf reads them: each variable of the
//! `.struct_ops` and `.struct_ops.link` DATASECs is a `BPF_MAP_TYPE_STRUCT_OPS`
//! map whose value is the struct (type and initial bytes from the ELF), and
//! each `R_BPF_64_ABS64` of `.rel.struct_ops*` sets one function-pointer
//! member to a program of a `struct_ops/` section.

use crate::btf::{Btf, Kind};
use crate::kinds::MapType;

use super::elf::ElfView;
use super::error::ObjectError;
use super::maps::{MapDef, MapSource, StructOpsMember};
use super::programs::Function;

/// `BPF_F_LINK`: the map is attached through a BPF link.
pub const BPF_F_LINK: u32 = 1 << 13;

const SECTIONS: [&str; 2] = [".struct_ops", ".struct_ops.link"];

/// The struct_ops maps, in section then DATASEC order.
pub(crate) fn struct_ops_maps(
    view: &ElfView<'_>,
    btf: Option<&Btf>,
) -> Result<Vec<MapDef>, ObjectError> {
    let mut out = Vec::new();
    for sec_name in SECTIONS {
        let Some(sec) = view.section_by_name(sec_name) else {
            continue;
        };
        let btf = btf.ok_or_else(|| {
            ObjectError::section(sec_name, "struct_ops maps need .BTF, which is missing")
        })?;
        let Some(&ds) = btf.find_by_name(sec_name, Kind::Datasec).first() else {
            return Err(ObjectError::section(
                sec_name,
                format!(".BTF has no DATASEC '{sec_name}'"),
            ));
        };
        let entries = btf
            .type_by_id(ds)
            .map(|t| t.datasec_entries().to_vec())
            .unwrap_or_default();
        for e in entries {
            let Some(var) = btf.type_by_id(e.ty).filter(|t| t.kind == Kind::Var) else {
                return Err(ObjectError::section(
                    sec_name,
                    format!("DATASEC entry type {} is not a VAR", e.ty),
                ));
            };
            let name = btf.name(var).to_string();
            let err = |m: String| ObjectError::map(&name, sec_name, m);
            let (struct_id, t) = btf
                .resolve(var.size_or_type)
                .map_err(|e| err(e.to_string()))?;
            if t.kind != Kind::Struct {
                return Err(err(format!("is a {}, not a struct", t.kind.name())));
            }
            let size = t.size_or_type;
            let offset = view
                .symbol_in(sec.index, &name)
                .map(|s| s.value)
                .ok_or_else(|| err("no ELF symbol of this name in the section".into()))?;
            let bytes = usize::try_from(offset)
                .ok()
                .and_then(|o| sec.data.get(o..o.checked_add(size as usize)?))
                .ok_or_else(|| {
                    err(format!(
                        "struct of {size} bytes at {offset:#x} runs past the section"
                    ))
                })?;
            let mut m = MapDef::empty(&name, sec_name, sec.index, MapSource::StructOps);
            m.set_type(MapType::StructOps.raw());
            m.offset = offset;
            m.def_size = u64::from(size);
            m.key_size = 4;
            m.value_size = size;
            m.max_entries = 1;
            m.value_type = Some(struct_id);
            m.data = Some(bytes.to_vec());
            if sec_name == ".struct_ops.link" {
                m.map_flags |= BPF_F_LINK;
            }
            out.push(m);
        }
    }
    Ok(out)
}

/// Sets the struct_ops maps' members from `.rel.struct_ops*`.
pub(crate) fn struct_ops_members(
    view: &ElfView<'_>,
    btf: Option<&Btf>,
    maps: &mut [MapDef],
    functions: &[Function],
) -> Result<(), ObjectError> {
    let Some(btf) = btf else { return Ok(()) };
    for sec_name in SECTIONS {
        let Some(sec) = view.section_by_name(sec_name) else {
            continue;
        };
        let Some(rel) = view.relocs.iter().find(|r| r.target == sec.index) else {
            continue;
        };
        for (n, r) in rel.entries.iter().enumerate() {
            let sym = &view.symbols[r.symbol];
            let err = |message: String| ObjectError::Relocation {
                section: sec_name.to_string(),
                index: n,
                offset: r.offset,
                symbol: sym.name.clone(),
                message,
            };
            if r.r_type == 0 {
                continue;
            }
            if r.r_type != 2 && r.r_type != 1 {
                return Err(err(format!(
                    "relocation type {} cannot set a struct_ops member",
                    r.r_type
                )));
            }
            let Some(m) = maps.iter_mut().find(|m| {
                m.source == MapSource::StructOps
                    && m.section_index == sec.index
                    && r.offset >= m.offset
                    && r.offset < m.offset + m.def_size
            }) else {
                return Err(err("patches no struct_ops map".into()));
            };
            let moff = (r.offset - m.offset) as u32;
            let st = m.value_type.and_then(|id| btf.type_by_id(id));
            let (index, member) = st
                .and_then(|t| {
                    t.members()
                        .iter()
                        .enumerate()
                        .find(|(_, mem)| mem.bit_offset == moff * 8)
                })
                .ok_or_else(|| err(format!("no member of '{}' at byte {moff}", m.name)))?;
            let f = functions
                .iter()
                .find(|f| {
                    Some(f.section_index) == sym.section() && (f.start * 8) as u64 == sym.value
                })
                .ok_or_else(|| err("names no program".into()))?;
            if !f.section.starts_with("struct_ops") {
                return Err(err(format!(
                    "'{}' is in section '{}', not a struct_ops program",
                    f.name, f.section
                )));
            }
            m.struct_ops.push(StructOpsMember {
                member: btf.str_at(member.name_off).unwrap_or("").to_string(),
                index: index as u32,
                offset: moff,
                program: f.name.clone(),
            });
        }
    }
    for m in maps.iter_mut() {
        m.struct_ops.sort_by_key(|s| s.index);
    }
    Ok(())
}
