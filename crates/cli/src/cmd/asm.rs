//! `bpfkit asm FILE [-o OUT] [--syntax llvm|ubpf] [--format elf|raw]`

use crate::failure::{fail, CmdResult};
use crate::{cmd::load, files, SyntaxArg};
use bpfkit_isa::{check, encode_slots};
use bpfkit_object::write::{assemble_object, WriteError};
use clap::ValueEnum;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// What `bpfkit asm` writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A relocatable BPF ELF object, as clang writes (sections, symbols, relocations).
    Elf,
    /// Raw bytecode: the 8-byte instruction slots, nothing else.
    Raw,
}

/// Arguments of `bpfkit asm`.
#[derive(clap::Args)]
pub struct Args {
    /// Assembly source file.
    file: PathBuf,
    /// Output file (default: standard output, when it is not a terminal).
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// Input syntax (ELF objects take the LLVM syntax with clang's directives).
    #[arg(long, value_enum, default_value_t)]
    syntax: SyntaxArg,
    /// Output format [default: elf when OUT ends in `.o`, else raw].
    #[arg(long, value_enum)]
    format: Option<Format>,
    /// Write raw bytes even if the program fails the structural check (e.g. a fragment without exit).
    #[arg(long)]
    no_check: bool,
}

/// Runs `bpfkit asm`.
pub fn run(a: Args) -> CmdResult {
    let format = a.format.unwrap_or_else(|| match &a.output {
        Some(out) if out.extension().is_some_and(|e| e == "o") => Format::Elf,
        _ => Format::Raw,
    });
    let bytes = match format {
        Format::Raw => raw(&a)?,
        Format::Elf => elf(&a)?,
    };
    match a.output {
        Some(out) => files::write_atomic(&out, &bytes)?,
        None => {
            let mut stdout = std::io::stdout();
            if stdout.is_terminal() {
                return Err(fail(
                    "refusing to write binary output to a terminal: use -o FILE or a pipe",
                ));
            }
            stdout
                .write_all(&bytes)
                .and_then(|_| stdout.flush())
                .map_err(|e| fail(format!("writing to standard output: {e}")))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn raw(a: &Args) -> Result<Vec<u8>, crate::failure::Failure> {
    let slots = load::assemble_file(&a.file, a.syntax.into())?;
    if !a.no_check {
        check(&slots).map_err(|e| {
            fail(format!(
                "{}: {e} (use --no-check to write it anyway)",
                a.file.display()
            ))
        })?;
    }
    Ok(encode_slots(&slots))
}

fn elf(a: &Args) -> Result<Vec<u8>, crate::failure::Failure> {
    if matches!(a.syntax, SyntaxArg::Ubpf) {
        return Err(fail(
            "ELF objects are written from LLVM-syntax assembly (clang -S); use --format raw for uBPF syntax",
        ));
    }
    let text = files::read_text(&a.file)?;
    assemble_object(&text).map_err(|e| render(e, &text, &a.file))
}

fn render(e: WriteError, text: &str, path: &Path) -> crate::failure::Failure {
    match e {
        WriteError::Asm(e) => fail(e.render(text, &path.display().to_string())),
        other => fail(format!("{}: {other}", path.display())),
    }
}
