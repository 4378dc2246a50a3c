//! Map keys and values shown through their BTF, as bpftool's `btf_dumper`
//! shows them: in `map dump`/`lookup` text (bpftool's pretty JSON writer,
//! quirks included) and as the `formatted` member of `--json` output.

use bpfkit_object::btf::{int_encoding, Btf, Kind, Type, TypeData};
use serde_json::Value;

/// Where the dumper writes: bpftool's pretty JSON text, or a JSON value.
pub trait Sink {
    /// `{`.
    fn start_object(&mut self);
    /// `}`.
    fn end_object(&mut self);
    /// `[`.
    fn start_array(&mut self);
    /// `]`.
    fn end_array(&mut self);
    /// A member name.
    fn name(&mut self, name: &str);
    /// A value printed as is (numbers, `true`, `"0x1f"`...).
    fn raw(&mut self, text: &str);
    /// A string value.
    fn string(&mut self, s: &str);
}

/// bpftool's `json_writer` in pretty mode: members on their own lines,
/// four spaces per level, array elements on one line with the closing
/// bracket on the next.
#[derive(Default)]
pub struct PrettyText {
    /// The text so far.
    pub out: String,
    depth: usize,
    sep: Option<char>,
}

impl PrettyText {
    fn eor(&mut self) {
        if let Some(c) = self.sep {
            self.out.push(c);
        }
        self.sep = Some(',');
    }

    fn eol(&mut self) {
        self.out.push('\n');
        for _ in 0..self.depth {
            self.out.push_str("    ");
        }
    }

    fn begin(&mut self, c: char) {
        self.eor();
        self.out.push(c);
        self.depth += 1;
        self.sep = None;
    }

    fn end(&mut self, c: char) {
        self.depth = self.depth.saturating_sub(1);
        if self.sep.is_some() {
            self.eol();
        }
        self.out.push(c);
        self.sep = Some(',');
    }
}

fn quoted(s: &str) -> String {
    let mut q = String::from("\"");
    for c in s.chars() {
        match c {
            '\t' => q.push_str("\\t"),
            '\n' => q.push_str("\\n"),
            '\r' => q.push_str("\\r"),
            '\u{c}' => q.push_str("\\f"),
            '\u{8}' => q.push_str("\\b"),
            '\\' => q.push_str("\\\\"),
            '"' => q.push_str("\\\""),
            c => q.push(c),
        }
    }
    q.push('"');
    q
}

impl Sink for PrettyText {
    fn start_object(&mut self) {
        self.begin('{');
    }
    fn end_object(&mut self) {
        self.end('}');
    }
    fn start_array(&mut self) {
        self.begin('[');
    }
    fn end_array(&mut self) {
        self.end(']');
    }
    fn name(&mut self, name: &str) {
        self.eor();
        self.eol();
        self.sep = None;
        self.out.push_str(&quoted(name));
        self.out.push_str(": ");
    }
    fn raw(&mut self, text: &str) {
        self.eor();
        self.out.push_str(text);
    }
    fn string(&mut self, s: &str) {
        self.eor();
        self.out.push_str(&quoted(s));
    }
}

/// Builds a `serde_json::Value` from the dumper's calls.
#[derive(Default)]
pub struct ValueSink {
    stack: Vec<(Value, Option<String>)>,
    pending: Option<String>,
    /// The finished value.
    pub done: Option<Value>,
}

impl ValueSink {
    fn put(&mut self, v: Value) {
        let name = self.pending.take();
        match self.stack.last_mut() {
            Some((Value::Object(m), _)) => {
                m.insert(name.unwrap_or_default(), v);
            }
            Some((Value::Array(a), _)) => a.push(v),
            _ => self.done = Some(v),
        }
    }

    fn close(&mut self) {
        if let Some((v, name)) = self.stack.pop() {
            self.pending = name;
            self.put(v);
        }
    }
}

impl Sink for ValueSink {
    fn start_object(&mut self) {
        let name = self.pending.take();
        self.stack.push((Value::Object(Default::default()), name));
    }
    fn end_object(&mut self) {
        self.close();
    }
    fn start_array(&mut self) {
        let name = self.pending.take();
        self.stack.push((Value::Array(Vec::new()), name));
    }
    fn end_array(&mut self) {
        self.close();
    }
    fn name(&mut self, name: &str) {
        self.pending = Some(name.to_string());
    }
    fn raw(&mut self, text: &str) {
        let v = serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_string()));
        self.put(v);
    }
    fn string(&mut self, s: &str) {
        self.put(Value::String(s.to_string()));
    }
}

