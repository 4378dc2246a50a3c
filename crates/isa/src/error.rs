//! Typed errors of decoding and the structural check.

use thiserror::Error;

/// Why bytes could not be split into instruction slots.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DecodeError {
    /// The byte count is not a multiple of 8.
    #[error("bytecode is {len} bytes long, not a multiple of 8 ({extra} trailing bytes)")]
    TrailingBytes {
        /// Total length in bytes.
        len: usize,
        /// Bytes after the last whole slot.
        extra: usize,
    },
}

/// Why one instruction is not a valid BPF instruction. Carried with its index
/// in [`CheckError`].
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum InsnError {
    /// No instruction has this opcode.
    #[error("unknown opcode 0x{0:02x}")]
    UnknownOpcode(u8),
    /// A field the instruction does not use is not zero.
    #[error("{what}: reserved field `{field}` must be {expected}, found {found}")]
    ReservedField {
        /// The instruction, e.g. `exit` or `add64 imm`.
        what: &'static str,
        /// The field: `dst`, `src`, `off` or `imm`.
        field: &'static str,
        /// What the field must hold.
        expected: &'static str,
        /// What it holds.
        found: i64,
    },
    /// A register number above r10.
    #[error("invalid register r{0} (registers are r0 to r10)")]
    BadRegister(u8),
    /// r10, the frame pointer, is written.
    #[error("r10 is the read-only frame pointer and cannot be written")]
    FramePointerWrite,
    /// An `lddw` whose second slot is missing.
    #[error("lddw is missing its second slot")]
    TruncatedLddw,
    /// An `lddw` whose second slot is not the required all-zero pseudo instruction.
    #[error("second slot of lddw must have opcode 0 and zero dst, src and off, found opcode 0x{code:02x}")]
    BadLddwTail {
        /// The opcode of the second slot.
        code: u8,
    },
    /// An `lddw` with a pseudo source the kernel does not define.
    #[error("lddw has unknown pseudo source {0}")]
    BadLddwSource(u8),
    /// An invalid immediate for byte swaps or atomics.
    #[error("{what}: invalid immediate {imm}")]
    BadImmediate {
        /// The instruction kind.
        what: &'static str,
        /// The immediate found.
        imm: i32,
    },
}

/// A structural problem in a program, with the index of the instruction slot.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CheckError {
    /// The program has no instructions.
    #[error("program is empty")]
    Empty,
    /// One instruction is invalid.
    #[error("instruction {pc}: {error}")]
    Insn {
        /// Slot index.
        pc: usize,
        /// What is wrong.
        error: InsnError,
    },
    /// A jump or call whose target is outside the program.
    #[error("instruction {pc}: jump to {target} is out of range (program has {len} slots)")]
    JumpOutOfRange {
        /// Slot index of the jump.
        pc: usize,
        /// The target slot (may be negative).
        target: i64,
        /// Number of slots.
        len: usize,
    },
    /// A jump or call that lands on the second slot of an `lddw`.
    #[error("instruction {pc}: jump to {target} lands in the middle of the lddw at {}", target - 1)]
    JumpIntoLddw {
        /// Slot index of the jump.
        pc: usize,
        /// The target slot.
        target: usize,
    },
    /// The last instruction can fall through past the end of the program.
    #[error("instruction {pc}: program does not end in exit or an unconditional jump")]
    FallsOffEnd {
        /// Slot index of the last instruction.
        pc: usize,
    },
}

impl CheckError {
    /// The slot index the error is about, if any.
    pub fn pc(&self) -> Option<usize> {
        match self {
            CheckError::Empty => None,
            CheckError::Insn { pc, .. }
            | CheckError::JumpOutOfRange { pc, .. }
            | CheckError::JumpIntoLddw { pc, .. }
            | CheckError::FallsOffEnd { pc } => Some(*pc),
        }
    }
}
