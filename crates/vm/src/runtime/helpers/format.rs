//! The kernel's BPF printf: the format rules of `bpf_bprintf_prepare`
//! (kernel/bpf/helpers.c) and the output of `bstr_printf`
//! (lib/vsprintf.c), shared by `bpf_trace_printk` and `bpf_snprintf`.
//!
//! Accepted, as the kernel accepts them: `%%`; flags `0`, `+`, `-`, ` `
//! and a decimal width (no precision); `%d %i %u %x %X` with `l` or `ll`
//! (without, the argument is a 32-bit `int`); `%c`; `%s`; `%p` with
//! `K`/`x`/`B`/`s`/`S` or nothing (a kernel pointer), `%pks`/`%pus` (a
//! string), `%pI4 %pi4 %pI6 %pi6` (an address read from memory). Every
//! other conversion, a non-printable byte, or more conversions than
//! arguments is `EINVAL`.
//!
//! Differences a userspace run cannot avoid: `%p` and `%pK`, which the
//! kernel prints as a hashed pointer, and `%ps`/`%pS`, which it prints as
//! a kernel symbol, print the raw value as `%px` does.

/// Why a format was refused (`-EINVAL` from the helper).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormatError(pub String);

/// `MAX_BPRINTF_BUF`: the room for the strings and addresses the
/// conversions copy, and the output buffer of `bpf_trace_printk`.
pub const MAX_BPRINTF_BUF: usize = 512;

#[derive(Default, Clone, Copy)]
struct Spec {
    left: bool,
    zero: bool,
    plus: bool,
    space: bool,
    width: usize,
}

fn pad(out: &mut Vec<u8>, s: &[u8], spec: Spec, zero_ok: bool) {
    let fill = spec.width.saturating_sub(s.len());
    if spec.left {
        out.extend_from_slice(s);
        out.extend(std::iter::repeat(b' ').take(fill));
    } else if spec.zero && zero_ok {
        // The sign (or 0x) stays in front of the zeros.
        let sign = usize::from(matches!(s.first(), Some(b'-' | b'+' | b' ')));
        out.extend_from_slice(&s[..sign]);
        out.extend(std::iter::repeat(b'0').take(fill));
        out.extend_from_slice(&s[sign..]);
    } else {
        out.extend(std::iter::repeat(b' ').take(fill));
        out.extend_from_slice(s);
    }
}

fn ipv6(b: &[u8], colons: bool) -> String {
    let words: Vec<String> = b
        .chunks(2)
        .map(|w| format!("{:02x}{:02x}", w[0], w[1]))
        .collect();
    words.join(if colons { ":" } else { "" })
}

/// Formats `fmt` (up to its NUL) with `args`, reading the strings and
/// addresses that conversions point at with `read(addr, max_len)` (which
/// returns `None` where the memory cannot be read: the kernel prints an
/// empty string or zeros then). The output is not truncated.
pub fn format_bprintf(
    fmt: &[u8],
    args: &[u64],
    read: &mut dyn FnMut(u64, usize) -> Option<Vec<u8>>,
) -> Result<Vec<u8>, FormatError> {
    let fmt = match fmt.iter().position(|&c| c == 0) {
        Some(n) => &fmt[..n],
        None => {
            return Err(FormatError(
                "the format string is not NUL-terminated".into(),
            ))
        }
    };
    let at = |i: usize| fmt.get(i).copied().unwrap_or(0);
    let mut out = Vec::new();
    let mut next = 0usize;
    let mut budget = MAX_BPRINTF_BUF;
    let mut i = 0;
    while i < fmt.len() {
        let c = fmt[i];
        if !(c.is_ascii_graphic() || c == b' ' || c.is_ascii_whitespace()) {
            return Err(FormatError(format!(
                "byte {c:#04x} at {i} is not printable"
            )));
        }
        if c != b'%' {
            out.push(c);
            i += 1;
            continue;
        }
        if at(i + 1) == b'%' {
            out.push(b'%');
            i += 2;
            continue;
        }
        let Some(&arg) = args.get(next) else {
            return Err(FormatError(format!(
                "conversion {} at {i} has no argument ({} given)",
                next + 1,
                args.len()
            )));
        };
        next += 1;
        i += 1;
        let mut spec = Spec::default();
        loop {
            match at(i) {
                b'0' => spec.zero = true,
                b'+' => spec.plus = true,
                b'-' => spec.left = true,
                b' ' => spec.space = true,
                _ => break,
            }
            i += 1;
        }
        while at(i).is_ascii_digit() {
            spec.width = spec.width * 10 + (at(i) - b'0') as usize;
            i += 1;
        }
        let ends_conversion = |c: u8| c == 0 || c.is_ascii_whitespace() || c.is_ascii_punctuation();
        match at(i) {
            b'p' => {
                let m = at(i + 1);
                if (m == b'k' || m == b'u') && at(i + 2) == b's' {
                    i += 3;
                    if !ends_conversion(at(i)) {
                        return Err(FormatError(format!(
                            "%p{}s must end the conversion",
                            m as char
                        )));
                    }
                    let s = read_str(read, arg, &mut budget);
                    pad(&mut out, &s, spec, false);
                } else if matches!(m, b'K' | b'x' | b'B' | b's' | b'S') || ends_conversion(m) {
                    i += if ends_conversion(m) { 1 } else { 2 };
                    out.extend_from_slice(format!("{arg:016x}").as_bytes());
                } else if matches!(m, b'i' | b'I') && matches!(at(i + 2), b'4' | b'6') {
                    let v6 = at(i + 2) == b'6';
                    let n = if v6 { 16 } else { 4 };
                    let bytes = read(arg, n).filter(|b| b.len() == n).unwrap_or(vec![0; n]);
                    budget = budget.saturating_sub(n);
                    let text = match (v6, m) {
                        (false, b'I') => bytes
                            .iter()
                            .map(|b| b.to_string())
                            .collect::<Vec<_>>()
                            .join("."),
                        (false, _) => bytes
                            .iter()
                            .map(|b| format!("{b:03}"))
                            .collect::<Vec<_>>()
                            .join("."),
                        (true, b'I') => ipv6(&bytes, true),
                        (true, _) => ipv6(&bytes, false),
                    };
                    pad(&mut out, text.as_bytes(), spec, false);
                    i += 3;
                } else {
                    return Err(FormatError(format!("%p{} is not supported", m as char)));
                }
            }
            b's' => {
                i += 1;
                if !ends_conversion(at(i)) {
                    return Err(FormatError("%s must end the conversion".into()));
                }
                let s = read_str(read, arg, &mut budget);
                pad(&mut out, &s, spec, false);
            }
            b'c' => {
                i += 1;
                pad(&mut out, &[arg as u8], spec, false);
            }
            _ => {
                let mut long = false;
                if at(i) == b'l' {
                    long = true;
                    i += 1;
                }
                if at(i) == b'l' {
                    i += 1;
                }
                let conv = at(i);
                i += 1;
                let text = match (conv, long) {
                    (b'd' | b'i', true) => signed(arg as i64, spec),
                    (b'd' | b'i', false) => signed(arg as u32 as i32 as i64, spec),
                    (b'u', true) => arg.to_string(),
                    (b'u', false) => (arg as u32).to_string(),
                    (b'x', true) => format!("{arg:x}"),
                    (b'x', false) => format!("{:x}", arg as u32),
                    (b'X', true) => format!("{arg:X}"),
                    (b'X', false) => format!("{:X}", arg as u32),
                    _ => {
                        return Err(FormatError(format!(
                            "conversion %{} is not supported",
                            if conv == 0 {
                                "(end)".to_string()
                            } else {
                                (conv as char).to_string()
                            }
                        )))
                    }
                };
                pad(&mut out, text.as_bytes(), spec, true);
            }
        }
    }
    Ok(out)
}