/// Dumps one value of BTF type `id` from `data`. `plain` is bpftool's
/// text mode (pointers as `%p`, bit fields and non-printable chars
/// unquoted). Data shorter than the type ends in a typed error.
pub fn dump(btf: &Btf, id: u32, data: &[u8], plain: bool, s: &mut dyn Sink) -> Result<(), String> {
    dump_at(btf, id, 0, data, plain, s, 0)
}

fn take(data: &[u8], n: usize) -> Result<&[u8], String> {
    data.get(..n)
        .ok_or_else(|| format!("value is {} bytes; its BTF type needs {n}", data.len()))
}

fn dump_at(
    btf: &Btf,
    id: u32,
    bit_offset: u32,
    data: &[u8],
    plain: bool,
    s: &mut dyn Sink,
    depth: usize,
) -> Result<(), String> {
    if depth > 64 {
        return Err(format!("BTF type {id}: nesting too deep"));
    }
    let t = btf.get(id).map_err(|e| e.to_string())?;
    match t.kind {
        Kind::Int => int(t, bit_offset, data, plain, s),
        Kind::Struct | Kind::Union => {
            s.start_object();
            for m in t.members() {
                s.name(btf.str_at(m.name_off).unwrap_or(""));
                let off = (m.bit_offset / 8) as usize;
                let rest = data.get(off..).ok_or("member past the end of the value")?;
                if m.bitfield_size > 0 {
                    bitfield(u32::from(m.bitfield_size), m.bit_offset % 8, rest, plain, s)?;
                } else {
                    dump_at(btf, m.ty, m.bit_offset % 8, rest, plain, s, depth + 1)?;
                }
            }
            s.end_object();
            Ok(())
        }
        Kind::Array => {
            let a = t.array().ok_or("array without its record")?;
            if is_str_array(btf, a.elem, a.nelems, data) {
                let end = data.iter().position(|&b| b == 0).unwrap_or(data.len());
                s.string(&String::from_utf8_lossy(&data[..end]));
                return Ok(());
            }
            let size = btf.size_of(a.elem).map_err(|e| e.to_string())? as usize;
            // Elements of no size (empty structs) hold nothing to show.
            let n = if size == 0 { 0 } else { a.nelems as usize };
            s.start_array();
            for i in 0..n {
                let at = data
                    .get(i * size..)
                    .ok_or("array past the end of the value")?;
                dump_at(btf, a.elem, 0, at, plain, s, depth + 1)?;
            }
            s.end_array();
            Ok(())
        }
        Kind::Enum | Kind::Enum64 => {
            let size = t.size().unwrap_or(0) as usize;
            let b = take(data, size)?;
            let v: i64 = match size {
                8 => i64::from_ne_bytes(b.try_into().map_err(|_| "enum size")?),
                4 => i64::from(i32::from_ne_bytes(b.try_into().map_err(|_| "enum size")?)),
                2 => i64::from(i16::from_ne_bytes(b.try_into().map_err(|_| "enum size")?)),
                1 => i64::from(b[0] as i8),
                _ => return Err(format!("enum of {size} bytes")),
            };
            let hit = t.enum_values().iter().find(|e| {
                if t.kind == Kind::Enum {
                    i64::from(e.value as i32) == v
                } else {
                    e.value as i64 == v
                }
            });
            match hit {
                Some(e) => s.string(btf.str_at(e.name_off).unwrap_or("")),
                None => s.raw(&v.to_string()),
            }
            Ok(())
        }
        Kind::Ptr => {
            let b = take(data, 8)?;
            let v = u64::from_ne_bytes(b.try_into().map_err(|_| "pointer size")?);
            if !plain {
                s.raw(&v.to_string());
            } else if v == 0 {
                s.raw("(nil)");
            } else {
                s.raw(&format!("{v:#x}"));
            }
            Ok(())
        }
        Kind::Typedef | Kind::Volatile | Kind::Const | Kind::Restrict | Kind::TypeTag => {
            let (rid, _) = btf.resolve(id).map_err(|e| e.to_string())?;
            dump_at(btf, rid, bit_offset, data, plain, s, depth + 1)
        }
        Kind::Var => {
            s.start_object();
            s.name(btf.name(t));
            dump_at(btf, t.size_or_type, bit_offset, data, plain, s, depth + 1)?;
            s.end_object();
            Ok(())
        }
        Kind::Datasec => {
            s.start_object();
            s.name(btf.name(t));
            s.start_array();
            for v in t.datasec_entries() {
                let at = data
                    .get(v.offset as usize..)
                    .ok_or("section variable past the end")?;
                dump_at(btf, v.ty, 0, at, plain, s, depth + 1)?;
            }
            s.end_array();
            s.end_object();
            Ok(())
        }
        Kind::Void => {
            s.raw("(unknown)");
            Ok(())
        }
        Kind::Fwd => {
            s.raw("(fwd-kind-invalid)");
            Err("a map key or value cannot be a forward declaration".to_string())
        }
        other => {
            s.raw("(unsupported-kind");
            Err(format!("BTF kind {} in a map value", other.name()))
        }
    }
}

