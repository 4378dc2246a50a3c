//! Charging the instruction budget by straight-line run instead of by
//! instruction.
//!
//! A *run* starts where control arrives (slot 0, a jump's target or
//! fall-through, a call's target or return point, a callback's entry) and
//! ends at the next instruction that can transfer control: a jump, a call,
//! an `exit` or a legacy packet load (which exits when out of bounds).
//! Every instruction of a run executes once control enters it, so the
//! interpreter charges the whole run when it arrives, and the ops in the
//! middle touch neither the budget nor its test.
//!
//! Each op carries the length of the run that starts at its slot (`len`,
//! read when an `exit` returns to a caller) and, for a control op, the
//! lengths charged when it goes to its target (`t_len`) or falls through
//! (`f_len`). Lengths count instructions as the budget does (an `lddw` is
//! one, a superinstruction is as many as it replaces), so the count at every
//! exit is exactly the per-instruction count.
//!
//! When the budget left is smaller than the run about to start, the
//! interpreter does not charge it: it goes on in its checked mode, which
//! charges one instruction at a time and stops at the exact instruction
//! that exhausts the budget. A program with a run too long for the 16-bit
//! fields runs in checked mode throughout: all its lengths are
//! [`CHECKED_ONLY`].

use crate::op::{Code, Exit, Op};

/// The length every op of a program holds when the program must run in
/// checked mode throughout.
pub(crate) const CHECKED_ONLY: u16 = u16::MAX;

/// The length of the run starting at each slot of the unfused `ops`, in
/// instructions (0 for an `lddw`'s tail, which no run starts at).
pub(crate) fn run_lengths(ops: &[Op]) -> Vec<u32> {
    let mut len = vec![0u32; ops.len() + 2];
    for pc in (0..ops.len()).rev() {
        len[pc] = match (ops[pc].code, ops[pc].code.exit()) {
            (Code::LddwTail, _) => 0,
            (_, Exit::Straight) => {
                let next = if ops[pc].code == Code::Lddw { 2 } else { 1 };
                1u32.saturating_add(len[pc + next])
            }
            _ => 1,
        };
    }
    len.truncate(ops.len());
    len
}

/// Fills `len`, `t_len` and `f_len` of every op from `runs` (the
/// [`run_lengths`] of the ops before fusion), and the fall-through `next`
/// of every conditional jump: a jump whose fall-through slot holds a
/// `goto` falls through to the `goto`'s target, charging the `goto` and
/// the run at its target (jump threading: the `goto` of a loop's back edge
/// or of an `if`'s then-branch costs no dispatch). A length that does not
/// fit makes the whole program [`CHECKED_ONLY`].
pub(crate) fn plan(ops: &mut [Op], runs: &[u32]) {
    let run = |pc: usize| runs.get(pc).copied().unwrap_or(0);
    let gotos: Vec<Option<usize>> = ops
        .iter()
        .map(|op| (op.code == Code::Ja).then_some(op.aux as usize))
        .collect();
    // Where falling through to `slot` goes, and the length it charges.
    let fall = |slot: usize| match gotos.get(slot).copied().flatten() {
        Some(target) => (target, run(slot).saturating_add(run(target))),
        None => (slot, run(slot)),
    };
    let mut fits = true;
    for (pc, op) in ops.iter_mut().enumerate() {
        let target = op.aux as usize;
        let (t, (next, f)) = match op.code.exit() {
            Exit::Straight | Exit::End => (0, (pc + 1, 0)),
            Exit::Jump => (run(target), (pc + 1, 0)),
            Exit::Branch => (run(target), (pc + 1, run(pc + 1))),
            Exit::CondJump => (run(target), fall(pc + 1)),
            Exit::AluBranch => (run(target), fall(pc + 2)),
        };
        // Slot indexes fit in `u32` (see `compile::target`).
        op.next = next as u32;
        let mut fit = |n: u32| {
            let n = u16::try_from(n).ok().filter(|&n| n != CHECKED_ONLY);
            fits &= n.is_some();
            n.unwrap_or(0)
        };
        (op.len, op.t_len, op.f_len) = (fit(run(pc)), fit(t), fit(f));
    }
    if !fits {
        make_checked_only(ops);
    }
}

