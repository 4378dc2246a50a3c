//! `bpf_tail_call(ctx, prog_array, index)` (kernel/bpf/core.c,
//! `JMP_TAIL_CALL`): the run continues in the program in the array's slot,
//! with the same context and packet, never returning; an index past the
//! array, an empty slot, or a 34th tail call (`MAX_TAIL_CALL_CNT` is 33)
//! falls through to the next instruction.
//!
//! The helper records the target in the `Env` and stops the current
//! program's run; [`Runtime::run`](crate::runtime::Runtime::run) starts
//! the target. A tail call from inside a BPF-to-BPF call is refused (the
//! kernel replaces only that subprogram's frame, which this runtime does
//! not model).

use super::{env_of, map_of, neg, HelperResult};
use crate::helpers::{HelperContext, HelperError};
use crate::maps::MAX_TAIL_CALL_CNT;

/// `ENOENT`, the failure the helper documents.
const ENOENT: i32 = 2;

/// The message of the error by which the helper stops the run.
pub(crate) const TAIL_CALL: &str = "bpf_tail_call: continuing in the target program";

/// `long bpf_tail_call(ctx, prog_array_map, index)`.
pub(crate) fn tail_call(ctx: &mut HelperContext<'_, '_, '_>, a: [u64; 5]) -> HelperResult {
    let depth = ctx.call_depth();
    let left = ctx.budget_left();
    let id = map_of(a[1])?;
    let env = env_of(ctx)?;
    let array = env
        .map_mut(id)?
        .as_prog_array()
        .ok_or_else(|| HelperError(format!("map id {id} is not a prog_array")))?;
    let Some(target) = array.tail_call_target(a[2] as u32) else {
        return Ok(neg(ENOENT));
    };
    if env.tail_calls >= MAX_TAIL_CALL_CNT {
        return Ok(neg(ENOENT));
    }
    if depth > 0 {
        return Err(HelperError(
            "bpf_tail_call from a BPF-to-BPF call is not supported by the userspace runtime".into(),
        ));
    }
    env.tail_calls += 1;
    env.tail_call = Some(target);
    env.tail_call_budget_left = left;
    Err(HelperError(TAIL_CALL.into()))
}
