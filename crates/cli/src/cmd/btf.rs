//! `bpfkit btf dump FILE [--format c|raw] [--json] [--base BTF]`
//! (and `bpfkit btf list|show`, in `btf_list`)
//!
//! FILE is raw BTF (the kernel's `/sys/kernel/btf/vmlinux`, a module's
//! split BTF with `--base`, or a file written by `bpftool btf dump ... format
//! raw`). The output is what `bpftool btf dump file FILE [format c]` and
//! `bpftool -j btf dump file FILE` print, byte for byte.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use bpfkit_object::btf::{dump_c, dump_raw, BpftoolJson, Btf};
use bpfkit_object::co_re::{CoreResolution, CoreTarget, Relocator};
use bpfkit_object::read::Object;
use serde::Serialize;

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
    /// Resolve an object's CO-RE relocations against a target BTF and
    /// report each one.
    Core(CoreArgs),
    /// Show every kernel BTF object, or one (`id N`), as `bpftool btf show`.
    #[command(visible_alias = "list")]
    Show(super::btf_list::Args),
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
    /// Raw BTF file (e.g. /sys/kernel/btf/vmlinux) or ELF object.
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

#[derive(clap::Args)]
struct CoreArgs {
    /// The BPF ELF object whose relocations to resolve.
    object: PathBuf,
    /// Target BTF: raw BTF or an ELF object (default: the running kernel's
    /// /sys/kernel/btf/vmlinux).
    #[arg(long)]
    target: Option<PathBuf>,
    /// Print JSON: one object per program with its relocations.
    #[arg(long)]
    json: bool,
}

/// The running kernel's BTF.
const VMLINUX: &str = "/sys/kernel/btf/vmlinux";

/// Runs `bpfkit btf`.
pub fn run(a: Args) -> CmdResult {
    match a.command {
        BtfCommand::Dump(d) => dump(d),
        BtfCommand::Core(c) => core(c),
        BtfCommand::Show(a) => super::btf_list::run(a),
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
    print(&text)
}

/// Writes `text` to stdout; a closed pipe (`| head`) is not an error.
fn print(text: &str) -> CmdResult {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        Ok(()) => Ok(ExitCode::SUCCESS),
        // A closed pipe (`| head`) is not an error of ours.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(ExitCode::SUCCESS),
        Err(e) => Err(fail(format!("writing the dump: {e}"))),
    }
}

/// The CO-RE report of one program.
#[derive(Serialize)]
struct ProgramCore<'a> {
    program: &'a str,
    section: &'a str,
    relocations: Vec<CoreResolution>,
}

fn core(a: CoreArgs) -> CmdResult {
    let obj = Object::open(&a.object).map_err(fail)?;
    let (Some(local), Some(_)) = (&obj.btf, &obj.btf_ext) else {
        return Err(fail(format!(
            "{}: no .BTF and .BTF.ext sections, so no CO-RE relocations",
            a.object.display()
        )));
    };
    let target_path = a.target.unwrap_or_else(|| PathBuf::from(VMLINUX));
    let target = read_btf(&target_path, None)?;
    let mut relocator = Relocator::new(local, CoreTarget::new(&target));
    let mut reports = Vec::new();
    for p in obj.programs.iter().filter(|p| !p.core_relos.is_empty()) {
        let mut slots = p.slots().to_vec();
        let relocations = p
            .core_relos
            .iter()
            .enumerate()
            .map(|(i, r)| {
                // The reader counts the linked program's slots; the
                // relocator takes byte offsets, as `.BTF.ext` has them.
                let rec = bpfkit_object::btf::CoreRelo {
                    insn_off: r.insn_off.saturating_mul(8),
                    ..r.clone()
                };
                relocator.report(&p.section, i, &rec, &mut slots)
            })
            .collect();
        reports.push(ProgramCore {
            program: &p.name,
            section: &p.section,
            relocations,
        });
    }
    let text = if a.json {
        let mut s = serde_json::to_string_pretty(&reports).map_err(fail)?;
        s.push('\n');
        s
    } else {
        let mut s = String::new();
        let count: usize = reports.iter().map(|r| r.relocations.len()).sum();
        s.push_str(&format!(
            "{}: {count} CO-RE relocations in {} programs, against {}\n",
            a.object.display(),
            reports.len(),
            target_path.display()
        ));
        for r in &reports {
            s.push_str(&format!("\n{} (section {}):\n", r.program, r.section));
            for res in &r.relocations {
                s.push_str(&format!("  {res}\n"));
            }
        }
        s
    };
    print(&text)
}

/// Reads BTF from `path`: raw BTF (as split BTF on `base` when given), or
/// the `.BTF` of an ELF object.
fn read_btf(path: &Path, base: Option<&Btf>) -> Result<Btf, Failure> {
    let bytes = files::read(path)?;
    if bytes.starts_with(b"\x7fELF") {
        let obj = Object::parse_named(&bytes, &path.display().to_string()).map_err(fail)?;
        return obj.btf.ok_or_else(|| {
            fail(format!(
                "{}: the object has no .BTF section",
                path.display()
            ))
        });
    }
    let parsed = match base {
        Some(base) => Btf::parse_split(&bytes, base),
        None => Btf::parse(&bytes),
    };
    parsed.map_err(|e| fail(format!("{}: {e}", path.display())))
}
