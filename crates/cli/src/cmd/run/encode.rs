//! Map keys, values and globals between JSON and bytes, through BTF.
//!
//! JSON to bytes, for a BTF type (or, without BTF, a byte size):
//! - a number: an integer (or enum) of the type's size, little-endian;
//! - a string: a `char` array (`"600"` for `char id[3]`, zero-padded),
//!   or, prefixed `hex:`, the bytes themselves (`"hex:89 13"`);
//! - an array: the elements of a BTF array, or, for any other type, the
//!   bytes (`[137, 19]`);
//! - an object: the members of a struct or union by name (missing ones 0).
//!
//! A one-member struct takes its member's form too (`"600"` for
//! `struct tag { char id[3]; }`). Bytes back to text follow the same rules
//! (integers in decimal, `char` arrays as strings, structs as objects),
//! falling back to hex.

use bpfkit_object::btf::{Btf, Kind, Type};
use serde_json::{Map as JsonMap, Value};

use crate::hex::parse_hex;

/// Encodes `v` as `size` bytes of BTF type `ty` (when known).
pub fn encode(
    btf: Option<&Btf>,
    ty: Option<u32>,
    size: usize,
    v: &Value,
) -> Result<Vec<u8>, String> {
    let mut out = vec![0u8; size];
    match (btf, ty) {
        (Some(b), Some(t)) if t != 0 => encode_typed(b, t, v, &mut out)?,
        _ => encode_untyped(v, &mut out)?,
    }
    Ok(out)
}

fn encode_untyped(v: &Value, out: &mut [u8]) -> Result<(), String> {
    match v {
        Value::Number(_) => put_int(v, out),
        Value::String(s) => {
            let bytes = match s.strip_prefix("hex:") {
                Some(h) => parse_hex(h)?,
                None => s.as_bytes().to_vec(),
            };
            put_bytes(&bytes, out)
        }
        Value::Array(items) => {
            let bytes = items
                .iter()
                .map(|i| i.as_u64().filter(|&b| b < 256).map(|b| b as u8))
                .collect::<Option<Vec<u8>>>()
                .ok_or("an array of bytes (0..255) was expected")?;
            put_bytes(&bytes, out)
        }
        other => Err(format!("cannot encode {other} without BTF")),
    }
}

fn put_bytes(bytes: &[u8], out: &mut [u8]) -> Result<(), String> {
    if bytes.len() > out.len() {
        return Err(format!("{} bytes do not fit in {}", bytes.len(), out.len()));
    }
    out[..bytes.len()].copy_from_slice(bytes);
    Ok(())
}

fn put_int(v: &Value, out: &mut [u8]) -> Result<(), String> {
    let n = if let Some(u) = v.as_u64() {
        u
    } else if let Some(i) = v.as_i64() {
        i as u64
    } else {
        return Err(format!("{v} is not an integer"));
    };
    let size = out.len().min(8);
    if size < 8 {
        let fits = v.as_u64().is_some_and(|u| u >> (8 * size) == 0)
            || v.as_i64().is_some_and(|i| {
                let half = 1i64 << (8 * size - 1);
                (-half..half).contains(&i)
            });
        if !fits {
            return Err(format!("{v} does not fit in {size} bytes"));
        }
    }
    out[..size].copy_from_slice(&n.to_le_bytes()[..size]);
    Ok(())
}

/// Whether `ty` is an array of 1-byte integers (a C string buffer).
fn char_array(btf: &Btf, ty: u32) -> Option<u32> {
    let (_, t) = btf.resolve(ty).ok()?;
    let a = t.array()?;
    let (_, elem) = btf.resolve(a.elem).ok()?;
    (elem.kind == Kind::Int && elem.size() == Some(1)).then_some(a.nelems)
}

fn encode_typed(btf: &Btf, ty: u32, v: &Value, out: &mut [u8]) -> Result<(), String> {
    let (_, t) = btf.resolve(ty).map_err(|e| e.to_string())?;
    if let Value::String(s) = v {
        if let Some(h) = s.strip_prefix("hex:") {
            return put_bytes(&parse_hex(h)?, out);
        }
    }
    match t.kind {
        Kind::Int | Kind::Enum | Kind::Enum64 | Kind::Ptr => put_int(v, out),
        Kind::Array => {
            let a = t.array().ok_or("array without its record")?;
            if let (Value::String(s), Some(_)) = (v, char_array(btf, ty)) {
                return put_bytes(s.as_bytes(), out);
            }
            let Value::Array(items) = v else {
                return Err(format!("an array was expected, got {v}"));
            };
            let esize = btf.size_of(a.elem).map_err(|e| e.to_string())? as usize;
            if items.len() > a.nelems as usize {
                return Err(format!(
                    "{} elements for an array of {}",
                    items.len(),
                    a.nelems
                ));
            }
            for (i, item) in items.iter().enumerate() {
                let slot = out
                    .get_mut(i * esize..(i + 1) * esize)
                    .ok_or("array element outside the value")?;
                encode_typed(btf, a.elem, item, slot)?;
            }
            Ok(())
        }
        Kind::Struct | Kind::Union => {
            let members = t.members();
            let Value::Object(fields) = v else {
                if members.len() == 1 {
                    let m = &members[0];
                    let at = (m.bit_offset / 8) as usize;
                    let size = btf.size_of(m.ty).map_err(|e| e.to_string())? as usize;
                    let slot = out
                        .get_mut(at..at + size)
                        .ok_or("member outside the value")?;
                    return encode_typed(btf, m.ty, v, slot);
                }
                return encode_untyped(v, out);
            };
            for (name, fv) in fields {
                let m = members
                    .iter()
                    .find(|m| btf.str_at(m.name_off) == Some(name.as_str()))
                    .ok_or_else(|| format!("no member {name}"))?;
                if m.bitfield_size != 0 || m.bit_offset % 8 != 0 {
                    return Err(format!("member {name} is a bitfield"));
                }
                let at = (m.bit_offset / 8) as usize;
                let size = btf.size_of(m.ty).map_err(|e| e.to_string())? as usize;
                let slot = out
                    .get_mut(at..at + size)
                    .ok_or("member outside the value")?;
                encode_typed(btf, m.ty, fv, slot)?;
            }
            Ok(())
        }
        // A global data map's value: its variables by name (as
        // `decode_typed` gives them), each at its offset in the section;
        // variables not named stay zero.
        Kind::Datasec => {
            let Value::Object(fields) = v else {
                return encode_untyped(v, out);
            };
            for (name, fv) in fields {
                let (_, ty, range) = section_vars(btf, t)
                    .find(|(n, _, _)| n == name)
                    .ok_or_else(|| format!("no variable {name}"))?;
                let slot = out
                    .get_mut(range)
                    .ok_or_else(|| format!("variable {name} outside the value"))?;
                encode_typed(btf, ty, fv, slot)?;
            }
            Ok(())
        }
        _ => encode_untyped(v, out),
    }
}