/// bpftool's `is_str_array`: an array of 1-byte chars holding printable
/// bytes up to a NUL.
fn is_str_array(btf: &Btf, elem: u32, nelems: u32, data: &[u8]) -> bool {
    if nelems == 0 {
        return false;
    }
    let mut cur = elem;
    let mut t = match btf.get(cur) {
        Ok(t) => t,
        Err(_) => return false,
    };
    // Modifiers are skipped, typedefs are not (as bpftool does).
    while matches!(
        t.kind,
        Kind::Volatile | Kind::Const | Kind::Restrict | Kind::TypeTag
    ) {
        cur = t.size_or_type;
        match btf.get(cur) {
            Ok(n) => t = n,
            Err(_) => return false,
        }
    }
    let Some(info) = t.int_info() else {
        return false;
    };
    if t.kind != Kind::Int || t.size() != Some(1) {
        return false;
    }
    if info.encoding & int_encoding::CHAR == 0 && btf.name(t) != "char" {
        return false;
    }
    for &b in data.iter().take(nelems as usize) {
        if b == 0 {
            return true;
        }
        if b <= 0x1f || b >= 0x7f {
            return false;
        }
    }
    false
}

fn int(
    t: &Type,
    bit_offset: u32,
    data: &[u8],
    plain: bool,
    s: &mut dyn Sink,
) -> Result<(), String> {
    let TypeData::Int(info) = t.data else {
        return Err("int without its encoding".to_string());
    };
    let bits = u32::from(info.bits);
    if bits == 0 {
        return Err("int of 0 bits".to_string());
    }
    if bit_offset != 0 || info.offset != 0 || bits % 8 != 0 {
        let total = bit_offset + u32::from(info.offset);
        let rest = data
            .get((total / 8) as usize..)
            .ok_or("bit field past the end")?;
        return bitfield(bits, total % 8, rest, plain, s);
    }
    if bits == 128 {
        let b = take(data, 16)?;
        let v = u128::from_ne_bytes(b.try_into().map_err(|_| "int128")?);
        return hex128(v, plain, s);
    }
    let b = take(data, (bits / 8) as usize)?;
    let text = match info.encoding {
        0 => match bits {
            64 => u64::from_ne_bytes(b.try_into().map_err(|_| "u64")?).to_string(),
            32 => u32::from_ne_bytes(b.try_into().map_err(|_| "u32")?).to_string(),
            16 => u16::from_ne_bytes(b.try_into().map_err(|_| "u16")?).to_string(),
            8 => b[0].to_string(),
            _ => return bitfield(bits, 0, data, plain, s),
        },
        e if e == int_encoding::SIGNED => match bits {
            64 => i64::from_ne_bytes(b.try_into().map_err(|_| "s64")?).to_string(),
            32 => i32::from_ne_bytes(b.try_into().map_err(|_| "s32")?).to_string(),
            16 => i16::from_ne_bytes(b.try_into().map_err(|_| "s16")?).to_string(),
            8 => (b[0] as i8).to_string(),
            _ => return bitfield(bits, 0, data, plain, s),
        },
        e if e == int_encoding::CHAR => {
            let c = b[0];
            if (0x20..0x7f).contains(&c) {
                s.string(&(c as char).to_string());
                return Ok(());
            } else if plain {
                format!("{c:#x}")
            } else {
                s.string(&(c as char).to_string());
                return Ok(());
            }
        }
        e if e == int_encoding::BOOL => (b[0] != 0).to_string(),
        e => return Err(format!("int encoding {e:#x}")),
    };
    s.raw(&text);
    Ok(())
}

