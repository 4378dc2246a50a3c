//! An object's BTF as the loader hands it to the kernel: the parsed types
//! copied into a [`BtfBuilder`] (encoded in the host's byte order for
//! `BPF_BTF_LOAD`), after the fixups every loader must make (clang leaves DATASEC sizes and offsets at 0 and extern linkage in
//! place, which the kernel refuses). The kinds a kernel lacks are
//! rewritten by [`super::btf_sanitise`].

use std::collections::HashMap;

use bpfkit_object::btf::{int_encoding, Btf, BtfBuilder, Kind, TypeData, VarSecinfo};
use bpfkit_object::read::{ExternKind, MapSource, Object};

/// `BTF_VAR_GLOBAL_ALLOCATED`.
const VAR_GLOBAL_ALLOCATED: u32 = 1;
/// `BTF_FUNC_GLOBAL`.
const FUNC_GLOBAL: u16 = 1;

/// The id of a signed 4-byte `int`, added when the BTF has none.
fn int_type(img: &mut BtfBuilder) -> u32 {
    let found = img.types().find(|(_, t)| {
        t.kind == Kind::Int
            && t.size_or_type == 4
            && matches!(t.data, TypeData::Int(i) if i.bits == 32 && i.offset == 0)
    });
    match found {
        Some((id, _)) => id,
        None => img.int("int", 4, int_encoding::SIGNED),
    }
}

/// The object's BTF with the loader's fixups applied (see the module docs):
/// `.kconfig` and `.ksyms` laid out as the loader lays them out, externs
/// made allocated globals, every other DATASEC given its section's size and
/// its variables' symbol offsets, entries sorted by offset.
pub fn fixed_up(obj: &Object, btf: &Btf) -> BtfBuilder {
    let mut img = BtfBuilder::from_btf(btf);
    let datasecs: Vec<u32> = btf
        .types()
        .filter(|(_, t)| t.kind == Kind::Datasec)
        .map(|(id, _)| id)
        .collect();
    for id in datasecs {
        let name = btf.name_of(id).to_string();
        match name.as_str() {
            ".kconfig" => fix_kconfig(obj, btf, &mut img, id),
            ".ksyms" => fix_ksyms(btf, &mut img, id),
            _ => fix_section(obj, btf, &mut img, id, &name),
        }
    }
    img
}

fn entries_mut(img: &mut BtfBuilder, id: u32) -> Option<&mut Vec<VarSecinfo>> {
    match &mut img.get_mut(id)?.data {
        TypeData::Datasec(v) => Some(v),
        _ => None,
    }
}

fn set_var_linkage(img: &mut BtfBuilder, var: u32, linkage: u32) {
    if let Some(t) = img.get_mut(var) {
        if let TypeData::Var { linkage: l } = &mut t.data {
            *l = linkage;
        }
    }
}

fn sort_entries(img: &mut BtfBuilder, id: u32) {
    if let Some(e) = entries_mut(img, id) {
        e.sort_by_key(|v| v.offset);
    }
}

fn fix_kconfig(obj: &Object, btf: &Btf, img: &mut BtfBuilder, id: u32) {
    let size = obj
        .maps
        .iter()
        .find(|m| m.source == MapSource::Kconfig)
        .map_or(0, |m| m.value_size);
    let offsets: HashMap<&str, (u32, u32)> = obj
        .externs
        .iter()
        .filter(|e| e.kind == ExternKind::Kconfig)
        .filter_map(|e| Some((e.name.as_str(), (e.kconfig_offset?, e.size?))))
        .collect();
    let vars: Vec<u32> = entries_mut(img, id)
        .map(|e| e.iter().map(|v| v.ty).collect())
        .unwrap_or_default();
    for var in &vars {
        set_var_linkage(img, *var, VAR_GLOBAL_ALLOCATED);
    }
    if let Some(entries) = entries_mut(img, id) {
        for v in entries.iter_mut() {
            if let Some(&(off, sz)) = offsets.get(btf.name_of(v.ty)) {
                v.offset = off;
                v.size = sz;
            }
        }
    }
    if let Some(t) = img.get_mut(id) {
        t.size_or_type = size;
    }
    sort_entries(img, id);
}

