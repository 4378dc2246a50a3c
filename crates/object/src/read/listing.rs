//! The object's code as `llvm-objdump -d` lists it: each executable
//! section under `Disassembly of section NAME:`, a `<symbol>:` header at
//! every symbol, instructions numbered from the section start; optionally
//! with relocation targets named and source lines from BTF line info
//! interleaved (as `bpftool prog dump xlated linum` prints them).

use bpfkit_isa::disasm::{
    lines, DisasmOptions, Flavor, Line, ListingContext, Symbol as DisasmSymbol,
};
use bpfkit_isa::{Insn, Syntax};

use crate::btf::LineInfo;

use super::relocs::{RelocTarget, Relocation};
use super::Object;

/// `STT_SECTION` and `STT_FILE`: symbols objdump does not print as labels.
const STT_SECTION: u8 = 3;
const STT_FILE: u8 = 4;

/// How [`Object::listing`] prints.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListingOptions {
    /// The instruction formatting (syntax, raw bytes, call annotations).
    /// With `raw_insn` and without `annotate` the text is byte for byte
    /// `llvm-objdump -d`.
    pub disasm: DisasmOptions,
    /// Only this section (by name); `None` for every executable section.
    pub section: Option<String>,
    /// Interleave source lines from `.BTF.ext` line info.
    pub source: bool,
}

/// What a relocation refers to, in a few words for a `#` comment.
pub fn describe(r: &RelocTarget) -> String {
    match r {
        RelocTarget::Map { name, .. } => format!("map {name}"),
        RelocTarget::MapValue {
            name,
            offset,
            variable,
            ..
        } => match variable {
            Some(v) => format!("{name}+{offset:#x} ({v})"),
            None => format!("{name}+{offset:#x}"),
        },
        RelocTarget::Call { function, .. } => format!("call {function}"),
        RelocTarget::FuncPointer { function, .. } => format!("&{function}"),
        RelocTarget::Extern { name, .. } => format!("extern {name}"),
        RelocTarget::KfuncCall { name, .. } => format!("kfunc {name}"),
    }
}

/// One section of a listing, line by line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SectionListing<'o> {
    /// The section's name.
    pub section: &'o str,
    /// Its lines in order.
    pub lines: Vec<ListingLine<'o>>,
}

/// One instruction of a [`SectionListing`] with what is printed around it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListingLine<'o> {
    /// The symbol whose `<name>:` header comes before this line, if any.
    pub label: Option<&'o str>,
    /// The symbol the instruction belongs to (the last label at or before it).
    pub symbol: &'o str,
    /// Source lines (BTF line info) that start at this instruction, when asked for.
    pub source: Vec<&'o LineInfo>,
    /// The instruction as the disassembler prints it (bytes in the file's
    /// byte order), its `pc` counted from the section start.
    pub line: Line,
    /// The relocations of this instruction.
    pub relocations: Vec<&'o Relocation>,
}

impl ListingLine<'_> {
    /// The line as printed, with `# target` notes when `annotate` is set.
    pub fn render(&self, opts: &DisasmOptions) -> String {
        let mut text = if opts.syntax == Syntax::Ubpf && !opts.raw_insn {
            self.line.text.clone()
        } else {
            self.line.render(opts.raw_insn)
        };
        if opts.annotate {
            for r in &self.relocations {
                text.push_str(&format!(" # {}", describe(&r.target)));
            }
        }
        text
    }
}

impl Object {
    /// The listing of the object's executable sections; `file` is the name
    /// objdump prints in its first line.
    pub fn listing(&self, file: &str, opts: &ListingOptions) -> String {
        let mut out = format!("\n{file}:\tfile format elf64-bpf\n");
        for sec in self.listing_lines(opts) {
            out.push_str(&format!("\nDisassembly of section {}:\n", sec.section));
            for l in &sec.lines {
                if let Some(label) = l.label {
                    out.push_str(&format!("\n{:016x} <{label}>:\n", l.line.pc * 8));
                }
                for li in &l.source {
                    out.push_str(&format!(
                        "; {} [file:{} line_num:{} line_col:{}]\n",
                        li.line_text.trim_start(),
                        li.file_name,
                        li.line,
                        li.col
                    ));
                }
                out.push_str(&l.render(&opts.disasm));
                out.push('\n');
            }
        }
        out
    }

