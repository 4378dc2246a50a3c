//! Superinstructions: adjacent instruction pairs that clang emits in hot
//! loops, run by one op so that the interpreter dispatches once for both.
//!
//! - `rD = rS; rD op= X` (a copy then an ALU operation on the copy, same
//!   width) becomes one three-operand op;
//! - `if cond goto +1; goto L` (the back edge of a loop) becomes one
//!   conditional jump with two targets.
//!
//! A fused op replaces only the first slot's op: the second slot keeps its
//! own, so a jump to it runs it alone. The fused op counts and charges both
//! instructions, and when the budget allows only the first it runs only the
//! first and stops at the second, so the instruction count, the budget and
//! every error's instruction index are exactly those of the pair.

use crate::op::{Code, Op};

/// Fuses every pair the interpreter has a superinstruction for, in place.
pub(crate) fn fuse(ops: &mut [Op]) {
    for pc in 0..ops.len().saturating_sub(1) {
        // `ops[pc + 1]` is still the original op: only `ops[pc]` changes here.
        if let Some(op) = pair(pc, ops[pc], ops[pc + 1]) {
            ops[pc] = op;
        }
    }
}

/// The superinstruction for `first` (at `pc`) followed by `second`, if any.
fn pair(pc: usize, first: Op, second: Op) -> Option<Op> {
    match first.code {
        Code::Mov64Reg | Code::Mov32Reg if second.dst == first.dst => {
            let code = mov_then(second.code)?;
            let same_width = (first.code == Code::Mov64Reg) == is_64(second.code);
            same_width.then_some(Op {
                code,
                dst: first.dst,
                src: first.src,
                src2: second.src,
                aux: 0,
                imm: second.imm,
            })
        }
        _ if first.aux as usize == pc + 2 && second.code == Code::Ja => {
            let code = jump_else(first.code)?;
            Some(Op {
                code,
                aux: second.aux,
                ..first
            })
        }
        _ => None,
    }
}

/// The fused `mov` + `alu` code of an ALU code.
fn mov_then(alu: Code) -> Option<Code> {
    use Code::*;
    Some(match alu {
        Add64Imm => MovAdd64Imm,
        Add64Reg => MovAdd64Reg,
        Sub64Imm => MovSub64Imm,
        Sub64Reg => MovSub64Reg,
        Mul64Imm => MovMul64Imm,
        Mul64Reg => MovMul64Reg,
        Or64Imm => MovOr64Imm,
        Or64Reg => MovOr64Reg,
        And64Imm => MovAnd64Imm,
        And64Reg => MovAnd64Reg,
        Lsh64Imm => MovLsh64Imm,
        Lsh64Reg => MovLsh64Reg,
        Rsh64Imm => MovRsh64Imm,
        Rsh64Reg => MovRsh64Reg,
        Arsh64Imm => MovArsh64Imm,
        Arsh64Reg => MovArsh64Reg,
        Xor64Imm => MovXor64Imm,
        Xor64Reg => MovXor64Reg,
        Add32Imm => MovAdd32Imm,
        Add32Reg => MovAdd32Reg,
        Sub32Imm => MovSub32Imm,
        Sub32Reg => MovSub32Reg,
        Mul32Imm => MovMul32Imm,
        Mul32Reg => MovMul32Reg,
        Or32Imm => MovOr32Imm,
        Or32Reg => MovOr32Reg,
        And32Imm => MovAnd32Imm,
        And32Reg => MovAnd32Reg,
        Lsh32Imm => MovLsh32Imm,
        Lsh32Reg => MovLsh32Reg,
        Rsh32Imm => MovRsh32Imm,
        Rsh32Reg => MovRsh32Reg,
        Arsh32Imm => MovArsh32Imm,
        Arsh32Reg => MovArsh32Reg,
        Xor32Imm => MovXor32Imm,
        Xor32Reg => MovXor32Reg,
        _ => return None,
    })
}

/// Whether an ALU code of [`mov_then`] is 64-bit.
fn is_64(alu: Code) -> bool {
    use Code::*;
    matches!(
        alu,
        Add64Imm
            | Add64Reg
            | Sub64Imm
            | Sub64Reg
            | Mul64Imm
            | Mul64Reg
            | Or64Imm
            | Or64Reg
            | And64Imm
            | And64Reg
            | Lsh64Imm
            | Lsh64Reg
            | Rsh64Imm
            | Rsh64Reg
            | Arsh64Imm
            | Arsh64Reg
            | Xor64Imm
            | Xor64Reg
    )
}

