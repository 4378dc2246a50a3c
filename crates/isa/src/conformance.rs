//! The bpf_conformance test vector format (`.data` files).
//!
//! A vector is a sequence of sections, each opened by a `-- name` line:
//!
//! - `-- asm`: the program in uBPF syntax (see [`crate::asm`]);
//! - `-- raw`: the program as bytes, either one `0x...` 64-bit value per slot
//!   (the slot read as a little-endian integer) or hex bytes (`95 00 00 ...`);
//! - `-- mem`: the input memory as hex bytes;
//! - `-- result`: the expected return value (hex with `0x`, else decimal);
//! - `-- error`: the program must be rejected (the text, possibly empty, is
//!   the runner's expected message);
//! - `-- no register offset`: a note for runners that do not support calls
//!   through a register; the text after it is ignored;
//! - `-- c`: the C source the program came from, ignored.
//!
//! Lines starting with `#` outside `-- asm` and `-- c` are comments.

use thiserror::Error;

/// One parsed test vector.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TestVector {
    /// The `-- asm` section, verbatim (comments included).
    pub asm: Option<String>,
    /// 1-based line of the first line of `asm` in the file, so that assembler
    /// errors (whose lines count from 1 within `asm`) can be reported against
    /// the file: file line = `asm_line + error.line - 1`.
    pub asm_line: usize,
    /// The `-- raw` section as bytes.
    pub raw: Option<Vec<u8>>,
    /// The input memory (`-- mem`), empty when absent.
    pub mem: Vec<u8>,
    /// The expected return value (`-- result`).
    pub result: Option<u64>,
    /// Present when the program must be rejected; the runner's expected
    /// message, possibly empty.
    pub error: Option<String>,
    /// The vector carries `-- no register offset`.
    pub no_register_offset: bool,
}

/// Why a `.data` file is not a valid test vector.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("line {line}: {message}")]
pub struct VectorError {
    /// 1-based line in the file (the last line + 1 for "missing" errors).
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Section {
    Preamble,
    Asm,
    Raw,
    Mem,
    Result,
    Error,
    Ignored,
}

impl Section {
    fn from_directive(name: &str) -> Option<Section> {
        Some(match name {
            "asm" => Section::Asm,
            "raw" => Section::Raw,
            "mem" => Section::Mem,
            "result" => Section::Result,
            "error" => Section::Error,
            "c" | "no register offset" => Section::Ignored,
            _ => return None,
        })
    }
}

fn err<T>(line: usize, message: impl Into<String>) -> Result<T, VectorError> {
    Err(VectorError {
        line,
        message: message.into(),
    })
}

/// Parses the text of one `.data` file.
///
/// Fails on an unknown `-- ` directive, a section given twice, malformed
/// bytes or numbers, and a vector with neither `-- asm` nor `-- raw`.
///
/// ```
/// use bpfkit_isa::conformance::parse_vector;
/// let v = parse_vector("# comment\n-- asm\nmov %r0, 1\nexit\n-- result\n0x1\n").unwrap();
/// assert_eq!(v.asm.as_deref(), Some("mov %r0, 1\nexit"));
/// assert_eq!(v.asm_line, 3);
/// assert_eq!(v.result, Some(1));
/// assert!(parse_vector("-- result\n0x0\n").is_err());
/// ```
pub fn parse_vector(text: &str) -> Result<TestVector, VectorError> {
    let mut v = TestVector::default();
    let mut section = Section::Preamble;
    let mut seen: Vec<Section> = Vec::new();
    let mut asm_lines: Vec<&str> = Vec::new();
    let mut raw: Vec<u8> = Vec::new();
    let mut error_lines: Vec<&str> = Vec::new();
    let mut result_line = None;
    let mut last = 0;
    for (index, line) in text.lines().enumerate() {
        let n = index + 1;
        last = n;
        if let Some(name) = line.strip_prefix("--") {
            let name = name.trim();
            let Some(next) = Section::from_directive(name) else {
                return err(n, format!("unknown directive `{}`", line.trim()));
            };
            if next != Section::Ignored && seen.contains(&next) {
                return err(n, format!("section `-- {name}` appears twice"));
            }
            seen.push(next);
            if name == "no register offset" {
                v.no_register_offset = true;
            }
            if next == Section::Asm {
                v.asm_line = n + 1;
            }
            section = next;
            continue;
        }
        let content = line.trim();
        let comment = content.starts_with('#');
        match section {
            Section::Asm => asm_lines.push(line),
            Section::Error => error_lines.push(line),
            Section::Ignored => {}
            _ if content.is_empty() || comment => {}
            Section::Preamble => return err(n, "text before the first `-- ` section"),
            Section::Raw => raw.extend(hex_bytes(content, n, true)?),
            Section::Mem => v.mem.extend(hex_bytes(content, n, false)?),
            Section::Result => {
                if result_line.is_some() {
                    return err(n, "`-- result` holds more than one value");
                }
                result_line = Some(n);
                v.result = Some(parse_u64(content).ok_or_else(|| VectorError {
                    line: n,
                    message: format!("invalid result `{content}` (expected 0x-hex or decimal)"),
                })?);
            }
        }
    }
    if seen.contains(&Section::Asm) {
        while asm_lines.last().is_some_and(|l| l.trim().is_empty()) {
            asm_lines.pop();
        }
        v.asm = Some(asm_lines.join("\n"));
    }
    if seen.contains(&Section::Raw) {
        v.raw = Some(raw);
    }
    if seen.contains(&Section::Error) {
        v.error = Some(error_lines.join("\n").trim().to_string());
    }
    if v.asm.is_none() && v.raw.is_none() {
        return err(
            last + 1,
            "no program: the vector has neither `-- asm` nor `-- raw`",
        );
    }
    Ok(v)
}

fn parse_u64(s: &str) -> Option<u64> {
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => s.parse().ok(),
    }
}

