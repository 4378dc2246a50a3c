//! BTF-defined maps: the `.maps` DATASEC, each variable a struct whose
//! members encode the attributes (`__uint(name, N)` is a pointer to an
//! array of N elements, `__type(name, T)` a pointer to T, `__array(values,
//! T)` a zero-length array of pointers to T), read as libbpf's
//! `parse_btf_map_def` reads them.

use crate::btf::{Btf, Kind, Member};
use crate::kinds::MapType;

use super::elf::ElfView;
use super::error::ObjectError;
use super::maps::{MapDef, MapSource, Pinning};

/// The maps of `.maps`, in DATASEC order.
pub(crate) fn btf_maps(view: &ElfView<'_>, btf: Option<&Btf>) -> Result<Vec<MapDef>, ObjectError> {
    let Some(sec) = view.section_by_name(".maps") else {
        return Ok(Vec::new());
    };
    let btf = btf.ok_or_else(|| {
        ObjectError::section(".maps", "BTF-defined maps need .BTF, which is missing")
    })?;
    let Some(&ds) = btf.find_by_name(".maps", Kind::Datasec).first() else {
        return Err(ObjectError::section(".maps", ".BTF has no DATASEC '.maps'"));
    };
    let entries = btf
        .type_by_id(ds)
        .map(|t| t.datasec_entries().to_vec())
        .unwrap_or_default();
    let mut out = Vec::new();
    for e in entries {
        let var = btf
            .type_by_id(e.ty)
            .filter(|t| t.kind == Kind::Var)
            .ok_or_else(|| {
                ObjectError::section(".maps", format!("DATASEC entry type {} is not a VAR", e.ty))
            })?;
        let name = btf.name(var).to_string();
        // The compiler leaves DATASEC offsets 0; the ELF symbol has the
        // real one (libbpf fixes the DATASEC up the same way).
        let offset = view
            .symbol_in(sec.index, &name)
            .map(|s| s.value)
            .ok_or_else(|| {
                ObjectError::map(&name, ".maps", "no ELF symbol of this name in .maps")
            })?;
        let end = offset.saturating_add(u64::from(e.size));
        if end > sec.size {
            return Err(ObjectError::map(
                &name,
                ".maps",
                format!(
                    "definition [{offset:#x}, {end:#x}) runs past the {}-byte section",
                    sec.size
                ),
            ));
        }
        let mut m = parse_def(btf, &name, var.size_or_type, MapSource::BtfDefined)?;
        m.section_index = sec.index;
        m.offset = offset;
        m.def_size = u64::from(e.size);
        out.push(m);
    }
    Ok(out)
}

/// Follows typedefs and modifiers.
fn skip_mods<'b>(
    btf: &'b Btf,
    id: u32,
    map: &str,
) -> Result<(u32, &'b crate::btf::Type), ObjectError> {
    btf.resolve(id)
        .map_err(|e| ObjectError::map(map, ".maps", e.to_string()))
}

/// `__uint(name, N)`: a pointer to an array of N elements.
fn uint_field(btf: &Btf, m: &Member, map: &str, field: &str) -> Result<u32, ObjectError> {
    let bad = || {
        ObjectError::map(
            map,
            ".maps",
            format!("field '{field}' is not __uint(): want a pointer to an array"),
        )
    };
    let (_, t) = skip_mods(btf, m.ty, map)?;
    if t.kind != Kind::Ptr {
        return Err(bad());
    }
    let arr = btf
        .type_by_id(t.size_or_type)
        .and_then(|a| a.array())
        .ok_or_else(bad)?;
    Ok(arr.nelems)
}

/// `__type(name, T)`: a pointer to T; gives T and its size.
fn type_field(btf: &Btf, m: &Member, map: &str, field: &str) -> Result<(u32, u32), ObjectError> {
    let (_, t) = skip_mods(btf, m.ty, map)?;
    if t.kind != Kind::Ptr {
        return Err(ObjectError::map(
            map,
            ".maps",
            format!("field '{field}' is not __type(): want a pointer"),
        ));
    }
    let target = t.size_or_type;
    let size = btf
        .size_of(target)
        .map_err(|e| ObjectError::map(map, ".maps", format!("field '{field}': {e}")))?;
    let size = u32::try_from(size).map_err(|_| {
        ObjectError::map(
            map,
            ".maps",
            format!("field '{field}': type of {size} bytes"),
        )
    })?;
    Ok((target, size))
}

