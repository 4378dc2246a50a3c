//! The object's code as `llvm-objdump -d` lists it: each executable
//! section under `Disassembly of section NAME:`, a `<symbol>:` header at
//! every symbol, instructions numbered from the section start; optionally
//! with relocation targets named and source lines from BTF line info
//! interleaved (as `bpftool prog dump xlated linum` prints them).

use bpfkit_isa::disasm::{lines, DisasmOptions, Flavor, ListingContext, Symbol as DisasmSymbol};
use bpfkit_isa::Insn;

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

impl Object {
    /// The listing of the object's executable sections; `file` is the name
    /// objdump prints in its first line.
    pub fn listing(&self, file: &str, opts: &ListingOptions) -> String {
        let mut out = format!("\n{file}:\tfile format elf64-bpf\n");
        let flavor = if opts.disasm.annotate {
            Flavor::Alu32
        } else {
            Flavor::NoAlu32
        };
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
            let mut labels: Vec<DisasmSymbol> = self
                .symbols
                .iter()
                .filter(|s| {
                    s.section == Some(sec.index)
                        && s.kind != STT_SECTION
                        && s.kind != STT_FILE
                        && !s.name.is_empty()
                })
                .map(|s| DisasmSymbol {
                    offset: s.value,
                    name: s.name.clone(),
                })
                .collect();
            labels.sort_by_key(|s| s.offset);
            if labels.first().map_or(true, |s| s.offset != 0) {
                labels.insert(
                    0,
                    DisasmSymbol {
                        offset: 0,
                        name: sec.name.clone(),
                    },
                );
            }
            let ctx = ListingContext {
                section: sec.name.clone(),
                symbols: labels.clone(),
                flavor,
            };
            let line_info = self
                .btf_ext
                .as_ref()
                .map(|e| e.line_info(&sec.name))
                .unwrap_or(&[]);
            out.push_str(&format!("\nDisassembly of section {}:\n", sec.name));
            let mut next_label = 0;
            for mut line in lines(&code, &opts.disasm, &ctx) {
                if self.big_endian {
                    to_big_endian(&mut line.bytes);
                }
                while next_label < labels.len() && labels[next_label].offset <= (line.pc * 8) as u64
                {
                    let l = &labels[next_label];
                    if l.offset == (line.pc * 8) as u64 {
                        out.push_str(&format!("\n{:016x} <{}>:\n", l.offset, l.name));
                    }
                    next_label += 1;
                }
                if opts.source {
                    for li in line_info
                        .iter()
                        .filter(|li| li.insn_off as usize == line.pc * 8)
                    {
                        out.push_str(&format!(
                            "; {} [file:{} line_num:{} line_col:{}]\n",
                            li.line_text.trim_start(),
                            li.file_name,
                            li.line,
                            li.col
                        ));
                    }
                }
                let mut text =
                    if opts.disasm.syntax == bpfkit_isa::Syntax::Ubpf && !opts.disasm.raw_insn {
                        line.text.clone()
                    } else {
                        line.render(opts.disasm.raw_insn)
                    };
                if opts.disasm.annotate && line.bytes.len() >= 8 {
                    for (_, r) in relocs.iter().filter(|(pc, _)| *pc == line.pc) {
                        text.push_str(&format!(" # {}", describe(&r.target)));
                    }
                }
                out.push_str(&text);
                out.push('\n');
            }
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
