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

/// A loop over a byte array with the indexed-load groups (`mov; add; ldx`
/// and `add; ldx`), a load then shift, and the add-then-jump and
/// and-then-jump pairs of both widths, immediate and register comparisons,
/// entered once in the middle of a group.
const INDEXED: &str = "\
mov %r2, 0
mov %r3, 0
mov32 %r4, 0
mov %r6, 3
ja mid
top:
mov %r5, %r1
add %r5, %r2
ldxb %r5, [%r5+1]
add %r3, %r5
mid:
mov %r7, %r1
add %r7, %r2
ldxh %r7, [%r7+0]
add %r3, %r7
ldxb %r8, [%r1+3]
lsh %r8, 4
add %r3, %r8
mov %r9, %r2
lsh %r9, 0
and %r9, 2
jeq %r9, 0, even
add %r3, 7
even:
add32 %r4, 1
jlt32 %r4, %r6, skip
add %r3, 1000
skip:
add %r2, 2
jne %r2, 8, top
exit_:
mov %r0, %r3
lsh %r0, 8
or %r0, %r4
exit";

#[test]
fn indexed_loads_and_counted_loops_compute_and_count_exactly() {
    let mut mem: Vec<u8> = (1..=16).collect();
    let out = vm(INDEXED).run(&mut mem).unwrap();
    // i = 0 enters at `mid`: only the u16 load; i = 2, 4, 6 take both.
    let mut r3 = 0u64;
    for (n, i) in [0usize, 2, 4, 6].into_iter().enumerate() {
        if i != 0 {
            r3 += mem[i + 1] as u64;
        }
        r3 += u16::from_le_bytes([mem[i], mem[i + 1]]) as u64;
        r3 += (mem[3] as u64) << 4;
        if i & 2 != 0 {
            r3 += 7;
        }
        if n + 1 >= 3 {
            r3 += 1000;
        }
    }
    assert_eq!(out.r0, r3 << 8 | 4);
    // 5 before; 15 entering at `mid`, 20 for i = 2 (with the +7) and i = 4
    // (with the +1000), 21 for i = 6 (both); 4 after.
    assert_eq!(out.insn_count, 5 + 15 + 20 + 20 + 21 + 4);
}

#[test]
fn an_indexed_load_fault_names_the_load() {
    // The loads are the third instruction of `mov; add; ldx` (slot 2) and
    // the second of `add; ldx` (slot 4, entered by the jump to 3).
    let e = fails_mem(
        "mov %r2, %r1\nadd %r2, %r1\nldxw %r0, [%r2+0]\nexit",
        &mut [0; 8],
    );
    assert!(
        matches!(
            e,
            VmError::MemoryFault {
                pc: 2,
                access: Access::Read,
                ..
            }
        ),
        "{e}"
    );
    let src = "mov %r2, 7\nmov %r3, %r1\nja +0\nadd %r3, %r2\nldxdw %r0, [%r3+0]\nexit";
    let e = fails_mem(src, &mut [0; 8]);
    assert!(
        matches!(
            e,
            VmError::MemoryFault {
                pc: 4,
                access: Access::Read,
                ..
            }
        ),
        "{e}"
    );
}

#[test]
fn every_budget_stops_at_the_next_instruction_in_program_order() {
    budgets_trace_the_run(LOOP, &mut []);
    budgets_trace_the_run(INDEXED, &mut (1..=16).collect::<Vec<u8>>());
}

/// Budget b stops the run at the (b+1)-th executed instruction: the
/// stopping points, budget by budget, are the run's trace, one instruction
/// at a time, with none skipped inside a fused group.
fn budgets_trace_the_run(src: &str, mem: &mut [u8]) {
    let prog = program(src);
    let insns = prog.instructions();
    let full = vm(src).run(mem).unwrap().insn_count;
    let mut prev = None;
    for budget in 0..full {
        let mut v = vm(src);
        v.set_budget(budget);
        let pc = match v.run(mem) {
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
    let mut v = vm(src);
    v.set_budget(full);
    assert_eq!(v.run(mem).unwrap().insn_count, full);
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