    /// The listing as data: per executable section, each instruction with
    /// its label, symbol, source lines and relocations.
    pub fn listing_lines(&self, opts: &ListingOptions) -> Vec<SectionListing<'_>> {
        let flavor = if opts.disasm.annotate {
            Flavor::Alu32
        } else {
            Flavor::NoAlu32
        };
        let mut out = Vec::new();
        for sec in &self.sections {
            if opts.section.as_ref().is_some_and(|s| *s != sec.name) {
                continue;
            }
            let funcs: Vec<_> = self.functions_in(sec.index).collect();
            if funcs.is_empty() {
                continue;
            }
            let n = (sec.size / 8) as usize;
            let mut code = vec![Insn::new(0, 0, 0, 0, 0); n];
            let mut relocs: Vec<(usize, &Relocation)> = Vec::new();
            for f in &funcs {
                let end = (f.start + f.len()).min(n);
                code[f.start..end].copy_from_slice(&f.slots[..end - f.start]);
                relocs.extend(f.relocations.iter().map(|r| (f.start + r.insn, r)));
            }
            let mut labels: Vec<(u64, &str)> = self
                .symbols
                .iter()
                .filter(|s| {
                    s.section == Some(sec.index)
                        && s.kind != STT_SECTION
                        && s.kind != STT_FILE
                        && !s.name.is_empty()
                })
                .map(|s| (s.value, s.name.as_str()))
                .collect();
            labels.sort_by_key(|l| l.0);
            if labels.first().map_or(true, |l| l.0 != 0) {
                labels.insert(0, (0, sec.name.as_str()));
            }
            let ctx = ListingContext {
                section: sec.name.clone(),
                symbols: labels
                    .iter()
                    .map(|&(offset, name)| DisasmSymbol {
                        offset,
                        name: name.to_string(),
                    })
                    .collect(),
                flavor,
            };
            let line_info = match (&self.btf_ext, opts.source) {
                (Some(e), true) => e.line_info(&sec.name),
                _ => &[],
            };
            let mut listing = SectionListing {
                section: &sec.name,
                lines: Vec::new(),
            };
            let mut next_label = 0;
            let mut symbol = sec.name.as_str();
            for mut line in lines(&code, &opts.disasm, &ctx) {
                if self.big_endian {
                    to_big_endian(&mut line.bytes);
                }
                let at = (line.pc * 8) as u64;
                let mut label = None;
                while next_label < labels.len() && labels[next_label].0 <= at {
                    symbol = labels[next_label].1;
                    if labels[next_label].0 == at {
                        label = Some(symbol);
                    }
                    next_label += 1;
                }
                // objdump steps byte by byte through a cut-off lddw: only
                // the first of those lines is the instruction's.
                let first = listing
                    .lines
                    .last()
                    .map_or(true, |l: &ListingLine| l.line.pc != line.pc);
                let source = line_info
                    .iter()
                    .filter(|li| first && u64::from(li.insn_off) == at)
                    .collect();
                let relocations = relocs
                    .iter()
                    .filter(|(pc, _)| first && *pc == line.pc)
                    .map(|&(_, r)| r)
                    .collect();
                listing.lines.push(ListingLine {
                    label,
                    symbol,
                    source,
                    line,
                    relocations,
                });
            }
            out.push(listing);
        }
        out
    }
}

/// Lays out little-endian instruction bytes as a `bpfeb` file holds them
/// (register nibbles swapped, `off` and `imm` big-endian), which is what
/// objdump shows.
fn to_big_endian(bytes: &mut [u8]) {
    for slot in bytes.chunks_exact_mut(8) {
        slot[1] = slot[1].rotate_left(4);
        slot[2..4].reverse();
        slot[4..8].reverse();
    }
}
