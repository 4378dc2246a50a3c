//! Building and running small programs written in uBPF assembly.

#![allow(dead_code)]

use bpfkit_isa::asm::assemble;
use bpfkit_isa::{check, Program, Syntax};
use bpfkit_vm::{RunOutcome, Vm, VmError};

/// Assembles and checks `src` (uBPF syntax), panicking with the error.
pub fn program(src: &str) -> Program {
    let slots = assemble(src, Syntax::Ubpf).unwrap_or_else(|e| panic!("assemble: {e}\n{src}"));
    check(&slots).unwrap_or_else(|e| panic!("check: {e}\n{src}"))
}

/// A VM for `src` with no helpers.
pub fn vm(src: &str) -> Vm {
    Vm::new(&program(src)).expect("load")
}

/// Runs `src` on `mem`.
pub fn run_mem(src: &str, mem: &mut [u8]) -> Result<RunOutcome, VmError> {
    vm(src).run(mem)
}

/// Runs `src` with empty input and returns r0, panicking on an error.
pub fn r0(src: &str) -> u64 {
    match run_mem(src, &mut []) {
        Ok(out) => out.r0,
        Err(e) => panic!("run: {e}\n{src}"),
    }
}

/// Runs `src` with empty input and returns the error, panicking on success.
pub fn fails(src: &str) -> VmError {
    fails_mem(src, &mut [])
}

/// Runs `src` on `mem` and returns the error, panicking on success.
pub fn fails_mem(src: &str, mem: &mut [u8]) -> VmError {
    match run_mem(src, mem) {
        Ok(out) => panic!("expected an error, got r0 = {:#x}\n{src}", out.r0),
        Err(e) => e,
    }
}
