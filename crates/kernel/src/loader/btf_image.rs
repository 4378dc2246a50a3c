//! An object's BTF as the loader hands it to the kernel: the parsed types
//! re-encoded in the host's byte order, after the fixups every loader must
//! make (clang leaves DATASEC sizes and offsets at 0 and extern linkage in
//! place, which the kernel refuses). The kinds a kernel lacks are
//! rewritten by [`super::btf_sanitise`].

use std::collections::HashMap;

use bpfkit_object::btf::{Btf, Kind, Type, TypeData, VarSecinfo};
use bpfkit_object::read::{ExternKind, MapSource, Object};

/// `BTF_VAR_GLOBAL_ALLOCATED`.
const VAR_GLOBAL_ALLOCATED: u32 = 1;
/// `BTF_FUNC_GLOBAL`.
const FUNC_GLOBAL: u16 = 1;

/// A mutable BTF: types by id (0 is void) and the string section.
#[derive(Debug, Clone)]
pub struct BtfImage {
    types: Vec<Type>,
    strings: Vec<u8>,
    offsets: HashMap<String, u32>,
}

impl BtfImage {
    /// An empty BTF (void only, the empty string).
    pub fn new() -> BtfImage {
        BtfImage {
            types: vec![Type::void()],
            strings: vec![0],
            offsets: HashMap::new(),
        }
    }

    /// A copy of a parsed BTF's types and strings.
    pub fn from_btf(btf: &Btf) -> BtfImage {
        BtfImage {
            types: btf.types().map(|(_, t)| t.clone()).collect(),
            strings: btf.strings().as_bytes().to_vec(),
            offsets: HashMap::new(),
        }
    }

    /// The offset of `s` in the string section, added when absent.
    pub fn string(&mut self, s: &str) -> u32 {
        if let Some(off) = self.find_string(s) {
            return off;
        }
        let off = self.strings.len() as u32;
        self.strings.extend_from_slice(s.as_bytes());
        self.strings.push(0);
        self.offsets.insert(s.to_string(), off);
        off
    }

    /// The offset of `s` in the string section, if it is there.
    pub fn find_string(&mut self, s: &str) -> Option<u32> {
        if s.is_empty() {
            return Some(0);
        }
        if self.offsets.is_empty() {
            let mut off = 0usize;
            for part in self.strings.split(|&b| b == 0) {
                if let Ok(text) = std::str::from_utf8(part) {
                    self.offsets.entry(text.to_string()).or_insert(off as u32);
                }
                off += part.len() + 1;
            }
        }
        self.offsets.get(s).copied()
    }

    /// The string at `off`.
    pub fn str_at(&self, off: u32) -> &str {
        let rest = self.strings.get(off as usize..).unwrap_or(&[]);
        let end = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
        std::str::from_utf8(&rest[..end]).unwrap_or("")
    }

    /// Appends a type; returns its id.
    pub fn push(&mut self, t: Type) -> u32 {
        self.types.push(t);
        (self.types.len() - 1) as u32
    }

    /// The type with id `id`.
    pub fn get(&self, id: u32) -> Option<&Type> {
        self.types.get(id as usize)
    }

    /// Mutable access to the type with id `id`.
    pub fn get_mut(&mut self, id: u32) -> Option<&mut Type> {
        self.types.get_mut(id as usize)
    }

    /// The number of types, void included.
    pub fn len(&self) -> usize {
        self.types.len()
    }

    /// Whether only void is there.
    pub fn is_empty(&self) -> bool {
        self.types.len() <= 1
    }

    /// The id of a signed 4-byte `int`, added when the BTF has none.
    pub fn int_type(&mut self) -> u32 {
        let found = self.types.iter().position(|t| {
            t.kind == Kind::Int
                && t.size_or_type == 4
                && matches!(t.data, TypeData::Int(i) if i.bits == 32 && i.offset == 0)
        });
        match found {
            Some(id) => id as u32,
            None => {
                let name_off = self.string("int");
                self.push(int(name_off, 4, 32, 1))
            }
        }
    }

