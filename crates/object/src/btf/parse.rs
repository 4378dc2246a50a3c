//! Decoding a BTF blob: header, type records and string section, in either
//! byte order, with every offset and id checked.

use super::error::BtfError;
use super::types::{
    ArrayInfo, EnumValue, IntInfo, Kind, Member, Param, Type, TypeData, VarSecinfo,
};
use super::{Btf, Endian, Header};

/// `BTF_MAGIC`.
pub(crate) const MAGIC: u16 = 0xeb9f;
/// Size of `struct btf_header`.
pub(crate) const HEADER_LEN: usize = 24;
/// `BTF_MAX_TYPE`.
const MAX_TYPE: u32 = 0x000f_ffff;
/// `BTF_MAX_NAME_OFFSET`.
const MAX_NAME_OFFSET: u32 = 0x00ff_ffff;
/// Size of `struct btf_type`.
const TYPE_HEADER_LEN: usize = 12;

/// Reads `u32`s in the blob's byte order.
#[derive(Clone, Copy)]
pub(crate) struct Reader<'a> {
    pub(crate) bytes: &'a [u8],
    pub(crate) endian: Endian,
}

impl<'a> Reader<'a> {
    /// The `u32` at `off`; callers check the bounds first.
    #[inline]
    pub(crate) fn u32_at(&self, off: usize) -> u32 {
        let b = [
            self.bytes[off],
            self.bytes[off + 1],
            self.bytes[off + 2],
            self.bytes[off + 3],
        ];
        match self.endian {
            Endian::Little => u32::from_le_bytes(b),
            Endian::Big => u32::from_be_bytes(b),
        }
    }
}

/// Detects the byte order from the magic.
pub(crate) fn detect_endian(bytes: &[u8], what: &'static str) -> Result<Endian, BtfError> {
    if bytes.len() < 2 {
        return Err(BtfError::Truncated {
            what,
            offset: 0,
            need: 2,
            have: bytes.len(),
        });
    }
    let le = u16::from_le_bytes([bytes[0], bytes[1]]);
    if le == MAGIC {
        Ok(Endian::Little)
    } else if le.swap_bytes() == MAGIC {
        Ok(Endian::Big)
    } else {
        Err(BtfError::BadMagic { found: le })
    }
}

/// Parses and checks the header; returns it and a reader over the blob.
fn parse_header(bytes: &[u8]) -> Result<(Header, Reader<'_>), BtfError> {
    let endian = detect_endian(bytes, "BTF header")?;
    if bytes.len() < HEADER_LEN {
        return Err(BtfError::Truncated {
            what: "BTF header",
            offset: 0,
            need: HEADER_LEN,
            have: bytes.len(),
        });
    }
    let r = Reader { bytes, endian };
    if bytes[2] != 1 {
        return Err(BtfError::BadVersion(bytes[2]));
    }
    if bytes[3] != 0 {
        return Err(BtfError::BadFlags(bytes[3]));
    }
    let hdr_len = r.u32_at(4);
    let bad_len = BtfError::BadHeaderLen {
        hdr_len,
        blob_len: bytes.len(),
    };
    if (hdr_len as usize) < HEADER_LEN || hdr_len as usize > bytes.len() {
        return Err(bad_len);
    }
    // A longer header than ours is only acceptable if the unknown tail is
    // zero (the kernel's rule for forward compatibility).
    if bytes[HEADER_LEN..hdr_len as usize].iter().any(|&b| b != 0) {
        return Err(bad_len);
    }
    let header = Header {
        endian,
        hdr_len,
        type_off: r.u32_at(8),
        type_len: r.u32_at(12),
        str_off: r.u32_at(16),
        str_len: r.u32_at(20),
    };
    let avail = bytes.len() - hdr_len as usize;
    let check = |section, offset: u32, len: u32| {
        if offset as u64 + len as u64 > avail as u64 {
            Err(BtfError::SectionOutOfRange {
                section,
                offset,
                len,
                avail,
            })
        } else {
            Ok(())
        }
    };
    check("type", header.type_off, header.type_len)?;
    check("string", header.str_off, header.str_len)?;
    if header.type_off % 4 != 0 {
        return Err(BtfError::MisalignedTypes(header.type_off));
    }
    let (t0, t1) = (header.type_off, header.type_off + header.type_len);
    let (s0, s1) = (header.str_off, header.str_off + header.str_len);
    if header.type_len > 0 && header.str_len > 0 && t0 < s1 && s0 < t1 {
        return Err(BtfError::SectionOutOfRange {
            section: "string",
            offset: header.str_off,
            len: header.str_len,
            avail,
        });
    }
    Ok((header, r))
}

