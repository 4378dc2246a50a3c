//! The BPF Type Format (BTF): parsing, type graph and dumps.
//!
//! [`Btf::parse`] reads a `.BTF` section or the kernel's
//! `/sys/kernel/btf/vmlinux`; [`Btf::parse_split`] reads module BTF on top of
//! a base. Type id 0 is `void`; ids of split BTF continue the base's.
//! Parsing is strict (see [`BtfError`]) and never panics. [`BtfBuilder`]
//! writes BTF: types added one by one or copied from a parsed [`Btf`],
//! encoded in either byte order.

mod dump_c;
mod dump_raw;
mod encode;
mod error;
pub mod ext;
mod json;
mod parse;
mod types;

use std::sync::OnceLock;

pub use dump_c::dump_c;
pub use dump_raw::{dump_raw, dump_type as dump_raw_type};
pub use encode::{BtfBuilder, MemberSpec};
pub use error::BtfError;
pub use ext::{BtfExt, CoreRelo, CoreReloKind, FuncInfo, LineInfo, SectionInfo};
pub use json::BpftoolJson;
pub use types::{
    int_encoding, ArrayInfo, EnumValue, IntInfo, Kind, Member, Param, Type, TypeData, VarSecinfo,
};

/// Byte order of a BTF blob (told by the magic).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Endian {
    /// Little-endian (x86, arm64, BPF on those hosts).
    Little,
    /// Big-endian (s390x, bpfeb objects).
    Big,
}

impl Endian {
    /// The byte order of the machine this runs on, which `BPF_BTF_LOAD`
    /// takes.
    pub const HOST: Endian = if cfg!(target_endian = "big") {
        Endian::Big
    } else {
        Endian::Little
    };
}

/// The header of a BTF blob, as read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Header {
    /// Byte order.
    pub endian: Endian,
    /// Header length (24, or more with a zero tail).
    pub hdr_len: u32,
    /// Type section offset, from the end of the header.
    pub type_off: u32,
    /// Type section length.
    pub type_len: u32,
    /// String section offset, from the end of the header.
    pub str_off: u32,
    /// String section length.
    pub str_len: u32,
}