/// `nr_bits` bits from bit `bit_offset` of `data`, printed in hex as
/// bpftool prints bit fields (quoted in JSON).
fn bitfield(
    nr_bits: u32,
    bit_offset: u32,
    data: &[u8],
    plain: bool,
    s: &mut dyn Sink,
) -> Result<(), String> {
    let bits = bit_offset + nr_bits;
    if nr_bits == 0 || bits > 128 {
        return Err(format!("bit field of {nr_bits} bits at bit {bit_offset}"));
    }
    let b = take(data, bits.div_ceil(8) as usize)?;
    let mut buf = [0u8; 16];
    buf[..b.len()].copy_from_slice(b);
    let v = u128::from_le_bytes(buf) >> bit_offset;
    let v = if nr_bits == 128 {
        v
    } else {
        v & ((1u128 << nr_bits) - 1)
    };
    hex128(v, plain, s)
}

fn hex128(v: u128, plain: bool, s: &mut dyn Sink) -> Result<(), String> {
    let (hi, lo) = ((v >> 64) as u64, v as u64);
    let text = if hi == 0 {
        format!("0x{lo:x}")
    } else {
        format!("0x{hi:x}{lo:016x}")
    };
    if plain {
        s.raw(&text);
    } else {
        s.string(&text);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use bpfkit_object::btf::int_encoding::SIGNED;
    use bpfkit_object::btf::{BtfBuilder, Endian};

    /// `int` [1], `char` [2], `char[4]` [3], `struct s { int a; char n[4];
    /// unsigned int f:3; }` [4] with kind_flag, `unsigned int` [5].
    fn btf() -> Btf {
        let mut b = BtfBuilder::new();
        let int = b.int("int", 4, SIGNED);
        let char_ = b.int("char", 1, SIGNED);
        let n = b.array(char_, int, 4);
        let uint = 5;
        b.struct_type(
            "s",
            12,
            &[("a", int, 0, 0), ("n", n, 32, 0), ("f", uint, 64, 3)],
        );
        assert_eq!(b.int("unsigned int", 4, 0), uint);
        Btf::parse(&b.encode(Endian::Little)).unwrap()
    }

    fn value() -> Vec<u8> {
        let mut v = (-3i32).to_le_bytes().to_vec();
        v.extend_from_slice(b"ok\0\0");
        v.extend_from_slice(&[0xfd, 0, 0, 0]);
        v
    }

    #[test]
    fn pretty_text_as_bpftool_writes_it() {
        let mut t = PrettyText::default();
        t.start_array();
        t.start_object();
        t.name("key");
        dump(&btf(), 1, &7i32.to_le_bytes(), true, &mut t).unwrap();
        t.name("value");
        dump(&btf(), 4, &value(), true, &mut t).unwrap();
        t.end_object();
        t.end_array();
        assert_eq!(
            t.out,
            "[{\n        \"key\": 7,\n        \"value\": {\n            \"a\": -3,\n            \
             \"n\": \"ok\",\n            \"f\": 0x5\n        }\n    }\n]"
        );
    }

    #[test]
    fn json_values_and_short_data() {
        let mut s = ValueSink::default();
        dump(&btf(), 4, &value(), false, &mut s).unwrap();
        assert_eq!(
            s.done.unwrap(),
            serde_json::json!({"a": -3, "n": "ok", "f": "0x5"})
        );
        // Not a string: a char array without a NUL prints element by element.
        let mut s = ValueSink::default();
        dump(&btf(), 3, b"abcd", false, &mut s).unwrap();
        assert_eq!(s.done.unwrap(), serde_json::json!([97, 98, 99, 100]));
        // Data shorter than the type is an error, never a panic.
        let mut s = ValueSink::default();
        assert!(dump(&btf(), 4, &value()[..6], false, &mut s).is_err());
        let mut t = PrettyText::default();
        assert!(dump(&btf(), 99, &value(), true, &mut t).is_err());
    }
}
