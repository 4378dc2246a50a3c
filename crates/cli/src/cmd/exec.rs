//! `bpfkit exec FILE [--mem HEX | --mem-file F]`

use crate::failure::{fail, CmdResult};
use crate::{cmd::load, files, hex, SyntaxArg};
use bpfkit_vm::Vm;
use serde::Serialize;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `bpfkit exec`.
#[derive(clap::Args)]
pub struct Args {
    /// Raw bytecode, or assembly (`.s`, `.asm`) assembled first.
    file: PathBuf,
    /// Input memory as hex bytes (`"aa bb cc"`); the program gets r1 = its address, r2 = its length.
    #[arg(long, conflicts_with = "mem_file")]
    mem: Option<String>,
    /// Input memory from a file.
    #[arg(long)]
    mem_file: Option<PathBuf>,
    /// Syntax of an assembly input.
    #[arg(long, value_enum, default_value_t)]
    syntax: SyntaxArg,
    /// Stop after this many instructions.
    #[arg(long, default_value_t = bpfkit_vm::DEFAULT_BUDGET)]
    budget: u64,
    /// Print the memory after the run, as hex.
    #[arg(long)]
    show_mem: bool,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct JsonResult {
    r0: u64,
    r0_hex: String,
    insn_count: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    mem: Option<String>,
}

/// Runs `bpfkit exec`.
pub fn run(a: Args) -> CmdResult {
    let program = load::load_program(&a.file, a.syntax.into())?;
    let mut mem = match (&a.mem, &a.mem_file) {
        (Some(h), _) => hex::parse_hex(h).map_err(|e| fail(format!("--mem: {e}")))?,
        (None, Some(p)) => files::read(p)?,
        (None, None) => Vec::new(),
    };
    let mut vm = Vm::new(&program).map_err(|e| fail(format!("{}: {e}", a.file.display())))?;
    vm.set_budget(a.budget);
    let out = vm
        .run(&mut mem)
        .map_err(|e| fail(format!("{}: {e}", a.file.display())))?;
    let mem_hex = a.show_mem.then(|| {
        mem.iter()
            .map(|b| format!("{b:02x}"))
            .collect::<Vec<_>>()
            .join(" ")
    });
    if a.json {
        let j = JsonResult {
            r0: out.r0,
            r0_hex: format!("{:#x}", out.r0),
            insn_count: out.insn_count,
            mem: mem_hex,
        };
        println!("{}", serde_json::to_string(&j).map_err(fail)?);
    } else {
        println!("r0 = {:#x} ({})", out.r0, out.r0 as i64);
        println!("instructions executed: {}", out.insn_count);
        if let Some(m) = mem_hex {
            println!("mem = {m}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
