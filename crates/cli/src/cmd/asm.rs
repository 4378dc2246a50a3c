//! `bpfkit asm FILE [-o OUT] [--syntax llvm|ubpf]`

use crate::failure::{fail, CmdResult};
use crate::{cmd::load, files, SyntaxArg};
use bpfkit_isa::{check, encode_slots};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `bpfkit asm`.
#[derive(clap::Args)]
pub struct Args {
    /// Assembly source file.
    file: PathBuf,
    /// Output file for the raw bytecode (default: standard output, when it is not a terminal).
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// Input syntax.
    #[arg(long, value_enum, default_value_t)]
    syntax: SyntaxArg,
    /// Write the bytes even if the program fails the structural check (e.g. a fragment without exit).
    #[arg(long)]
    no_check: bool,
}

/// Runs `bpfkit asm`.
pub fn run(a: Args) -> CmdResult {
    let slots = load::assemble_file(&a.file, a.syntax.into())?;
    if !a.no_check {
        check(&slots).map_err(|e| {
            fail(format!(
                "{}: {e} (use --no-check to write it anyway)",
                a.file.display()
            ))
        })?;
    }
    let bytes = encode_slots(&slots);
    match a.output {
        Some(out) => files::write_atomic(&out, &bytes)?,
        None => {
            let mut stdout = std::io::stdout();
            if stdout.is_terminal() {
                return Err(fail(
                    "refusing to write bytecode to a terminal: use -o FILE or a pipe",
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
