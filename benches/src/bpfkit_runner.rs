//! Loading a benchmark program into bpfkit's VM, the way any user would:
//! bytes → `decode_slots` → `check` → `Vm::new`.

use bpfkit_isa::{check, decode_slots};
use bpfkit_vm::{RunOutcome, Vm, VmError};

/// Decodes, checks and loads raw bytecode; the error names the stage that
/// refused it.
pub fn load(bytecode: &[u8]) -> Result<Vm, String> {
    let slots = decode_slots(bytecode).map_err(|e| format!("decode: {e}"))?;
    let program = check(&slots).map_err(|e| format!("check: {e}"))?;
    Vm::new(&program).map_err(|e| format!("load: {e}"))
}

/// Loads and runs once on a copy of `mem`: r0 and the executed instruction count.
pub fn run_once(bytecode: &[u8], mem: &[u8]) -> Result<RunOutcome, String> {
    let mut vm = load(bytecode)?;
    let mut mem = mem.to_vec();
    vm.run(&mut mem).map_err(|e: VmError| format!("run: {e}"))
}
