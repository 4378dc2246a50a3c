//! Writing BTF: [`BtfBuilder`] holds types by id and a string section, and
//! [`BtfBuilder::encode`] gives the blob a `.BTF` section or `BPF_BTF_LOAD`
//! takes (header, types, strings), the inverse of [`Btf::parse`].
//!
//! The encoder writes the raw header fields of each [`Type`] as they are
//! (`vlen`, `kind_flag`, `size_or_type`) and checks nothing, so a parsed
//! type comes back byte for byte and a test can write a malformed record on
//! purpose; the typed methods ([`BtfBuilder::int`], [`BtfBuilder::struct_type`],
//! ...) fill those fields from the data so that what they write is valid.

use std::collections::HashMap;

use super::parse::{HEADER_LEN, MAGIC};
use super::types::{
    ArrayInfo, EnumValue, IntInfo, Kind, Member, Param, Type, TypeData, VarSecinfo,
};
use super::{Btf, Endian};

/// A BTF being written: types by id and the string section.
///
/// Ids start at 1 (0 is void, which is never stored), or after the base's
/// for split BTF ([`BtfBuilder::split`]); string offsets likewise start at 0
/// or after the base's strings.
#[derive(Debug, Clone)]
pub struct BtfBuilder {
    first_id: u32,
    types: Vec<Type>,
    first_str_off: u32,
    strings: Vec<u8>,
    /// Offsets of the strings by text, built on first look-up.
    offsets: HashMap<String, u32>,
}

impl Default for BtfBuilder {
    fn default() -> Self {
        BtfBuilder::new()
    }
}

/// A struct or union member for [`BtfBuilder::struct_type`]: name, type id,
/// bit offset, bitfield size (0 when not a bitfield).
pub type MemberSpec<'a> = (&'a str, u32, u32, u8);

impl BtfBuilder {
    /// An empty BTF: no types but void, the empty string at offset 0.
    pub fn new() -> BtfBuilder {
        BtfBuilder {
            first_id: 1,
            types: Vec::new(),
            first_str_off: 0,
            strings: vec![0],
            offsets: HashMap::new(),
        }
    }

    /// An empty split BTF on top of `base` (a kernel module's BTF on
    /// vmlinux): ids and string offsets continue the base's, and the
    /// string section starts empty ("" is the base's string at 0).
    pub fn split(base: &Btf) -> BtfBuilder {
        BtfBuilder {
            first_id: base.len() as u32,
            types: Vec::new(),
            first_str_off: base.strings().len() as u32,
            strings: Vec::new(),
            offsets: HashMap::new(),
        }
    }

    /// A copy of a parsed BTF's types and strings (of the split part only,
    /// for split BTF), which [`BtfBuilder::encode`] writes back as read.
    pub fn from_btf(btf: &Btf) -> BtfBuilder {
        let own_strings = btf
            .strings()
            .as_bytes()
            .get(btf.first_str_off() as usize..)
            .unwrap_or_default();
        BtfBuilder {
            first_id: btf.first_id(),
            types: btf
                .types()
                .skip(btf.first_id() as usize)
                .map(|(_, t)| t.clone())
                .collect(),
            first_str_off: btf.first_str_off(),
            strings: own_strings.to_vec(),
            offsets: HashMap::new(),
        }
    }

    /// The offset of `s` in the string section, added when absent.
    pub fn string(&mut self, s: &str) -> u32 {
        if let Some(off) = self.find_string(s) {
            return off;
        }
        let off = self.first_str_off + self.strings.len() as u32;
        self.strings.extend_from_slice(s.as_bytes());
        self.strings.push(0);
        self.offsets.insert(s.to_string(), off);
        off
    }

    /// The offset of `s` in the string section, if it is there ("" is
    /// always at 0).
    pub fn find_string(&mut self, s: &str) -> Option<u32> {
        if s.is_empty() {
            return Some(0);
        }
        if self.offsets.is_empty() {
            let mut off = self.first_str_off;
            for part in self.strings.split(|&b| b == 0) {
                if let Ok(text) = std::str::from_utf8(part) {
                    self.offsets.entry(text.to_string()).or_insert(off);
                }
                off += part.len() as u32 + 1;
            }
        }
        self.offsets.get(s).copied()
    }

