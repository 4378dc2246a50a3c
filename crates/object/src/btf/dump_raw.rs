//! The raw listing of `bpftool btf dump file F`: one line per type, with
//! indented lines for members, values, parameters and section entries.

use std::fmt::Write;

use super::types::{int_encoding, Kind, Type, TypeData};
use super::Btf;

/// `btf_int_enc_str`: bpftool's name for an integer encoding.
pub(crate) fn int_encoding_name(encoding: u8) -> &'static str {
    match encoding {
        0 => "(none)",
        int_encoding::SIGNED => "SIGNED",
        int_encoding::CHAR => "CHAR",
        int_encoding::BOOL => "BOOL",
        _ => "UNKN",
    }
}

/// bpftool's name for a func or var linkage.
pub(crate) fn linkage_name(linkage: u32) -> &'static str {
    match linkage {
        0 => "static",
        1 => "global",
        2 => "extern",
        _ => "(unknown)",
    }
}

/// bpftool's rendering of a name offset: "(anon)" for 0.
pub(crate) fn quoted_name(btf: &Btf, off: u32) -> &str {
    if off == 0 {
        "(anon)"
    } else {
        btf.str_at(off).unwrap_or("(invalid)")
    }
}

/// The whole raw dump, as `bpftool btf dump file F` prints it (for split BTF
/// only the split part, as bpftool does).
pub fn dump_raw(btf: &Btf) -> String {
    let mut out = String::with_capacity(btf.len() * 48);
    for id in btf.first_id()..btf.len() as u32 {
        if let Some(t) = btf.type_by_id(id) {
            dump_type(btf, id, t, &mut out);
        }
    }
    out
}

/// One type's lines, newline-terminated.
pub fn dump_type(btf: &Btf, id: u32, t: &Type, out: &mut String) {
    let name = |off| quoted_name(btf, off);
    // Writing to a String cannot fail.
    let _ = write!(out, "[{id}] {} '{}'", t.kind.name(), name(t.name_off));
    let _ = match (&t.kind, &t.data) {
        (Kind::Int, TypeData::Int(i)) => write!(
            out,
            " size={} bits_offset={} nr_bits={} encoding={}",
            t.size_or_type,
            i.offset,
            i.bits,
            int_encoding_name(i.encoding)
        ),
        (Kind::Ptr | Kind::Const | Kind::Volatile | Kind::Restrict | Kind::Typedef, _)
        | (Kind::TypeTag, _) => write!(out, " type_id={}", t.size_or_type),
        (Kind::Array, TypeData::Array(a)) => write!(
            out,
            " type_id={} index_type_id={} nr_elems={}",
            a.elem, a.index, a.nelems
        ),
        (Kind::Struct | Kind::Union, TypeData::Members(ms)) => {
            let _ = write!(out, " size={} vlen={}", t.size_or_type, t.vlen);
            for m in ms {
                let _ = write!(
                    out,
                    "\n\t'{}' type_id={} bits_offset={}",
                    name(m.name_off),
                    m.ty,
                    m.bit_offset
                );
                if m.bitfield_size != 0 {
                    let _ = write!(out, " bitfield_size={}", m.bitfield_size);
                }
            }
            Ok(())
        }
        (Kind::Enum | Kind::Enum64, TypeData::Enum(vs)) => {
            let enc = if t.kind_flag { "SIGNED" } else { "UNSIGNED" };
            let _ = write!(
                out,
                " encoding={enc} size={} vlen={}",
                t.size_or_type, t.vlen
            );
            for v in vs {
                let n = name(v.name_off);
                let _ = match (t.kind, t.kind_flag) {
                    (Kind::Enum, true) => write!(out, "\n\t'{n}' val={}", v.value as i64),
                    (Kind::Enum, false) => write!(out, "\n\t'{n}' val={}", v.value),
                    (_, true) => write!(out, "\n\t'{n}' val={}LL", v.value as i64),
                    (_, false) => write!(out, "\n\t'{n}' val={}ULL", v.value),
                };
            }
            Ok(())
        }
        (Kind::Fwd, _) => write!(
            out,
            " fwd_kind={}",
            if t.kind_flag { "union" } else { "struct" }
        ),
        (Kind::Func, _) => write!(
            out,
            " type_id={} linkage={}",
            t.size_or_type,
            linkage_name(t.vlen as u32)
        ),
        (Kind::FuncProto, TypeData::Params(ps)) => {
            let _ = write!(out, " ret_type_id={} vlen={}", t.size_or_type, t.vlen);
            for p in ps {
                let _ = write!(out, "\n\t'{}' type_id={}", name(p.name_off), p.ty);
            }
            Ok(())
        }
        (Kind::Var, TypeData::Var { linkage }) => write!(
            out,
            " type_id={}, linkage={}",
            t.size_or_type,
            linkage_name(*linkage)
        ),
        (Kind::Datasec, TypeData::Datasec(es)) => {
            let _ = write!(out, " size={} vlen={}", t.size_or_type, t.vlen);
            for e in es {
                let _ = write!(
                    out,
                    "\n\ttype_id={} offset={} size={}",
                    e.ty, e.offset, e.size
                );
                if let Some(vt) = btf.type_by_id(e.ty) {
                    let _ = write!(out, " ({} '{}')", vt.kind.name(), name(vt.name_off));
                }
            }
            Ok(())
        }
        (Kind::Float, _) => write!(out, " size={}", t.size_or_type),
        (Kind::DeclTag, TypeData::DeclTag { component_idx }) => write!(
            out,
            " type_id={} component_idx={component_idx}",
            t.size_or_type
        ),
        _ => Ok(()),
    };
    out.push('\n');
}