/// Parses a blob; `base` is the base BTF for split BTF.
pub(crate) fn parse(bytes: &[u8], base: Option<&Btf>) -> Result<Btf, BtfError> {
    let (header, r) = parse_header(bytes)?;
    let hdr = header.hdr_len as usize;

    // Strings.
    let s_start = hdr + header.str_off as usize;
    let s = &bytes[s_start..s_start + header.str_len as usize];
    if base.is_none() && (s.is_empty() || s[0] != 0) {
        return Err(BtfError::BadStrings("must start with a NUL byte"));
    }
    if !s.is_empty() && s[s.len() - 1] != 0 {
        return Err(BtfError::BadStrings("must end with a NUL byte"));
    }
    let base_str_len = base.map_or(0, |b| b.strings.len());
    if (base_str_len + s.len()).saturating_sub(1) > MAX_NAME_OFFSET as usize {
        return Err(BtfError::BadStrings("longer than BTF_MAX_NAME_OFFSET"));
    }
    let s = std::str::from_utf8(s).map_err(|_| BtfError::BadStrings("not UTF-8"))?;
    let mut strings = String::with_capacity(base_str_len + s.len());
    if let Some(b) = base {
        strings.push_str(&b.strings);
    }
    strings.push_str(s);

    // Types.
    let mut types: Vec<Type> = match base {
        Some(b) => b.types.clone(),
        None => vec![Type::void()],
    };
    let first_id = types.len() as u32;
    let t_start = hdr + header.type_off as usize;
    let t_end = t_start + header.type_len as usize;
    // Most records are 12-16 bytes; reserve roughly.
    types.reserve(header.type_len as usize / 16);
    let mut off = t_start;
    while off < t_end {
        let id = types.len() as u32;
        if id > MAX_TYPE {
            return Err(BtfError::TooManyTypes(id));
        }
        let t = parse_type(&r, off, t_end, id)?;
        off += record_len(&t);
        types.push(t);
    }

    let btf = Btf {
        types,
        strings,
        first_id,
        first_str_off: base_str_len as u32,
        header,
        names: Default::default(),
        ptr_size: Default::default(),
    };
    validate(&btf)?;
    Ok(btf)
}

/// Bytes a record occupies, from its kind and vlen.
fn record_len(t: &Type) -> usize {
    TYPE_HEADER_LEN + extra_len(t.kind, t.vlen)
}

/// Bytes after the common header for a kind with `vlen` entries.
fn extra_len(kind: Kind, vlen: u16) -> usize {
    let n = vlen as usize;
    match kind {
        Kind::Int | Kind::Var | Kind::DeclTag => 4,
        Kind::Array => 12,
        Kind::Struct | Kind::Union => 12 * n,
        Kind::Enum => 8 * n,
        Kind::Enum64 => 12 * n,
        Kind::FuncProto => 8 * n,
        Kind::Datasec => 12 * n,
        _ => 0,
    }
}

