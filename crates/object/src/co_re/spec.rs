//! Access specs: the parsed form of a CO-RE record's access string, as
//! libbpf's `bpf_core_parse_spec` builds it, and its rendering as libbpf's
//! `bpf_core_format_spec` logs it.
//!
//! For `struct s { int x; struct { int a; int b[7]; }; } *p`, the access
//! string of `&p->b[3]` is `0:1:1:3`. The raw spec keeps every step; the
//! accessors keep only the meaningful ones: the initial `p[0]`, the named
//! field `b`, and the array element `[3]` (the anonymous struct is walked
//! through but not recorded).

use serde::Serialize;

use super::names::kind_str;
use crate::btf::{Btf, CoreReloKind, Kind, Type};

/// Most steps an access string may have (libbpf's `BPF_CORE_SPEC_MAX_LEN`).
pub const MAX_SPEC_LEN: usize = 64;

/// One meaningful step of an access: a named field of a struct/union, an
/// array element, or (first step, or enumerators) an index into the root.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Accessor {
    /// For a field: the struct/union (modifiers skipped) holding it; for an
    /// array element: the element type; for an enumerator: the enum.
    pub type_id: u32,
    /// Field index, array index, or enumerator index.
    pub index: u32,
    /// The field or enumerator name; `None` for array elements.
    pub name: Option<String>,
}

/// A CO-RE access spec against one BTF: the local one parsed from a record,
/// or a target one found by matching.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Spec {
    /// The root type id (local type of the record, or the candidate).
    pub root_type_id: u32,
    /// The relocation kind.
    #[serde(serialize_with = "super::report::kind_name")]
    pub kind: CoreReloKind,
    /// The meaningful steps (empty for type-based kinds).
    pub accessors: Vec<Accessor>,
    /// Every step, as in the access string.
    pub raw: Vec<u32>,
    /// Bit offset of the field from the start of the root (field kinds).
    pub bit_offset: u32,
}

impl Spec {
    /// An empty spec rooted at `root_type_id`.
    pub(crate) fn new(root_type_id: u32, kind: CoreReloKind) -> Spec {
        Spec {
            root_type_id,
            kind,
            accessors: Vec::new(),
            raw: Vec::new(),
            bit_offset: 0,
        }
    }

    /// The spec as libbpf logs it, without the `<kind>` prefix:
    /// `[7] struct task_struct.pid (0:12 @ offset 2484)`,
    /// `[12] enum core_state::CS_A = 10`, `[3] typedef u32`.
    pub fn render(&self, btf: &Btf) -> String {
        let mut s = String::new();
        let t = btf.type_by_id(self.root_type_id);
        let name = t.map_or("", |t| btf.name(t));
        let kind = t.map_or("unknown", |t| kind_str(t.kind));
        let name = if name.is_empty() { "<anon>" } else { name };
        s.push_str(&format!("[{}] {kind} {name}", self.root_type_id));
        if self.kind.is_type() {
            return s;
        }
        if self.kind.is_enumval() {
            if let Some((_, t)) = skip_mods(btf, self.root_type_id) {
                // A candidate that did not match has an empty spec, and
                // libbpf reads its zeroed raw[0]: enumerator 0.
                let i = self.raw.first().copied().unwrap_or(0);
                if let Some(e) = t.enum_values().get(i as usize) {
                    let n = btf.str_at(e.name_off).unwrap_or("");
                    s.push_str(&format!("::{n} = {}", enum_value_text(t, e.value)));
                }
            }
            return s;
        }
        for (i, a) in self.accessors.iter().enumerate() {
            match &a.name {
                Some(n) => s.push_str(&format!(".{n}")),
                None if i > 0 || a.index > 0 => s.push_str(&format!("[{}]", a.index)),
                None => {}
            }
        }
        let raw: Vec<String> = self.raw.iter().map(u32::to_string).collect();
        s.push_str(&format!(" ({}", raw.join(":")));
        if self.bit_offset % 8 != 0 {
            s.push_str(&format!(
                " @ offset {}.{})",
                self.bit_offset / 8,
                self.bit_offset % 8
            ));
        } else {
            s.push_str(&format!(" @ offset {})", self.bit_offset / 8));
        }
        s
    }
}

/// An enumerator value as libbpf prints it: `%d`/`%u` of the 32-bit value
/// for enum, `%lld`/`%llu` for enum64, by the enum's signedness.
fn enum_value_text(t: &Type, value: u64) -> String {
    match (t.kind, t.kind_flag) {
        (Kind::Enum, true) => (value as u32 as i32).to_string(),
        (Kind::Enum, false) => (value as u32).to_string(),
        (_, true) => (value as i64).to_string(),
        (_, false) => value.to_string(),
    }
}

/// libbpf's `skip_mods_and_typedefs`: the id and type after typedefs and
/// modifiers; `None` for a bad id or a cycle.
pub(crate) fn skip_mods(btf: &Btf, id: u32) -> Option<(u32, &Type)> {
    btf.resolve(id).ok()
}

/// A struct member's bit offset and bitfield size (0 when not a bitfield).
pub(crate) fn member_bits(t: &Type, index: usize) -> Option<(u32, u32)> {
    t.members()
        .get(index)
        .map(|m| (m.bit_offset, m.bitfield_size as u32))
}

