//! libbpf's `bpf_core_types_match`, the strict rule behind
//! `bpf_core_type_matches()` (`BPF_CORE_TYPE_MATCHES`).
//!
//! Modifiers and typedefs are skipped, and every type reached must have the
//! same essential name as its counterpart (anonymous only with anonymous).
//! Kinds must agree, except that behind a pointer a struct/union matches a
//! forward declaration of the same flavor, and enum matches enum64. Ints
//! match by size and signedness; arrays by length and element; pointers by
//! pointee; structs/unions need every local member, by name, in the target
//! with a matching type (behind a pointer only names and kinds count);
//! enums need the same size and every local enumerator name in the target;
//! function prototypes need the same arity and matching parameters and
//! return type.

use super::compat::MAX_DEPTH;
use super::names::same_essential;
use super::spec::skip_mods;
use crate::btf::{Btf, Kind, Type};

/// Whether the local type `local_id` matches the target type `targ_id`.
/// The root names are assumed matched (the candidate search did that).
pub fn types_match(local: &Btf, local_id: u32, targ: &Btf, targ_id: u32) -> Result<bool, String> {
    match_level(local, local_id, targ, targ_id, false, MAX_DEPTH)
}

/// libbpf's `bpf_core_names_match`: an anonymous target matches only an
/// anonymous local; else the essential names must be equal.
fn names_match(local: &Btf, local_off: u32, targ: &Btf, targ_off: u32) -> bool {
    let ln = local.str_at(local_off).unwrap_or("");
    let tn = targ.str_at(targ_off).unwrap_or("");
    if tn.is_empty() {
        return ln.is_empty();
    }
    same_essential(ln, tn)
}

fn match_level(
    local: &Btf,
    local_id: u32,
    targ: &Btf,
    targ_id: u32,
    mut behind_ptr: bool,
    level: i32,
) -> Result<bool, String> {
    if level <= 0 {
        return Err("type nesting too deep".into());
    }
    let (mut lid, mut tid) = (local_id, targ_id);
    let mut depth = MAX_DEPTH;
    loop {
        depth -= 1;
        if depth < 0 {
            return Err("type nesting too deep".into());
        }
        let (_, lt) =
            skip_mods(local, lid).ok_or_else(|| format!("local type [{lid}] does not resolve"))?;
        let (_, tt) =
            skip_mods(targ, tid).ok_or_else(|| format!("target type [{tid}] does not resolve"))?;
        if !names_match(local, lt.name_off, targ, tt.name_off) {
            return Ok(false);
        }
        let (lk, tk) = (lt.kind, tt.kind);
        match lk {
            Kind::Void => return Ok(lk == tk),
            Kind::Fwd => {
                let lf = lt.kind_flag;
                if behind_ptr {
                    if lk == tk {
                        return Ok(lf == tt.kind_flag);
                    }
                    // A forward's kind flag says union (1) or struct (0).
                    return Ok((tk == Kind::Struct && !lf) || (tk == Kind::Union && lf));
                }
                return Ok(lk == tk && lf == tt.kind_flag);
            }
            Kind::Enum | Kind::Enum64 => {
                if !matches!(tk, Kind::Enum | Kind::Enum64) {
                    return Ok(false);
                }
                return Ok(enums_match(local, lt, targ, tt));
            }
            Kind::Struct | Kind::Union => {
                if behind_ptr {
                    if lk == tk {
                        return Ok(true);
                    }
                    if tk != Kind::Fwd {
                        return Ok(false);
                    }
                    return Ok((lk == Kind::Union) == tt.kind_flag);
                }
                if lk != tk {
                    return Ok(false);
                }
                return composites_match(local, lt, targ, tt, behind_ptr, level);
            }
            Kind::Int => {
                if lk != tk {
                    return Ok(false);
                }
                let sign = |t: &Type| {
                    t.int_info()
                        .map_or(0, |i| i.encoding & crate::btf::int_encoding::SIGNED)
                };
                return Ok(lt.size_or_type == tt.size_or_type && sign(lt) == sign(tt));
            }
            Kind::Ptr => {
                if lk != tk {
                    return Ok(false);
                }
                behind_ptr = true;
                lid = lt.size_or_type;
                tid = tt.size_or_type;
            }
            Kind::Array => {
                if lk != tk {
                    return Ok(false);
                }
                let (Some(la), Some(ta)) = (lt.array(), tt.array()) else {
                    return Err("array without array data".into());
                };
                if la.nelems != ta.nelems {
                    return Ok(false);
                }
                lid = la.elem;
                tid = ta.elem;
            }
            Kind::FuncProto => {
                if lk != tk {
                    return Ok(false);
                }
                let (lp, tp) = (lt.params(), tt.params());
                if lp.len() != tp.len() {
                    return Ok(false);
                }
                for (l, t) in lp.iter().zip(tp) {
                    if !match_level(local, l.ty, targ, t.ty, behind_ptr, level - 1)? {
                        return Ok(false);
                    }
                }
                lid = lt.size_or_type;
                tid = tt.size_or_type;
            }
            _ => return Ok(false),
        }
    }
}

/// Same size, and each local enumerator name has a target namesake.
fn enums_match(local: &Btf, lt: &Type, targ: &Btf, tt: &Type) -> bool {
    if lt.size_or_type != tt.size_or_type || lt.vlen > tt.vlen {
        return false;
    }
    lt.enum_values().iter().all(|l| {
        tt.enum_values()
            .iter()
            .any(|t| names_match(local, l.name_off, targ, t.name_off))
    })
}

/// Each local member has a target member of the same name whose type
/// matches.
fn composites_match(
    local: &Btf,
    lt: &Type,
    targ: &Btf,
    tt: &Type,
    behind_ptr: bool,
    level: i32,
) -> Result<bool, String> {
    if lt.vlen > tt.vlen {
        return Ok(false);
    }
    for lm in lt.members() {
        let mut matched = false;
        for tm in tt.members() {
            if !names_match(local, lm.name_off, targ, tm.name_off) {
                continue;
            }
            if match_level(local, lm.ty, targ, tm.ty, behind_ptr, level - 1)? {
                matched = true;
                break;
            }
        }
        if !matched {
            return Ok(false);
        }
    }
    Ok(true)
}
