//! Unit tests of the assembler: each instruction family in both syntaxes,
//! golden output of LLVM 19, labels, and error positions.

mod errors;
mod llvm;
mod ubpf;

use super::assemble;
use crate::{Insn, Instruction, Syntax};

/// Assembles `src` and decodes it back into typed instructions.
fn insns(src: &str, syntax: Syntax) -> Vec<Instruction> {
    let slots = assemble(src, syntax).unwrap_or_else(|e| panic!("{}", e.render(src, "test")));
    let mut out = Vec::new();
    let mut pc = 0;
    while pc < slots.len() {
        let (insn, n) = Instruction::decode(&slots[pc..]).expect("assembler output decodes");
        out.push(insn);
        pc += n;
    }
    out
}

/// The one instruction `src` assembles to.
fn one(src: &str, syntax: Syntax) -> Instruction {
    let all = insns(src, syntax);
    assert_eq!(all.len(), 1, "{src}: {all:?}");
    all[0]
}

/// The bytes `src` assembles to.
fn bytes(src: &str, syntax: Syntax) -> Vec<u8> {
    let slots: Vec<Insn> =
        assemble(src, syntax).unwrap_or_else(|e| panic!("{}", e.render(src, "test")));
    crate::encode_slots(&slots)
}

/// The error for `src`: (line, column, len, message).
fn error(src: &str, syntax: Syntax) -> (usize, usize, usize, String) {
    match assemble(src, syntax) {
        Ok(slots) => panic!("{src:?} assembled to {slots:?}"),
        Err(e) => (e.line, e.column, e.len, e.message),
    }
}