fn parse_def(
    btf: &Btf,
    name: &str,
    def_type: u32,
    source: MapSource,
) -> Result<MapDef, ObjectError> {
    let (_, def) = skip_mods(btf, def_type, name)?;
    if def.kind != Kind::Struct {
        return Err(ObjectError::map(
            name,
            ".maps",
            format!("definition is a {}, not a struct", def.kind.name()),
        ));
    }
    let mut m = MapDef::empty(name, ".maps", 0, source);
    let mut key_size = None;
    let mut value_size = None;
    let mut values: Option<(u32, u64)> = None;
    for mem in def.members() {
        let field = btf.str_at(mem.name_off).unwrap_or("");
        match field {
            "type" => m.set_type(uint_field(btf, mem, name, field)?),
            "max_entries" => m.max_entries = uint_field(btf, mem, name, field)?,
            "map_flags" => m.map_flags = uint_field(btf, mem, name, field)?,
            "numa_node" => m.numa_node = uint_field(btf, mem, name, field)?,
            "map_extra" => m.map_extra = u64::from(uint_field(btf, mem, name, field)?),
            "pinning" => {
                let p = uint_field(btf, mem, name, field)?;
                if p > 1 {
                    return Err(ObjectError::map(
                        name,
                        ".maps",
                        format!("pinning {p} is neither LIBBPF_PIN_NONE nor LIBBPF_PIN_BY_NAME"),
                    ));
                }
                m.pinning = Pinning::libbpf(p);
            }
            "key_size" | "value_size" => {
                let v = uint_field(btf, mem, name, field)?;
                let slot = if field == "key_size" {
                    &mut key_size
                } else {
                    &mut value_size
                };
                set_size(slot, v, name, field)?;
            }
            "key" | "value" => {
                let (ty, size) = type_field(btf, mem, name, field)?;
                let (slot, size_field) = if field == "key" {
                    m.key_type = Some(ty);
                    (&mut key_size, "key_size")
                } else {
                    m.value_type = Some(ty);
                    (&mut value_size, "value_size")
                };
                set_size(slot, size, name, size_field)?;
            }
            "values" if source == MapSource::BtfInner => {
                return Err(ObjectError::map(
                    name,
                    ".maps",
                    "an inner map cannot have `values` (no multi-level map-in-map)",
                ));
            }
            "values" => values = Some((mem.ty, u64::from(mem.bit_offset / 8))),
            other => {
                return Err(ObjectError::map(
                    name,
                    ".maps",
                    format!("unknown field '{other}' (libbpf refuses it)"),
                ));
            }
        }
    }
    m.key_size = key_size.unwrap_or(0);
    m.value_size = value_size.unwrap_or(0);
    if let Some((ty, offset)) = values {
        parse_values(btf, &mut m, ty, value_size)?;
        m.values_offset = Some(offset);
    }
    m.normalise();
    Ok(m)
}

fn set_size(slot: &mut Option<u32>, v: u32, map: &str, field: &str) -> Result<(), ObjectError> {
    match *slot {
        Some(old) if old != v => Err(ObjectError::map(
            map,
            ".maps",
            format!("conflicting {field}: {old} and {v}"),
        )),
        _ => {
            *slot = Some(v);
            Ok(())
        }
    }
}

/// `__array(values, T)`: for a prog array T is a function prototype; for a
/// map-in-map T is the inner map's definition.
fn parse_values(
    btf: &Btf,
    m: &mut MapDef,
    ty: u32,
    value_size: Option<u32>,
) -> Result<(), ObjectError> {
    let name = m.name.clone();
    let err = |msg: &str| ObjectError::map(&name, ".maps", format!("field 'values': {msg}"));
    let t = btf.type_by_id(ty).ok_or_else(|| err("no such type"))?;
    let arr = t
        .array()
        .filter(|a| a.nelems == 0)
        .ok_or_else(|| err("not a zero-sized array"))?;
    let (_, p) = skip_mods(btf, arr.elem, &name)?;
    if p.kind != Kind::Ptr {
        return Err(err("elements are not pointers"));
    }
    let (inner_id, inner) = skip_mods(btf, p.size_or_type, &name)?;
    if value_size.is_some_and(|v| v != 4) {
        return Err(err("value_size must be 4 (an fd)"));
    }
    match m.map_type {
        Some(MapType::ProgArray) => {
            if inner.kind != Kind::FuncProto {
                return Err(err("a prog array's values must be function pointers"));
            }
        }
        Some(t) if t.is_map_in_map() => {
            if inner.kind != Kind::Struct {
                return Err(err("a map-in-map's values must point to a map definition"));
            }
            let mut def = parse_def(btf, &format!("{name}.inner"), inner_id, MapSource::BtfInner)?;
            def.section = ".maps".into();
            m.inner = Some(Box::new(def));
        }
        _ => return Err(err("only prog arrays and map-in-maps have values")),
    }
    m.value_size = 4;
    m.value_type = None;
    Ok(())
}
