//! Global data as libbpf turns it into maps: one single-element `ARRAY`
//! per `.data`, `.data.*`, `.rodata`, `.rodata.*`, `.bss`, `.bss.*`
//! section (its value the section's bytes), plus the `.kconfig` map for
//! kconfig externs, with the variables of each from its BTF DATASEC.

use crate::btf::{Btf, Kind};
use crate::kinds::MapType;

use super::elf::{ElfView, RawSection};
use super::error::ObjectError;
use super::externs::{kconfig_size, type_words, Extern, ExternKind};
use super::maps::{GlobalVar, MapDef, MapSource};

/// `BPF_F_RDONLY_PROG`: programs may not write the map.
pub const BPF_F_RDONLY_PROG: u32 = 1 << 7;
/// `BPF_F_MMAPABLE`: userspace may mmap the value.
pub const BPF_F_MMAPABLE: u32 = 1 << 10;
/// `BPF_OBJ_NAME_LEN`.
const OBJ_NAME_LEN: usize = 16;

/// The kind of global data a section holds, by libbpf's name rules.
fn data_kind(sec: &RawSection<'_>) -> Option<MapSource> {
    let is = |base: &str| sec.name == base || sec.name.starts_with(&format!("{base}."));
    if sec.is_exec() || sec.size == 0 {
        return None;
    }
    if sec.is_nobits() {
        return is(".bss").then_some(MapSource::Bss);
    }
    if sec.sh_type != 1 {
        return None;
    }
    if is(".data") {
        Some(MapSource::Data)
    } else if is(".rodata") {
        Some(MapSource::Rodata)
    } else {
        None
    }
}

/// libbpf's `internal_map_name`: the object name as a prefix unless the
/// section name has a second dot, 15 bytes at most, and characters the
/// kernel refuses turned into `_`.
pub(crate) fn internal_map_name(object: &str, section: &str) -> String {
    let sfx_len = section.len().clamp(7, OBJ_NAME_LEN - 1);
    let pfx_len = if section.get(1..).is_some_and(|s| s.contains('.')) {
        0
    } else {
        (OBJ_NAME_LEN - sfx_len - 1).min(object.len())
    };
    let mut name: Vec<u8> = object.as_bytes()[..pfx_len].to_vec();
    name.extend(section.bytes().take(sfx_len));
    name.truncate(OBJ_NAME_LEN - 1);
    name.iter()
        .map(|&b| {
            if b.is_ascii_alphanumeric() || b == b'_' || b == b'.' {
                b as char
            } else {
                '_'
            }
        })
        .collect()
}

