//! The BPF instruction set of RFC 9669 and the Linux kernel.
//!
//! - [`Insn`] is one raw 8-byte slot; [`decode_slots`] and [`encode_slots`]
//!   convert bytecode.
//! - [`Instruction`] is what a slot means, decoded strictly ([`Instruction::decode`])
//!   and encoded back byte for byte ([`Instruction::encode`]).
//! - [`check`] is the structural check of a whole program: valid opcodes and
//!   registers, zero reserved fields, jumps inside the program and not into an
//!   `lddw`, and no falling off the end.
//! - [`helpers`] names the kernel's helper functions by number.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod asm;
mod check;
pub mod conformance;
mod decode;
pub mod disasm;
mod encode;
mod error;
pub mod helpers;
mod insn;
mod instruction;
pub mod opcode;

/// The two assembly syntaxes bpfkit reads and writes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Syntax {
    /// LLVM / kernel syntax, as printed by `llvm-objdump`, the verifier log and
    /// bpftool: `r0 = *(u32 *)(r1 + 0)`, `if r8 > 4 goto -159`.
    #[default]
    Llvm,
    /// uBPF / bpf_conformance syntax: `mov %r0, 1`, `ldxdw %r1, [%r10-8]`.
    Ubpf,
}

pub use check::{check, Program};
pub use error::{CheckError, DecodeError, InsnError};
pub use insn::{decode_slots, encode_slots, Insn};
pub use instruction::{
    AluOp, AtomicOp, ByteOrder, CallTarget, Cond, Encoded, Instruction, LddwKind, Operand, Reg,
    Size, Width,
};