    /// The string at `off` ("" when `off` is outside this blob's strings).
    pub fn str_at(&self, off: u32) -> &str {
        let rest = off
            .checked_sub(self.first_str_off)
            .and_then(|o| self.strings.get(o as usize..))
            .unwrap_or_default();
        let end = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
        std::str::from_utf8(&rest[..end]).unwrap_or("")
    }

    /// Appends a type as it is (no field is checked); returns its id.
    pub fn push(&mut self, t: Type) -> u32 {
        self.types.push(t);
        self.len() as u32 - 1
    }

    /// The type with id `id`, if this blob defines it.
    pub fn get(&self, id: u32) -> Option<&Type> {
        self.types.get(id.checked_sub(self.first_id)? as usize)
    }

    /// Mutable access to the type with id `id`, if this blob defines it.
    pub fn get_mut(&mut self, id: u32) -> Option<&mut Type> {
        self.types.get_mut(id.checked_sub(self.first_id)? as usize)
    }

    /// The types this blob defines, with their ids.
    pub fn types(&self) -> impl Iterator<Item = (u32, &Type)> {
        (self.first_id..).zip(&self.types)
    }

    /// The first id this blob defines: 1, or the base's type count.
    pub fn first_id(&self) -> u32 {
        self.first_id
    }

    /// The id the next type gets (so the ids are `first_id()..len()`, and
    /// without a base the count of types, void included).
    pub fn len(&self) -> usize {
        self.first_id as usize + self.types.len()
    }

    /// Whether no type has been added.
    pub fn is_empty(&self) -> bool {
        self.types.is_empty()
    }

    fn add(&mut self, kind: Kind, name: &str, size_or_type: u32, data: TypeData) -> u32 {
        let name_off = self.string(name);
        let (vlen, kind_flag) = match &data {
            TypeData::Members(ms) => (ms.len(), ms.iter().any(|m| m.bitfield_size != 0)),
            TypeData::Enum(vs) => (vs.len(), false),
            TypeData::Params(ps) => (ps.len(), false),
            TypeData::Datasec(vs) => (vs.len(), false),
            _ => (0, false),
        };
        self.push(Type {
            kind,
            name_off,
            kind_flag,
            vlen: vlen as u16,
            size_or_type,
            data,
        })
    }

    /// `BTF_KIND_INT` of `size` bytes, all of them value bits, with
    /// [`int_encoding`](super::int_encoding) bits (`name` "" is allowed).
    pub fn int(&mut self, name: &str, size: u32, encoding: u8) -> u32 {
        let name_off = self.string(name);
        self.push(Type::int(name_off, size, encoding))
    }

    /// A pointer to `to`.
    pub fn ptr(&mut self, to: u32) -> u32 {
        self.add(Kind::Ptr, "", to, TypeData::None)
    }

    /// An array of `nelems` elements of type `elem`, indexed by `index`.
    pub fn array(&mut self, elem: u32, index: u32, nelems: u32) -> u32 {
        let a = ArrayInfo {
            elem,
            index,
            nelems,
        };
        self.add(Kind::Array, "", 0, TypeData::Array(a))
    }

    fn composite(&mut self, kind: Kind, name: &str, size: u32, ms: &[MemberSpec]) -> u32 {
        let members = ms
            .iter()
            .map(|&(n, ty, bit_offset, bitfield_size)| Member {
                name_off: self.string(n),
                ty,
                bit_offset,
                bitfield_size,
            })
            .collect();
        self.add(kind, name, size, TypeData::Members(members))
    }

    /// A struct of `size` bytes; `kind_flag` is set when a member is a
    /// bitfield (then every member's offset is encoded with its size).
    pub fn struct_type(&mut self, name: &str, size: u32, members: &[MemberSpec]) -> u32 {
        self.composite(Kind::Struct, name, size, members)
    }

    /// A union, as [`BtfBuilder::struct_type`].
    pub fn union_type(&mut self, name: &str, size: u32, members: &[MemberSpec]) -> u32 {
        self.composite(Kind::Union, name, size, members)
    }

