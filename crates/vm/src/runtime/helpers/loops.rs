//! `bpf_loop` (kernel/bpf/bpf_iter.c): the callback, a BPF function of the
//! program, called with the iteration index and the caller's context until
//! it returns non-zero or the count runs out.

use super::{neg, HelperResult, EINVAL};
use crate::helpers::HelperContext;

/// `BPF_MAX_LOOPS`.
const BPF_MAX_LOOPS: u64 = 1 << 23;
/// `E2BIG`.
const E2BIG: i32 = 7;

/// `long bpf_loop(nr_loops, callback_fn, callback_ctx, flags)`: the number
/// of iterations made (a callback returning 1 stops after its own); flags
/// other than 0 are `-EINVAL`, more than `BPF_MAX_LOOPS` loops `-E2BIG`.
pub(crate) fn bpf_loop(ctx: &mut HelperContext<'_, '_, '_>, a: [u64; 5]) -> HelperResult {
    let (nr_loops, callback, cb_ctx, flags) = (a[0] as u32 as u64, a[1], a[2], a[3]);
    if flags != 0 {
        return Ok(neg(EINVAL));
    }
    if nr_loops > BPF_MAX_LOOPS {
        // The verifier inlines a bpf_loop whose flags are 0
        // (`inline_bpf_loop`), and the inlined code sets -E2BIG with a
        // 32-bit move: Linux 6.18 returns 0xfffffff9, zero-extended.
        return Ok(neg(E2BIG) as u32 as u64);
    }
    for i in 0..nr_loops {
        if ctx.call_function(callback, [i, cb_ctx, 0, 0, 0])? != 0 {
            return Ok(i + 1);
        }
    }
    Ok(nr_loops)
}