/// libbpf's `is_flex_arr`: an array of zero elements that is the last
/// member of the struct the previous (named) accessor points into.
pub(crate) fn is_flex_array(btf: &Btf, prev: Option<&Accessor>, nelems: u32) -> bool {
    let Some(acc) = prev else { return false };
    if acc.name.is_none() || nelems > 0 {
        return false;
    }
    btf.type_by_id(acc.type_id)
        .is_some_and(|t| t.vlen > 0 && acc.index == t.vlen as u32 - 1)
}

/// Splits an access string as libbpf does: decimal indices separated by
/// single colons, at most [`MAX_SPEC_LEN`], at least one.
pub(crate) fn parse_access(access: &str) -> Result<Vec<u32>, String> {
    if access.is_empty() {
        return Err("empty access string".into());
    }
    let mut out = Vec::new();
    for part in access.split(':') {
        if part.is_empty() || !part.bytes().all(|c| c.is_ascii_digit()) {
            return Err(format!("\"{part}\" is not an index"));
        }
        let v: u32 = part
            .parse()
            .ok()
            .filter(|&v| v <= i32::MAX as u32)
            .ok_or_else(|| format!("index {part} out of range"))?;
        if out.len() == MAX_SPEC_LEN {
            return Err(format!("more than {MAX_SPEC_LEN} steps"));
        }
        out.push(v);
    }
    Ok(out)
}

/// `bpf_core_parse_spec`: turns a record's access string into a [`Spec`]
/// against the local BTF, checking every step and computing the field's bit
/// offset. The error says what is wrong.
pub fn parse_spec(
    btf: &Btf,
    type_id: u32,
    access: &str,
    kind: CoreReloKind,
) -> Result<Spec, String> {
    let mut spec = Spec::new(type_id, kind);
    if kind.is_type() {
        if access != "0" {
            return Err(format!(
                "type-based relocation needs access \"0\", got \"{access}\""
            ));
        }
        return Ok(spec);
    }
    spec.raw = parse_access(access)?;
    let (mut id, t) =
        skip_mods(btf, type_id).ok_or_else(|| format!("type [{type_id}] does not resolve"))?;
    let first = spec.raw[0];
    spec.accessors.push(Accessor {
        type_id: id,
        index: first,
        name: None,
    });
    if kind.is_enumval() {
        if !matches!(t.kind, Kind::Enum | Kind::Enum64) {
            return Err(format!("[{id}] is a {}, not an enum", kind_str(t.kind)));
        }
        if spec.raw.len() > 1 {
            return Err("enumerator access has more than one step".into());
        }
        let e = t
            .enum_values()
            .get(first as usize)
            .ok_or_else(|| format!("enumerator index {first} past the enum's {} values", t.vlen))?;
        spec.accessors[0].name = Some(btf.str_at(e.name_off).unwrap_or("").to_owned());
        return Ok(spec);
    }
    let sz = size_of(btf, id)?;
    spec.bit_offset = bits(mul(first, sz)?)?;
    for step in 1..spec.raw.len() {
        let (rid, t) = skip_mods(btf, id).ok_or_else(|| format!("type [{id}] does not resolve"))?;
        id = rid;
        let idx = spec.raw[step];
        if t.is_composite() {
            let m = t.members().get(idx as usize).ok_or_else(|| {
                format!(
                    "step {step}: member index {idx} past the {} members of [{id}]",
                    t.vlen
                )
            })?;
            spec.bit_offset = spec
                .bit_offset
                .checked_add(m.bit_offset)
                .ok_or("bit offset overflows")?;
            if m.name_off != 0 {
                let name = btf.str_at(m.name_off).unwrap_or("");
                if name.is_empty() {
                    return Err(format!(
                        "step {step}: member {idx} of [{id}] has an empty name"
                    ));
                }
                spec.accessors.push(Accessor {
                    type_id: id,
                    index: idx,
                    name: Some(name.to_owned()),
                });
            }
            id = m.ty;
        } else if let Some(a) = t.array() {
            let (eid, _) = skip_mods(btf, a.elem)
                .ok_or_else(|| format!("element type [{}] does not resolve", a.elem))?;
            let flex = is_flex_array(btf, spec.accessors.last(), a.nelems);
            if !flex && idx >= a.nelems {
                return Err(format!(
                    "step {step}: array index {idx} past the {} elements of [{id}]",
                    a.nelems
                ));
            }
            id = eid;
            spec.accessors.push(Accessor {
                type_id: id,
                index: idx,
                name: None,
            });
            let sz = size_of(btf, id)?;
            let add = bits(mul(idx, sz)?)?;
            spec.bit_offset = spec
                .bit_offset
                .checked_add(add)
                .ok_or("bit offset overflows")?;
        } else {
            return Err(format!(
                "step {step} captures type [{id}] of unexpected kind {}",
                kind_str(t.kind)
            ));
        }
    }
    Ok(spec)
}

/// `btf__resolve_size` with the error as text.
pub(crate) fn size_of(btf: &Btf, id: u32) -> Result<u64, String> {
    btf.size_of(id).map_err(|e| e.to_string())
}

/// An index times an element size, in bytes.
fn mul(index: u32, size: u64) -> Result<u64, String> {
    (index as u64)
        .checked_mul(size)
        .ok_or_else(|| format!("index {index} times size {size} overflows"))
}

/// Bytes to bits, within libbpf's 32-bit bit offsets.
pub(crate) fn bits(bytes: u64) -> Result<u32, String> {
    bytes
        .checked_mul(8)
        .and_then(|b| u32::try_from(b).ok())
        .ok_or_else(|| format!("byte offset {bytes} overflows a 32-bit bit offset"))
}