/// Decodes the record at `off` (whose end must not pass `end`).
fn parse_type(r: &Reader, off: usize, end: usize, id: u32) -> Result<Type, BtfError> {
    let have = end - off;
    if have < TYPE_HEADER_LEN {
        return Err(BtfError::TruncatedType {
            type_id: id,
            offset: off,
            need: TYPE_HEADER_LEN,
            have,
        });
    }
    let name_off = r.u32_at(off);
    let info = r.u32_at(off + 4);
    let size_or_type = r.u32_at(off + 8);
    let raw_kind = ((info >> 24) & 0x1f) as u8;
    let kind = Kind::from_raw(raw_kind).ok_or(BtfError::UnknownKind {
        type_id: id,
        offset: off,
        kind: raw_kind,
    })?;
    let vlen = (info & 0xffff) as u16;
    let kind_flag = info >> 31 != 0;
    let need = TYPE_HEADER_LEN + extra_len(kind, vlen);
    if have < need {
        return Err(BtfError::TruncatedType {
            type_id: id,
            offset: off,
            need,
            have,
        });
    }
    let x = off + TYPE_HEADER_LEN;
    let n = vlen as usize;
    let data = match kind {
        Kind::Int => {
            let w = r.u32_at(x);
            TypeData::Int(IntInfo {
                encoding: ((w >> 24) & 0x0f) as u8,
                offset: ((w >> 16) & 0xff) as u8,
                bits: (w & 0xff) as u8,
            })
        }
        Kind::Array => TypeData::Array(ArrayInfo {
            elem: r.u32_at(x),
            index: r.u32_at(x + 4),
            nelems: r.u32_at(x + 8),
        }),
        Kind::Struct | Kind::Union => TypeData::Members(
            (0..n)
                .map(|i| {
                    let m = x + 12 * i;
                    let raw = r.u32_at(m + 8);
                    let (bit_offset, bitfield_size) = if kind_flag {
                        (raw & 0x00ff_ffff, (raw >> 24) as u8)
                    } else {
                        (raw, 0)
                    };
                    Member {
                        name_off: r.u32_at(m),
                        ty: r.u32_at(m + 4),
                        bit_offset,
                        bitfield_size,
                    }
                })
                .collect(),
        ),
        Kind::Enum => TypeData::Enum(
            (0..n)
                .map(|i| {
                    let v = r.u32_at(x + 8 * i + 4);
                    EnumValue {
                        name_off: r.u32_at(x + 8 * i),
                        value: if kind_flag {
                            v as i32 as i64 as u64
                        } else {
                            v as u64
                        },
                    }
                })
                .collect(),
        ),
        Kind::Enum64 => TypeData::Enum(
            (0..n)
                .map(|i| {
                    let e = x + 12 * i;
                    EnumValue {
                        name_off: r.u32_at(e),
                        value: (r.u32_at(e + 8) as u64) << 32 | r.u32_at(e + 4) as u64,
                    }
                })
                .collect(),
        ),
        Kind::FuncProto => TypeData::Params(
            (0..n)
                .map(|i| Param {
                    name_off: r.u32_at(x + 8 * i),
                    ty: r.u32_at(x + 8 * i + 4),
                })
                .collect(),
        ),
        Kind::Var => TypeData::Var {
            linkage: r.u32_at(x),
        },
        Kind::Datasec => TypeData::Datasec(
            (0..n)
                .map(|i| {
                    let e = x + 12 * i;
                    VarSecinfo {
                        ty: r.u32_at(e),
                        offset: r.u32_at(e + 4),
                        size: r.u32_at(e + 8),
                    }
                })
                .collect(),
        ),
        Kind::DeclTag => TypeData::DeclTag {
            component_idx: r.u32_at(x) as i32,
        },
        _ => TypeData::None,
    };
    Ok(Type {
        kind,
        name_off,
        kind_flag,
        vlen,
        size_or_type,
        data,
    })
}

/// Checks every new type's references and names, and per-kind invariants
/// that the kernel enforces and later code relies on.
fn validate(btf: &Btf) -> Result<(), BtfError> {
    let count = btf.types.len() as u32;
    let str_len = btf.strings.len() as u32;
    for id in btf.first_id..count {
        let t = &btf.types[id as usize];
        let name = |off: u32| {
            if off >= str_len {
                Err(BtfError::StringOffset {
                    type_id: id,
                    offset: off,
                })
            } else {
                Ok(())
            }
        };
        let ty = |target: u32| {
            if target >= count {
                Err(BtfError::TypeIdOutOfRange {
                    type_id: id,
                    target,
                    count,
                })
            } else {
                Ok(())
            }
        };
        let invalid = |reason| {
            Err(BtfError::InvalidType {
                type_id: id,
                reason,
            })
        };
        name(t.name_off)?;
        if let Some(r) = t.ref_type() {
            ty(r)?;
        }
        match &t.data {
            TypeData::Int(i) => {
                if i.bits > 128 || t.size_or_type > 16 {
                    return invalid("integer wider than 128 bits");
                }
                if i.offset as u32 + i.bits as u32 > t.size_or_type * 8 {
                    return invalid("integer bits exceed its size");
                }
            }
            TypeData::Array(a) => {
                ty(a.elem)?;
                ty(a.index)?;
            }
            TypeData::Members(ms) => {
                for m in ms {
                    name(m.name_off)?;
                    ty(m.ty)?;
                }
            }
            TypeData::Enum(vs) => {
                for v in vs {
                    name(v.name_off)?;
                }
            }
            TypeData::Params(ps) => {
                for p in ps {
                    name(p.name_off)?;
                    ty(p.ty)?;
                }
            }
            TypeData::Datasec(es) => {
                for e in es {
                    ty(e.ty)?;
                }
            }
            TypeData::DeclTag { component_idx } => {
                if *component_idx < -1 {
                    return invalid("decl_tag component index below -1");
                }
            }
            TypeData::Var { linkage } => {
                if *linkage > 2 {
                    return invalid("unknown variable linkage");
                }
            }
            TypeData::None => {}
        }
        if t.kind == Kind::Func && t.vlen > 2 {
            return invalid("unknown function linkage");
        }
    }
    Ok(())
}
