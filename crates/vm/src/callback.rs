//! Calling back into the program from a helper (`bpf_loop`,
//! `bpf_for_each_map_elem`): the interpreter loop entered at the callback's
//! slot one frame below the helper's caller, on the same stack, with what
//! is left of the run's budget.

use crate::error::VmError;
use crate::helpers::Helpers;
use crate::interp::{run_from, Entry, State};
use crate::memory::{Memory, MAX_CALL_FRAMES};
use crate::op::Op;
use crate::RunOutcome;

/// What a helper needs to call back into the program (`bpf_loop`): the
/// ops, the helpers, the caller's depth and what is left of the budget.
#[derive(Clone, Copy)]
pub(crate) struct Callbacks<'a> {
    ops: &'a [Op],
    helpers: &'a Helpers,
    depth: usize,
    remaining: i64,
}

impl<'a> Callbacks<'a> {
    #[inline(always)]
    pub(crate) fn new(
        ops: &'a [Op],
        helpers: &'a Helpers,
        depth: usize,
        remaining: i64,
    ) -> Callbacks<'a> {
        Callbacks {
            ops,
            helpers,
            depth,
            remaining,
        }
    }

    /// The run's remaining budget, less what callbacks have run.
    pub(crate) fn remaining(&self) -> u64 {
        self.remaining.max(0) as u64
    }

    /// Runs the function at slot `pc` with `args` one frame below the
    /// helper's caller; its r0 and instruction count. Fails when the frame
    /// would be the ninth or the budget runs out.
    pub(crate) fn call(
        &mut self,
        mem: &mut Memory<'_, '_>,
        pc: usize,
        args: [u64; 5],
    ) -> Result<RunOutcome, VmError> {
        let depth = self.depth + 1;
        if depth >= MAX_CALL_FRAMES {
            return Err(VmError::CallDepthExceeded {
                pc,
                max: MAX_CALL_FRAMES,
            });
        }
        if self.ops.get(pc).is_none() {
            return Err(VmError::BadControlFlow { pc });
        }
        let mut state = State::default();
        let budget = self.remaining.max(0) as u64;
        let result = run_from(
            self.ops,
            self.helpers,
            &mut state,
            mem,
            Entry { pc, depth, args },
            budget,
        );
        mem.set_frame(self.depth);
        let out = result?;
        self.remaining -= out.insn_count as i64;
        Ok(out)
    }
}