    /// A 4-byte enum; `signed` sets `kind_flag`, and each value is kept
    /// as the parser reads it back (sign- or zero-extended from 32 bits).
    pub fn enum32(&mut self, name: &str, signed: bool, values: &[(&str, i64)]) -> u32 {
        let extend = |v: i64| {
            if signed {
                v as i32 as i64 as u64
            } else {
                v as u32 as u64
            }
        };
        let values = values.iter().map(|&(n, v)| (n, extend(v)));
        self.enum_kind(Kind::Enum, name, signed, values)
    }

    /// An 8-byte enum64; `signed` sets `kind_flag`.
    pub fn enum64(&mut self, name: &str, signed: bool, values: &[(&str, u64)]) -> u32 {
        self.enum_kind(Kind::Enum64, name, signed, values.iter().copied())
    }

    /// An enum of `kind` (4 or 8 bytes) with `values` as they are stored.
    fn enum_kind<'n>(
        &mut self,
        kind: Kind,
        name: &str,
        signed: bool,
        values: impl Iterator<Item = (&'n str, u64)>,
    ) -> u32 {
        let vs = values
            .map(|(n, value)| EnumValue {
                name_off: self.string(n),
                value,
            })
            .collect();
        let size = if kind == Kind::Enum64 { 8 } else { 4 };
        let id = self.add(kind, name, size, TypeData::Enum(vs));
        self.types.last_mut().expect("just added").kind_flag = signed;
        id
    }

    /// A forward declaration of a struct, or of a union when `union`.
    pub fn fwd(&mut self, name: &str, union: bool) -> u32 {
        let id = self.add(Kind::Fwd, name, 0, TypeData::None);
        self.types.last_mut().expect("just added").kind_flag = union;
        id
    }

    /// A typedef of `to`.
    pub fn typedef(&mut self, name: &str, to: u32) -> u32 {
        self.add(Kind::Typedef, name, to, TypeData::None)
    }

    /// `kind` (`Const`, `Volatile` or `Restrict`) of `to`.
    pub fn qualifier(&mut self, kind: Kind, to: u32) -> u32 {
        self.add(kind, "", to, TypeData::None)
    }

    /// A `btf_type_tag` named `name` on `to`.
    pub fn type_tag(&mut self, name: &str, to: u32) -> u32 {
        self.add(Kind::TypeTag, name, to, TypeData::None)
    }

    /// A function prototype returning `ret` (0 is void) with `params`
    /// (name, type id; a last `("", 0)` is `...`).
    pub fn func_proto(&mut self, ret: u32, params: &[(&str, u32)]) -> u32 {
        let ps = params
            .iter()
            .map(|&(n, ty)| Param {
                name_off: self.string(n),
                ty,
            })
            .collect();
        self.add(Kind::FuncProto, "", ret, TypeData::Params(ps))
    }

    /// A function of prototype `proto` with `BTF_FUNC_*` `linkage`
    /// (0 static, 1 global, 2 extern), which BTF stores in `vlen`.
    pub fn func(&mut self, name: &str, proto: u32, linkage: u16) -> u32 {
        let id = self.add(Kind::Func, name, proto, TypeData::None);
        self.types.last_mut().expect("just added").vlen = linkage;
        id
    }

    /// A variable of type `ty` with `BTF_VAR_*` `linkage` (0 static,
    /// 1 global allocated, 2 extern).
    pub fn var(&mut self, name: &str, ty: u32, linkage: u32) -> u32 {
        self.add(Kind::Var, name, ty, TypeData::Var { linkage })
    }

    /// A data section of `size` bytes with its entries.
    pub fn datasec(&mut self, name: &str, size: u32, entries: &[VarSecinfo]) -> u32 {
        self.add(
            Kind::Datasec,
            name,
            size,
            TypeData::Datasec(entries.to_vec()),
        )
    }

    /// A floating-point type of `size` bytes.
    pub fn float(&mut self, name: &str, size: u32) -> u32 {
        self.add(Kind::Float, name, size, TypeData::None)
    }

    /// A `btf_decl_tag` on `target`: on the declaration itself when
    /// `component_idx` is -1, else on that member or parameter.
    pub fn decl_tag(&mut self, name: &str, target: u32, component_idx: i32) -> u32 {
        let data = TypeData::DeclTag { component_idx };
        self.add(Kind::DeclTag, name, target, data)
    }

