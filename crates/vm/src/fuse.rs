//! Superinstructions: adjacent instruction pairs that clang emits in hot
//! loops, run by one op so that the interpreter dispatches once for both.
//!
//! - `rD = rS; rD op= X` (a copy then an ALU operation on the copy, same
//!   width) becomes one three-operand op;
//! - `rD = rS; rD += rT; rD = *(uN *)(rD + off)` (the indexed load `p[i]`)
//!   becomes one op, and so does its tail `rD += rT; rD = *(uN *)(rD + off)`;
//! - `rD += imm; if rD cmp X goto L` (a loop counter's step and test, at one
//!   width) becomes one op;
//! - so do the xorshift step, header bytes collected with `<<` and `|`, a
//!   u64 in memory updated in place, an ALU op and the store of its result,
//!   `1 << n`, the branch-free CRC step, `lddw` then `and` with it, and the
//!   element of an array at a fixed offset (four instructions): see the
//!   `Code`s from `LdxBLshOr64` on.
//!
//! A fused op replaces only the first slot's op: the second slot keeps its
//! own, so a jump to it runs it alone. The fused op counts and charges both
//! instructions, and when the budget allows only the first it runs only the
//! first and stops at the second, so the instruction count, the budget and
//! every error's instruction index are exactly those of the pair.
//!
//! Where candidate groups overlap, [`fuse`] picks per slot the one that
//! leaves the fewest dispatches. Before that, [`hoist`] moves an ALU
//! instruction that clang scheduled between a counter's step and its test
//! ahead of the step, so that the step and the test fuse.

use crate::op::{Code, Op};

/// Fuses the groups the interpreter has a superinstruction for, in place.
/// Groups are found in the original ops, so a slot inside one group still
/// starts its own (shorter) group. Where groups overlap, each slot takes
/// the one that leaves the fewest dispatches to the end of its
/// straight-line code (a dynamic program from the end, so that, say, a
/// pair does not take the first slot of a longer group that follows it).
pub(crate) fn fuse(ops: &mut [Op]) {
    hoist(ops);
    let original = ops.to_vec();
    let n = ops.len();
    // The dispatches from slot `pc` to the end of its straight-line code.
    let mut cost = vec![0u32; n + 1];
    for pc in (0..n).rev() {
        let rest = |len: usize| match original[pc + len - 1].code {
            Code::Ja | Code::Exit => 0,
            _ => cost.get(pc + len).copied().unwrap_or(0),
        };
        let single = if original[pc].code == Code::Lddw {
            2
        } else {
            1
        };
        let single = single.min(n - pc);
        let mut best = (1 + rest(single), None);
        for (op, len) in groups(&original, pc) {
            let c = 1 + rest(len);
            // Ties between groups go to the longer: more done in this
            // dispatch. (A tie with the single op keeps the single: taking
            // the group there measured more host instructions on sieve.)
            if c < best.0 || (c == best.0 && best.1.is_some_and(|(_, l)| len > l)) {
                best = (c, Some((op, len)));
            }
        }
        cost[pc] = best.0;
        if let Some((op, _)) = best.1 {
            ops[pc] = op;
        }
    }
}

/// Swaps `rA op= imm; B; if rA cmp X goto L` (`op` an `add` or `and`
/// that fuses with the jump, `B` any ALU instruction on other registers)
/// into `B; rA op= imm; if ...`, so that the step and the jump fuse: the
/// same computation when `B` neither reads nor writes `rA` (which is all
/// the step touches) and no jump or call enters at `B`'s slot. Neither
/// instruction can fault, and a budget that stops the run between them
/// ends it, so no count or error tells the order. (`B`'s source field is
/// compared with `rA` even for an immediate operand, where it is r0: a
/// step on r0 keeps such a `B` where it is.)
fn hoist(ops: &mut [Op]) {
    let mut entered = vec![false; ops.len()];
    for op in ops.iter() {
        let target = if op.code.jumps_by_aux() {
            Some(op.aux as usize)
        } else if op.code == Code::Lddw && op.imm >> 32 == crate::memory::FUNC_REGION {
            Some(op.imm as u32 as usize)
        } else {
            None
        };
        if let Some(slot) = target.and_then(|t| entered.get_mut(t)) {
            *slot = true;
        }
    }
    let alu = Code::Add64Imm as u16..=Code::Neg32 as u16;
    for pc in 0..ops.len().saturating_sub(2) {
        let (step, b, jump) = (ops[pc], ops[pc + 1], ops[pc + 2]);
        let steps = matches!(
            step.code,
            Code::Add64Imm | Code::Add32Imm | Code::And64Imm | Code::And32Imm
        ) && pair(step, jump).is_some();
        if steps
            && alu.contains(&(b.code as u16))
            && b.dst != step.dst
            && b.src != step.dst
            && !entered[pc + 1]
        {
            ops.swap(pc, pc + 1);
        }
    }
}

