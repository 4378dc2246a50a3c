//! A fast, checked userspace interpreter for BPF programs with the Linux
//! kernel's semantics.
//!
//! ```
//! use bpfkit_isa::{check, Insn};
//! use bpfkit_vm::Vm;
//! // r0 = r2 (the input length); exit
//! let prog = check(&[Insn::new(0xbf, 0, 2, 0, 0), Insn::new(0x95, 0, 0, 0, 0)]).unwrap();
//! let mut vm = Vm::new(&prog).unwrap();
//! let out = vm.run(&mut [1, 2, 3]).unwrap();
//! assert_eq!(out.r0, 3);
//! assert_eq!(out.insn_count, 2);
//! ```
//!
//! - [`Vm::new`] decodes the program once into a compact internal form
//!   (one 32-byte op per slot, absolute jump targets, extended immediates,
//!   superinstructions for the groups clang emits in hot code).
//! - [`Vm::run`] executes it against input memory; every memory access is
//!   checked against the regions of [`memory`] (stack frames, input, extra
//!   [`Region`]s), so a hostile program gets a [`VmError`], never undefined
//!   behaviour. The crate has `unsafe` in two places, each small and
//!   documented: the read or write of an access [`memory`]'s fast path
//!   has just checked (`Memory::load`, `Memory::store`), and the
//!   interpreter's fetch of the op at a masked offset (`interp/slots.rs`).
//! - Helpers are registered by kernel number ([`Helpers`]); BPF-to-BPF calls
//!   get their own 512-byte frame, up to the kernel's 8 frames.
//! - [`maps`] has the userspace maps (every map type a program can use
//!   without a kernel object behind it) with the kernel's semantics, behind
//!   the shared `bpfkit_object::map::Map` trait, and the program-side API
//!   the map helpers use.
//!
//! # Semantics, as the kernel defines them
//!
//! - Division by zero yields 0; modulo by zero leaves dst unchanged (its low
//!   32 bits, zero-extended, for the 32-bit form). Signed `INT_MIN / -1` is
//!   `INT_MIN`, `INT_MIN % -1` is 0. All arithmetic wraps.
//! - Shift amounts are masked to 5 or 6 bits; 32-bit results zero-extend.
//! - The emulated machine is little-endian on every host: `le16/32` truncate,
//!   `be*` and `bswap*` swap.
//! - 32-bit atomics zero-extend the fetched value; `cmpxchg` compares with
//!   (the low half of) r0 and always loads the old value into r0.
//! - `LD_ABS`/`LD_IND` read the input memory big-endian into r0. An offset
//!   outside it (computed in 32 bits and taken as signed, as the kernel
//!   does) behaves like the kernel's rewrite `r0 = 0; exit`: the current
//!   function returns 0 (in the entry function, the program does).
//!   With an skb context, the negative `SKF_NET_OFF` and `SKF_LL_OFF`
//!   offsets read from the network and MAC headers.
//! - A call to a BPF function gets a fresh 512-byte frame and r10; r6-r9 are
//!   restored when it returns; a call that would need a ninth frame fails
//!   ([`VmError::CallDepthExceeded`]). Helpers do not clobber r1-r5 (the
//!   verifier forbids reading them after a call, so no program can tell).
//! - Every run is limited by an instruction budget ([`DEFAULT_BUDGET`]).
#![deny(unsafe_code)]
#![warn(missing_docs)]

mod alu;
mod callback;
mod charge;
mod compile;
pub mod ctx;
mod error;
mod fuse;
#[cfg(test)]
mod fuse_equivalence;
mod helpers;
mod interp;
pub mod map_values;
pub mod maps;
pub mod memory;
mod op;
mod packet;
pub mod runtime;

pub use error::{Access, FaultKind, LoadError, RegionInfo, VmError};
pub use helpers::{ContextHelperFn, HelperContext, HelperError, HelperFn, Helpers};
pub use memory::{
    PacketWindow, Region, CONTEXT_BASE, INPUT_BASE, MAX_CALL_FRAMES, STACK_BASE, STACK_FRAME_SIZE,
    STACK_SIZE,
};
pub use packet::{Packet, XDP_HEADROOM, XDP_SHARED_INFO};

use bpfkit_isa::Program;

/// The README's Rust examples, compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
struct ReadmeExamples;
use memory::Memory;
use op::{Code, Op};

/// The default instruction budget: 2^26 (about 67 million) instructions.
///
/// Far more than any program the kernel's verifier accepts executes without
/// loops (its limit is one million *verified* instructions), yet a runaway
/// loop stops in well under a second at the interpreter's speed.
pub const DEFAULT_BUDGET: u64 = 1 << 26;