    /// The blob in `endian` byte order: `struct btf_header` (24 bytes,
    /// types first, strings right after), the type records, the strings.
    /// Use [`Endian::HOST`] for `BPF_BTF_LOAD`.
    pub fn encode(&self, endian: Endian) -> Vec<u8> {
        let mut types = Vec::with_capacity(self.types.len() * 16);
        for t in &self.types {
            encode_type(t, &mut |v| types.extend_from_slice(&word(endian, v)));
        }
        let mut out = Vec::with_capacity(HEADER_LEN + types.len() + self.strings.len());
        out.extend_from_slice(&match endian {
            Endian::Little => MAGIC.to_le_bytes(),
            Endian::Big => MAGIC.to_be_bytes(),
        });
        out.extend_from_slice(&[1, 0]);
        let type_len = types.len() as u32;
        for v in [
            HEADER_LEN as u32,
            0,
            type_len,
            type_len,
            self.strings.len() as u32,
        ] {
            out.extend_from_slice(&word(endian, v));
        }
        out.extend_from_slice(&types);
        out.extend_from_slice(&self.strings);
        out
    }
}

fn word(endian: Endian, v: u32) -> [u8; 4] {
    match endian {
        Endian::Little => v.to_le_bytes(),
        Endian::Big => v.to_be_bytes(),
    }
}

