//! `bpfkit`: assemble, disassemble and run BPF programs.
//!
//! The CLI is thin: it parses arguments, calls the library crates and renders
//! their results. Every failure ends with a message naming the place (file,
//! line, instruction) and a non-zero exit status.
#![forbid(unsafe_code)]

mod cmd;
mod failure;
mod files;
mod hex;

use clap::{Parser, Subcommand, ValueEnum};
use std::process::ExitCode;

/// The BPF toolchain in one binary.
#[derive(Parser)]
#[command(name = "bpfkit", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Assemble BPF assembly into raw bytecode.
    Asm(cmd::asm::Args),
    /// Disassemble raw bytecode or a BPF ELF object.
    Disasm(cmd::disasm::Args),
    /// Show what a BPF ELF object holds: programs, maps, globals, relocations, BTF.
    Inspect(cmd::inspect::Args),
    /// Run a program in the interpreter and print r0.
    Exec(cmd::exec::Args),
    /// Run an object's XDP, TC or socket filter program over a pcap (or one buffer, as BPF_PROG_TEST_RUN).
    Run(cmd::run::Args),
    /// Speak the bpf_conformance runner's plugin protocol (one test per process).
    ConformancePlugin(cmd::conformance_plugin::Args),
    /// Inspect BTF: dump its types as C or raw, as bpftool does.
    Btf(cmd::btf::Args),
}

/// Assembly syntax, as a command-line value.
#[derive(Clone, Copy, Debug, Default, ValueEnum)]
pub enum SyntaxArg {
    /// LLVM / kernel syntax (`r0 = *(u32 *)(r1 + 0)`).
    #[default]
    Llvm,
    /// uBPF / bpf_conformance syntax (`ldxw %r0, [%r1]`).
    Ubpf,
}

impl From<SyntaxArg> for bpfkit_isa::Syntax {
    fn from(s: SyntaxArg) -> Self {
        match s {
            SyntaxArg::Llvm => bpfkit_isa::Syntax::Llvm,
            SyntaxArg::Ubpf => bpfkit_isa::Syntax::Ubpf,
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Asm(a) => cmd::asm::run(a),
        Command::Disasm(a) => cmd::disasm::run(a),
        Command::Inspect(a) => cmd::inspect::run(a),
        Command::Exec(a) => cmd::exec::run(a),
        Command::Run(a) => cmd::run::run(a),
        Command::ConformancePlugin(a) => cmd::conformance_plugin::run(a),
        Command::Btf(a) => cmd::btf::run(a),
    };
    match result {
        Ok(code) => code,
        Err(f) => {
            eprintln!("{f}");
            ExitCode::FAILURE
        }
    }
}
