//! `bpfkit conformance-plugin`: the bpf_conformance runner's plugin protocol.
//!
//! The runner starts one process per test: `argv[1]` is the input memory as hex
//! bytes (possibly empty), further arguments are runner options, and stdin
//! holds the program as one line of hex bytes. The plugin prints r0 in hex and
//! exits 0, or prints the error on stderr and exits non-zero.

use crate::failure::{fail, CmdResult};
use crate::hex::parse_hex;
use bpfkit_isa::{check, decode_slots};
use bpfkit_vm::Vm;
use std::io::Read;
use std::process::ExitCode;

/// Arguments of `bpfkit conformance-plugin`.
#[derive(clap::Args)]
pub struct Args {
    /// Input memory as hex bytes separated by spaces (may be empty).
    memory: Option<String>,
    /// Options the runner passes through; accepted and ignored.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    options: Vec<String>,
}

/// The helper the conformance suite calls (number 5): returns its first argument.
fn identity_helper(r1: u64, _: u64, _: u64, _: u64, _: u64) -> u64 {
    r1
}

/// Runs `bpfkit conformance-plugin`.
pub fn run(a: Args) -> CmdResult {
    let mut mem = parse_hex(a.memory.as_deref().unwrap_or(""))
        .map_err(|e| fail(format!("input memory (argv[1]): {e}")))?;
    let mut text = String::new();
    std::io::stdin()
        .read_to_string(&mut text)
        .map_err(|e| fail(format!("reading the program from stdin: {e}")))?;
    let code = parse_hex(&text).map_err(|e| fail(format!("program (stdin): {e}")))?;
    let slots = decode_slots(&code).map_err(|e| fail(format!("program (stdin): {e}")))?;
    let program = check(&slots).map_err(|e| fail(format!("program (stdin): {e}")))?;
    let mut vm = Vm::new(&program).map_err(fail)?;
    vm.register_helper(5, identity_helper);
    let out = vm.run(&mut mem).map_err(fail)?;
    println!("{:#x}", out.r0);
    Ok(ExitCode::SUCCESS)
}
