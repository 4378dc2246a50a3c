//! Typed errors of loading and running a program. Every run-time error names
//! the instruction index (slot index, as in the kernel's verifier log).

use thiserror::Error;

/// Why a program cannot be loaded into the VM.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum LoadError {
    /// The instruction needs something the userspace VM does not provide yet
    /// (map file descriptors, BTF ids, kfuncs, function pointers).
    #[error("instruction {pc}: {what} is not supported by the userspace VM")]
    Unsupported {
        /// Slot index.
        pc: usize,
        /// What the instruction asks for.
        what: &'static str,
    },
    /// A program longer than the interpreter addresses (its jump targets
    /// are byte offsets in 32 bits).
    #[error("the program has {slots} instruction slots; the userspace VM runs at most {max}")]
    TooLarge {
        /// The program's slots.
        slots: usize,
        /// The most the VM runs.
        max: usize,
    },
    /// A `call` to a helper that is not registered.
    #[error("instruction {pc}: call to unknown helper {}", helper_label(*id as u64))]
    UnknownHelper {
        /// Slot index of the call.
        pc: usize,
        /// The helper number.
        id: u32,
    },
}

/// Whether a faulting access read or wrote memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Access {
    /// A load (or the read half of an atomic).
    Read,
    /// A store (or the write half of an atomic).
    Write,
}

impl std::fmt::Display for Access {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Access::Read => "read",
            Access::Write => "write",
        })
    }
}

/// The region an address falls into (or is nearest to), for diagnostics.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RegionInfo {
    /// The region's name, e.g. `stack` or `input`.
    pub name: String,
    /// Its first valid address.
    pub start: u64,
    /// Its length in bytes.
    pub len: u64,
}

impl std::fmt::Display for RegionInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} is {} bytes at {:#x}..{:#x}",
            self.name,
            self.len,
            self.start,
            self.start.wrapping_add(self.len)
        )
    }
}

/// Why a memory access was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FaultKind {
    /// The bytes are not all inside one region.
    OutOfBounds,
    /// The region is read-only.
    ReadOnly,
}

/// Why a run stopped without reaching `exit` normally.
///
/// Division by zero is not an error in BPF (it yields 0, or leaves the
/// destination unchanged for modulo) and so has no variant here.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum VmError {
    /// A load, store or atomic outside every region, or a write to a
    /// read-only region.
    #[error("instruction {pc}: {} {access} of {size} bytes at {addr:#x} ({})",
        match kind { FaultKind::OutOfBounds => "out-of-bounds", FaultKind::ReadOnly => "read-only" },
        match region { Some(r) => r.to_string(), None => "no region".to_string() })]
    MemoryFault {
        /// Slot index of the access.
        pc: usize,
        /// Read or write.
        access: Access,
        /// First byte address.
        addr: u64,
        /// Number of bytes.
        size: usize,
        /// Out of bounds or read-only.
        kind: FaultKind,
        /// The region the address is in (its base bits), if any.
        region: Option<RegionInfo>,
    },
    /// An access to the program's context that the kernel's verifier
    /// refuses (a field the program type may not read or write, a wrong
    /// size or alignment).
    #[error(
        "instruction {pc}: invalid {context} access off={off} size={size} ({access}): {reason}"
    )]
    ContextAccess {
        /// Slot index of the access.
        pc: usize,
        /// Read or write.
        access: Access,
        /// The context's C type, e.g. `struct xdp_md`.
        context: &'static str,
        /// Offset into the context.
        off: u32,
        /// Access size in bytes.
        size: usize,
        /// Why, in the kernel's terms.
        reason: &'static str,
    },
    /// A BPF-to-BPF call beyond the kernel's `MAX_CALL_FRAMES` (8).
    #[error("instruction {pc}: call depth exceeds {max} frames")]
    CallDepthExceeded {
        /// Slot index of the call.
        pc: usize,
        /// The frame limit.
        max: usize,
    },
    /// The instruction budget ran out (a runaway loop).
    #[error("instruction {pc}: instruction budget of {budget} exhausted")]
    BudgetExhausted {
        /// Slot index of the instruction that would exceed the budget.
        pc: usize,
        /// The budget.
        budget: u64,
    },
    /// A `call` or `callx` to a helper that is not registered.
    #[error("instruction {pc}: call to unknown helper {}", helper_label(*id))]
    UnknownHelper {
        /// Slot index of the call.
        pc: usize,
        /// The helper number (for `callx`, the register's value).
        id: u64,
    },
    /// A helper reported a failure that aborts the program.
    #[error("instruction {pc}: helper {} failed: {message}", helper_label(*id as u64))]
    HelperFailed {
        /// Slot index of the call.
        pc: usize,
        /// The helper number.
        id: u32,
        /// The helper's explanation.
        message: String,
    },
    /// Control reached a slot that does not start an instruction (the tail
    /// of an `lddw`) or lies outside the program. [`bpfkit_isa::check`]
    /// rules this out; the VM stops cleanly anyway.
    #[error("instruction {pc}: control reached a slot that does not start an instruction")]
    BadControlFlow {
        /// The slot reached.
        pc: usize,
    },
    /// The input memory is larger than one region can address (4 GiB).
    #[error("input memory of {len} bytes is larger than the 4 GiB a region can hold")]
    InputTooLarge {
        /// The input length.
        len: usize,
    },
}

impl VmError {
    /// The instruction index the error is about, if any.
    pub fn pc(&self) -> Option<usize> {
        match self {
            VmError::MemoryFault { pc, .. }
            | VmError::ContextAccess { pc, .. }
            | VmError::CallDepthExceeded { pc, .. }
            | VmError::BudgetExhausted { pc, .. }
            | VmError::UnknownHelper { pc, .. }
            | VmError::HelperFailed { pc, .. }
            | VmError::BadControlFlow { pc } => Some(*pc),
            VmError::InputTooLarge { .. } => None,
        }
    }
}

/// `5 (bpf_ktime_get_ns)`, or just the number when the kernel has no such helper.
pub(crate) fn helper_label(id: u64) -> String {
    match i32::try_from(id)
        .ok()
        .and_then(bpfkit_isa::helpers::helper_name)
    {
        Some(name) => format!("{id} ({name})"),
        None => id.to_string(),
    }
}
