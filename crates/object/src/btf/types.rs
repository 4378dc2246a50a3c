//! The BTF type model: one [`Type`] per record, with its kind-specific data
//! decoded into [`TypeData`]. Names stay string offsets (resolve them with
//! [`Btf::name`](super::Btf::name) or [`Btf::str_at`](super::Btf::str_at)) so
//! parsing allocates no strings.

use serde::Serialize;

/// A BTF kind, numbered as in the kernel's `include/uapi/linux/btf.h`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[repr(u8)]
pub enum Kind {
    /// Type id 0 only: `void`.
    Void = 0,
    /// Integer (`BTF_KIND_INT`).
    Int = 1,
    /// Pointer.
    Ptr = 2,
    /// Array.
    Array = 3,
    /// Struct.
    Struct = 4,
    /// Union.
    Union = 5,
    /// Enumeration with 32-bit values.
    Enum = 6,
    /// Forward declaration of a struct or union.
    Fwd = 7,
    /// Typedef.
    Typedef = 8,
    /// `volatile` modifier.
    Volatile = 9,
    /// `const` modifier.
    Const = 10,
    /// `restrict` modifier.
    Restrict = 11,
    /// Function (name + prototype + linkage).
    Func = 12,
    /// Function prototype.
    FuncProto = 13,
    /// Variable.
    Var = 14,
    /// Data section (`.data`, `.bss`, ...): variables at offsets.
    Datasec = 15,
    /// Floating point.
    Float = 16,
    /// Declaration tag (`__attribute__((btf_decl_tag("...")))`).
    DeclTag = 17,
    /// Type tag (`__attribute__((btf_type_tag("...")))`).
    TypeTag = 18,
    /// Enumeration with 64-bit values.
    Enum64 = 19,
}

impl Kind {
    /// The kind for a raw kind number (`BTF_INFO_KIND`); `None` for 0 and
    /// numbers the format does not define.
    pub fn from_raw(raw: u8) -> Option<Kind> {
        use Kind::*;
        Some(match raw {
            1 => Int,
            2 => Ptr,
            3 => Array,
            4 => Struct,
            5 => Union,
            6 => Enum,
            7 => Fwd,
            8 => Typedef,
            9 => Volatile,
            10 => Const,
            11 => Restrict,
            12 => Func,
            13 => FuncProto,
            14 => Var,
            15 => Datasec,
            16 => Float,
            17 => DeclTag,
            18 => TypeTag,
            19 => Enum64,
            _ => return None,
        })
    }

    /// The name bpftool prints for the kind (`STRUCT`, `FUNC_PROTO`, ...).
    pub fn name(self) -> &'static str {
        use Kind::*;
        match self {
            Void => "UNKNOWN",
            Int => "INT",
            Ptr => "PTR",
            Array => "ARRAY",
            Struct => "STRUCT",
            Union => "UNION",
            Enum => "ENUM",
            Fwd => "FWD",
            Typedef => "TYPEDEF",
            Volatile => "VOLATILE",
            Const => "CONST",
            Restrict => "RESTRICT",
            Func => "FUNC",
            FuncProto => "FUNC_PROTO",
            Var => "VAR",
            Datasec => "DATASEC",
            Float => "FLOAT",
            DeclTag => "DECL_TAG",
            TypeTag => "TYPE_TAG",
            Enum64 => "ENUM64",
        }
    }
}

/// One BTF type record.
///
/// `kind_flag`, `vlen` and `size_or_type` are the raw header fields, kept so
/// that raw dumps and re-encoding see exactly what the file said; `data` holds
/// everything decoded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Type {
    /// The kind.
    pub kind: Kind,
    /// Offset of the name in the string section (0 = anonymous).
    pub name_off: u32,
    /// `BTF_INFO_KFLAG`: bitfield layout for structs, unsignedness inverted
    /// (signed when set) for enums, union-ness for forwards.
    pub kind_flag: bool,
    /// `BTF_INFO_VLEN`: the number of members/values/params/entries.
    pub vlen: u16,
    /// The size (int, enum, struct, union, datasec, float, enum64) or the
    /// referenced type id (the other kinds), as stored.
    pub size_or_type: u32,
    /// The decoded kind-specific data.
    pub data: TypeData,
}

/// Kind-specific data of a [`Type`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum TypeData {
    /// Kinds with nothing beyond the common header: void, ptr, fwd, typedef,
    /// volatile, const, restrict, func, float and type_tag (their target is
    /// [`Type::ref_type`], a func's linkage is [`Type::linkage`], a forward's
    /// union flag is [`Type::kind_flag`]).
    None,
    /// An integer's encoding.
    Int(IntInfo),
    /// An array.
    Array(ArrayInfo),
    /// Struct or union members.
    Members(Vec<Member>),
    /// Enum or enum64 values (signed when `kind_flag` is set).
    Enum(Vec<EnumValue>),
    /// Function prototype parameters (a last parameter of type 0 and no
    /// name means `...`).
    Params(Vec<Param>),
    /// A variable's linkage (`BTF_VAR_*`).
    Var {
        /// 0 static, 1 global allocated, 2 global extern.
        linkage: u32,
    },
    /// Data section entries.
    Datasec(Vec<VarSecinfo>),
    /// A declaration tag's component: -1 for the declaration itself, else a
    /// member or parameter index.
    DeclTag {
        /// The component index.
        component_idx: i32,
    },
}

/// Integer encoding bits (`BTF_INT_SIGNED`, `BTF_INT_CHAR`, `BTF_INT_BOOL`).
pub mod int_encoding {
    /// Signed integer.
    pub const SIGNED: u8 = 1;
    /// Character type.
    pub const CHAR: u8 = 2;
    /// Boolean.
    pub const BOOL: u8 = 4;
}