/// One record: the common header from the raw fields, then the data.
fn encode_type(t: &Type, w: &mut impl FnMut(u32)) {
    w(t.name_off);
    w((u32::from(t.kind_flag) << 31) | ((t.kind as u32) << 24) | u32::from(t.vlen));
    w(t.size_or_type);
    match &t.data {
        TypeData::None => {}
        TypeData::Int(IntInfo {
            encoding,
            offset,
            bits,
        }) => w((u32::from(*encoding) << 24) | (u32::from(*offset) << 16) | u32::from(*bits)),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::btf::int_encoding::SIGNED;
    use crate::btf::BtfError;

    /// One type of every kind, and raw records the typed methods do not
    /// write (a legacy bit offset in an int, `kind_flag` without bitfields).
    fn every_kind() -> BtfBuilder {
        let mut b = BtfBuilder::new();
        let int = b.int("int", 4, SIGNED);
        let ptr = b.ptr(int);
        let arr = b.array(int, int, 4);
        let s = b.struct_type("s", 8, &[("a", int, 0, 0), ("b", int, 32, 3)]);
        b.union_type("u", 4, &[("x", int, 0, 0), ("", s, 0, 0)]);
        b.enum32("e", true, &[("M", -5), ("N", 7)]);
        b.enum32("ue", false, &[("BIG", 0xffff_fff0)]);
        b.enum64("e64", false, &[("W", 0x0123_4567_89ab_cdef)]);
        b.enum64("se64", true, &[("NEG", -2i64 as u64)]);
        b.fwd("f", true);
        b.fwd("g", false);
        let td = b.typedef("t", arr);
        b.qualifier(Kind::Volatile, td);
        b.qualifier(Kind::Const, ptr);
        b.qualifier(Kind::Restrict, ptr);
        let proto = b.func_proto(int, &[("p", ptr), ("", 0)]);
        let f = b.func("fn", proto, 1);
        let v = b.var("v", int, 1);
        let sec = VarSecinfo {
            ty: v,
            offset: 0,
            size: 4,
        };
        b.datasec(".data", 4, &[sec]);
        b.float("double", 8);
        b.decl_tag("tag", f, 0);
        b.decl_tag("tag", s, -1);
        b.type_tag("user", int);
        let name_off = b.string("legacy");
        let mut legacy = Type::int(name_off, 4, 0);
        legacy.data = TypeData::Int(IntInfo {
            encoding: 0,
            offset: 2,
            bits: 10,
        });
        b.push(legacy);
        let name_off = b.string("kf");
        let members = vec![Member {
            name_off,
            ty: int,
            bit_offset: 0,
            bitfield_size: 0,
        }];
        b.push(Type {
            kind: Kind::Struct,
            name_off,
            kind_flag: true,
            vlen: 1,
            size_or_type: 4,
            data: TypeData::Members(members),
        });
        b
    }

    fn assert_same(b: &BtfBuilder, btf: &Btf) {
        assert_eq!(btf.first_id(), b.first_id());
        assert_eq!(btf.len(), b.len());
        let parsed: Vec<_> = btf.types().skip(b.first_id() as usize).collect();
        assert_eq!(parsed, b.types().collect::<Vec<_>>());
        let own = &btf.strings().as_bytes()[btf.first_str_off() as usize..];
        assert_eq!(own, &b.strings[..]);
    }

    #[test]
    fn parse_of_encode_gives_back_every_type() {
        let b = every_kind();
        for endian in [Endian::Little, Endian::Big] {
            let btf = Btf::parse(&b.encode(endian)).expect("parses");
            assert_eq!(btf.endianness(), endian);
            assert_same(&b, &btf);
            assert_eq!(btf.name_of(4), "s");
            assert_eq!(
                btf.type_by_id(6).map(|t| t.enum_values()[0].value as i64),
                Some(-5)
            );
            // And the round trip the other way, through a parsed Btf.
            assert_eq!(BtfBuilder::from_btf(&btf).encode(endian), b.encode(endian));
        }
    }

    #[test]
    fn an_int_wider_than_btf_allows_is_written_and_refused() {
        for size in [17, 32, u32::MAX] {
            let mut b = BtfBuilder::new();
            b.int("huge", size, 0);
            let e = Btf::parse(&b.encode(Endian::Little)).unwrap_err();
            assert!(matches!(e, BtfError::InvalidType { type_id: 1, .. }), "{e}");
        }
    }

    #[test]
    fn split_blobs_continue_the_base_ids_and_strings() {
        let base_b = every_kind();
        let base = Btf::parse(&base_b.encode(Endian::Little)).expect("base");
        let mut m = BtfBuilder::split(&base);
        assert_eq!(m.string(""), 0);
        let sp = m.ptr(4);
        let named = m.struct_type("in_mod", 4, &[("a", 1, 0, 0)]);
        assert_eq!((sp, named), (base.len() as u32, base.len() as u32 + 1));
        let bytes = m.encode(Endian::Little);
        let split = Btf::parse_split(&bytes, &base).expect("split parses");
        assert_same(&m, &split);
        assert_eq!(split.name_of(named), "in_mod");
        assert_eq!(m.str_at(split.get(named).unwrap().name_off), "in_mod");
        assert_eq!(BtfBuilder::from_btf(&split).encode(Endian::Little), bytes);
    }

    /// Every committed clang object's `.BTF` section, parsed and encoded
    /// again in its byte order, is the same bytes: LLVM writes the header,
    /// the types and the strings (each once, in first-use order) in the
    /// layout the encoder uses, so nothing is reordered or padded.
    #[test]
    fn fixture_btf_sections_encode_byte_for_byte() {
        use object::{Object as _, ObjectSection as _};
        let crates = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
        let mut objects = Vec::new();
        for c in std::fs::read_dir(crates).expect("crates") {
            collect_objects(
                &c.expect("entry").path().join("tests/fixtures"),
                &mut objects,
            );
        }
        let (mut checked, mut big) = (0, 0);
        for path in &objects {
            let data = std::fs::read(path).expect("read");
            let Ok(file) = object::File::parse(&*data) else {
                continue;
            };
            let Some(section) = file.section_by_name(".BTF") else {
                continue;
            };
            let bytes = section.data().expect("section data");
            let btf = Btf::parse(bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let again = BtfBuilder::from_btf(&btf).encode(btf.endianness());
            assert!(again == bytes, "{}: encoding differs", path.display());
            checked += 1;
            big += usize::from(btf.endianness() == Endian::Big);
        }
        assert!(checked >= 40, "only {checked} fixtures with .BTF");
        assert!(big >= 1, "no big-endian fixture");
    }

    fn collect_objects(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                collect_objects(&p, out);
            } else if p.extension().is_some_and(|x| x == "o") {
                out.push(p);
            }
        }
    }
}