/// The result of a run that reached `exit` in the entry frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunOutcome {
    /// The return value (r0).
    pub r0: u64,
    /// Number of instructions executed (an `lddw` counts once).
    pub insn_count: u64,
}

/// A loaded program with its helpers and run configuration.
///
/// A `Vm` is reusable: its stack memory is allocated once, and a run
/// allocates nothing.
#[derive(Debug, Clone)]
pub struct Vm {
    ops: Vec<Op>,
    helpers: Helpers,
    /// Whether every static helper call has been resolved against `helpers`.
    resolved: bool,
    budget: u64,
    clear_stack: bool,
    stack: Box<[u8; STACK_SIZE]>,
    /// Return addresses and saved registers of BPF-to-BPF calls, kept here
    /// so that a run does not initialise them.
    state: interp::State,
}

impl Vm {
    /// Loads a checked program with no helpers registered.
    ///
    /// Fails when the program needs what the userspace VM cannot provide
    /// yet: map references in `lddw`, kfunc calls.
    pub fn new(program: &Program) -> Result<Vm, LoadError> {
        Vm::with_lddw_values(program, &compile::LddwValues::new())
    }

    /// Loads a program whose pseudo `lddw`s (map references, map value
    /// addresses) the runtime's loader has resolved to `lddw[pc]`.
    pub(crate) fn with_lddw_values(
        program: &Program,
        lddw: &compile::LddwValues,
    ) -> Result<Vm, LoadError> {
        Ok(Vm {
            ops: compile::compile(program, lddw)?,
            helpers: Helpers::new(),
            resolved: false,
            budget: DEFAULT_BUDGET,
            clear_stack: false,
            stack: Box::new([0; STACK_SIZE]),
            state: Default::default(),
        })
    }

    /// Loads a program with its helpers, failing at load time (naming the
    /// helper and the instruction) when a `call` targets a helper that is
    /// not registered.
    pub fn with_helpers(program: &Program, helpers: Helpers) -> Result<Vm, LoadError> {
        let mut vm = Vm::new(program)?;
        vm.helpers = helpers;
        vm.resolve_helpers()?;
        Ok(vm)
    }

    /// Registers (or replaces) helper `id` as a plain function of r1-r5.
    pub fn register_helper(&mut self, id: u32, f: HelperFn) {
        self.helpers.register(id, f);
        self.resolved = false;
    }

