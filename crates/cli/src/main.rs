//! `bpfkit`: assemble, disassemble and run BPF programs, and manage the
//! kernel's programs, maps, links and BTF.
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
    /// Assemble BPF assembly into a BPF ELF object (`-o prog.o`) or raw bytecode.
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
    /// BTF: dump a file's types as C or raw (as bpftool does); list and
    /// show the kernel's BTF objects.
    Btf(cmd::btf::Args),
    /// Kernel programs: list, show, dump, pin, test run, load objects (as bpftool prog).
    #[command(subcommand)]
    Prog(cmd::prog::Command),
    /// Kernel maps: list, show, dump, lookup, update, delete, create, pin, freeze.
    #[command(subcommand)]
    Map(cmd::map::Command),
    /// Kernel links: list, show.
    #[command(subcommand)]
    Link(cmd::link::Command),
    /// Probe what the running kernel supports.
    #[command(subcommand)]
    Feature(cmd::feature::Command),
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
        Command::Prog(c) => cmd::prog::run(c),
        Command::Map(c) => cmd::map::run(c),
        Command::Link(c) => cmd::link::run(c),
        Command::Feature(c) => cmd::feature::run(c),
    };
    match result {
        Ok(code) => code,
        Err(f) => {
            eprintln!("{f}");
            ExitCode::FAILURE
        }
    }
}
