//! Helper functions registered by number, as the kernel numbers them.
//!
//! Two kinds, so the common case stays a plain function-pointer call:
//! - [`HelperFn`]: a pure function of the five argument registers;
//! - [`ContextHelperFn`]: a closure that also gets a [`HelperContext`] to read
//!   and write the program's memory through the same checked regions, and
//!   may fail the run with a [`HelperError`].

use std::collections::HashMap;
use std::sync::Arc;

use crate::callback::Callbacks;
use crate::ctx::Context;
use crate::memory::{Memory, PacketWindow};
use crate::runtime::Env;

/// A helper that only needs its arguments (r1 to r5); it returns r0.
pub type HelperFn = fn(u64, u64, u64, u64, u64) -> u64;

/// A helper with access to the program's memory; it returns r0 or stops
/// the run with an error.
pub type ContextHelperFn =
    dyn Fn(&mut HelperContext<'_, '_, '_>, [u64; 5]) -> Result<u64, HelperError> + Send + Sync;

/// Why a helper stopped the program.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HelperError(pub String);

impl std::fmt::Display for HelperError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for HelperError {}

/// What a [`ContextHelperFn`] sees of the running program: its memory,
/// checked against the same regions as the program's own accesses.
pub struct HelperContext<'c, 'm, 'r> {
    mem: &'c mut Memory<'m, 'r>,
    callbacks: Callbacks<'c>,
    /// Instructions the callbacks ran, charged to the run's budget.
    callback_insns: u64,
}

impl<'c, 'm, 'r> HelperContext<'c, 'm, 'r> {
    pub(crate) fn new(mem: &'c mut Memory<'m, 'r>, callbacks: Callbacks<'c>) -> Self {
        HelperContext {
            mem,
            callbacks,
            callback_insns: 0,
        }
    }

    /// Instructions run by callbacks during this helper call.
    pub(crate) fn callback_insns(&self) -> u64 {
        self.callback_insns
    }

    /// Calls the program's function at `addr` (a `BPF_PSEUDO_FUNC`
    /// address, [`FUNC_REGION`](crate::memory::FUNC_REGION)) with `args`,
    /// as `bpf_loop` calls its callback: one frame below the helper's
    /// caller, counting against the run's budget. Its r0.
    pub fn call_function(&mut self, addr: u64, args: [u64; 5]) -> Result<u64, HelperError> {
        if addr >> 32 != crate::memory::FUNC_REGION {
            return Err(HelperError(format!(
                "{addr:#x} is not a BPF function address"
            )));
        }
        let out = self
            .callbacks
            .call(self.mem, addr as u32 as usize, args)
            .map_err(|e| HelperError(format!("in the callback: {e}")))?;
        self.callback_insns += out.insn_count;
        Ok(out.r0)
    }

    /// The `len` bytes at the program address `addr`.
    pub fn read(&self, addr: u64, len: usize) -> Result<&[u8], HelperError> {
        self.mem.slice(addr, len).ok_or_else(|| {
            HelperError(format!(
                "read of {len} bytes at {addr:#x} is outside the program's memory"
            ))
        })
    }

    /// The packet's window (`data_meta`, `data`, `data_end` as buffer
    /// offsets); for a raw run, the whole input.
    pub fn packet_window(&self) -> PacketWindow {
        self.mem.window()
    }

    /// Moves the packet window, as `bpf_xdp_adjust_head` and friends do;
    /// false (and nothing changes) unless `meta <= data <= end` and the
    /// window lies inside the buffer.
    pub fn set_packet_window(&mut self, window: PacketWindow) -> bool {
        self.mem.set_window(window)
    }

    /// The packet's whole buffer, headroom and tailroom included.
    pub fn packet_buffer_mut(&mut self) -> &mut [u8] {
        self.mem.buffer_mut()
    }

    /// The program's context, for helpers that take it (`ctx` in r1).
    pub fn context_mut(&mut self) -> Option<&mut (dyn Context + 'm)> {
        self.mem.context_mut()
    }

    /// The runtime environment (maps, clock, task, trace output) when the
    /// program runs in a [`Runtime`](crate::runtime::Runtime).
    pub fn env_mut(&mut self) -> Option<&mut Env> {
        self.mem.env_mut()
    }

    /// The runtime environment, to read.
    pub fn env(&self) -> Option<&Env> {
        self.mem.env()
    }

    /// The instructions the run may still execute: its budget less what it
    /// has executed, this call included. A helper that ends the run (a tail
    /// call) tells its caller how far the run got from this.
    pub fn budget_left(&self) -> u64 {
        self.callbacks.remaining()
    }

    /// The BPF-to-BPF call depth of the call (0: the entry function).
    pub fn call_depth(&self) -> usize {
        self.mem.call_depth()
    }

    /// Whether the `len` bytes at `addr` are all inside one region the
    /// program may write.
    pub fn is_writable(&mut self, addr: u64, len: usize) -> bool {
        self.mem.slice_mut(addr, len).is_some()
    }

    /// Writes `bytes` at the program address `addr`.
    pub fn write(&mut self, addr: u64, bytes: &[u8]) -> Result<(), HelperError> {
        let len = bytes.len();
        let dst = self.mem.slice_mut(addr, len).ok_or_else(|| {
            HelperError(format!(
                "write of {len} bytes at {addr:#x} is outside the program's writable memory"
            ))
        })?;
        dst.copy_from_slice(bytes);
        Ok(())
    }
}

/// One registered helper.
#[derive(Clone)]
pub(crate) enum Helper {
    Plain(HelperFn),
    Context(Arc<ContextHelperFn>),
}

/// The helpers a VM can call, by kernel helper number.
///
/// Calls in the program are resolved to a dense index once (before the
/// first run after a change), so a call costs an array index and an
/// indirect call.
#[derive(Clone, Default)]
pub struct Helpers {
    entries: Vec<(u32, Helper)>,
    by_id: HashMap<u32, usize>,
}

impl std::fmt::Debug for Helpers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut ids: Vec<u32> = self.entries.iter().map(|e| e.0).collect();
        ids.sort_unstable();
        f.debug_struct("Helpers").field("ids", &ids).finish()
    }
}

impl Helpers {
    /// No helpers.
    pub fn new() -> Helpers {
        Helpers::default()
    }

    /// Registers (or replaces) helper `id` as a plain function.
    pub fn register(&mut self, id: u32, f: HelperFn) {
        self.insert(id, Helper::Plain(f));
    }

    /// Registers (or replaces) helper `id` as a function with memory access.
    pub fn register_with_context<F>(&mut self, id: u32, f: F)
    where
        F: Fn(&mut HelperContext<'_, '_, '_>, [u64; 5]) -> Result<u64, HelperError>
            + Send
            + Sync
            + 'static,
    {
        self.insert(id, Helper::Context(Arc::new(f)));
    }

    fn insert(&mut self, id: u32, h: Helper) {
        match self.by_id.get(&id) {
            Some(&i) => self.entries[i].1 = h,
            None => {
                self.by_id.insert(id, self.entries.len());
                self.entries.push((id, h));
            }
        }
    }

    /// Whether helper `id` is registered.
    pub fn contains(&self, id: u32) -> bool {
        self.by_id.contains_key(&id)
    }

    /// The dense index of helper `id`.
    pub(crate) fn index(&self, id: u64) -> Option<usize> {
        u32::try_from(id)
            .ok()
            .and_then(|id| self.by_id.get(&id).copied())
    }

    /// The helper at a dense index.
    #[inline(always)]
    pub(crate) fn get(&self, index: usize) -> Option<&Helper> {
        self.entries.get(index).map(|e| &e.1)
    }
}