/// The variables of DATASEC `t` that are VARs: name, type and byte range
/// in the section.
fn section_vars<'b>(
    btf: &'b Btf,
    t: &'b Type,
) -> impl Iterator<Item = (&'b str, u32, std::ops::Range<usize>)> + 'b {
    t.datasec_entries().iter().filter_map(move |e| {
        let var = btf.get(e.ty).ok().filter(|var| var.kind == Kind::Var)?;
        let start = e.offset as usize;
        Some((
            btf.name(var),
            var.size_or_type,
            start..start.saturating_add(e.size as usize),
        ))
    })
}

/// Bytes of BTF type `ty` as JSON (hex text where no form fits).
pub fn decode(btf: Option<&Btf>, ty: Option<u32>, bytes: &[u8]) -> Value {
    match (btf, ty) {
        (Some(b), Some(t)) if t != 0 => decode_typed(b, t, bytes, 0).unwrap_or_else(|| hex(bytes)),
        _ => hex(bytes),
    }
}

/// Hex text of bytes, `"89 13"`.
pub fn hex(bytes: &[u8]) -> Value {
    Value::String(
        bytes
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<Vec<_>>()
            .join(" "),
    )
}

fn decode_typed(btf: &Btf, ty: u32, bytes: &[u8], depth: u32) -> Option<Value> {
    if depth > 16 {
        return None;
    }
    let (_, t) = btf.resolve(ty).ok()?;
    match t.kind {
        Kind::Int | Kind::Enum | Kind::Enum64 => {
            let size = (t.size()? as usize).min(8);
            let mut b = [0u8; 8];
            b[..size].copy_from_slice(bytes.get(..size)?);
            let u = u64::from_le_bytes(b);
            let signed = t.int_info().is_some_and(|i| i.encoding & 1 != 0) || t.is_signed_enum();
            if signed && size < 8 && u >> (8 * size - 1) & 1 == 1 {
                Some(Value::from((u | !0u64 << (8 * size)) as i64))
            } else if signed {
                Some(Value::from(u as i64))
            } else {
                Some(Value::from(u))
            }
        }
        Kind::Array => {
            let a = t.array()?;
            if char_array(btf, ty).is_some() {
                let s = bytes.get(..a.nelems as usize)?;
                let text = s.split(|&c| c == 0).next().unwrap_or_default();
                if text.iter().all(|c| c.is_ascii_graphic() || *c == b' ') && !text.is_empty() {
                    return Some(Value::String(String::from_utf8_lossy(text).into_owned()));
                }
                return Some(hex(s));
            }
            let esize = btf.size_of(a.elem).ok()? as usize;
            let items = (0..a.nelems as usize)
                .map(|i| {
                    decode_typed(
                        btf,
                        a.elem,
                        bytes.get(i * esize..(i + 1) * esize)?,
                        depth + 1,
                    )
                })
                .collect::<Option<Vec<_>>>()?;
            Some(Value::Array(items))
        }
        Kind::Struct | Kind::Union => {
            let members = t.members();
            let mut obj = JsonMap::new();
            for m in members {
                if m.bitfield_size != 0 || m.bit_offset % 8 != 0 {
                    return None;
                }
                let at = (m.bit_offset / 8) as usize;
                let size = btf.size_of(m.ty).ok()? as usize;
                let v = decode_typed(btf, m.ty, bytes.get(at..at + size)?, depth + 1)?;
                if members.len() == 1 {
                    return Some(v);
                }
                obj.insert(btf.str_at(m.name_off).unwrap_or("").to_string(), v);
            }
            Some(Value::Object(obj))
        }
        // A global data map's value: its variables by name, each at its
        // offset in the section.
        Kind::Datasec => {
            let mut obj = JsonMap::new();
            for (name, ty, range) in section_vars(btf, t) {
                let value = decode_typed(btf, ty, bytes.get(range)?, depth + 1)?;
                obj.insert(name.to_string(), value);
            }
            Some(Value::Object(obj))
        }
        _ => None,
    }
}