/// Every group that starts at slot `pc`, with the slots it takes.
fn groups(original: &[Op], pc: usize) -> impl Iterator<Item = (Op, usize)> {
    let next = |k: usize| original.get(pc + k).copied();
    let first = original[pc];
    let (second, third, fourth) = (next(1), next(2), next(3));
    let lddw = first.code == Code::Lddw;
    [
        (lddw.then(|| after_lddw(first, third?)).flatten(), 3),
        (
            (!lddw)
                .then(|| quad(first, second?, third?, fourth?))
                .flatten(),
            4,
        ),
        ((!lddw).then(|| triple(first, second?, third?)).flatten(), 3),
        (second.and_then(|second| pair(first, second)), 2),
    ]
    .into_iter()
    .filter_map(|(op, len)| Some((op?, len)))
}

/// The superinstruction for four instructions in a row, if any:
/// `rA = rS; rA += imm; rA += rB; rC = *(uN *)(rA + off)`, an element of
/// an array at a fixed offset from `rS` (on the stack: `rS` is r10).
fn quad(first: Op, second: Op, third: Op, fourth: Op) -> Option<Op> {
    use Code::*;
    let (Mov64Reg, Add64Imm) = (first.code, second.code) else {
        return None;
    };
    let tail = pair(third, fourth).filter(|t| second.dst == first.dst && t.dst == first.dst)?;
    let code = match tail.code {
        AddLdxB => MovAddAddLdxB,
        AddLdxH => MovAddAddLdxH,
        AddLdxW => MovAddAddLdxW,
        AddLdxDW => MovAddAddLdxDW,
        _ => return None,
    };
    Some(Op {
        code,
        src: first.src,
        imm: tail.imm << 32 | second.imm as u32 as u64,
        ..tail
    })
}

