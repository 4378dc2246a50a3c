//! Superinstructions (pairs the VM runs as one op) must be invisible: the
//! result, the executed-instruction count, the budget and the instruction
//! index of every error are those of the two instructions run one by one.

mod harness;
use harness::{fails_mem, program, vm};

use bpfkit_isa::Instruction;
use bpfkit_vm::{Access, VmError};

/// A loop whose body and back edge are fusable pairs (`mov` + ALU of both
/// widths, `if .. goto +1; goto L`), entered once in the middle of a pair.
const LOOP: &str = "\
mov %r1, 0
mov %r2, 0
mov %r3, 100
ja mid
top:
mov %r3, %r1
mid:
add %r3, 5
mov32 %r4, %r3
lsh32 %r4, 2
mov %r5, %r4
xor %r5, %r4
add %r2, %r4
add %r2, %r5
add %r1, 1
jeq %r1, 3, out
ja top
out:
mov %r0, %r2
exit";

/// The slots a run may go to next from `pc`.
fn successors(insns: &[(usize, Instruction)], pc: usize) -> Vec<usize> {
    let i = insns.iter().position(|&(at, _)| at == pc).expect("a slot");
    let next = insns.get(i + 1).map_or(usize::MAX, |&(at, _)| at);
    match insns[i].1 {
        Instruction::Ja { off, .. } => vec![(pc as i64 + 1 + off as i64) as usize],
        Instruction::Jump { off, .. } => vec![next, (pc as i64 + 1 + off as i64) as usize],
        _ => vec![next],
    }
}

#[test]
fn fused_pairs_compute_and_count_as_two_instructions() {
    // Iteration 1 starts at `mid` with r3 = 100; 2 and 3 at `top`.
    let expected: u64 = [105u64, 6, 7].iter().map(|r3| r3 * 4).sum();
    let out = vm(LOOP).run(&mut []).unwrap();
    assert_eq!(out.r0, expected);
    // 4 before the loop, 10 + 11 + 10 in it, 2 after.
    assert_eq!(out.insn_count, 4 + 10 + 11 + 10 + 2);
}

#[test]
fn every_budget_stops_at_the_next_instruction_in_program_order() {
    let prog = program(LOOP);
    let insns = prog.instructions();
    let full = vm(LOOP).run(&mut []).unwrap().insn_count;
    // Budget b stops the run at the (b+1)-th executed instruction: the
    // stopping points, budget by budget, are the run's trace, one
    // instruction at a time, with none skipped inside a pair.
    let mut prev = None;
    for budget in 0..full {
        let mut v = vm(LOOP);
        v.set_budget(budget);
        let pc = match v.run(&mut []) {
            Err(VmError::BudgetExhausted { pc, budget: b }) if b == budget => pc,
            other => panic!("budget {budget}: {other:?}"),
        };
        match prev {
            None => assert_eq!(pc, 0),
            Some(p) => assert!(
                successors(insns, p).contains(&pc),
                "budget {budget}: stopped at {pc} after {p}"
            ),
        }
        prev = Some(pc);
    }
    let mut v = vm(LOOP);
    v.set_budget(full);
    assert_eq!(v.run(&mut []).unwrap().insn_count, full);
}

#[test]
fn a_fault_after_fused_pairs_names_its_instruction() {
    // `mov %r2, %r1; add %r2, 8` is fused; the load after it faults at 3.
    let src = "mov %r2, %r1\nadd %r2, 8\nmov %r0, 0\nldxdw %r0, [%r2+0]\nexit";
    let e = fails_mem(src, &mut [0; 8]);
    assert!(
        matches!(
            e,
            VmError::MemoryFault {
                pc: 3,
                access: Access::Read,
                ..
            }
        ),
        "{e}"
    );
}