    /// Registers (or replaces) helper `id` as a function that can also
    /// read and write the program's memory.
    pub fn register_helper_with_context<F>(&mut self, id: u32, f: F)
    where
        F: Fn(&mut HelperContext<'_, '_, '_>, [u64; 5]) -> Result<u64, HelperError>
            + Send
            + Sync
            + 'static,
    {
        self.helpers.register_with_context(id, f);
        self.resolved = false;
    }

    /// Replaces the whole helper table.
    pub fn set_helpers(&mut self, helpers: Helpers) {
        self.helpers = helpers;
        self.resolved = false;
    }

    /// The registered helpers.
    pub fn helpers(&self) -> &Helpers {
        &self.helpers
    }

    /// Resolves every `call` of a helper to the registered function.
    ///
    /// [`Vm::run`] does this itself before the first run after a change;
    /// call it to learn about a missing helper before running.
    pub fn resolve_helpers(&mut self) -> Result<(), LoadError> {
        self.resolve()
            .map_err(|(pc, id)| LoadError::UnknownHelper { pc, id })
    }

    /// Resolution proper; the error is the call's slot and helper number.
    fn resolve(&mut self) -> Result<(), (usize, u32)> {
        if self.resolved {
            return Ok(());
        }
        for (pc, op) in self.ops.iter_mut().enumerate() {
            if op.code == Code::CallHelper {
                let index = self.helpers.index(op.imm).ok_or((pc, op.imm as u32))?;
                op.aux = index as u32;
            }
        }
        self.resolved = true;
        Ok(())
    }

    /// Sets the instruction budget: a run that would execute more
    /// instructions stops with [`VmError::BudgetExhausted`]. A budget above
    /// `i64::MAX` is `i64::MAX`, which no run reaches.
    pub fn set_budget(&mut self, n: u64) {
        self.budget = n.min(i64::MAX as u64);
    }

    /// The instruction budget ([`DEFAULT_BUDGET`] unless set; at most
    /// `i64::MAX`).
    pub fn budget(&self) -> u64 {
        self.budget
    }

    /// Whether each run starts with a zeroed stack (default: no).
    ///
    /// As in the kernel, a run's stack holds whatever the previous run of
    /// this `Vm` left (the first run sees zeros). The kernel's verifier
    /// rejects reads of uninitialised stack, so a verified program cannot
    /// tell; set this for unverified programs that must be deterministic,
    /// at the cost of clearing 4 KiB per run.
    pub fn set_clear_stack(&mut self, clear: bool) {
        self.clear_stack = clear;
    }

    /// Number of instruction slots of the loaded program (the ops end
    /// with guards).
    pub fn len(&self) -> usize {
        compile::program_len(&self.ops)
    }

    /// Always false: a checked program has at least one instruction.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Runs the program on `mem`, conformance-test style: r1 is the
    /// address of `mem` ([`INPUT_BASE`], or 0 when `mem` is empty), r2 its
    /// length, r10 the top of the stack frame. The program may read and
    /// write `mem`.
    pub fn run(&mut self, mem: &mut [u8]) -> Result<RunOutcome, VmError> {
        self.run_with_regions(mem, &mut [])
    }

    /// Runs a packet program: r1 is [`CONTEXT_BASE`], the address of `ctx`
    /// (`struct xdp_md`, `struct __sk_buff`, ...), whose fields point into
    /// `packet`. The program reaches the packet between `data_meta` and
    /// `data_end`; helpers may move those (the packet then keeps the new
    /// window), and it may reach `regions` as [`Vm::run_with_regions`] says.
    pub fn run_packet(
        &mut self,
        packet: &mut Packet,
        ctx: &mut dyn ctx::Context,
        regions: &mut [Region<'_>],
    ) -> Result<RunOutcome, VmError> {
        self.packet_run(packet, ctx, regions, None)
    }

    /// Runs a packet program inside a runtime environment: as
    /// [`Vm::run_packet`], and the program reaches `env`'s map values, and
    /// the runtime's helpers reach `env`.
    pub fn run_packet_in(
        &mut self,
        packet: &mut Packet,
        ctx: &mut dyn ctx::Context,
        env: &mut runtime::Env,
    ) -> Result<RunOutcome, VmError> {
        self.packet_run(packet, ctx, &mut [], Some(env))
    }

    /// The packet run of [`Vm::run_packet`] and [`Vm::run_packet_in`].
    fn packet_run(
        &mut self,
        packet: &mut Packet,
        ctx: &mut dyn ctx::Context,
        regions: &mut [Region<'_>],
        env: Option<&mut runtime::Env>,
    ) -> Result<RunOutcome, VmError> {
        self.prepare_run(packet.buffer_len())?;
        let (buffer, window) = packet.parts();
        let mut memory = Memory::with_packet(&mut self.stack, buffer, window, ctx, regions);
        if let Some(env) = env {
            memory.set_env(env);
        }
        let result = interp::run(
            &self.ops,
            &self.helpers,
            &mut self.state,
            &mut memory,
            CONTEXT_BASE,
            0,
            self.budget,
        );
        let window = memory.window();
        packet.set_window(window);
        result
    }

    /// Runs the program on raw memory inside a runtime environment (r1 =
    /// `mem`, r2 = its length), for programs without a packet context.
    pub fn run_in(
        &mut self,
        mem: &mut [u8],
        env: &mut runtime::Env,
    ) -> Result<RunOutcome, VmError> {
        self.prepare_run(mem.len())?;
        let (r1, r2) = if mem.is_empty() {
            (0, 0)
        } else {
            (INPUT_BASE, mem.len() as u64)
        };
        let mut memory = Memory::new(&mut self.stack, mem, &mut []);
        memory.set_env(env);
        interp::run(
            &self.ops,
            &self.helpers,
            &mut self.state,
            &mut memory,
            r1,
            r2,
            self.budget,
        )
    }

    /// What every run checks and resets first.
    fn prepare_run(&mut self, input_len: usize) -> Result<(), VmError> {
        if !self.resolved {
            self.resolve()
                .map_err(|(pc, id)| VmError::UnknownHelper { pc, id: id as u64 })?;
        }
        if u32::try_from(input_len).is_err() {
            return Err(VmError::InputTooLarge { len: input_len });
        }
        if self.clear_stack {
            self.stack.fill(0);
        }
        Ok(())
    }

    /// Like [`Vm::run`], with extra memory regions the program may reach
    /// at [`memory::region_base`]`(i)` for `regions[i]`.
    pub fn run_with_regions(
        &mut self,
        mem: &mut [u8],
        regions: &mut [Region<'_>],
    ) -> Result<RunOutcome, VmError> {
        self.prepare_run(mem.len())?;
        let (r1, r2) = if mem.is_empty() {
            (0, 0)
        } else {
            (INPUT_BASE, mem.len() as u64)
        };
        let mut memory = Memory::new(&mut self.stack, mem, regions);
        interp::run(
            &self.ops,
            &self.helpers,
            &mut self.state,
            &mut memory,
            r1,
            r2,
            self.budget,
        )
    }
}
