//! BPF-to-BPF calls, the call depth limit, the instruction budget, helpers
//! and what the VM refuses to load.

mod harness;
use harness::{fails, program, r0, vm};

use bpfkit_isa::{check, Insn};
use bpfkit_vm::{
    HelperError, Helpers, LoadError, Vm, VmError, DEFAULT_BUDGET, MAX_CALL_FRAMES, STACK_BASE,
    STACK_SIZE,
};

/// main calls f with r1 = n; f recurses until r1 reaches 0, so the run
/// needs 1 + n frames. The `call local f` inside f is at slot 6.
fn recursion(n: u32) -> String {
    format!(
        "mov %r1, {n}\ncall local f\nexit\n\
         f:\nadd %r1, -1\nmov %r0, %r10\njeq %r1, 0, done\ncall local f\ndone:\nexit"
    )
}

#[test]
fn call_depth_is_limited_to_eight_frames() {
    assert_eq!(MAX_CALL_FRAMES, 8);
    // Eight frames: the deepest one's r10 is seven frames below the top.
    assert_eq!(r0(&recursion(7)), STACK_BASE + STACK_SIZE as u64 - 7 * 512);
    let e = fails(&recursion(8));
    assert_eq!(e, VmError::CallDepthExceeded { pc: 6, max: 8 });
    assert_eq!(e.to_string(), "instruction 6: call depth exceeds 8 frames");
}

#[test]
fn calls_pass_r1_to_r5_and_preserve_r6_to_r9() {
    let src = "mov %r6, 6\nmov %r7, 7\nmov %r8, 8\nmov %r9, 9\nmov %r1, 1\nmov %r5, 5\n\
               call local f\n\
               add %r0, %r6\nadd %r0, %r7\nadd %r0, %r8\nadd %r0, %r9\nexit\n\
               f:\nmov %r6, 100\nmov %r7, 100\nmov %r8, 100\nmov %r9, 100\n\
               mov %r0, %r1\nadd %r0, %r5\nexit";
    assert_eq!(r0(src), 1 + 5 + 6 + 7 + 8 + 9);
}

#[test]
fn each_frame_has_its_own_stack_and_may_use_its_callers_through_a_pointer() {
    // The callee's [r10-8] is not the caller's [r10-8].
    let own = "stdw [%r10-8], 1\ncall local f\nldxdw %r0, [%r10-8]\nexit\n\
               f:\nstdw [%r10-8], 2\nexit";
    assert_eq!(r0(own), 1);
    // A pointer to the caller's frame stays valid in the callee.
    let via_ptr = "stdw [%r10-8], 1\nmov %r1, %r10\nadd %r1, -8\ncall local f\n\
                   ldxdw %r0, [%r10-8]\nexit\nf:\nstdw [%r1+0], 42\nexit";
    assert_eq!(r0(via_ptr), 42);
    // Below the callee's own frame is out of bounds.
    let e = fails("call local f\nexit\nf:\nstb [%r10-513], 0\nexit");
    assert!(matches!(e, VmError::MemoryFault { pc: 2, .. }), "{e}");
    // After the return, the callee's frame is out of bounds again.
    let e = fails("call local f\nldxb %r0, [%r10-513]\nexit\nf:\nexit");
    assert!(matches!(e, VmError::MemoryFault { pc: 1, .. }), "{e}");
}

#[test]
fn the_budget_stops_runaway_loops_exactly() {
    let mut v = vm("L:\nja L\nexit");
    assert_eq!(v.budget(), DEFAULT_BUDGET);
    v.set_budget(1000);
    let e = v.run(&mut []).unwrap_err();
    assert_eq!(
        e,
        VmError::BudgetExhausted {
            pc: 0,
            budget: 1000
        }
    );
    assert_eq!(
        e.to_string(),
        "instruction 0: instruction budget of 1000 exhausted"
    );
    // A budget of exactly the instructions needed suffices; one less does not.
    let mut v = vm("lddw %r0, 0x100000000\nadd %r0, 1\nexit");
    v.set_budget(3);
    let out = v.run(&mut []).unwrap();
    assert_eq!((out.r0, out.insn_count), (0x1_0000_0001, 3));
    v.set_budget(2);
    assert_eq!(
        v.run(&mut []).unwrap_err(),
        VmError::BudgetExhausted { pc: 3, budget: 2 }
    );
}

#[test]
fn helpers_get_r1_to_r5_and_return_r0() {
    let mut v = vm("mov %r1, 1\nmov %r2, 2\nmov %r3, 3\nmov %r4, 4\nmov %r5, 5\ncall 7\nexit");
    v.register_helper(7, |a, b, c, d, e| {
        a * 10000 + b * 1000 + c * 100 + d * 10 + e
    });
    assert_eq!(v.run(&mut []).unwrap().r0, 12345);
    // Re-registering replaces the function.
    v.register_helper(7, |_, _, _, _, _| 9);
    assert_eq!(v.run(&mut []).unwrap().r0, 9);
    // callx calls the helper whose number is in the register.
    let mut v = vm("mov %r1, 20\nmov %r6, 7\ncall %r6\nexit");
    v.register_helper(7, |a, _, _, _, _| a + 1);
    assert_eq!(v.run(&mut []).unwrap().r0, 21);
}