/// The variables of DATASEC `name`, and its id. Offsets come from the
/// section's ELF symbols when it has them (`index`), since the compiler
/// leaves the DATASEC's offsets 0 for libbpf to fix up.
fn datasec_vars(
    view: Option<(&ElfView<'_>, usize)>,
    btf: &Btf,
    name: &str,
) -> (Option<u32>, Vec<GlobalVar>) {
    let Some(&id) = btf.find_by_name(name, Kind::Datasec).first() else {
        return (None, Vec::new());
    };
    let mut vars = Vec::new();
    for e in btf
        .type_by_id(id)
        .map(|t| t.datasec_entries())
        .unwrap_or(&[])
    {
        let Some(v) = btf.type_by_id(e.ty).filter(|t| t.kind == Kind::Var) else {
            continue;
        };
        let var_name = btf.name(v);
        let offset = view
            .and_then(|(view, index)| view.symbol_in(index, var_name))
            .and_then(|s| u32::try_from(s.value).ok())
            .unwrap_or(e.offset);
        vars.push(GlobalVar {
            name: var_name.to_string(),
            offset,
            size: e.size,
            type_id: v.size_or_type,
            type_name: type_words(btf, v.size_or_type),
            is_static: v.linkage() == Some(0),
        });
    }
    vars.sort_by_key(|v| v.offset);
    (Some(id), vars)
}

fn internal_map(
    name: &str,
    sec_name: &str,
    index: usize,
    source: MapSource,
    size: u64,
) -> Result<MapDef, ObjectError> {
    let value_size = u32::try_from(size).map_err(|_| {
        ObjectError::section(sec_name, format!("{size} bytes do not fit a map value"))
    })?;
    let mut m = MapDef::empty(name, sec_name, index, source);
    m.set_type(MapType::Array.raw());
    m.key_size = 4;
    m.value_size = value_size;
    m.max_entries = 1;
    m.def_size = size;
    Ok(m)
}

/// One map per global data section, in section order.
pub(crate) fn data_maps(
    view: &ElfView<'_>,
    btf: Option<&Btf>,
    object: &str,
) -> Result<Vec<MapDef>, ObjectError> {
    let mut out = Vec::new();
    for sec in &view.sections {
        let Some(source) = data_kind(sec) else {
            continue;
        };
        let mut m = internal_map(
            &internal_map_name(object, &sec.name),
            &sec.name,
            sec.index,
            source,
            sec.size,
        )?;
        // `.bss` has no bytes in the file, only a size its header claims
        // (up to 4 GiB): its zeros are left to whoever creates the map,
        // never allocated here.
        if source != MapSource::Bss {
            m.data = Some(sec.data.to_vec());
        }
        if let Some(btf) = btf {
            let (id, vars) = datasec_vars(Some((view, sec.index)), btf, &sec.name);
            m.value_type = id;
            m.variables = vars;
        }
        if source == MapSource::Rodata {
            m.map_flags |= BPF_F_RDONLY_PROG;
            m.frozen = true;
        }
        // libbpf 1.1, the one this project's toolchain ships and the one
        // its fixtures were checked against in the kernel, makes every
        // internal map mmapable (libbpf 1.3 and later only those with a
        // global variable, for the skeleton).
        m.map_flags |= BPF_F_MMAPABLE;
        out.push(m);
    }
    Ok(out)
}

/// The `.kconfig` map when there are kconfig externs: its value is the
/// `.kconfig` DATASEC, filled by the loader. An error when the externs
/// need more bytes than a map value holds.
pub(crate) fn kconfig_map(
    btf: Option<&Btf>,
    externs: &[Extern],
    object: &str,
) -> Result<Option<MapDef>, ObjectError> {
    let Some(btf) = btf else {
        return Ok(None);
    };
    if !externs.iter().any(|e| e.kind == ExternKind::Kconfig) {
        return Ok(None);
    }
    let size = kconfig_size(externs);
    let mut m = internal_map(
        &internal_map_name(object, ".kconfig"),
        ".kconfig",
        0,
        MapSource::Kconfig,
        size,
    )?;
    m.value_type = btf.find_by_name(".kconfig", Kind::Datasec).first().copied();
    m.variables = externs
        .iter()
        .filter(|e| e.kind == ExternKind::Kconfig)
        .map(|e| GlobalVar {
            name: e.name.clone(),
            offset: e.kconfig_offset.unwrap_or(0),
            size: e.size.unwrap_or(0),
            type_id: e.type_id,
            type_name: e.type_name.clone(),
            is_static: false,
        })
        .collect();
    m.variables.sort_by_key(|v| v.offset);
    // `data` stays `None`: the loaders lay the values out (found by
    // fuzzing object_parse: an extern's type can claim gigabytes).
    m.map_flags = BPF_F_RDONLY_PROG | BPF_F_MMAPABLE;
    m.frozen = true;
    Ok(Some(m))
}

#[cfg(test)]
mod tests {
    use super::{internal_map_name, kconfig_map};
    use crate::btf::{Btf, BtfBuilder, Endian, VarSecinfo};
    use crate::read::externs::{Extern, ExternKind};

    #[test]
    fn a_kconfig_map_of_any_size_holds_no_bytes() {
        // Found by fuzzing object_parse: an extern's type claiming 2 GiB
        // made this allocate the map's zeros.
        let mut b = BtfBuilder::new();
        let int = b.int("int", 4, 0);
        let var = b.var("CONFIG_X", int, 2);
        b.datasec(
            ".kconfig",
            4,
            &[VarSecinfo {
                ty: var,
                offset: 0,
                size: 4,
            }],
        );
        let btf = Btf::parse(&b.encode(Endian::Little)).unwrap();
        let ext = |offset, size| Extern {
            name: "CONFIG_X".into(),
            kind: ExternKind::Kconfig,
            weak: false,
            btf_id: var,
            type_id: int,
            type_name: "int".into(),
            kconfig_offset: Some(offset),
            size: Some(size),
        };
        for (offset, size, value_size) in [(0, 4, Some(4)), (8, 0x8000_0000, Some(0x8000_0008))] {
            let m = kconfig_map(Some(&btf), &[ext(offset, size)], "o").unwrap();
            assert_eq!(m.as_ref().map(|m| m.value_size), value_size);
            assert!(m.unwrap().data.is_none());
        }
        // Past u32 (no overflow on the way): an error naming the section.
        let err = kconfig_map(Some(&btf), &[ext(u32::MAX, u32::MAX)], "o").unwrap_err();
        assert!(err.to_string().contains(".kconfig"), "{err}");
    }

    #[test]
    fn names_follow_libbpf() {
        assert_eq!(internal_map_name("rd_full", ".rodata"), "rd_full.rodata");
        assert_eq!(internal_map_name("rd_full", ".bss"), "rd_full.bss");
        assert_eq!(internal_map_name("a_long_object", ".data"), "a_long_o.data");
        assert_eq!(internal_map_name("obj", ".data.extra"), ".data.extra");
        assert_eq!(internal_map_name("x", ".rodata.str1.1"), ".rodata.str1.1");
        assert_eq!(internal_map_name("", ".data"), ".data");
        assert_eq!(internal_map_name("my-obj", ".kconfig"), "my_obj.kconfig");
    }
}
