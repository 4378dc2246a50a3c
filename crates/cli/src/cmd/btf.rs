//! `bpfkit btf dump FILE [--format c|raw] [--json] [--base BTF]`
//!
//! FILE is raw BTF (the kernel's `/sys/kernel/btf/vmlinux`, a module's
//! split BTF with `--base`, or a file written by `bpftool btf dump ... format
//! raw`). The output is what `bpftool btf dump file FILE [format c]` and
//! `bpftool -j btf dump file FILE` print, byte for byte.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use bpfkit_object::btf::{dump_c, dump_raw, BpftoolJson, Btf};

use crate::failure::{fail, CmdResult, Failure};
use crate::files;

/// Arguments of `bpfkit btf`.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: BtfCommand,
}

#[derive(clap::Subcommand)]
enum BtfCommand {
    /// Print the types of a BTF file, as `bpftool btf dump file` does.
    Dump(DumpArgs),
}

/// Output formats of `btf dump`.
#[derive(Clone, Copy, Debug, Default, clap::ValueEnum)]
enum Format {
    /// One line per type with its members, as `bpftool btf dump file F`.
    #[default]
    Raw,
    /// A C header, as `bpftool btf dump file F format c`.
    C,
}

#[derive(clap::Args)]
struct DumpArgs {
    /// Raw BTF file (e.g. /sys/kernel/btf/vmlinux).
    file: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
    /// Print bpftool's JSON (`bpftool -j btf dump file F`) instead.
    #[arg(long, conflicts_with = "format")]
    json: bool,
    /// Base BTF of a split BTF file (a kernel module's BTF needs vmlinux).
    #[arg(long)]
    base: Option<PathBuf>,
}

/// Runs `bpfkit btf`.
pub fn run(a: Args) -> CmdResult {
    match a.command {
        BtfCommand::Dump(d) => dump(d),
    }
}

fn dump(a: DumpArgs) -> CmdResult {
    let btf = match &a.base {
        Some(base) => {
            let base = read_btf(base, None)?;
            read_btf(&a.file, Some(&base))?
        }
        None => read_btf(&a.file, None)?,
    };
    let text = if a.json {
        let mut s = serde_json::to_string(&BpftoolJson(&btf)).map_err(fail)?;
        s.push('\n');
        s
    } else {
        match a.format {
            Format::Raw => dump_raw(&btf),
            Format::C => dump_c(&btf).map_err(|e| fail(format!("{}: {e}", a.file.display())))?,
        }
    };
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        Ok(()) => Ok(ExitCode::SUCCESS),
        // A closed pipe (`| head`) is not an error of ours.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(ExitCode::SUCCESS),
        Err(e) => Err(fail(format!("writing the dump: {e}"))),
    }
}

/// Reads raw BTF from `path`, as split BTF on `base` when given.
fn read_btf(path: &Path, base: Option<&Btf>) -> Result<Btf, Failure> {
    let bytes = files::read(path)?;
    let parsed = match base {
        Some(base) => Btf::parse_split(&bytes, base),
        None => Btf::parse(&bytes),
    };
    parsed.map_err(|e| fail(format!("{}: {e}", path.display())))
}