/// Makes `ops` run in checked mode throughout, charged one instruction at
/// a time (also the reference the tests compare charging by run against).
pub(crate) fn make_checked_only(ops: &mut [Op]) {
    for op in ops.iter_mut() {
        (op.len, op.t_len, op.f_len) = (CHECKED_ONLY, CHECKED_ONLY, CHECKED_ONLY);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bpfkit_isa::{asm, check, Syntax};

    fn planned(src: &str) -> Vec<Op> {
        let prog = check(&asm::assemble(src, Syntax::Llvm).unwrap()).unwrap();
        let ops = crate::compile::compile(&prog, &Default::default()).unwrap();
        crate::compile::program_ops(&ops).to_vec()
    }

    #[test]
    fn runs_end_at_control_instructions() {
        let ops = planned(
            "r0 = 0\n\
             r1 = 1 ll\n\
             r0 += 1\n\
             if r0 > 3 goto +1\n\
             r0 += 2\n\
             exit\n",
        );
        // Slot 0: mov, lddw (one instruction, two slots), add, jump.
        assert_eq!(ops[0].len, 4);
        assert_eq!(ops[1].len, 3);
        assert_eq!(ops[3].len, 2);
        // The jump: target `exit` (1), fall-through `r0 += 2; exit` (2).
        assert_eq!((ops[4].t_len, ops[4].f_len), (1, 2));
        assert_eq!(ops[6].len, 1);
    }

    #[test]
    fn fused_ops_charge_what_their_parts_would() {
        // `r1 += 1; if r1 < 10 goto -2` fuses: the jump is its second slot.
        let ops = planned(
            "r1 = 0\n\
             r1 += 1\n\
             if r1 < 10 goto -2\n\
             r0 = r1\n\
             exit\n",
        );
        assert_eq!(ops[1].code, Code::AddJlt64Imm);
        assert_eq!((ops[1].t_len, ops[1].f_len), (2, 2));
        assert_eq!(ops[0].len, 3);
    }

    #[test]
    fn a_jump_falls_through_past_a_goto_and_charges_it() {
        let ops = planned(
            "r0 = 0\n\
             r0 += 1\n\
             if r0 > 3 goto +1\n\
             goto -3\n\
             if r0 == 4 goto +1\n\
             goto +0\n\
             exit\n",
        );
        // Fused add-and-jump at 1: falls through past the `goto` at 3 to
        // slot 1, charging the `goto` and the run `r0 += 1; if ...` (2).
        assert_eq!(ops[1].code, Code::AddJgt64Imm);
        // (`next` is a byte offset once compiled.)
        let slot = |op: &Op| op.next / crate::compile::OP_BYTES;
        assert_eq!((slot(&ops[1]), ops[1].t_len, ops[1].f_len), (1, 1, 3));
        // A plain jump at 4, the `goto` at 5 goes to 6.
        assert_eq!((slot(&ops[4]), ops[4].t_len, ops[4].f_len), (6, 1, 2));
        // A jump with no `goto` after it falls through to the next slot.
        let prog = check(
            &asm::assemble("r0 = 0\nif r0 > 3 goto +1\nr0 = 1\nexit\n", Syntax::Llvm).unwrap(),
        )
        .unwrap();
        let ops = crate::compile::compile(&prog, &Default::default()).unwrap();
        assert_eq!((slot(&ops[1]), ops[1].f_len), (2, 2));
    }

    /// Subprogram calls and returns, LD_ABS exits, a loop: the same result,
    /// count and error at every budget whether charged by run or one
    /// instruction at a time.
    #[test]
    fn charging_by_run_is_exact_at_every_budget() {
        let src = "r6 = r1\n\
                   r7 = 0\n\
                   r7 += 1\n\
                   r1 = r7\n\
                   call pc+6\n\
                   r0 += r7\n\
                   if r7 < 4 goto -5\n\
                   r6 = r1\n\
                   r0 = *(u8 *)skb[1]\n\
                   r0 = *(u8 *)skb[100]\n\
                   exit\n\
                   r0 = r1\n\
                   r0 *= 3\n\
                   r2 = 1 ll\n\
                   if r0 > 6 goto +1\n\
                   exit\n\
                   r0 += 1\n\
                   exit\n";
        let prog = check(&asm::assemble(src, Syntax::Llvm).unwrap()).unwrap();
        let mut fast = crate::Vm::new(&prog).unwrap();
        let mut checked = fast.clone();
        make_checked_only(&mut checked.ops);
        let full = checked.run(&mut [7u8; 8]).unwrap().insn_count;
        assert!(full > 30, "{full}");
        for budget in 0..=full + 2 {
            fast.set_budget(budget);
            checked.set_budget(budget);
            let (x, y) = (fast.run(&mut [7u8; 8]), checked.run(&mut [7u8; 8]));
            assert_eq!(x, y, "budget {budget}");
        }
    }

    #[test]
    fn a_run_too_long_for_the_fields_makes_the_program_checked_only() {
        let src = "r0 += 1\n".repeat(70_000) + "exit\n";
        let ops = planned(&src);
        assert!(ops
            .iter()
            .all(|op| (op.len, op.t_len, op.f_len) == (CHECKED_ONLY, CHECKED_ONLY, CHECKED_ONLY)));
    }
}