#[test]
fn unknown_helpers_are_reported_with_name_and_index() {
    // Reported before the program runs, even when the call is never reached.
    let src = "mov %r0, 0\nja L\ncall 5\nL:\nexit";
    let mut v = vm(src);
    let e = v.run(&mut []).unwrap_err();
    assert_eq!(e, VmError::UnknownHelper { pc: 2, id: 5 });
    assert_eq!(
        e.to_string(),
        "instruction 2: call to unknown helper 5 (bpf_ktime_get_ns)"
    );
    assert_eq!(
        v.resolve_helpers(),
        Err(LoadError::UnknownHelper { pc: 2, id: 5 })
    );
    // At load time with `with_helpers`.
    let e = Vm::with_helpers(&program(src), Helpers::new()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "instruction 2: call to unknown helper 5 (bpf_ktime_get_ns)"
    );
    let mut helpers = Helpers::new();
    helpers.register(5, |_, _, _, _, _| 1);
    assert!(Vm::with_helpers(&program(src), helpers).is_ok());
    // callx fails when it runs, with the register's value.
    let e = fails("lddw %r1, 0x100000000\ncall %r1\nexit");
    assert_eq!(e, VmError::UnknownHelper { pc: 2, id: 1 << 32 });
    assert_eq!(
        e.to_string(),
        "instruction 2: call to unknown helper 4294967296"
    );
}

#[test]
fn context_helpers_use_the_programs_memory_through_the_checks() {
    // Helper 1 copies r3 bytes from r2 to r1 and returns the count.
    let src = "stdw [%r10-8], 0x41424344\nmov %r1, %r10\nadd %r1, -16\n\
               mov %r2, %r10\nadd %r2, -8\nmov %r3, 8\ncall 1\n\
               ldxdw %r0, [%r10-16]\nexit";
    let mut v = vm(src);
    v.register_helper_with_context(1, |ctx, [dst, src, len, _, _]| {
        let bytes = ctx.read(src, len as usize)?.to_vec();
        ctx.write(dst, &bytes)?;
        Ok(bytes.len() as u64)
    });
    assert_eq!(v.run(&mut []).unwrap().r0, 0x4142_4344);
    // A helper's error stops the program, naming the call.
    let mut v = vm("mov %r1, 0\ncall 1\nexit");
    v.register_helper_with_context(1, |ctx, [addr, _, _, _, _]| ctx.read(addr, 4).map(|_| 0));
    let e = v.run(&mut []).unwrap_err();
    assert!(
        matches!(e, VmError::HelperFailed { pc: 1, id: 1, .. }),
        "{e}"
    );
    assert_eq!(
        e.to_string(),
        "instruction 1: helper 1 (bpf_map_lookup_elem) failed: \
         read of 4 bytes at 0x0 is outside the program's memory"
    );
    let mut v = vm("call 2\nexit");
    v.register_helper_with_context(2, |_, _| Err(HelperError("no such map".into())));
    assert!(v
        .run(&mut [])
        .unwrap_err()
        .to_string()
        .ends_with("failed: no such map"));
}

#[test]
fn what_the_vm_cannot_provide_is_refused_at_load() {
    let exit = Insn::new(0x95, 0, 0, 0, 0);
    // lddw r1, map fd 3
    let map = check(&[Insn::new(0x18, 1, 1, 0, 3), Insn::new(0, 0, 0, 0, 0), exit]).unwrap();
    let e = Vm::new(&map).unwrap_err();
    assert_eq!(
        e,
        LoadError::Unsupported {
            pc: 0,
            what: "lddw of a map reference"
        }
    );
    assert_eq!(
        e.to_string(),
        "instruction 0: lddw of a map reference is not supported by the userspace VM"
    );
    // call of a kfunc
    let kfunc = check(&[Insn::new(0x85, 0, 2, 0, 77), exit]).unwrap();
    assert!(matches!(
        Vm::new(&kfunc),
        Err(LoadError::Unsupported { pc: 0, .. })
    ));
}

#[test]
fn a_vm_runs_again_and_again_with_the_same_result() {
    let mut v = vm("mov %r0, %r2\nldxb %r3, [%r1]\nadd %r0, %r3\nexit");
    let mut mem = [40u8, 0, 0];
    for _ in 0..3 {
        let out = v.run(&mut mem).unwrap();
        assert_eq!((out.r0, out.insn_count), (43, 4));
    }
    // A fault in one run does not poison the next.
    let mut v = vm("call local f\nexit\nf:\nldxb %r0, [%r1]\nexit");
    assert!(v.run(&mut []).is_err());
    assert_eq!(v.run(&mut [9]).unwrap().r0, 9);
}