/// The superinstruction for three instructions in a row, if any.
fn triple(first: Op, second: Op, third: Op) -> Option<Op> {
    use Code::*;
    let chained = second.dst == first.dst && third.dst == first.dst;
    match (first.code, second.code, third.code) {
        // `rD = rS; rD += rT; rX = *(uN *)(rD + off)`.
        (Mov64Reg, Add64Reg, _) => {
            let tail = pair(second, third).filter(|t| t.dst == first.dst)?;
            let code = match tail.code {
                AddLdxB => MovAddLdxB,
                AddLdxH => MovAddLdxH,
                AddLdxW => MovAddLdxW,
                AddLdxDW => MovAddLdxDW,
                _ => return None,
            };
            Some(Op {
                code,
                src: first.src,
                ..tail
            })
        }
        // `rD = rS; rD >>= k; rD ^= rS` (or `<<=`), at one width.
        (Mov64Reg, Rsh64Imm | Lsh64Imm, Xor64Reg) | (Mov32Reg, Rsh32Imm | Lsh32Imm, Xor32Reg)
            if chained && third.src == first.src =>
        {
            let code = match second.code {
                Rsh64Imm => MovRshXor64,
                Lsh64Imm => MovLshXor64,
                Rsh32Imm => MovRshXor32,
                _ => MovLshXor32,
            };
            Some(Op {
                code,
                imm: second.imm,
                ..first
            })
        }
        // `rD = *(uN *)(rS + off); rD <<= k; rX |= rY` with `rD` one of
        // `rX`, `rY` (a byte put in place, then into a value that collects
        // them), the shift and the `or` at one width.
        (LdxB | LdxH, Lsh64Imm, Or64Reg) | (LdxB | LdxH, Lsh32Imm, Or32Reg)
            if second.dst == first.dst && (third.dst == first.dst || third.src == first.dst) =>
        {
            let code = match (first.code, second.code) {
                (LdxB, Lsh64Imm) => LdxBLshOr64,
                (LdxB, _) => LdxBLshOr32,
                (_, Lsh64Imm) => LdxHLshOr64,
                _ => LdxHLshOr32,
            };
            Some(Op {
                code,
                dst2: third.dst,
                src2: third.src,
                imm: second.imm << 32 | first.imm as u32 as u64,
                ..first
            })
        }
        // `rD &= a; rD = -rD; rD &= b` (`b` if the low bit of `rD` is set,
        // else 0: the branch-free step of a bitwise CRC).
        (And64Imm, Neg64, And64Imm) | (And32Imm, Neg32, And32Imm) if chained => Some(Op {
            code: if first.code == And64Imm {
                AndNegAnd64
            } else {
                AndNegAnd32
            },
            imm: third.imm << 32 | first.imm as u32 as u64,
            ..first
        }),
        // `rD = *(u64 *)(rB + off); rD op= X; *(u64 *)(rB + off) = rD`.
        (LdxDW, _, StxDW)
            if second.dst == first.dst
                && first.dst != first.src
                && third.src == first.dst
                && (third.dst, third.imm) == (first.src, first.imm) =>
        {
            let (code, high) = match second.code {
                Add64Reg => (RmwAdd64Reg, 0),
                Sub64Reg => (RmwSub64Reg, 0),
                Or64Reg => (RmwOr64Reg, 0),
                And64Reg => (RmwAnd64Reg, 0),
                Xor64Reg => (RmwXor64Reg, 0),
                Add64Imm => (RmwAdd64Imm, second.imm as u32 as u64),
                _ => return None,
            };
            Some(Op {
                code,
                src2: second.src,
                imm: high << 32 | first.imm as u32 as u64,
                ..first
            })
        }
        _ => None,
    }
}

/// The superinstruction for the `lddw` `first` followed by `after`, if any:
/// `rT = K ll; rD &= rT` (a 64-bit mask).
fn after_lddw(first: Op, after: Op) -> Option<Op> {
    (after.code == Code::And64Reg && after.src == first.dst).then_some(Op {
        code: Code::LddwAnd64,
        dst2: after.dst,
        ..first
    })
}

