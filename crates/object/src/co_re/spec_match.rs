//! Matching a local spec against one candidate target type
//! (`bpf_core_spec_match`): named fields are found by name (through
//! anonymous structs/unions), array indices must be in bounds, field types
//! must be compatible; the result is the target spec with its own raw steps
//! and bit offset.

use super::compat::{fields_are_compat, types_are_compat};
use super::spec::{is_flex_array, size_of, skip_mods, Accessor, Spec, MAX_SPEC_LEN};
use super::type_match::types_match;
use crate::btf::{Btf, CoreReloKind, Kind};

/// Matches `local` (a spec against `local_btf`) to the candidate
/// `targ_id` in `targ`. Returns whether it matched and the target spec as
/// far as matching went (libbpf logs that partial spec for non-matching
/// candidates); an error for malformed BTF.
pub fn spec_match(
    local_btf: &Btf,
    local: &Spec,
    targ: &Btf,
    targ_id: u32,
) -> Result<(bool, Spec), String> {
    let mut ts = Spec::new(targ_id, local.kind);
    if local.kind.is_type() {
        let ok = if local.kind == CoreReloKind::TypeMatches {
            types_match(local_btf, local.root_type_id, targ, targ_id)?
        } else {
            types_are_compat(local_btf, local.root_type_id, targ, targ_id)?
        };
        return Ok((ok, ts));
    }
    let Some(first) = local.accessors.first() else {
        return Err("local spec has no accessor".into());
    };
    if local.kind.is_enumval() {
        let (tid, tt) = skip_mods(targ, targ_id)
            .ok_or_else(|| format!("target type [{targ_id}] does not resolve"))?;
        if !matches!(tt.kind, Kind::Enum | Kind::Enum64) {
            return Ok((false, ts));
        }
        let want = super::names::essential_name(first.name.as_deref().unwrap_or(""));
        for (i, e) in tt.enum_values().iter().enumerate() {
            let name = targ.str_at(e.name_off).unwrap_or("");
            if super::names::essential_name(name) == want {
                ts.accessors.push(Accessor {
                    type_id: tid,
                    index: i as u32,
                    name: Some(name.to_owned()),
                });
                ts.raw.push(i as u32);
                return Ok((true, ts));
            }
        }
        return Ok((false, ts));
    }
    let mut tid = targ_id;
    for (i, lacc) in local.accessors.iter().enumerate() {
        let (rid, tt) =
            skip_mods(targ, tid).ok_or_else(|| format!("target type [{tid}] does not resolve"))?;
        tid = rid;
        if lacc.name.is_some() {
            if !match_member(local_btf, lacc, targ, tid, &mut ts, &mut tid)? {
                return Ok((false, ts));
            }
            continue;
        }
        if i > 0 {
            let Some(a) = tt.array() else {
                return Ok((false, ts));
            };
            let flex = is_flex_array(targ, ts.accessors.last(), a.nelems);
            if !flex && lacc.index >= a.nelems {
                return Ok((false, ts));
            }
            tid = skip_mods(targ, a.elem)
                .ok_or_else(|| format!("target element type [{}] does not resolve", a.elem))?
                .0;
        }
        if ts.raw.len() == MAX_SPEC_LEN {
            return Err(format!("target spec longer than {MAX_SPEC_LEN} steps"));
        }
        ts.accessors.push(Accessor {
            type_id: tid,
            index: lacc.index,
            name: None,
        });
        ts.raw.push(lacc.index);
        let sz = size_of(targ, tid)? as u32;
        ts.bit_offset = ts
            .bit_offset
            .wrapping_add(lacc.index.wrapping_mul(sz).wrapping_mul(8));
    }
    Ok((true, ts))
}

/// `bpf_core_match_member`: finds the local accessor's field by name in the
/// target struct/union `targ_id`, descending into anonymous members, and
/// checks the field types are compatible. On a match the target accessor
/// is pushed and `next` is the target field's type.
fn match_member(
    local_btf: &Btf,
    lacc: &Accessor,
    targ: &Btf,
    targ_id: u32,
    ts: &mut Spec,
    next: &mut u32,
) -> Result<bool, String> {
    let (tid, tt) = skip_mods(targ, targ_id)
        .ok_or_else(|| format!("target type [{targ_id}] does not resolve"))?;
    if !tt.is_composite() {
        return Ok(false);
    }
    let lm = local_btf
        .type_by_id(lacc.type_id)
        .and_then(|t| t.members().get(lacc.index as usize))
        .ok_or_else(|| {
            format!(
                "local member {} of [{}] does not exist",
                lacc.index, lacc.type_id
            )
        })?;
    let lname = local_btf.str_at(lm.name_off).unwrap_or("");
    for (i, m) in tt.members().iter().enumerate() {
        if ts.raw.len() == MAX_SPEC_LEN {
            return Err(format!("target spec longer than {MAX_SPEC_LEN} steps"));
        }
        // Speculate this member is the one; undone below if not.
        ts.bit_offset = ts.bit_offset.wrapping_add(m.bit_offset);
        ts.raw.push(i as u32);
        let tname = targ.str_at(m.name_off).unwrap_or("");
        if tname.is_empty() {
            if match_member(local_btf, lacc, targ, m.ty, ts, next)? {
                return Ok(true);
            }
        } else if tname == lname {
            ts.accessors.push(Accessor {
                type_id: tid,
                index: i as u32,
                name: Some(tname.to_owned()),
            });
            *next = m.ty;
            let ok = fields_are_compat(local_btf, lm.ty, targ, m.ty)?;
            if !ok {
                ts.accessors.pop();
            }
            return Ok(ok);
        }
        ts.bit_offset = ts.bit_offset.wrapping_sub(m.bit_offset);
        ts.raw.pop();
    }
    Ok(false)
}