fn signed(v: i64, spec: Spec) -> String {
    if v < 0 {
        v.to_string()
    } else if spec.plus {
        format!("+{v}")
    } else if spec.space {
        format!(" {v}")
    } else {
        v.to_string()
    }
}

/// A NUL-terminated string from memory, within what is left of the
/// kernel's copy buffer; unreadable memory gives the empty string.
fn read_str(
    read: &mut dyn FnMut(u64, usize) -> Option<Vec<u8>>,
    addr: u64,
    budget: &mut usize,
) -> Vec<u8> {
    let max = budget.saturating_sub(1);
    let mut s = read(addr, max).unwrap_or_default();
    if let Some(n) = s.iter().position(|&c| c == 0) {
        s.truncate(n);
    }
    s.truncate(max);
    *budget = budget.saturating_sub(s.len() + 1);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(fmt: &str, args: &[u64]) -> Result<String, FormatError> {
        let mut z = fmt.as_bytes().to_vec();
        z.push(0);
        let mut read = |addr: u64, n: usize| -> Option<Vec<u8>> {
            (addr == 0x1000).then(|| b"hello\0world"[..n.min(11)].to_vec())
        };
        format_bprintf(&z, args, &mut read).map(|b| String::from_utf8(b).unwrap())
    }

    #[test]
    fn integers_as_bstr_printf_prints_them() {
        assert_eq!(
            f("%d %u %x %X", &[-1i64 as u64, u64::MAX, 255, 255]).unwrap(),
            "-1 4294967295 ff FF"
        );
        assert_eq!(
            f("%ld %llu %llx", &[-5i64 as u64, u64::MAX, 0xdeadbeef0]).unwrap(),
            "-5 18446744073709551615 deadbeef0"
        );
        assert_eq!(
            f("[%5d|%-5d|%05d|%+d|% d]", &[42, 42, -42i64 as u64, 7, 7]).unwrap(),
            "[   42|42   |-0042|+7| 7]"
        );
        assert_eq!(f("%i%%", &[3]).unwrap(), "3%");
    }

    #[test]
    fn strings_chars_and_pointers() {
        assert_eq!(f("%s!", &[0x1000]).unwrap(), "hello!");
        assert_eq!(f("[%s]", &[0x2000]).unwrap(), "[]");
        assert_eq!(f("%c%c", &[b'o' as u64, b'k' as u64]).unwrap(), "ok");
        assert_eq!(f("%px", &[0x1234]).unwrap(), "0000000000001234");
        assert_eq!(f("%8s|", &[0x1000]).unwrap(), "   hello|");
    }

    #[test]
    fn refused_formats() {
        assert!(f("%d %d", &[1]).is_err(), "more conversions than arguments");
        assert!(f("%f", &[1]).is_err());
        assert!(f("%.2d", &[1]).is_err(), "no precision");
        assert!(f("%sx", &[0x1000]).is_err(), "%s followed by a letter");
        assert!(f("%pq", &[1]).is_err());
        assert!(format_bprintf(b"no nul", &[], &mut |_, _| None).is_err());
        assert!(f("tab\tok", &[]).is_ok());
        assert!(f("bell\x07", &[]).is_err());
    }
}
