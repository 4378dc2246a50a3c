//! Any bytes as a program and its input, through the whole userspace path:
//! decode, structural check, load, run. A program that passes `check` may do
//! anything: every outcome must be a value or a typed error, never a panic,
//! a hang (the budget stops loops) or a crash.
//!
//! Input layout: 2 bytes little-endian mem length (taken modulo 4097), that
//! many bytes of mem (or what is left), then the program (whole slots).
#![no_main]

use bpfkit_isa::{check, decode_slots};
use bpfkit_vm::{HelperContext, HelperError, Vm};
use libfuzzer_sys::fuzz_target;

/// Enough for loops to run a while, small enough to keep executions fast.
const BUDGET: u64 = 10_000;

fn split(data: &[u8]) -> (&[u8], &[u8]) {
    let Some((len, rest)) = data.split_first_chunk::<2>() else {
        return (&[], data);
    };
    let len = (u16::from_le_bytes(*len) as usize % 4097).min(rest.len());
    rest.split_at(len)
}

fuzz_target!(|data: &[u8]| {
    let (mem, code) = split(data);
    let code = &code[..code.len() / 8 * 8];
    let Ok(slots) = decode_slots(code) else {
        return;
    };
    let Ok(program) = check(&slots) else {
        return;
    };
    let Ok(mut vm) = Vm::new(&program) else {
        return;
    };
    vm.set_budget(BUDGET);
    // Two helpers, so programs that call them reach the helper paths: a pure
    // one (bpf_get_prandom_u32's number) and one that reads and writes the
    // program's memory through its context (bpf_probe_read_kernel's number:
    // copy r2 bytes from r3 to r1).
    vm.register_helper(7, |a, b, c, d, e| a ^ b ^ c ^ d ^ e);
    vm.register_helper_with_context(
        113,
        |ctx: &mut HelperContext<'_, '_, '_>, args: [u64; 5]| {
            let len = (args[1] as usize).min(64);
            let bytes = ctx.read(args[2], len)?.to_vec();
            ctx.write(args[0], &bytes)?;
            Ok::<u64, HelperError>(0)
        },
    );
    let mut mem = mem.to_vec();
    if let Ok(out) = vm.run(&mut mem) {
        assert!(
            out.insn_count <= BUDGET,
            "ran {} instructions past the budget",
            out.insn_count
        );
    }
    // A second run on the same VM sees the first run's stack: still no panic.
    let _ = vm.run(&mut mem);
});
