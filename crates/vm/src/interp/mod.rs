//! The interpreter: entry points that set the registers and frames up and
//! pick the mode, and the loop ([`dispatch`]): one `match` over pre-decoded
//! [`Op`]s, registers in a local array, memory through the checked
//! [`Memory`] regions.

use crate::charge::CHECKED_ONLY;
use crate::error::VmError;
use crate::helpers::Helpers;
use crate::memory::Memory;
use crate::op::Op;
use crate::RunOutcome;

mod cold;
mod dispatch;
mod frames;
mod slots;

use dispatch::run_loop;
use frames::frame_pointer;
pub(crate) use frames::State;

/// Runs `ops` from slot 0 with r1 and r2 set, until the entry frame exits.
/// `budget` is the number of instructions allowed to execute.
#[inline]
pub(crate) fn run(
    ops: &[Op],
    helpers: &Helpers,
    state: &mut State,
    mem: &mut Memory<'_, '_>,
    r1: u64,
    r2: u64,
    budget: u64,
) -> Result<RunOutcome, VmError> {
    {
        let State { reg, calls } = &mut *state;
        *reg = [0; 11];
        reg[1] = r1;
        reg[2] = r2;
        reg[10] = frame_pointer(0);
        calls.depth = 0;
        calls.base = 0;
    }
    enter(ops, helpers, state, mem, 0, budget)
}

/// Where a callback (`bpf_loop`) starts: one frame below the helper's
/// caller.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Entry {
    pub(crate) pc: usize,
    pub(crate) depth: usize,
    pub(crate) args: [u64; 5],
}

/// Runs `ops` from `entry` until the entry frame exits.
pub(crate) fn run_from(
    ops: &[Op],
    helpers: &Helpers,
    state: &mut State,
    mem: &mut Memory<'_, '_>,
    entry: Entry,
    budget: u64,
) -> Result<RunOutcome, VmError> {
    {
        let State { reg, calls } = &mut *state;
        *reg = [0; 11];
        reg[1..6].copy_from_slice(&entry.args);
        reg[10] = frame_pointer(entry.depth);
        calls.depth = entry.depth;
        calls.base = entry.depth;
    }
    mem.set_frame(entry.depth);
    enter(ops, helpers, state, mem, entry.pc, budget)
}

/// Starts the loop at slot `pc` with the registers and frames set: in fast
/// mode, which charges the budget by run ([`crate::charge`]), when the
/// first run fits in it, else in checked mode.
#[inline(always)]
fn enter(
    ops: &[Op],
    helpers: &Helpers,
    state: &mut State,
    mem: &mut Memory<'_, '_>,
    pc: usize,
    budget: u64,
) -> Result<RunOutcome, VmError> {
    // Signed, so that a charge is a subtraction and a sign test. Budgets
    // are at most `i64::MAX` (`Vm::set_budget` clamps; a callback's is what
    // is left of one), and no run can execute 2^63 instructions.
    debug_assert!(budget <= i64::MAX as u64);
    let remaining = budget as i64;
    match ops.get(pc).map(|op| op.len) {
        Some(len) if len != CHECKED_ONLY && remaining >= len as i64 => {
            run_loop::<false>(ops, helpers, state, mem, pc, budget, remaining - len as i64)
        }
        _ => run_checked(ops, helpers, state, mem, pc, budget, remaining),
    }
}

/// The loop in checked mode, which charges one instruction at a time: where
/// the budget left is smaller than the next run, and for programs that are
/// [`CHECKED_ONLY`]. Out of line, so that the fast loop stays small.
#[cold]
#[inline(never)]
fn run_checked(
    ops: &[Op],
    helpers: &Helpers,
    state: &mut State,
    mem: &mut Memory<'_, '_>,
    pc: usize,
    budget: u64,
    remaining: i64,
) -> Result<RunOutcome, VmError> {
    run_loop::<true>(ops, helpers, state, mem, pc, budget, remaining)
}