/// FNV-1a of a type name, for [`Btf::find_by_name`]'s index.
fn name_hash(name: &str) -> u64 {
    name.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// Most references a chain of typedefs/modifiers may take (libbpf's
/// `MAX_RESOLVE_DEPTH`).
const MAX_RESOLVE_DEPTH: usize = 32;

/// A parsed BTF: all types (id = index, 0 = void) and the strings.
///
/// For split BTF the base's types and strings are included (copied), so ids
/// and string offsets can be used directly; [`Btf::first_id`] tells where the
/// split part starts.
#[derive(Debug, Clone)]
pub struct Btf {
    types: Vec<Type>,
    strings: String,
    first_id: u32,
    first_str_off: u32,
    header: Header,
    /// (name hash, id) sorted, built on first [`Btf::find_by_name`].
    names: OnceLock<Vec<(u64, u32)>>,
    /// Pointer size, found on first [`Btf::ptr_size`].
    ptr_size: OnceLock<u32>,
}

impl Btf {
    /// Parses a `.BTF` section or a vmlinux BTF blob.
    pub fn parse(bytes: &[u8]) -> Result<Btf, BtfError> {
        parse::parse(bytes, None)
    }

    /// Parses split BTF (a kernel module's `/sys/kernel/btf/MOD`) on top of
    /// `base`: type ids and string offsets continue the base's.
    pub fn parse_split(bytes: &[u8], base: &Btf) -> Result<Btf, BtfError> {
        parse::parse(bytes, Some(base))
    }

    /// The header of this blob (for split BTF, the split part's).
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// Byte order of the blob.
    pub fn endianness(&self) -> Endian {
        self.header.endian
    }

    /// The first id defined by this blob: 1, or the base's type count for
    /// split BTF.
    pub fn first_id(&self) -> u32 {
        self.first_id
    }

    /// Offset of this blob's first string (0, or the base's string length).
    pub fn first_str_off(&self) -> u32 {
        self.first_str_off
    }

    /// Number of types including void (so ids are `0..len()`).
    pub fn len(&self) -> usize {
        self.types.len()
    }

    /// Whether there are no types but void.
    pub fn is_empty(&self) -> bool {
        self.types.len() <= 1
    }

    /// All types with their ids, void first (for split BTF, base types too).
    pub fn types(&self) -> impl Iterator<Item = (u32, &Type)> {
        self.types.iter().enumerate().map(|(i, t)| (i as u32, t))
    }

    /// The type with id `id`.
    pub fn type_by_id(&self, id: u32) -> Option<&Type> {
        self.types.get(id as usize)
    }

    /// Like [`Btf::type_by_id`] but an error naming the id.
    pub fn get(&self, id: u32) -> Result<&Type, BtfError> {
        self.type_by_id(id).ok_or(BtfError::NoSuchType(id))
    }

    /// The whole string section (NUL-separated, base strings first for
    /// split BTF), for a loader that re-encodes the types.
    pub fn strings(&self) -> &str {
        &self.strings
    }

    /// The string at offset `off` (up to its NUL).
    pub fn str_at(&self, off: u32) -> Option<&str> {
        let rest = self.strings.get(off as usize..)?;
        Some(rest.split('\0').next().unwrap_or(""))
    }

    /// A type's name, "" when anonymous.
    pub fn name(&self, t: &Type) -> &str {
        self.str_at(t.name_off).unwrap_or("")
    }

    /// The name of the type with id `id`, "" when anonymous or absent.
    pub fn name_of(&self, id: u32) -> &str {
        self.type_by_id(id).map_or("", |t| self.name(t))
    }

    /// Ids of all types named `name` of kind `kind`, in id order.
    ///
    /// The first call indexes every named type by a hash of its name: one
    /// sorted array, no allocation per name, so a lookup in vmlinux BTF
    /// (~130k types) costs a few milliseconds, not tens.
    pub fn find_by_name(&self, name: &str, kind: Kind) -> Vec<u32> {
        let index = self.names.get_or_init(|| {
            let mut v: Vec<(u64, u32)> = self
                .types()
                .filter(|(_, t)| t.name_off != 0)
                .map(|(id, t)| (name_hash(self.name(t)), id))
                .collect();
            v.sort_unstable();
            v
        });
        let h = name_hash(name);
        let start = index.partition_point(|&(k, _)| k < h);
        index[start..]
            .iter()
            .take_while(|&&(k, _)| k == h)
            .map(|&(_, id)| id)
            .filter(|&id| {
                let t = &self.types[id as usize];
                t.kind == kind && self.name(t) == name
            })
            .collect()
    }

    /// Follows typedef, const, volatile, restrict and type_tag from `id` to
    /// the first other type; returns its id and the type.
    pub fn resolve(&self, id: u32) -> Result<(u32, &Type), BtfError> {
        let mut cur = id;
        for _ in 0..MAX_RESOLVE_DEPTH {
            let t = self.get(cur)?;
            if !t.is_modifier_or_typedef() {
                return Ok((cur, t));
            }
            cur = t.size_or_type;
        }
        Err(BtfError::TooDeep(id))
    }

    /// Pointer size of the target: the size of `long` if the BTF has it,
    /// else 8.
    pub fn ptr_size(&self) -> u32 {
        *self.ptr_size.get_or_init(|| self.find_ptr_size())
    }

    fn find_ptr_size(&self) -> u32 {
        for name in ["long", "unsigned long", "long int", "long unsigned int"] {
            if let Some(&id) = self.find_by_name(name, Kind::Int).first() {
                let s = self.types[id as usize].size_or_type;
                if s == 4 || s == 8 {
                    return s;
                }
            }
        }
        8
    }

    /// The byte size of a type, through typedefs, modifiers, vars, decl tags
    /// and arrays (libbpf's `btf__resolve_size`).
    pub fn size_of(&self, id: u32) -> Result<u64, BtfError> {
        let mut cur = id;
        let mut nelems: u64 = 1;
        for _ in 0..MAX_RESOLVE_DEPTH {
            let t = self.get(cur)?;
            let size: u64 = match t.kind {
                Kind::Int
                | Kind::Struct
                | Kind::Union
                | Kind::Enum
                | Kind::Enum64
                | Kind::Datasec
                | Kind::Float => t.size_or_type as u64,
                Kind::Ptr => self.ptr_size() as u64,
                Kind::Typedef
                | Kind::Volatile
                | Kind::Const
                | Kind::Restrict
                | Kind::Var
                | Kind::DeclTag
                | Kind::TypeTag => {
                    cur = t.size_or_type;
                    continue;
                }
                Kind::Array => {
                    let a = t.array().ok_or(BtfError::NotSized(cur))?;
                    nelems = nelems
                        .checked_mul(a.nelems as u64)
                        .ok_or(BtfError::SizeOverflow(id))?;
                    cur = a.elem;
                    continue;
                }
                Kind::Void | Kind::Fwd | Kind::Func | Kind::FuncProto => {
                    return Err(BtfError::NotSized(cur))
                }
            };
            return nelems.checked_mul(size).ok_or(BtfError::SizeOverflow(id));
        }
        Err(BtfError::TooDeep(id))
    }
}