/// Hex bytes (`95 00 0a`), or with `slots`, also `0x...` 64-bit slot values
/// written as little-endian integers (`0x0000000000000095`).
fn hex_bytes(line: &str, n: usize, slots: bool) -> Result<Vec<u8>, VectorError> {
    let mut out = Vec::new();
    for token in line.split_whitespace() {
        if token.starts_with('#') {
            break;
        }
        let wide = token
            .strip_prefix("0x")
            .or_else(|| token.strip_prefix("0X"));
        match wide {
            Some(hex) if slots => match u64::from_str_radix(hex, 16) {
                Ok(v) if !hex.is_empty() && hex.len() <= 16 => out.extend(v.to_le_bytes()),
                _ => {
                    return err(
                        n,
                        format!("invalid slot value `{token}` (expected up to 16 hex digits)"),
                    )
                }
            },
            _ => match u8::from_str_radix(token, 16) {
                Ok(b) if token.len() <= 2 => out.push(b),
                _ => {
                    return err(
                        n,
                        format!("invalid byte `{token}` (expected two hex digits)"),
                    )
                }
            },
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_section() {
        let text = "# c\n-- asm\nmov %r0, 1 # one\n\nexit\n\n-- raw\n0x00000001000000b7\n95 00 00 00 00 00 00 00\n-- mem\n11 22\n33\n-- result\n42\n-- no register offset\ncall instruction\n-- c\nint x;\n-- error\nInvalid";
        let v = parse_vector(text).unwrap();
        assert_eq!(v.asm.as_deref(), Some("mov %r0, 1 # one\n\nexit"));
        assert_eq!(v.asm_line, 3);
        let raw = v.raw.unwrap();
        assert_eq!(&raw[..8], &[0xb7, 0, 0, 0, 1, 0, 0, 0]);
        assert_eq!(&raw[8..], &[0x95, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(v.mem, vec![0x11, 0x22, 0x33]);
        assert_eq!(v.result, Some(42));
        assert!(v.no_register_offset);
        assert_eq!(v.error.as_deref(), Some("Invalid"));
    }

    #[test]
    fn empty_error_section_is_present() {
        let v = parse_vector("-- raw\n95 00 00 00 00 00 00 00\n-- error\n").unwrap();
        assert_eq!(v.error.as_deref(), Some(""));
        assert_eq!(v.result, None);
    }

    #[test]
    fn rejects_malformed_vectors_with_line_numbers() {
        let cases = [
            ("# nothing\n", 2, "neither"),
            ("-- result\n0x0\n", 3, "neither"),
            (
                "-- asm\nexit\n-- Unknown directive\n",
                3,
                "unknown directive",
            ),
            ("-- asm\nexit\n-- asm\nexit\n", 3, "twice"),
            ("-- raw\n9g\n", 2, "invalid byte"),
            ("-- raw\n0x11223344556677889\n", 2, "invalid slot"),
            ("-- asm\nexit\n-- mem\n0x11\n", 4, "invalid byte"),
            ("-- asm\nexit\n-- result\nzero\n", 4, "invalid result"),
            ("-- asm\nexit\n-- result\n1\n2\n", 5, "more than one"),
            ("stray\n-- asm\nexit\n", 1, "before the first"),
        ];
        for (text, line, what) in cases {
            let e = parse_vector(text).unwrap_err();
            assert_eq!(e.line, line, "{text:?}: {e}");
            assert!(e.message.contains(what), "{text:?}: {e}");
        }
    }
}
