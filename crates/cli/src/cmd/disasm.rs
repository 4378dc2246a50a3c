//! `bpfkit disasm FILE [--raw-insn] [--syntax llvm|ubpf] [--json] [--section S] [--source]`

use crate::failure::{fail, CmdResult};
use crate::{cmd::load, SyntaxArg};
use bpfkit_isa::disasm::{format_instruction, listing_with, DisasmOptions, Flavor, ListingContext};
use bpfkit_isa::{check, helpers, CallTarget, Instruction, Syntax};
use bpfkit_object::read::listing::describe;
use bpfkit_object::read::{ListingOptions, Object};
use serde::Serialize;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `bpfkit disasm`.
#[derive(clap::Args)]
pub struct Args {
    /// Raw bytecode file, a BPF ELF object (told by its magic), or assembly
    /// (`.s`, to see how it assembles).
    file: PathBuf,
    /// In an ELF object, only this section.
    #[arg(long)]
    section: Option<String>,
    /// In an ELF object, interleave the C source lines from BTF line info.
    #[arg(long)]
    source: bool,
    /// Show offsets and raw bytes, as `llvm-objdump -d` does by default.
    #[arg(long)]
    raw_insn: bool,
    /// Output syntax.
    #[arg(long, value_enum, default_value_t)]
    syntax: SyntaxArg,
    /// Print exactly what `llvm-objdump -d` prints: no helper names, objdump's
    /// own spelling of local calls and narrow loads (which does not always
    /// assemble back to the same bytes).
    #[arg(long)]
    no_annotate: bool,
    /// Print a JSON array, one object per instruction.
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct JsonInsn {
    pc: usize,
    bytes: String,
    text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    helper: Option<&'static str>,
}

/// Runs `bpfkit disasm`.
pub fn run(a: Args) -> CmdResult {
    let syntax: Syntax = a.syntax.into();
    if !load::is_assembly(&a.file) && load::is_elf(&a.file)? {
        return disasm_object(&a, syntax);
    }
    if a.section.is_some() || a.source {
        return Err(fail(format!(
            "{}: --section and --source need a BPF ELF object",
            a.file.display()
        )));
    }
    let slots = if load::is_assembly(&a.file) {
        load::assemble_file(&a.file, syntax)?
    } else {
        load::read_bytecode(&a.file)?
    };
    if a.json {
        let mut out = Vec::new();
        let mut pc = 0;
        while pc < slots.len() {
            let (text, n, helper) = match Instruction::decode(&slots[pc..]) {
                Ok((insn, n)) => {
                    let helper = match insn {
                        Instruction::Call(CallTarget::Helper(id)) => helpers::helper_name(id),
                        _ => None,
                    };
                    (format_instruction(&insn, syntax), n, helper)
                }
                Err(e) => (format!("<invalid: {e}>"), 1, None),
            };
            let bytes = slots[pc..pc + n]
                .iter()
                .flat_map(|s| s.to_bytes())
                .map(|b| format!("{b:02x}"))
                .collect::<Vec<_>>()
                .join(" ");
            out.push(JsonInsn {
                pc,
                bytes,
                text,
                helper,
            });
            pc += n;
        }
        let json = serde_json::to_string_pretty(&out).map_err(fail)?;
        println!("{json}");
    } else {
        let opts = DisasmOptions {
            syntax,
            raw_insn: a.raw_insn,
            annotate: !a.no_annotate,
        };
        // Annotated output names every instruction exactly (objdump's
        // `--mcpu=v4` decoder); without annotations it is plain `objdump -d`.
        let ctx = ListingContext {
            flavor: if a.no_annotate {
                Flavor::NoAlu32
            } else {
                Flavor::Alu32
            },
            ..ListingContext::default()
        };
        print!("{}", listing_with(&slots, &opts, &ctx));
    }
    if let Err(e) = check(&slots) {
        eprintln!("warning: {}: {e}", a.file.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// `disasm` of an ELF object: each section as `llvm-objdump -d` lists it.
fn disasm_object(a: &Args, syntax: Syntax) -> CmdResult {
    let obj = Object::open(&a.file).map_err(fail)?;
    if let Some(s) = &a.section {
        if !obj.functions.iter().any(|f| &f.section == s) {
            return Err(fail(format!(
                "{}: no executable section '{s}'",
                a.file.display()
            )));
        }
    }
    let opts = ListingOptions {
        disasm: DisasmOptions {
            syntax,
            raw_insn: a.raw_insn,
            annotate: !a.no_annotate,
        },
        section: a.section.clone(),
        source: a.source,
    };
    if a.json {
        let mut out = Vec::new();
        for sec in obj.listing_lines(&opts) {
            for l in sec.lines {
                out.push(JsonObjInsn {
                    section: sec.section,
                    function: l.symbol,
                    pc: l.line.pc,
                    bytes: l
                        .line
                        .bytes
                        .iter()
                        .map(|b| format!("{b:02x}"))
                        .collect::<Vec<_>>()
                        .join(" "),
                    text: l.line.text.clone(),
                    source: l
                        .source
                        .iter()
                        .map(|li| li.line_text.trim_start())
                        .collect(),
                    relocations: l.relocations.iter().map(|r| describe(&r.target)).collect(),
                });
            }
        }
        println!("{}", serde_json::to_string_pretty(&out).map_err(fail)?);
        return Ok(ExitCode::SUCCESS);
    }
    print!("{}", obj.listing(&a.file.display().to_string(), &opts));
    Ok(ExitCode::SUCCESS)
}

#[derive(Serialize)]
struct JsonObjInsn<'a> {
    section: &'a str,
    function: &'a str,
    pc: usize,
    bytes: String,
    text: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    source: Vec<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    relocations: Vec<String>,
}
