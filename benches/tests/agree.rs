//! Before any figure is compared: bpfkit and rbpf give the same r0 on every
//! benchmark program, and it is the answer of the Rust reference.

use bpfkit_bench::{bpfkit_runner, workloads};

/// Runs `bytecode` in rbpf's interpreter with r1 = `mem` (mbuff empty, so r1
/// points at mem, as in bpfkit's conformance-style runs).
fn rbpf_run(bytecode: &[u8], mem: &[u8]) -> u64 {
    let vm = rbpf::EbpfVmMbuff::new(Some(bytecode)).expect("rbpf accepts the program");
    vm.execute_program(mem, &[]).expect("rbpf runs the program")
}

#[test]
fn rbpf_matches_the_rust_reference() {
    for w in workloads::all() {
        assert_eq!(rbpf_run(w.bytecode, &w.mem), w.expected, "{}", w.name);
    }
}

#[test]
fn expected_values_are_not_trivial() {
    // A reference that returned 0 or an error code would make the agreement
    // meaningless: every compute program's answer is a real checksum.
    for w in workloads::compute() {
        assert!(w.expected > 5, "{}: {:#x}", w.name, w.expected);
    }
}

#[test]
fn bpfkit_matches_rbpf_and_the_reference() {
    for w in workloads::all() {
        let out = bpfkit_runner::run_once(w.bytecode, &w.mem)
            .unwrap_or_else(|e| panic!("{}: {e}", w.name));
        assert_eq!(out.r0, w.expected, "{}: bpfkit vs reference", w.name);
        assert_eq!(
            out.r0,
            rbpf_run(w.bytecode, &w.mem),
            "{}: bpfkit vs rbpf",
            w.name
        );
    }
}

#[test]
fn the_v2_builds_give_the_same_answers() {
    // uBPF is timed on the -mcpu=v2 builds: they compute what the v3 ones
    // do, in bpfkit and in rbpf alike.
    for w in workloads::all() {
        let out = bpfkit_runner::run_once(w.bytecode_v2, &w.mem)
            .unwrap_or_else(|e| panic!("{} (v2): {e}", w.name));
        assert!(w.answers(out.r0), "{} (v2): {:#x}", w.name, out.r0);
        assert_eq!(
            out.r0,
            rbpf_run(w.bytecode_v2, &w.mem),
            "{} (v2): bpfkit vs rbpf",
            w.name
        );
        // No JMP32 (class 6), which uBPF 2018 lacks; the last slot is `exit`.
        let opcodes: Vec<u8> = w.bytecode_v2.chunks(8).map(|slot| slot[0]).collect();
        assert!(
            opcodes.iter().all(|op| op & 7 != 6),
            "{} (v2): JMP32",
            w.name
        );
        assert_eq!(opcodes.last(), Some(&0x95), "{} (v2): last slot", w.name);
    }
}

#[test]
fn a_reused_vm_gives_the_same_answer_every_run() {
    // The benches run one VM many times: a run must not depend on the last.
    for w in workloads::all() {
        let mut vm = bpfkit_runner::load(w.bytecode).expect(w.name);
        let mut mem = w.mem.clone();
        let first = vm.run(&mut mem).expect(w.name);
        for _ in 0..3 {
            assert_eq!(vm.run(&mut mem).expect(w.name), first, "{}", w.name);
        }
    }
}

#[test]
fn instruction_counts_are_those_of_a_real_loop() {
    // The counter is what the report divides by: the trivial program runs 2
    // instructions, and each compute program loops (far more instructions
    // executed than it has slots).
    let trivial = workloads::trivial();
    let out = bpfkit_runner::run_once(trivial.bytecode, &trivial.mem).expect("empty");
    assert_eq!(out.insn_count, 2);
    for w in workloads::compute() {
        let out = bpfkit_runner::run_once(w.bytecode, &w.mem).expect(w.name);
        let slots = (w.bytecode.len() / 8) as u64;
        assert!(
            out.insn_count > slots,
            "{}: {} executed",
            w.name,
            out.insn_count
        );
    }
}
