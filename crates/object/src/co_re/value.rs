//! The value of a relocation for one spec (`bpf_core_calc_field_relo`,
//! `bpf_core_calc_type_relo`, `bpf_core_calc_enumval_relo`), and the pair
//! local value → target value with libbpf's validation and memory-size
//! decisions (`bpf_core_calc_relo`).

use serde::Serialize;

use super::spec::{member_bits, size_of, skip_mods, Spec};
use crate::btf::{int_encoding, Btf, CoreReloKind, Endian, Kind};

/// The outcome of computing a relocation against the local spec and one
/// target spec (libbpf's `struct bpf_core_relo_res`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct ReloValue {
    /// The value the local BTF gives (what the instruction should hold).
    pub orig_val: u64,
    /// The value the target gives (what the instruction gets).
    pub new_val: u64,
    /// The instruction must be poisoned (target field/enumerator missing,
    /// or an unsafe load size change).
    pub poison: bool,
    /// Whether the instruction's current value is checked against
    /// `orig_val` before patching.
    pub validate: bool,
    /// The field's size changes in a way a load/store must not follow
    /// (checked only for LDX/ST/STX).
    pub fail_memsz_adjust: bool,
    /// Local field size for load/store size adjustment (0 = no adjustment).
    pub orig_sz: u32,
    /// Target field size.
    pub new_sz: u32,
    /// Local field type (resolved).
    pub orig_type_id: u32,
    /// Target field type (resolved).
    pub new_type_id: u32,
}

/// Why a value could not be computed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CalcError {
    /// libbpf's `-EUCLEAN`: the instruction is to be poisoned.
    Poison,
    /// A real error (libbpf's `-EINVAL`/`-E2BIG`).
    Fail(String),
}

impl From<String> for CalcError {
    fn from(s: String) -> Self {
        CalcError::Fail(s)
    }
}

/// A field relocation's value for one spec: (value, field size for
/// load/store adjustment, field type id, validate).
struct FieldValue {
    val: u64,
    size: u32,
    type_id: u32,
    validate: bool,
}

fn calc_field(kind: CoreReloKind, btf: &Btf, spec: Option<&Spec>) -> Result<FieldValue, CalcError> {
    let mut out = FieldValue {
        val: 0,
        size: 0,
        type_id: 0,
        validate: true,
    };
    if kind == CoreReloKind::FieldExists {
        out.val = spec.is_some() as u64;
        return Ok(out);
    }
    let spec = spec.ok_or(CalcError::Poison)?;
    let acc = spec
        .accessors
        .last()
        .ok_or_else(|| "spec has no accessor".to_string())?;
    if acc.name.is_none() {
        // An array element (or the root itself): only offset and size.
        let sz = size_of(btf, acc.type_id)?;
        match kind {
            CoreReloKind::FieldByteOffset => {
                out.val = (spec.bit_offset / 8) as u64;
                out.size = u32::try_from(sz).map_err(|_| format!("element size {sz} too big"))?;
                out.type_id = acc.type_id;
            }
            CoreReloKind::FieldByteSize => out.val = sz,
            _ => {
                return Err(CalcError::Fail(format!(
                    "{} cannot be applied to an array element",
                    kind.name()
                )))
            }
        }
        return Ok(out);
    }
    let t = btf
        .type_by_id(acc.type_id)
        .ok_or_else(|| format!("type [{}] does not exist", acc.type_id))?;
    let m = t
        .members()
        .get(acc.index as usize)
        .ok_or_else(|| format!("member {} of [{}] does not exist", acc.index, acc.type_id))?;
    let (field_type_id, mt) =
        skip_mods(btf, m.ty).ok_or_else(|| format!("field type [{}] does not resolve", m.ty))?;
    let bit_off = spec.bit_offset as u64;
    let (_, mut bit_sz) = member_bits(t, acc.index as usize).unwrap_or((0, 0));
    let bitfield = bit_sz > 0;
    let (byte_off, byte_sz): (u64, u64);
    if bitfield {
        let mut sz = mt.size().unwrap_or(0) as u64;
        if sz == 0 {
            return Err(CalcError::Fail(format!(
                "bitfield's type [{field_type_id}] has no size"
            )));
        }
        let mut off = bit_off / 8 / sz * sz;
        // The smallest load, aligned to its size, that holds the bitfield.
        while bit_off + bit_sz as u64 - off * 8 > sz * 8 {
            if sz >= 8 {
                return Err(CalcError::Fail(
                    "bitfield cannot be read with a 64-bit load".into(),
                ));
            }
            sz *= 2;
            off = bit_off / 8 / sz * sz;
        }
        (byte_off, byte_sz) = (off, sz);
    } else {
        byte_sz = size_of(btf, field_type_id)?;
        byte_off = bit_off / 8;
        bit_sz = u32::try_from(byte_sz * 8).map_err(|_| format!("field size {byte_sz} too big"))?;
    }
    // Bitfield offsets and sizes may legitimately differ from what the
    // compiler chose; only signedness and the right shift are exact.
    out.validate = !bitfield;
    match kind {
        CoreReloKind::FieldByteOffset => {
            out.val = byte_off;
            if !bitfield {
                out.size = byte_sz as u32;
                out.type_id = field_type_id;
            }
        }
        CoreReloKind::FieldByteSize => out.val = byte_sz,
        CoreReloKind::FieldSigned => {
            let signed = (matches!(mt.kind, Kind::Enum | Kind::Enum64) && mt.kind_flag)
                || mt.int_info().is_some_and(|i| {
                    mt.kind == Kind::Int && i.encoding & int_encoding::SIGNED != 0
                });
            out.val = signed as u64;
            out.validate = true;
        }
        CoreReloKind::FieldLshiftU64 => {
            let bit_sz = bit_sz as u64;
            out.val = match btf.endianness() {
                Endian::Little => 64u64.wrapping_sub(bit_off + bit_sz - byte_off * 8),
                Endian::Big => {
                    (8u64.wrapping_sub(byte_sz)).wrapping_mul(8) + (bit_off - byte_off * 8)
                }
            };
        }
        CoreReloKind::FieldRshiftU64 => {
            out.val = 64u64.wrapping_sub(bit_sz as u64);
            out.validate = true;
        }
        _ => {
            return Err(CalcError::Fail(format!(
                "{} is not a field relocation",
                kind.name()
            )))
        }
    }
    Ok(out)
}

