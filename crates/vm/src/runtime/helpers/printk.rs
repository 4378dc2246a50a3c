//! `bpf_trace_printk` (kernel/trace/bpf_trace.c) and `bpf_snprintf`
//! (kernel/bpf/helpers.c), formatted by [`format_bprintf`].

use super::format::{format_bprintf, MAX_BPRINTF_BUF};
use super::{env_of, neg, HelperResult, EINVAL};
use crate::helpers::HelperContext;

/// `MAX_TRACE_PRINTK_VARARGS`.
const MAX_TRACE_PRINTK_VARARGS: usize = 3;
/// `MAX_BPRINTF_VARARGS`.
const MAX_BPRINTF_VARARGS: u64 = 12;

/// Reads program memory for the conversions: a string byte by byte up to
/// `max` (it may end at a region's end), an address in one piece.
fn read_mem(ctx: &HelperContext<'_, '_, '_>, addr: u64, max: usize) -> Option<Vec<u8>> {
    {
        if let Ok(b) = ctx.read(addr, max) {
            return Some(b.to_vec());
        }
        let mut s = Vec::new();
        while s.len() < max {
            match ctx.read(addr.wrapping_add(s.len() as u64), 1) {
                Ok(b) => {
                    s.push(b[0]);
                    if b[0] == 0 {
                        break;
                    }
                }
                Err(_) if s.is_empty() => return None,
                Err(_) => break,
            }
        }
        Some(s)
    }
}

/// `long bpf_trace_printk(fmt, fmt_size, ...)`: at most three arguments;
/// the message (truncated to the kernel's 512-byte buffer) goes to the
/// runtime's trace log; returns the untruncated length, or `-EINVAL`.
pub(crate) fn trace_printk(ctx: &mut HelperContext<'_, '_, '_>, a: [u64; 5]) -> HelperResult {
    let fmt = ctx.read(a[0], a[1] as usize)?.to_vec();
    let args = &a[2..2 + MAX_TRACE_PRINTK_VARARGS];
    let formatted = format_bprintf(&fmt, args, &mut |p, n| read_mem(ctx, p, n));
    let Ok(mut text) = formatted else {
        return Ok(neg(EINVAL));
    };
    let len = text.len();
    text.truncate(MAX_BPRINTF_BUF - 1);
    env_of(ctx)?
        .trace
        .push(String::from_utf8_lossy(&text).into_owned());
    Ok(len as u64)
}

/// `long bpf_trace_vprintk(fmt, fmt_size, data, data_len)`: as
/// `bpf_trace_printk` with up to 12 arguments in an array of `u64`.
pub(crate) fn trace_vprintk(ctx: &mut HelperContext<'_, '_, '_>, a: [u64; 5]) -> HelperResult {
    let (data, data_len) = (a[2], a[3]);
    if data_len % 8 != 0 || data_len > MAX_BPRINTF_VARARGS * 8 || (data_len != 0 && data == 0) {
        return Ok(neg(EINVAL));
    }
    let raw = if data_len == 0 {
        Vec::new()
    } else {
        ctx.read(data, data_len as usize)?.to_vec()
    };
    let args: Vec<u64> = raw
        .chunks_exact(8)
        .map(|c| u64::from_le_bytes(c.try_into().unwrap_or([0; 8])))
        .collect();
    let fmt = ctx.read(a[0], a[1] as usize)?.to_vec();
    let Ok(mut text) = format_bprintf(&fmt, &args, &mut |p, n| read_mem(ctx, p, n)) else {
        return Ok(neg(EINVAL));
    };
    let len = text.len();
    text.truncate(MAX_BPRINTF_BUF - 1);
    env_of(ctx)?
        .trace
        .push(String::from_utf8_lossy(&text).into_owned());
    Ok(len as u64)
}

/// `long bpf_snprintf(str, str_size, fmt, data, data_len)`: `data` is an
/// array of `u64` arguments; writes at most `str_size` bytes with the NUL
/// and returns the untruncated length plus one, or `-EINVAL`.
pub(crate) fn snprintf(ctx: &mut HelperContext<'_, '_, '_>, a: [u64; 5]) -> HelperResult {
    let (out, size, fmt_addr, data, data_len) = (a[0], a[1] as usize, a[2], a[3], a[4]);
    if data_len % 8 != 0 || data_len > MAX_BPRINTF_VARARGS * 8 || (data_len != 0 && data == 0) {
        return Ok(neg(EINVAL));
    }
    let raw = if data_len == 0 {
        Vec::new()
    } else {
        ctx.read(data, data_len as usize)?.to_vec()
    };
    let args: Vec<u64> = raw
        .chunks_exact(8)
        .map(|c| u64::from_le_bytes(c.try_into().unwrap_or([0; 8])))
        .collect();
    // The format is a constant string the verifier found NUL-terminated.
    let fmt = read_mem(ctx, fmt_addr, usize::MAX >> 1).unwrap_or_default();
    let fmt = if fmt.contains(&0) {
        fmt
    } else {
        [fmt, vec![0]].concat()
    };
    let Ok(text) = format_bprintf(&fmt, &args, &mut |p, n| read_mem(ctx, p, n)) else {
        return Ok(neg(EINVAL));
    };
    if size > 0 {
        let n = text.len().min(size - 1);
        let mut bytes = text[..n].to_vec();
        bytes.push(0);
        ctx.write(out, &bytes)?;
    }
    Ok(text.len() as u64 + 1)
}
