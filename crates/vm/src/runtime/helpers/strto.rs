//! `bpf_strtol` and `bpf_strtoul` (kernel/bpf/helpers.c,
//! `__bpf_strtoull`): leading whitespace, an optional `-`, the radix
//! prefix rules of `_parse_integer_fixup_radix`, at most 63 characters.

use super::{neg, HelperResult, EINVAL, ERANGE};
use crate::helpers::HelperContext;

/// `BPF_STRTOX_BASE_MASK`.
const BASE_MASK: u64 = 0x1f;

/// Parses `buf`; the number of characters consumed, the magnitude and
/// whether a `-` came first, or a negative errno.
pub(crate) fn strtoull(buf: &[u8], flags: u64) -> Result<(usize, u64, bool), i32> {
    let mut base = (flags & BASE_MASK) as u32;
    if buf.is_empty() || flags & !BASE_MASK != 0 || !matches!(base, 0 | 8 | 10 | 16) {
        return Err(EINVAL);
    }
    let mut i = 0;
    while i < buf.len() && (buf[i] == b' ' || (9..=13).contains(&buf[i])) {
        i += 1;
    }
    let negative = i < buf.len() && buf[i] == b'-';
    if negative {
        i += 1;
    }
    if i == buf.len() {
        return Err(EINVAL);
    }
    let consumed = i;
    // The kernel copies at most 63 characters into a NUL-terminated buffer.
    let rest = &buf[i..buf.len().min(i + 63)];
    let s: Vec<u8> = rest.iter().copied().take_while(|&c| c != 0).collect();
    let at = |j: usize| s.get(j).copied().unwrap_or(0);
    let mut j = 0;
    if base == 0 {
        base = if at(0) == b'0' {
            if at(1).eq_ignore_ascii_case(&b'x') && at(2).is_ascii_hexdigit() {
                16
            } else {
                8
            }
        } else {
            10
        };
    }
    if base == 16 && at(0) == b'0' && at(1).eq_ignore_ascii_case(&b'x') {
        j = 2;
    }
    let start = j;
    let mut value: u64 = 0;
    let mut overflow = false;
    while let Some(d) = (at(j) as char).to_digit(16).filter(|&d| d < base) {
        match value
            .checked_mul(base as u64)
            .and_then(|v| v.checked_add(d as u64))
        {
            Some(v) => value = v,
            None => overflow = true,
        }
        j += 1;
    }
    if overflow {
        return Err(ERANGE);
    }
    if j == start {
        return Err(EINVAL);
    }
    Ok((consumed + j, value, negative))
}

/// Reads the arguments `buf, buf_len, flags, res` and parses.
fn parse(
    ctx: &HelperContext<'_, '_, '_>,
    a: [u64; 5],
) -> Result<Result<(usize, u64, bool), i32>, crate::HelperError> {
    let buf = ctx.read(a[0], a[1] as usize)?;
    Ok(strtoull(buf, a[2]))
}

/// `long bpf_strtol(buf, buf_len, flags, long *res)`.
pub(crate) fn strtol(ctx: &mut HelperContext<'_, '_, '_>, a: [u64; 5]) -> HelperResult {
    let (n, v, negative) = match parse(ctx, a)? {
        Ok(r) => r,
        Err(e) => return Ok(neg(e)),
    };
    let res = if negative {
        if (v.wrapping_neg() as i64) > 0 {
            return Ok(neg(ERANGE));
        }
        v.wrapping_neg()
    } else {
        if (v as i64) < 0 {
            return Ok(neg(ERANGE));
        }
        v
    };
    ctx.write(a[3], &res.to_le_bytes())?;
    Ok(n as u64)
}

/// `long bpf_strtoul(buf, buf_len, flags, unsigned long *res)`: a `-` is
/// `-EINVAL`.
pub(crate) fn strtoul(ctx: &mut HelperContext<'_, '_, '_>, a: [u64; 5]) -> HelperResult {
    let (n, v, negative) = match parse(ctx, a)? {
        Ok(r) => r,
        Err(e) => return Ok(neg(e)),
    };
    if negative {
        return Ok(neg(EINVAL));
    }
    ctx.write(a[3], &v.to_le_bytes())?;
    Ok(n as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_parsing_rules() {
        assert_eq!(strtoull(b"  123abc", 10), Ok((5, 123, false)));
        assert_eq!(strtoull(b"-42", 0), Ok((3, 42, true)));
        assert_eq!(strtoull(b"0x1F", 0), Ok((4, 31, false)));
        assert_eq!(strtoull(b"0x1F", 16), Ok((4, 31, false)));
        assert_eq!(strtoull(b"017", 0), Ok((3, 15, false)));
        assert_eq!(
            strtoull(b"0xg", 0),
            Ok((1, 0, false)),
            "0 then x is octal 0"
        );
        assert_eq!(strtoull(b"", 10), Err(EINVAL));
        assert_eq!(strtoull(b"   ", 10), Err(EINVAL));
        assert_eq!(strtoull(b"abc", 10), Err(EINVAL));
        assert_eq!(strtoull(b"12", 7), Err(EINVAL));
        assert_eq!(strtoull(b"12", 0x20 | 10), Err(EINVAL));
        assert_eq!(strtoull(b"99999999999999999999", 10), Err(ERANGE));
        assert_eq!(strtoull(b"12\0" as &[u8], 10), Ok((2, 12, false)));
    }
}