/// `.ksyms` holds kernel symbols, not data: the kernel accepts only VARs
/// in a DATASEC, so every entry becomes a 4-byte `int` variable (a FUNC
/// entry points at one dummy VAR), one after the other, as libbpf does.
fn fix_ksyms(btf: &Btf, img: &mut BtfBuilder, id: u32) {
    let int_id = int_type(img);
    let dummy = img.var("dummy_ksym", int_id, VAR_GLOBAL_ALLOCATED);
    let dummy_name = img.get(dummy).map_or(0, |t| t.name_off);
    let targets: Vec<u32> = entries_mut(img, id)
        .map(|e| e.iter().map(|v| v.ty).collect())
        .unwrap_or_default();
    let mut new_types = Vec::with_capacity(targets.len());
    for ty in targets {
        let kind = btf.type_by_id(ty).map(|t| t.kind);
        if kind == Some(Kind::Func) {
            let proto = img.get(ty).map_or(0, |t| t.size_or_type);
            if let Some(f) = img.get_mut(ty) {
                f.vlen = FUNC_GLOBAL;
            }
            // The kernel wants every parameter of a FUNC's prototype named.
            if let Some(TypeData::Params(ps)) = img.get_mut(proto).map(|t| &mut t.data) {
                for p in ps.iter_mut().filter(|p| p.name_off == 0 && p.ty != 0) {
                    p.name_off = dummy_name;
                }
            }
            new_types.push(dummy);
        } else {
            set_var_linkage(img, ty, VAR_GLOBAL_ALLOCATED);
            if let Some(v) = img.get_mut(ty) {
                v.size_or_type = int_id;
            }
            new_types.push(ty);
        }
    }
    let n = new_types.len() as u32;
    if let Some(entries) = entries_mut(img, id) {
        for (i, (v, ty)) in entries.iter_mut().zip(new_types).enumerate() {
            v.ty = ty;
            v.offset = i as u32 * 4;
            v.size = 4;
        }
    }
    if let Some(t) = img.get_mut(id) {
        t.size_or_type = n * 4;
    }
}

fn fix_section(obj: &Object, btf: &Btf, img: &mut BtfBuilder, id: u32, name: &str) {
    let Some(section) = obj.sections.iter().find(|s| s.name == name) else {
        return;
    };
    let symbol_offset = |var: &str| {
        obj.symbols
            .iter()
            .find(|s| s.section == Some(section.index) && s.name == var)
            .map(|s| s.value as u32)
    };
    let from_maps = |var: &str| {
        obj.maps
            .iter()
            .filter(|m| m.section_index == section.index)
            .find_map(|m| {
                if m.name == var && !m.source.is_internal() {
                    Some(m.offset as u32)
                } else {
                    m.variables.iter().find(|v| v.name == var).map(|v| v.offset)
                }
            })
    };
    if let Some(t) = img.get_mut(id) {
        if t.size_or_type == 0 {
            t.size_or_type = section.size as u32;
        }
    }
    if let Some(entries) = entries_mut(img, id) {
        for v in entries.iter_mut() {
            let var = btf.name_of(v.ty);
            if let Some(off) = symbol_offset(var).or_else(|| from_maps(var)) {
                v.offset = off;
            }
        }
    }
    sort_entries(img, id);
}

#[cfg(test)]
mod tests {
    use super::*;
    use bpfkit_object::btf::Endian;

    fn fixture(name: &str) -> Object {
        let path = format!(
            "{}/../object/tests/fixtures/{name}.o",
            env!("CARGO_MANIFEST_DIR")
        );
        Object::open(path).expect("fixture")
    }

    #[test]
    fn fixups_lay_out_datasecs_and_externs() {
        let obj = fixture("ksyms_kconfig");
        let img = fixed_up(&obj, obj.btf.as_ref().expect("btf"));
        let btf = Btf::parse(&img.encode(Endian::HOST)).expect("parses");
        for (id, t) in btf.types() {
            match t.kind {
                Kind::Var => assert_ne!(t.linkage(), Some(2), "[{id}] still extern"),
                Kind::Datasec => {
                    let mut end = 0;
                    for v in t.datasec_entries() {
                        assert!(v.offset >= end, "[{id}] {} overlaps", btf.name_of(id));
                        assert_eq!(btf.type_by_id(v.ty).map(|t| t.kind), Some(Kind::Var));
                        end = v.offset + v.size;
                    }
                    assert!(
                        end <= t.size_or_type,
                        "[{id}] {} past its size",
                        btf.name_of(id)
                    );
                }
                _ => {}
            }
        }
        let ksyms = btf.find_by_name(".ksyms", Kind::Datasec)[0];
        assert_eq!(btf.type_by_id(ksyms).map(|t| t.size_or_type), Some(4 * 4));
    }
}