/// The two-target form of a conditional jump code.
fn jump_else(jump: Code) -> Option<Code> {
    use Code::*;
    Some(match jump {
        Jeq64Imm => Jeq64ImmElse,
        Jeq64Reg => Jeq64RegElse,
        Jgt64Imm => Jgt64ImmElse,
        Jgt64Reg => Jgt64RegElse,
        Jge64Imm => Jge64ImmElse,
        Jge64Reg => Jge64RegElse,
        Jset64Imm => Jset64ImmElse,
        Jset64Reg => Jset64RegElse,
        Jne64Imm => Jne64ImmElse,
        Jne64Reg => Jne64RegElse,
        Jsgt64Imm => Jsgt64ImmElse,
        Jsgt64Reg => Jsgt64RegElse,
        Jsge64Imm => Jsge64ImmElse,
        Jsge64Reg => Jsge64RegElse,
        Jlt64Imm => Jlt64ImmElse,
        Jlt64Reg => Jlt64RegElse,
        Jle64Imm => Jle64ImmElse,
        Jle64Reg => Jle64RegElse,
        Jslt64Imm => Jslt64ImmElse,
        Jslt64Reg => Jslt64RegElse,
        Jsle64Imm => Jsle64ImmElse,
        Jsle64Reg => Jsle64RegElse,
        Jeq32Imm => Jeq32ImmElse,
        Jeq32Reg => Jeq32RegElse,
        Jgt32Imm => Jgt32ImmElse,
        Jgt32Reg => Jgt32RegElse,
        Jge32Imm => Jge32ImmElse,
        Jge32Reg => Jge32RegElse,
        Jset32Imm => Jset32ImmElse,
        Jset32Reg => Jset32RegElse,
        Jne32Imm => Jne32ImmElse,
        Jne32Reg => Jne32RegElse,
        Jsgt32Imm => Jsgt32ImmElse,
        Jsgt32Reg => Jsgt32RegElse,
        Jsge32Imm => Jsge32ImmElse,
        Jsge32Reg => Jsge32RegElse,
        Jlt32Imm => Jlt32ImmElse,
        Jlt32Reg => Jlt32RegElse,
        Jle32Imm => Jle32ImmElse,
        Jle32Reg => Jle32RegElse,
        Jslt32Imm => Jslt32ImmElse,
        Jslt32Reg => Jslt32RegElse,
        Jsle32Imm => Jsle32ImmElse,
        Jsle32Reg => Jsle32RegElse,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use bpfkit_isa::{check, Insn};

    use crate::compile::compile;
    use crate::op::Code;

    #[test]
    fn the_loop_pairs_are_fused_and_their_second_slots_kept() {
        let prog = check(&[
            Insn::new(0xbf, 3, 1, 0, 0),  // 0: r3 = r1
            Insn::new(0x07, 3, 0, 0, 5),  // 1: r3 += 5
            Insn::new(0xbc, 4, 3, 0, 0),  // 2: w4 = w3
            Insn::new(0x64, 4, 0, 0, 2),  // 3: w4 <<= 2
            Insn::new(0xbc, 5, 3, 0, 0),  // 4: w5 = w3
            Insn::new(0x07, 5, 0, 0, 2),  // 5: r5 += 2 (mixed widths: not fused)
            Insn::new(0x15, 4, 0, 1, 9),  // 6: if r4 == 9 goto +1
            Insn::new(0x05, 0, 0, -8, 0), // 7: goto 0
            Insn::new(0x95, 0, 0, 0, 0),  // 8: exit
        ])
        .unwrap();
        let ops = compile(&prog).unwrap();
        let codes: Vec<Code> = ops.iter().map(|op| op.code).collect();
        use Code::*;
        assert_eq!(
            codes,
            [
                MovAdd64Imm,
                Add64Imm,
                MovLsh32Imm,
                Lsh32Imm,
                Mov32Reg,
                Add64Imm,
                Jeq64ImmElse,
                Ja,
                Exit
            ]
        );
        assert_eq!(
            (ops[0].dst, ops[0].src, ops[0].imm),
            (ops[1].dst, ops[0].src, 5)
        );
        assert_eq!((ops[6].aux, ops[6].imm), (0, 9));
    }
}
