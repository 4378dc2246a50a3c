//! The call frames and the register file a `Vm` keeps between runs.

use crate::error::VmError;
use crate::memory::{Memory, MAX_CALL_FRAMES, STACK_BASE, STACK_FRAME_SIZE, STACK_SIZE};

/// What a BPF-to-BPF call saves: where to return and the callee-saved r6-r9.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Frame {
    ret: usize,
    saved: [u64; 4],
}

/// The BPF-to-BPF call frames of a run. Owned by the `Vm` so that a run
/// does not initialise them; kept out of the hot loop's registers.
#[derive(Clone, Debug, Default)]
pub(crate) struct CallStack {
    frames: [Frame; MAX_CALL_FRAMES],
    /// Current depth: 0 in the entry function.
    pub(crate) depth: usize,
    /// The depth whose `exit` ends the run: 0, or a callback's depth.
    pub(crate) base: usize,
}

impl CallStack {
    /// Enters the function at `target`, called from `pc` and returning to `ret`.
    #[inline(never)]
    pub(crate) fn call(
        &mut self,
        reg: &mut [u64; 11],
        mem: &mut Memory<'_, '_>,
        pc: usize,
        ret: usize,
    ) -> Result<(), VmError> {
        if self.depth + 1 >= MAX_CALL_FRAMES {
            return Err(VmError::CallDepthExceeded {
                pc,
                max: MAX_CALL_FRAMES,
            });
        }
        self.frames[self.depth] = Frame {
            ret,
            saved: [reg[6], reg[7], reg[8], reg[9]],
        };
        self.depth += 1;
        reg[10] = frame_pointer(self.depth);
        mem.set_frame(self.depth);
        Ok(())
    }

    /// Returns from a called function (depth > 0): restores r6-r9 and r10
    /// and gives the return address.
    #[inline(never)]
    pub(crate) fn ret(&mut self, reg: &mut [u64; 11], mem: &mut Memory<'_, '_>) -> usize {
        self.depth = self.depth.saturating_sub(1);
        let f = self.frames[self.depth];
        reg[6..10].copy_from_slice(&f.saved);
        reg[10] = frame_pointer(self.depth);
        mem.set_frame(self.depth);
        f.ret
    }
}

/// The machine state a `Vm` keeps between runs so that a run initialises
/// only what it must.
///
/// The register file lives here, behind a pointer, rather than in a local
/// array: AMD Zen cores "rename" memory accesses made relative to the stack
/// pointer and predict that a load reads what the same instruction last
/// stored; an interpreter's `reg[dst]` access from one handler touches a
/// different register each time, and the mispredictions made programs
/// using several registers about 2.5 times slower.
#[derive(Clone, Debug, Default)]
pub(crate) struct State {
    pub(crate) reg: [u64; 11],
    pub(crate) calls: CallStack,
}

/// The frame pointer (r10) of call depth `depth`.
pub(crate) fn frame_pointer(depth: usize) -> u64 {
    STACK_BASE + (STACK_SIZE - depth * STACK_FRAME_SIZE) as u64
}
