//! `bpf_probe_read_{kernel,user}{,_str}` (kernel/trace/bpf_trace.c) over
//! the memory the program can reach (its stack, packet, map values): a
//! read that faults zeroes the destination and returns `-EFAULT`, as the
//! `_nofault` copies do. Also `bpf_perf_event_output` for programs
//! without a packet.

use super::{env_of, errno_of, map_of, neg, HelperResult, EFAULT};
use crate::helpers::HelperContext;

/// `long bpf_probe_read_kernel(dst, size, unsafe_ptr)`.
pub(crate) fn read(ctx: &mut HelperContext<'_, '_, '_>, a: [u64; 5]) -> HelperResult {
    let size = a[1] as u32 as usize;
    match ctx.read(a[2], size).map(<[u8]>::to_vec) {
        Ok(bytes) => {
            ctx.write(a[0], &bytes)?;
            Ok(0)
        }
        Err(_) => {
            ctx.write(a[0], &vec![0; size])?;
            Ok(neg(EFAULT))
        }
    }
}

/// `long bpf_probe_read_kernel_str(dst, size, unsafe_ptr)`: at most
/// `size - 1` bytes and a NUL; the length with the NUL.
pub(crate) fn read_str(ctx: &mut HelperContext<'_, '_, '_>, a: [u64; 5]) -> HelperResult {
    let size = a[1] as u32 as usize;
    if size == 0 {
        return Ok(0);
    }
    let mut s = Vec::new();
    let mut faulted = false;
    while s.len() < size - 1 {
        match ctx.read(a[2].wrapping_add(s.len() as u64), 1) {
            Ok(b) if b[0] == 0 => break,
            Ok(b) => s.push(b[0]),
            Err(_) => {
                faulted = true;
                break;
            }
        }
    }
    if faulted {
        ctx.write(a[0], &vec![0; size])?;
        return Ok(neg(EFAULT));
    }
    s.push(0);
    ctx.write(a[0], &s)?;
    Ok(s.len() as u64)
}

/// `long bpf_perf_event_output(ctx, map, flags, data, size)` of tracing
/// programs: the sample into the event of the current CPU or of the index
/// in `flags`.
pub(crate) fn perf_event_output(ctx: &mut HelperContext<'_, '_, '_>, a: [u64; 5]) -> HelperResult {
    let id = map_of(a[1])?;
    let data = ctx.read(a[3], a[4] as usize)?.to_vec();
    let env = env_of(ctx)?;
    let cpu = env.cpu;
    let map = env.map_mut(id)?;
    Ok(match map.as_perf_event_array_mut() {
        Some(p) => errno_of(p.output(cpu, a[2], &data)),
        None => neg(22),
    })
}