/// Type-based kinds: 0 when the type is missing in the target.
fn calc_type(kind: CoreReloKind, btf: &Btf, spec: Option<&Spec>) -> Result<(u64, bool), CalcError> {
    let Some(spec) = spec else {
        return Ok((0, true));
    };
    Ok(match kind {
        // Type ids change when objects are linked: not worth validating.
        CoreReloKind::TypeIdTarget => (spec.root_type_id as u64, false),
        CoreReloKind::TypeExists | CoreReloKind::TypeMatches => (1, true),
        CoreReloKind::TypeSize => (size_of(btf, spec.root_type_id)?, true),
        _ => {
            return Err(CalcError::Fail(format!(
                "{} is not a type relocation",
                kind.name()
            )))
        }
    })
}

/// Enumerator kinds: existence, or the value (poison when missing).
fn calc_enumval(kind: CoreReloKind, btf: &Btf, spec: Option<&Spec>) -> Result<u64, CalcError> {
    match kind {
        CoreReloKind::EnumvalExists => Ok(spec.is_some() as u64),
        CoreReloKind::EnumvalValue => {
            let spec = spec.ok_or(CalcError::Poison)?;
            let acc = spec
                .accessors
                .first()
                .ok_or_else(|| "spec has no accessor".to_string())?;
            let t = btf
                .type_by_id(acc.type_id)
                .ok_or_else(|| format!("type [{}] does not exist", acc.type_id))?;
            let e = t.enum_values().get(acc.index as usize).ok_or_else(|| {
                format!(
                    "enumerator {} of [{}] does not exist",
                    acc.index, acc.type_id
                )
            })?;
            // libbpf reads a 32-bit enumerator as s32 and widens it with
            // sign extension whatever the enum's signedness.
            Ok(if t.kind == Kind::Enum {
                e.value as u32 as i32 as i64 as u64
            } else {
                e.value
            })
        }
        _ => Err(CalcError::Fail(format!(
            "{} is not an enumerator relocation",
            kind.name()
        ))),
    }
}

/// `bpf_core_calc_relo`: the local and target values of a relocation;
/// `targ` is `None` when no candidate matched. Poisoning is a result, not
/// an error.
pub(crate) fn calc_relo(
    kind: CoreReloKind,
    local_btf: &Btf,
    local: &Spec,
    targ: Option<(&Btf, &Spec)>,
) -> Result<ReloValue, String> {
    let mut res = ReloValue {
        validate: true,
        ..ReloValue::default()
    };
    let tb = targ.map(|(b, _)| b).unwrap_or(local_btf);
    let ts = targ.map(|(_, s)| s);
    let outcome: Result<(), CalcError> = (|| {
        if kind.is_field() {
            let l = calc_field(kind, local_btf, Some(local))?;
            res.orig_val = l.val;
            res.orig_sz = l.size;
            res.orig_type_id = l.type_id;
            res.validate = l.validate;
            let t = calc_field(kind, tb, ts)?;
            res.new_val = t.val;
            res.new_sz = t.size;
            res.new_type_id = t.type_id;
            if res.orig_sz != res.new_sz {
                res.fail_memsz_adjust =
                    !safe_size_change(local_btf, res.orig_type_id, tb, res.new_type_id);
            }
        } else if kind.is_type() {
            let (v, validate) = calc_type(kind, local_btf, Some(local))?;
            res.orig_val = v;
            res.validate = validate;
            res.new_val = calc_type(kind, tb, ts)?.0;
        } else {
            res.orig_val = calc_enumval(kind, local_btf, Some(local))?;
            res.new_val = calc_enumval(kind, tb, ts)?;
        }
        Ok(())
    })();
    match outcome {
        Ok(()) => Ok(res),
        Err(CalcError::Poison) => {
            res.poison = true;
            Ok(res)
        }
        Err(CalcError::Fail(e)) => Err(e),
    }
}

/// A load/store may change size only for pointers (a 32-bit kernel pointer
/// zero-extends) or unsigned integers on both sides.
fn safe_size_change(local: &Btf, local_id: u32, targ: &Btf, targ_id: u32) -> bool {
    let (Some(l), Some(t)) = (local.type_by_id(local_id), targ.type_by_id(targ_id)) else {
        return false;
    };
    if l.kind == Kind::Ptr && t.kind == Kind::Ptr {
        return true;
    }
    let unsigned_int = |ty: &crate::btf::Type| {
        ty.kind == Kind::Int
            && ty
                .int_info()
                .is_some_and(|i| i.encoding != int_encoding::SIGNED)
    };
    unsigned_int(l) && unsigned_int(t)
}