/// The superinstruction for `first` followed by `second`, if any.
fn pair(first: Op, second: Op) -> Option<Op> {
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
                ..first
            })
        }
        Code::Add64Reg
            if second.src == first.dst
                && matches!(
                    second.code,
                    Code::LdxB | Code::LdxH | Code::LdxW | Code::LdxDW
                ) =>
        {
            let code = match second.code {
                Code::LdxB => Code::AddLdxB,
                Code::LdxH => Code::AddLdxH,
                Code::LdxW => Code::AddLdxW,
                Code::LdxDW => Code::AddLdxDW,
                _ => return None,
            };
            Some(Op {
                code,
                dst: first.dst,
                src: first.dst,
                src2: first.src,
                dst2: second.dst,
                aux: 0,
                imm: second.imm,
                ..first
            })
        }
        // `rD op= X; *(u64 *)(rB + off) = rD`.
        Code::Add64Reg
        | Code::Sub64Reg
        | Code::Or64Reg
        | Code::And64Reg
        | Code::Xor64Reg
        | Code::Add64Imm
            if second.code == Code::StxDW && second.src == first.dst =>
        {
            use Code::*;
            let code = match first.code {
                Add64Reg => AddStx64Reg,
                Sub64Reg => SubStx64Reg,
                Or64Reg => OrStx64Reg,
                And64Reg => AndStx64Reg,
                Xor64Reg => XorStx64Reg,
                _ => AddStx64Imm,
            };
            Some(Op {
                code,
                src2: second.dst,
                imm: first.imm << 32 | second.imm as u32 as u64,
                ..first
            })
        }
        // `rD = imm; rD <<= rS`.
        Code::Mov64Imm if second.code == Code::Lsh64Reg && second.dst == first.dst => Some(Op {
            code: Code::MovImmLsh64Reg,
            src: second.src,
            ..first
        }),
        Code::Add64Imm | Code::Add32Imm | Code::And64Imm | Code::And32Imm
            if second.dst == first.dst =>
        {
            let (add, and, wide) = alu_then_jump(second.code)?;
            let code = match first.code {
                Code::Add64Imm | Code::Add32Imm => add,
                _ => and,
            };
            let first_wide = matches!(first.code, Code::Add64Imm | Code::And64Imm);
            (wide == first_wide).then_some(Op {
                code,
                dst: first.dst,
                src: second.src,
                src2: first.src,
                aux: second.aux,
                imm: (second.imm as u32 as u64) << 32 | first.imm as u32 as u64,
                ..first
            })
        }
        Code::LdxB | Code::LdxH | Code::LdxW if second.dst == first.dst => {
            use Code::*;
            let code = match (first.code, second.code) {
                (LdxB, Lsh64Imm) => LdxBLsh64,
                (LdxB, Lsh32Imm) => LdxBLsh32,
                (LdxH, Lsh64Imm) => LdxHLsh64,
                (LdxH, Lsh32Imm) => LdxHLsh32,
                (LdxW, Lsh64Imm) => LdxWLsh64,
                (LdxW, Lsh32Imm) => LdxWLsh32,
                _ => return None,
            };
            Some(Op {
                code,
                imm: second.imm << 32 | first.imm as u32 as u64,
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

/// The fused add-then-jump and and-then-jump codes of a conditional jump
/// code, and whether it is a 64-bit comparison (the ALU op must have the
/// same width).
fn alu_then_jump(jump: Code) -> Option<(Code, Code, bool)> {
    use Code::*;
    Some(match jump {
        Jeq64Imm => (AddJeq64Imm, AndJeq64Imm, true),
        Jeq64Reg => (AddJeq64Reg, AndJeq64Reg, true),
        Jgt64Imm => (AddJgt64Imm, AndJgt64Imm, true),
        Jgt64Reg => (AddJgt64Reg, AndJgt64Reg, true),
        Jge64Imm => (AddJge64Imm, AndJge64Imm, true),
        Jge64Reg => (AddJge64Reg, AndJge64Reg, true),
        Jset64Imm => (AddJset64Imm, AndJset64Imm, true),
        Jset64Reg => (AddJset64Reg, AndJset64Reg, true),
        Jne64Imm => (AddJne64Imm, AndJne64Imm, true),
        Jne64Reg => (AddJne64Reg, AndJne64Reg, true),
        Jsgt64Imm => (AddJsgt64Imm, AndJsgt64Imm, true),
        Jsgt64Reg => (AddJsgt64Reg, AndJsgt64Reg, true),
        Jsge64Imm => (AddJsge64Imm, AndJsge64Imm, true),
        Jsge64Reg => (AddJsge64Reg, AndJsge64Reg, true),
        Jlt64Imm => (AddJlt64Imm, AndJlt64Imm, true),
        Jlt64Reg => (AddJlt64Reg, AndJlt64Reg, true),
        Jle64Imm => (AddJle64Imm, AndJle64Imm, true),
        Jle64Reg => (AddJle64Reg, AndJle64Reg, true),
        Jslt64Imm => (AddJslt64Imm, AndJslt64Imm, true),
        Jslt64Reg => (AddJslt64Reg, AndJslt64Reg, true),
        Jsle64Imm => (AddJsle64Imm, AndJsle64Imm, true),
        Jsle64Reg => (AddJsle64Reg, AndJsle64Reg, true),
        Jeq32Imm => (AddJeq32Imm, AndJeq32Imm, false),
        Jeq32Reg => (AddJeq32Reg, AndJeq32Reg, false),
        Jgt32Imm => (AddJgt32Imm, AndJgt32Imm, false),
        Jgt32Reg => (AddJgt32Reg, AndJgt32Reg, false),
        Jge32Imm => (AddJge32Imm, AndJge32Imm, false),
        Jge32Reg => (AddJge32Reg, AndJge32Reg, false),
        Jset32Imm => (AddJset32Imm, AndJset32Imm, false),
        Jset32Reg => (AddJset32Reg, AndJset32Reg, false),
        Jne32Imm => (AddJne32Imm, AndJne32Imm, false),
        Jne32Reg => (AddJne32Reg, AndJne32Reg, false),
        Jsgt32Imm => (AddJsgt32Imm, AndJsgt32Imm, false),
        Jsgt32Reg => (AddJsgt32Reg, AndJsgt32Reg, false),
        Jsge32Imm => (AddJsge32Imm, AndJsge32Imm, false),
        Jsge32Reg => (AddJsge32Reg, AndJsge32Reg, false),
        Jlt32Imm => (AddJlt32Imm, AndJlt32Imm, false),
        Jlt32Reg => (AddJlt32Reg, AndJlt32Reg, false),
        Jle32Imm => (AddJle32Imm, AndJle32Imm, false),
        Jle32Reg => (AddJle32Reg, AndJle32Reg, false),
        Jslt32Imm => (AddJslt32Imm, AndJslt32Imm, false),
        Jslt32Reg => (AddJslt32Reg, AndJslt32Reg, false),
        Jsle32Imm => (AddJsle32Imm, AndJsle32Imm, false),
        Jsle32Reg => (AddJsle32Reg, AndJsle32Reg, false),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use bpfkit_isa::{check, Insn};

    use crate::compile::{compile, program_ops};
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
        let ops = compile(&prog, &Default::default()).unwrap();
        let codes: Vec<Code> = program_ops(&ops).iter().map(|op| op.code).collect();
        use Code::*;
        assert_eq!(
            codes,
            [
                MovAdd64Imm,
                Add64Imm,
                MovLsh32Imm,
                Lsh32Imm,
                // `w5 = w3; r5 += 2`: mixed widths, not fused.
                Mov32Reg,
                Add64Imm,
                Jeq64Imm,
                Ja,
                Exit
            ]
        );
        assert_eq!(
            (ops[0].dst, ops[0].src, ops[0].imm),
            (ops[1].dst, ops[0].src, 5)
        );
        // The jump falls through past the `goto` (see `charge`).
        // (Targets are byte offsets once compiled.)
        let op = crate::compile::OP_BYTES;
        assert_eq!((ops[6].aux, ops[6].next, ops[6].imm), (8 * op, 0, 9));
    }
}

#[cfg(test)]
mod group_tests {
    use bpfkit_isa::{check, Insn};

    use crate::compile::{compile, program_ops};
    use crate::op::{Code, R};

    #[test]
    fn indexed_loads_and_counter_tests_are_fused() {
        let prog = check(&[
            Insn::new(0xbf, 5, 1, 0, 0),  // 0: r5 = r1
            Insn::new(0x0f, 5, 2, 0, 0),  // 1: r5 += r2
            Insn::new(0x71, 5, 5, 1, 0),  // 2: r5 = *(u8 *)(r5 + 1)
            Insn::new(0x07, 2, 0, 0, 1),  // 3: r2 += 1
            Insn::new(0x55, 2, 0, -5, 8), // 4: if r2 != 8 goto 0
            Insn::new(0x04, 4, 0, 0, 1),  // 5: w4 += 1
            Insn::new(0xae, 4, 6, 0, 0),  // 6: if w4 < w6 goto +0
            Insn::new(0x07, 4, 0, 0, 1),  // 7: r4 += 1 (64-bit add, ...)
            Insn::new(0xa6, 4, 0, 0, 3),  // 8: if w4 < 3 goto +0 (... 32-bit test: not fused)
            Insn::new(0x54, 3, 0, 0, 7),  // 9: w3 &= 7
            Insn::new(0x16, 3, 0, 0, 2),  // 10: if w3 == 2 goto +0
            Insn::new(0x71, 6, 1, 14, 0), // 11: r6 = *(u8 *)(r1 + 14)
            Insn::new(0x67, 6, 0, 0, 56), // 12: r6 <<= 56
            Insn::new(0x95, 0, 0, 0, 0),  // 13: exit
        ])
        .unwrap();
        let ops = compile(&prog, &Default::default()).unwrap();
        let codes: Vec<Code> = program_ops(&ops).iter().map(|op| op.code).collect();
        use Code::*;
        assert_eq!(
            codes,
            [
                MovAddLdxB,
                AddLdxB,
                LdxB,
                AddJne64Imm,
                Jne64Imm,
                AddJlt32Reg,
                Jlt32Reg,
                Add64Imm,
                Jlt32Imm,
                AndJeq32Imm,
                Jeq32Imm,
                LdxBLsh64,
                Lsh64Imm,
                Exit
            ]
        );
        assert_eq!((ops[0].src, ops[0].src2, ops[0].imm), (R::R1, R::R2, 1));
        assert_eq!((ops[1].dst, ops[1].src2), (R::R5, R::R2));
        assert_eq!((ops[3].imm, ops[3].aux), (8 << 32 | 1, 0));
        let op = crate::compile::OP_BYTES;
        assert_eq!((ops[9].imm, ops[9].aux), (2 << 32 | 7, 11 * op));
        assert_eq!((ops[11].src, ops[11].imm), (R::R1, 56 << 32 | 14));
    }

    #[test]
    fn xorshifts_byte_pairs_memory_updates_and_masks_are_fused() {
        let prog = check(&[
            Insn::new(0xbf, 0, 6, 0, 0),    // 0: r0 = r6
            Insn::new(0x77, 0, 0, 0, 12),   // 1: r0 >>= 12
            Insn::new(0xaf, 0, 6, 0, 0),    // 2: r0 ^= r6
            Insn::new(0x69, 5, 1, 14, 0),   // 3: w5 = *(u16 *)(r1 + 14)
            Insn::new(0x64, 5, 0, 0, 8),    // 4: w5 <<= 8
            Insn::new(0x4c, 5, 7, 0, 0),    // 5: w5 |= w7
            Insn::new(0x79, 2, 10, -16, 0), // 6: r2 = *(u64 *)(r10 - 16)
            Insn::new(0x0f, 2, 7, 0, 0),    // 7: r2 += r7
            Insn::new(0x7b, 10, 2, -16, 0), // 8: *(u64 *)(r10 - 16) = r2
            Insn::new(0xb7, 9, 0, 0, 1),    // 9: r9 = 1
            Insn::new(0x6f, 9, 8, 0, 0),    // 10: r9 <<= r8
            Insn::new(0x0f, 2, 8, 0, 0),    // 11: r2 += r8
            Insn::new(0x79, 8, 2, 0, 0),    // 12: r8 = *(u64 *)(r2 + 0)
            Insn::new(0x79, 2, 2, 0, 0),    // 13: r2 = *(u64 *)(r2 + 0)
            Insn::new(0x07, 2, 0, 0, 1),    // 14: r2 += 1
            Insn::new(0x7b, 2, 2, 0, 0),    // 15: *(u64 *)(r2 + 0) = r2 (base changed: no RMW)
            Insn::new(0x95, 0, 0, 0, 0),    // 16: exit
        ])
        .unwrap();
        let ops = compile(&prog, &Default::default()).unwrap();
        let codes: Vec<Code> = program_ops(&ops).iter().map(|op| op.code).collect();
        use Code::*;
        assert_eq!(
            codes,
            [
                MovRshXor64,
                Rsh64Imm,
                Xor64Reg,
                LdxHLshOr32,
                Lsh32Imm,
                Or32Reg,
                RmwAdd64Reg,
                AddStx64Reg,
                StxDW,
                MovImmLsh64Reg,
                Lsh64Reg,
                AddLdxDW,
                LdxDW,
                LdxDW,
                AddStx64Imm,
                StxDW,
                Exit
            ]
        );
        assert_eq!((ops[0].dst, ops[0].src, ops[0].imm), (R::R0, R::R6, 12));
        assert_eq!(
            (ops[3].src, ops[3].src2, ops[3].imm),
            (R::R1, R::R7, 8 << 32 | 14)
        );
        assert_eq!(
            (ops[6].dst, ops[6].src, ops[6].src2),
            (R::R2, R::R10, R::R7)
        );
        assert_eq!(ops[6].imm, -16i32 as u32 as u64);
        assert_eq!((ops[9].dst, ops[9].src, ops[9].imm), (R::R9, R::R8, 1));
        assert_eq!(
            (ops[11].dst, ops[11].src2, ops[11].dst2),
            (R::R2, R::R8, R::R8)
        );
    }

    #[test]
    fn stack_array_loads_are_fused() {
        let prog = check(&[
            Insn::new(0xbf, 8, 10, 0, 0),   // 0: r8 = r10
            Insn::new(0x07, 8, 0, 0, -256), // 1: r8 += -256
            Insn::new(0x0f, 8, 7, 0, 0),    // 2: r8 += r7
            Insn::new(0x79, 7, 8, 8, 0),    // 3: r7 = *(u64 *)(r8 + 8)
            Insn::new(0x95, 0, 0, 0, 0),    // 4: exit
        ])
        .unwrap();
        let ops = compile(&prog, &Default::default()).unwrap();
        assert_eq!(ops[0].code, Code::MovAddAddLdxDW);
        assert_eq!(ops[2].code, Code::AddLdxDW);
        let op = ops[0];
        assert_eq!(
            (op.dst, op.src, op.src2, op.dst2),
            (R::R8, R::R10, R::R7, R::R7)
        );
        assert_eq!(op.imm, 8 << 32 | -256i32 as u32 as u64);
    }

    #[test]
    fn a_slot_takes_the_group_that_leaves_the_fewest_dispatches() {
        // `r4 += r1; w5 = *(u8 *)(r4 + 0)` is a pair, but taking it leaves
        // `w5 <<= 8; w5 |= w6` to two ops; left alone, slot 0 lets slot 1
        // run the three-instruction byte collection in one op.
        let prog = check(&[
            Insn::new(0x0f, 4, 1, 0, 0), // 0: r4 += r1
            Insn::new(0x71, 5, 4, 0, 0), // 1: w5 = *(u8 *)(r4 + 0)
            Insn::new(0x64, 5, 0, 0, 8), // 2: w5 <<= 8
            Insn::new(0x4c, 5, 6, 0, 0), // 3: w5 |= w6
            Insn::new(0x95, 0, 0, 0, 0), // 4: exit
        ])
        .unwrap();
        let ops = compile(&prog, &Default::default()).unwrap();
        assert_eq!(ops[0].code, Code::Add64Reg);
        assert_eq!(ops[1].code, Code::LdxBLshOr32);
    }

    #[test]
    fn an_instruction_between_a_step_and_its_test_is_hoisted() {
        let prog = check(&[
            Insn::new(0x07, 3, 0, 0, 4),     // 0: r3 += 4
            Insn::new(0xbc, 4, 0, 0, 0),     // 1: w4 = w0
            Insn::new(0x15, 3, 0, 1, 0x100), // 2: if r3 == 0x100 goto +1
            Insn::new(0x05, 0, 0, -4, 0),    // 3: goto -4
            Insn::new(0x07, 3, 0, 0, 4),     // 4: r3 += 4
            Insn::new(0xbc, 3, 0, 0, 0),     // 5: w3 = w0 (writes the step's register)
            Insn::new(0x15, 3, 0, 1, 0x100), // 6: if r3 == 0x100 goto +1
            Insn::new(0x07, 3, 0, 0, 4),     // 7: r3 += 4
            Insn::new(0xbc, 4, 0, 0, 0),     // 8: w4 = w0 (entered by the jump at 10)
            Insn::new(0x15, 3, 0, 1, 0x100), // 9: if r3 == 0x100 goto +1
            Insn::new(0x05, 0, 0, -3, 0),    // 10: goto -3
            Insn::new(0x95, 0, 0, 0, 0),     // 11: exit
        ])
        .unwrap();
        let ops = compile(&prog, &Default::default()).unwrap();
        let codes: Vec<Code> = program_ops(&ops).iter().map(|op| op.code).collect();
        use Code::*;
        assert_eq!(
            codes[..10],
            [
                Mov32Reg,
                AddJeq64Imm,
                Jeq64Imm,
                Ja,
                Add64Imm,
                Mov32Reg,
                Jeq64Imm,
                Add64Imm,
                Mov32Reg,
                Jeq64Imm
            ]
        );
    }
}
