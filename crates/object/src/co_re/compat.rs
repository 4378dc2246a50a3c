//! libbpf's compatibility rules between a local and a target type:
//! `btf_kind_core_compat` (candidate kinds), `bpf_core_fields_are_compat`
//! (a field's type in a field relocation) and `bpf_core_types_are_compat`
//! (the root type of type-based relocations).
//!
//! They answer `Ok(true)`/`Ok(false)`, or an error for malformed BTF (a
//! dangling id, a reference cycle, nesting too deep), as libbpf's `-EINVAL`.

use super::names::same_essential;
use super::spec::skip_mods;
use crate::btf::{Btf, Kind, Type};

/// Recursion budget of libbpf's type walks (`depth = 32`, level 32).
pub(crate) const MAX_DEPTH: i32 = 32;

/// Same kind, or both enums (enum and enum64 are interchangeable).
pub fn kind_core_compat(a: &Type, b: &Type) -> bool {
    a.kind == b.kind || (is_any_enum(a) && is_any_enum(b))
}

fn is_any_enum(t: &Type) -> bool {
    matches!(t.kind, Kind::Enum | Kind::Enum64)
}

/// An int's legacy bit offset (the `BTF_INT_OFFSET` of old bitfield ints).
fn int_offset(t: &Type) -> u8 {
    t.int_info().map_or(0, |i| i.offset)
}

fn resolve<'b>(btf: &'b Btf, id: u32, side: &str) -> Result<(u32, &'b Type), String> {
    skip_mods(btf, id).ok_or_else(|| format!("{side} type [{id}] does not resolve"))
}

/// `bpf_core_fields_are_compat`: whether a local field type and a target
/// field type can be relocated into each other. Modifiers and typedefs are
/// skipped; any two structs/unions match; pointers and floats always; enums
/// and forwards by essential name (or when either is anonymous); ints unless
/// a legacy bitfield int; arrays by element type, any length.
pub fn fields_are_compat(
    local: &Btf,
    local_id: u32,
    targ: &Btf,
    targ_id: u32,
) -> Result<bool, String> {
    let (mut lid, mut tid) = (local_id, targ_id);
    for _ in 0..=MAX_DEPTH {
        let (_, lt) = resolve(local, lid, "local")?;
        let (_, tt) = resolve(targ, tid, "target")?;
        if lt.is_composite() && tt.is_composite() {
            return Ok(true);
        }
        if !kind_core_compat(lt, tt) {
            return Ok(false);
        }
        match lt.kind {
            Kind::Ptr | Kind::Float => return Ok(true),
            Kind::Fwd | Kind::Enum | Kind::Enum64 => {
                let (ln, tn) = (local.name(lt), targ.name(tt));
                return Ok(ln.is_empty() || tn.is_empty() || same_essential(ln, tn));
            }
            Kind::Int => return Ok(int_offset(lt) == 0 && int_offset(tt) == 0),
            Kind::Array => {
                let (Some(la), Some(ta)) = (lt.array(), tt.array()) else {
                    return Err("array without array data".into());
                };
                lid = la.elem;
                tid = ta.elem;
            }
            _ => return Ok(false),
        }
    }
    Err("array nesting too deep".into())
}

/// `bpf_core_types_are_compat`: the looser rule for type-based relocations
/// (`TYPE_EXISTS`, `TYPE_SIZE`, `TYPE_ID_TARGET`). The root names were
/// matched by the candidate search; kinds must agree (enum/enum64 mix);
/// structs, unions, enums and forwards need nothing more; ints must not be
/// legacy bitfields; pointers and arrays compare their targets; function
/// prototypes compare arity, each parameter and the return type.
pub fn types_are_compat(
    local: &Btf,
    local_id: u32,
    targ: &Btf,
    targ_id: u32,
) -> Result<bool, String> {
    types_are_compat_level(local, local_id, targ, targ_id, MAX_DEPTH)
}

fn types_are_compat_level(
    local: &Btf,
    local_id: u32,
    targ: &Btf,
    targ_id: u32,
    level: i32,
) -> Result<bool, String> {
    let lt = local
        .type_by_id(local_id)
        .ok_or_else(|| format!("local type [{local_id}] does not exist"))?;
    let tt = targ
        .type_by_id(targ_id)
        .ok_or_else(|| format!("target type [{targ_id}] does not exist"))?;
    if !kind_core_compat(lt, tt) {
        return Ok(false);
    }
    let (mut lid, mut tid) = (local_id, targ_id);
    let mut depth = MAX_DEPTH;
    loop {
        depth -= 1;
        if depth < 0 {
            return Err("type nesting too deep".into());
        }
        let (_, lt) = resolve(local, lid, "local")?;
        let (_, tt) = resolve(targ, tid, "target")?;
        if !kind_core_compat(lt, tt) {
            return Ok(false);
        }
        match lt.kind {
            Kind::Void | Kind::Struct | Kind::Union | Kind::Enum | Kind::Fwd | Kind::Enum64 => {
                return Ok(true)
            }
            Kind::Int => return Ok(int_offset(lt) == 0 && int_offset(tt) == 0),
            Kind::Ptr => {
                lid = lt.size_or_type;
                tid = tt.size_or_type;
            }
            Kind::Array => {
                let (Some(la), Some(ta)) = (lt.array(), tt.array()) else {
                    return Err("array without array data".into());
                };
                lid = la.elem;
                tid = ta.elem;
            }
            Kind::FuncProto => {
                let (lp, tp) = (lt.params(), tt.params());
                if lp.len() != tp.len() {
                    return Ok(false);
                }
                for (l, t) in lp.iter().zip(tp) {
                    if level <= 0 {
                        return Err("function prototype nesting too deep".into());
                    }
                    let l_id = skip_mods(local, l.ty).map_or(l.ty, |(id, _)| id);
                    let t_id = skip_mods(targ, t.ty).map_or(t.ty, |(id, _)| id);
                    if !types_are_compat_level(local, l_id, targ, t_id, level - 1)? {
                        return Ok(false);
                    }
                }
                lid = skip_mods(local, lt.size_or_type).map_or(lt.size_or_type, |(id, _)| id);
                tid = skip_mods(targ, tt.size_or_type).map_or(tt.size_or_type, |(id, _)| id);
            }
            _ => return Ok(false),
        }
    }
}