    /// The blob `BPF_BTF_LOAD` takes: header, types, strings, in the
    /// host's byte order.
    pub fn encode(&self) -> Vec<u8> {
        let mut types = Vec::new();
        let mut w = |v: u32| types.extend_from_slice(&v.to_ne_bytes());
        for t in self.types.iter().skip(1) {
            w(t.name_off);
            w((u32::from(t.kind_flag) << 31) | ((t.kind as u32) << 24) | u32::from(t.vlen));
            w(t.size_or_type);
            match &t.data {
                TypeData::None => {}
                TypeData::Int(i) => w((u32::from(i.encoding) << 24)
                    | (u32::from(i.offset) << 16)
                    | u32::from(i.bits)),
                TypeData::Array(a) => {
                    w(a.elem);
                    w(a.index);
                    w(a.nelems);
                }
                TypeData::Members(ms) => {
                    for m in ms {
                        w(m.name_off);
                        w(m.ty);
                        if t.kind_flag {
                            w((u32::from(m.bitfield_size) << 24) | (m.bit_offset & 0x00ff_ffff));
                        } else {
                            w(m.bit_offset);
                        }
                    }
                }
                TypeData::Enum(vs) => {
                    for v in vs {
                        w(v.name_off);
                        w(v.value as u32);
                        if t.kind == Kind::Enum64 {
                            w((v.value >> 32) as u32);
                        }
                    }
                }
                TypeData::Params(ps) => {
                    for p in ps {
                        w(p.name_off);
                        w(p.ty);
                    }
                }
                TypeData::Var { linkage } => w(*linkage),
                TypeData::Datasec(vs) => {
                    for v in vs {
                        w(v.ty);
                        w(v.offset);
                        w(v.size);
                    }
                }
                TypeData::DeclTag { component_idx } => w(*component_idx as u32),
            }
        }
        crate::probe::raw_btf(&types, &self.strings)
    }
}

impl Default for BtfImage {
    fn default() -> Self {
        BtfImage::new()
    }
}

/// A `BTF_KIND_INT` record.
pub(crate) fn int(name_off: u32, size: u32, bits: u8, encoding: u8) -> Type {
    Type {
        kind: Kind::Int,
        name_off,
        kind_flag: false,
        vlen: 0,
        size_or_type: size,
        data: TypeData::Int(bpfkit_object::btf::IntInfo {
            encoding,
            offset: 0,
            bits,
        }),
    }
}

/// The object's BTF with the loader's fixups applied (see the module docs):
/// `.kconfig` and `.ksyms` laid out as the loader lays them out, externs
/// made allocated globals, every other DATASEC given its section's size and
/// its variables' symbol offsets, entries sorted by offset.
pub fn fixed_up(obj: &Object, btf: &Btf) -> BtfImage {
    let mut img = BtfImage::from_btf(btf);
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

fn entries_mut(img: &mut BtfImage, id: u32) -> Option<&mut Vec<VarSecinfo>> {
    match &mut img.get_mut(id)?.data {
        TypeData::Datasec(v) => Some(v),
        _ => None,
    }
}

fn set_var_linkage(img: &mut BtfImage, var: u32, linkage: u32) {
    if let Some(t) = img.get_mut(var) {
        if let TypeData::Var { linkage: l } = &mut t.data {
            *l = linkage;
        }
    }
}

fn sort_entries(img: &mut BtfImage, id: u32) {
    if let Some(e) = entries_mut(img, id) {
        e.sort_by_key(|v| v.offset);
    }
}

fn fix_kconfig(obj: &Object, btf: &Btf, img: &mut BtfImage, id: u32) {
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
fn fix_ksyms(btf: &Btf, img: &mut BtfImage, id: u32) {
    let int_id = img.int_type();
    let dummy_name = img.string("dummy_ksym");
    let dummy = img.push(Type {
        kind: Kind::Var,
        name_off: dummy_name,
        kind_flag: false,
        vlen: 0,
        size_or_type: int_id,
        data: TypeData::Var {
            linkage: VAR_GLOBAL_ALLOCATED,
        },
    });
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

fn fix_section(obj: &Object, btf: &Btf, img: &mut BtfImage, id: u32, name: &str) {
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

    fn fixture(name: &str) -> Object {
        let path = format!(
            "{}/../object/tests/fixtures/{name}.o",
            env!("CARGO_MANIFEST_DIR")
        );
        Object::open(path).expect("fixture")
    }

    #[test]
    fn encoding_gives_back_the_parsed_types() {
        for name in ["btf_shapes", "btf_corners", "global_data", "ksyms_kconfig"] {
            let obj = fixture(name);
            let btf = obj.btf.as_ref().expect("btf");
            let again = Btf::parse(&BtfImage::from_btf(btf).encode()).expect("re-parses");
            assert_eq!(again.len(), btf.len(), "{name}");
            for ((_, a), (_, b)) in btf.types().zip(again.types()) {
                assert_eq!(a, b, "{name}");
            }
        }
    }

    #[test]
    fn fixups_lay_out_datasecs_and_externs() {
        let obj = fixture("ksyms_kconfig");
        let img = fixed_up(&obj, obj.btf.as_ref().expect("btf"));
        let btf = Btf::parse(&img.encode()).expect("parses");
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