/// The word that follows a `BTF_KIND_INT` record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct IntInfo {
    /// [`int_encoding`] bits.
    pub encoding: u8,
    /// Bit offset of the value inside the storage (legacy, usually 0).
    pub offset: u8,
    /// Number of value bits.
    pub bits: u8,
}

/// The record that follows a `BTF_KIND_ARRAY`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ArrayInfo {
    /// Element type id.
    pub elem: u32,
    /// Index type id.
    pub index: u32,
    /// Number of elements.
    pub nelems: u32,
}

/// A struct or union member.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Member {
    /// Name offset (0 for anonymous members).
    pub name_off: u32,
    /// Member type id.
    pub ty: u32,
    /// Offset in bits from the start of the struct.
    pub bit_offset: u32,
    /// Bitfield width when the struct has `kind_flag` set; 0 otherwise (a
    /// bitfield in a struct without `kind_flag` is encoded in the int type).
    pub bitfield_size: u8,
}

/// An enum or enum64 value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct EnumValue {
    /// Name offset.
    pub name_off: u32,
    /// The value's bits; for enum (32-bit) the raw `s32` sign-extended when
    /// the enum is signed and zero-extended otherwise, so `value as i64` is
    /// right for signed enums and `value` for unsigned ones.
    pub value: u64,
}

/// A function prototype parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Param {
    /// Name offset (0 when unnamed).
    pub name_off: u32,
    /// Parameter type id (0 with no name: variadic `...`).
    pub ty: u32,
}

/// A data section entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct VarSecinfo {
    /// The variable (or function, for `.ksyms`) type id.
    pub ty: u32,
    /// Byte offset in the section.
    pub offset: u32,
    /// Byte size.
    pub size: u32,
}

impl Type {
    /// The void type (id 0).
    pub fn void() -> Type {
        Type {
            kind: Kind::Void,
            name_off: 0,
            kind_flag: false,
            vlen: 0,
            size_or_type: 0,
            data: TypeData::None,
        }
    }

    /// A `BTF_KIND_INT` of `size` bytes, all of them value bits, with
    /// [`int_encoding`] bits. BTF ints are at most 16 bytes; a larger
    /// `size` gives more than 128 bits (at most 255), which the parser
    /// refuses.
    pub fn int(name_off: u32, size: u32, encoding: u8) -> Type {
        Type {
            kind: Kind::Int,
            name_off,
            kind_flag: false,
            vlen: 0,
            size_or_type: size,
            data: TypeData::Int(IntInfo {
                encoding,
                offset: 0,
                bits: size.saturating_mul(8).min(u32::from(u8::MAX)) as u8,
            }),
        }
    }

    /// The byte size for kinds that store one (int, struct, union, enum,
    /// enum64, datasec, float).
    pub fn size(&self) -> Option<u32> {
        use Kind::*;
        match self.kind {
            Int | Struct | Union | Enum | Enum64 | Datasec | Float => Some(self.size_or_type),
            _ => None,
        }
    }

    /// The referenced type for kinds that store one (ptr, typedef, volatile,
    /// const, restrict, func, func_proto (return type), var, decl_tag,
    /// type_tag).
    pub fn ref_type(&self) -> Option<u32> {
        use Kind::*;
        match self.kind {
            Ptr | Typedef | Volatile | Const | Restrict | Func | FuncProto | Var | DeclTag
            | TypeTag => Some(self.size_or_type),
            _ => None,
        }
    }

    /// Struct or union members (empty for other kinds).
    pub fn members(&self) -> &[Member] {
        match &self.data {
            TypeData::Members(m) => m,
            _ => &[],
        }
    }

    /// Enum or enum64 values (empty for other kinds).
    pub fn enum_values(&self) -> &[EnumValue] {
        match &self.data {
            TypeData::Enum(v) => v,
            _ => &[],
        }
    }

    /// Function prototype parameters (empty for other kinds).
    pub fn params(&self) -> &[Param] {
        match &self.data {
            TypeData::Params(p) => p,
            _ => &[],
        }
    }

    /// Data section entries (empty for other kinds).
    pub fn datasec_entries(&self) -> &[VarSecinfo] {
        match &self.data {
            TypeData::Datasec(v) => v,
            _ => &[],
        }
    }

    /// Integer encoding, for ints.
    pub fn int_info(&self) -> Option<IntInfo> {
        match self.data {
            TypeData::Int(i) => Some(i),
            _ => None,
        }
    }

    /// Array data, for arrays.
    pub fn array(&self) -> Option<ArrayInfo> {
        match self.data {
            TypeData::Array(a) => Some(a),
            _ => None,
        }
    }

    /// Linkage of a func (`BTF_FUNC_*`, stored in vlen) or var (`BTF_VAR_*`).
    pub fn linkage(&self) -> Option<u32> {
        match (&self.kind, &self.data) {
            (Kind::Func, _) => Some(self.vlen as u32),
            (_, TypeData::Var { linkage }) => Some(*linkage),
            _ => None,
        }
    }

    /// Whether an enum/enum64 is signed (`kind_flag`).
    pub fn is_signed_enum(&self) -> bool {
        matches!(self.kind, Kind::Enum | Kind::Enum64) && self.kind_flag
    }

    /// Whether this is a struct or union.
    pub fn is_composite(&self) -> bool {
        matches!(self.kind, Kind::Struct | Kind::Union)
    }

    /// Whether this is a modifier or alias that [`Btf::resolve`](super::Btf::resolve)
    /// skips: typedef, const, volatile, restrict, type_tag.
    pub fn is_modifier_or_typedef(&self) -> bool {
        use Kind::*;
        matches!(self.kind, Typedef | Const | Volatile | Restrict | TypeTag)
    }
}
