//! The disassembler: slots to LLVM/kernel syntax (as `llvm-objdump -d`) or uBPF syntax.
//!
//! [`listing`] prints a whole program the way `llvm-objdump-19 -d` prints a
//! `.text` section: one line per instruction, `%8u:` slot index, a tab, the
//! raw bytes (16 for `lddw`), a tab and the instruction, with jump targets
//! annotated as `<sym+0xoff>`. Any slot that is not a valid instruction
//! prints as objdump's `<unknown>`; no input makes it panic.
//!
//! objdump decodes BPF two ways (see [`Flavor`]): by default bpfkit mirrors
//! `llvm-objdump -d --mcpu=v4`, whose text names every instruction exactly;
//! [`ListingContext::flavor`] selects plain `llvm-objdump -d`, which prints
//! `r` for the 32-bit registers of narrow loads and stores and `<unknown>`
//! for most 32-bit atomics. Both are checked against LLVM 19's output by the
//! golden tests in `tests/disasm_golden.rs`.
//!
//! Slots the kernel rejects but LLVM's lenient decoder still prints (an `exit` with
//! a non-zero offset, say) are `<unknown>` here: bpfkit decodes as strictly
//! as the kernel does.
//!
//! [`format_instruction`] is one instruction's text alone; [`lines`] gives
//! the listing line by line (slot index, bytes, decoded instruction, text)
//! for callers that interleave other information, such as source lines.

mod llvm;
mod ubpf;

pub use llvm::Flavor;

use crate::{helpers, CallTarget, Insn, InsnError, Instruction, Syntax};

/// How [`listing`] prints a program.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DisasmOptions {
    /// LLVM (objdump) or uBPF syntax.
    pub syntax: Syntax,
    /// Print the slot index and raw bytes of each instruction, as objdump
    /// does by default (off: as `llvm-objdump -d --no-show-raw-insn`).
    pub raw_insn: bool,
    /// Annotate calls: a helper call gets the helper's name,
    /// `call 0x1 # bpf_map_lookup_elem`, and a local (BPF-to-BPF) call prints
    /// as the verifier log prints it, `call pc+2`, because objdump's
    /// `call 0x2` would read back as helper 2.
    /// `#` starts a comment for llvm-mc and the conformance assembler alike
    /// (llvm-mc reads `;` as a statement separator), so annotated text still
    /// assembles. Off, the LLVM output is byte for byte objdump's.
    pub annotate: bool,
}

impl Default for DisasmOptions {
    /// LLVM syntax with raw bytes and no annotation: objdump's own output.
    fn default() -> Self {
        DisasmOptions {
            syntax: Syntax::Llvm,
            raw_insn: true,
            annotate: false,
        }
    }
}

/// A symbol of the section being listed, used to name jump targets.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Symbol {
    /// Byte offset in the section.
    pub offset: u64,
    /// The name printed in `<name+0x10>`.
    pub name: String,
}

/// What objdump knows about the code beyond its bytes: the section's name
/// and symbols (which name jump targets) and which decoder it ran.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ListingContext {
    /// Section name, used for jump targets before any symbol (objdump's
    /// fallback): `<.text+0x18>`.
    pub section: String,
    /// Symbols of the section (functions, labels), in any order. A jump
    /// target is named after the last symbol at or before it; among symbols
    /// at the same offset the first listed wins.
    pub symbols: Vec<Symbol>,
    /// Which objdump decoder to mirror.
    pub flavor: Flavor,
}

impl Default for ListingContext {
    /// A `.text` section without symbols, decoded as `llvm-objdump -d --mcpu=v4`.
    fn default() -> Self {
        ListingContext {
            section: ".text".to_string(),
            symbols: Vec::new(),
            flavor: Flavor::default(),
        }
    }
}

/// One line of a listing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    /// Slot index of the instruction (objdump's address column: byte offset / 8).
    pub pc: usize,
    /// The raw bytes shown: 8, 16 for `lddw`, or 1 for each byte of an
    /// `lddw` cut off by the end of the program (as objdump prints it).
    pub bytes: Vec<u8>,
    /// The decoded instruction, `None` for `<unknown>`.
    pub instruction: Option<Instruction>,
    /// The instruction text with its annotations (jump target, helper name).
    pub text: String,
}

impl Line {
    /// The line as printed, without a newline: `      12:\tb7 00 ...\tr0 = 0x1`
    /// with raw bytes, `      12:\tr0 = 0x1` without.
    pub fn render(&self, raw_insn: bool) -> String {
        if raw_insn {
            let bytes: Vec<String> = self.bytes.iter().map(|b| format!("{b:02x}")).collect();
            format!("{:>8}:\t{}\t{}", self.pc, bytes.join(" "), self.text)
        } else {
            format!("{:>8}:\t{}", self.pc, self.text)
        }
    }
}

/// One instruction's text in `syntax`, without slot index, bytes, or
/// annotations. LLVM syntax is objdump's with the `alu32` decoder
/// ([`Flavor::Alu32`]), which prints every instruction.
///
/// ```
/// use bpfkit_isa::{disasm::format_instruction, Instruction, Insn, Syntax};
/// let (insn, _) = Instruction::decode(&[Insn::new(0x79, 1, 10, -8, 0)]).unwrap();
/// assert_eq!(format_instruction(&insn, Syntax::Llvm), "r1 = *(u64 *)(r10 - 0x8)");
/// assert_eq!(format_instruction(&insn, Syntax::Ubpf), "ldxdw %r1, [%r10-8]");
/// ```
pub fn format_instruction(insn: &Instruction, syntax: Syntax) -> String {
    match syntax {
        Syntax::Llvm => llvm::format(insn, Flavor::Alu32).unwrap_or_else(|| llvm::UNKNOWN.into()),
        Syntax::Ubpf => ubpf::format(insn),
    }
}

/// The whole program as text, one line per instruction, each ending in a
/// newline; a `.text` section without symbols, as `llvm-objdump -d --mcpu=v4`
/// prints it (see [`listing_with`] for symbols and the plain-objdump decoder).
///
/// ```
/// use bpfkit_isa::{disasm::{listing, DisasmOptions}, Insn, Syntax};
/// let prog = [Insn::new(0xb7, 0, 0, 0, 1), Insn::new(0x95, 0, 0, 0, 0)];
/// let opts = DisasmOptions { syntax: Syntax::Llvm, raw_insn: false, annotate: false };
/// assert_eq!(listing(&prog, &opts), "       0:\tr0 = 0x1\n       1:\texit\n");
/// ```
pub fn listing(program: &[Insn], opts: &DisasmOptions) -> String {
    listing_with(program, opts, &ListingContext::default())
}

/// [`listing`] with the section's name and symbols and objdump's decoder.
///
/// In uBPF syntax without raw bytes the lines are the bare instructions,
/// which the bpf_conformance assembler (and [`crate::asm::assemble`]) read
/// back; with raw bytes they take objdump's columns.
pub fn listing_with(program: &[Insn], opts: &DisasmOptions, ctx: &ListingContext) -> String {
    let mut out = String::new();
    for line in lines(program, opts, ctx) {
        if opts.syntax == Syntax::Ubpf && !opts.raw_insn {
            out.push_str(&line.text);
        } else {
            out.push_str(&line.render(opts.raw_insn));
        }
        out.push('\n');
    }
    out
}

/// The listing line by line. Never panics, whatever the slots hold.
pub fn lines(program: &[Insn], opts: &DisasmOptions, ctx: &ListingContext) -> Vec<Line> {
    let mut out = Vec::with_capacity(program.len());
    let mut pc = 0;
    while pc < program.len() {
        match Instruction::decode(&program[pc..]) {
            Ok((insn, n)) => {
                let text = match opts.syntax {
                    Syntax::Llvm => match llvm_annotated(&insn).filter(|_| opts.annotate) {
                        Some(t) => t,
                        None => match llvm::format(&insn, ctx.flavor) {
                            Some(t) => t + &jump_target(&insn, pc, ctx),
                            None => llvm::UNKNOWN.to_string(),
                        },
                    },
                    Syntax::Ubpf => ubpf::format(&insn),
                };
                let known = text != llvm::UNKNOWN;
                out.push(Line {
                    pc,
                    bytes: crate::encode_slots(&program[pc..pc + n]),
                    instruction: known.then_some(insn),
                    text: text + &helper_note(&insn, opts),
                });
                pc += n;
            }
            Err(InsnError::TruncatedLddw) => {
                // objdump cannot read 16 bytes, so it steps one byte at a
                // time through the rest; all of them stay at this address.
                for b in program[pc].to_bytes() {
                    out.push(Line {
                        pc,
                        bytes: vec![b],
                        instruction: None,
                        text: llvm::UNKNOWN.to_string(),
                    });
                }
                pc += 1;
            }
            Err(_) => {
                out.push(Line {
                    pc,
                    bytes: program[pc].to_bytes().to_vec(),
                    instruction: None,
                    text: llvm::UNKNOWN.to_string(),
                });
                pc += 1;
            }
        }
    }
    out
}

/// The verifier log's spelling of the instructions whose objdump text loses
/// information, used in annotated output so that it assembles back to the
/// same bytes: a local call (objdump's `call 0x2` reads back as helper 2) and
/// an `LD_IND` with an offset (objdump drops it).
fn llvm_annotated(insn: &Instruction) -> Option<String> {
    match *insn {
        Instruction::Call(CallTarget::Local(off)) => Some(format!("call pc{off:+}")),
        Instruction::LoadPacket {
            size,
            src: Some(r),
            imm,
        } if imm != 0 => {
            let sign = if imm < 0 { '-' } else { '+' };
            Some(format!(
                "r0 = *(u{} *)skb[r{} {sign} {:#x}]",
                size.bits(),
                r.num(),
                imm.unsigned_abs()
            ))
        }
        _ => None,
    }
}

/// ` # bpf_map_lookup_elem` for a call of a known helper, when asked for.
fn helper_note(insn: &Instruction, opts: &DisasmOptions) -> String {
    match insn {
        Instruction::Call(CallTarget::Helper(id)) if opts.annotate => helpers::helper_name(*id)
            .map(|name| format!(" # {name}"))
            .unwrap_or_default(),
        _ => String::new(),
    }
}

/// objdump's ` <sym+0xoff>` after a jump: the target's byte offset named
/// after the closest symbol at or before it. Offsets are computed as objdump
/// does, in wrapping 64-bit arithmetic, so a jump before the section start
/// shows a huge offset.
fn jump_target(insn: &Instruction, pc: usize, ctx: &ListingContext) -> String {
    let off = match insn {
        Instruction::Ja { off, .. } => *off as i64,
        Instruction::Jump { off, .. } => *off as i64,
        _ => return String::new(),
    };
    let target = (pc as i64)
        .wrapping_add(1)
        .wrapping_add(off)
        .wrapping_mul(8) as u64;
    let mut best: Option<&Symbol> = None;
    for s in &ctx.symbols {
        if s.offset <= target && best.map_or(true, |b| s.offset > b.offset) {
            best = Some(s);
        }
    }
    let (name, base) = best.map_or((ctx.section.as_str(), 0), |s| (s.name.as_str(), s.offset));
    let delta = target - base;
    if delta == 0 {
        format!(" <{name}>")
    } else {
        format!(" <{name}+0x{delta:x}>")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(syntax: Syntax, raw_insn: bool, annotate: bool) -> DisasmOptions {
        DisasmOptions {
            syntax,
            raw_insn,
            annotate,
        }
    }

    #[test]
    fn jump_targets_name_the_closest_symbol_before_them() {
        let prog = [
            Insn::new(0x05, 0, 0, 1, 0),  // 0: goto +1 -> 2
            Insn::new(0x15, 1, 0, -2, 0), // 1: if r1 == 0 goto -2 -> 0
            Insn::new(0x05, 0, 0, 0, 0),  // 2: goto +0 -> 3
            Insn::new(0x95, 0, 0, 0, 0),
        ];
        let o = opts(Syntax::Llvm, false, false);
        assert_eq!(
            listing(&prog[..2], &o),
            "       0:\tgoto +0x1 <.text+0x10>\n       1:\tif r1 == 0x0 goto -0x2 <.text>\n"
        );
        let ctx = ListingContext {
            section: "xdp".into(),
            symbols: vec![
                Symbol {
                    offset: 0x10,
                    name: "second".into(),
                },
                Symbol {
                    offset: 0,
                    name: "first".into(),
                },
            ],
            flavor: Flavor::Alu32,
        };
        let text = listing_with(&prog, &o, &ctx);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "       0:\tgoto +0x1 <second>");
        assert_eq!(lines[1], "       1:\tif r1 == 0x0 goto -0x2 <first>");
        assert_eq!(lines[2], "       2:\tgoto +0x0 <second+0x8>");
    }

    #[test]
    fn calls_are_annotated_only_when_asked() {
        let prog = [
            Insn::new(0x85, 0, 0, 0, 1),
            Insn::new(0x85, 0, 1, 0, 1), // a local call is not a helper
            Insn::new(0x85, 0, 0, 0, 100_000),
            Insn::new(0x95, 0, 0, 0, 0),
            Insn::new(0x85, 0, 1, 0, -5),
        ];
        let plain = listing(&prog, &opts(Syntax::Llvm, false, false));
        assert!(!plain.contains('#'));
        assert!(plain.ends_with("       1:\tcall 0x1\n       2:\tcall 0x186a0\n       3:\texit\n       4:\tcall -0x5\n"), "{plain}");
        let named = listing(&prog, &opts(Syntax::Llvm, true, true));
        assert_eq!(
            named.lines().collect::<Vec<_>>(),
            [
                "       0:\t85 00 00 00 01 00 00 00\tcall 0x1 # bpf_map_lookup_elem",
                "       1:\t85 10 00 00 01 00 00 00\tcall pc+1",
                "       2:\t85 00 00 00 a0 86 01 00\tcall 0x186a0",
                "       3:\t95 00 00 00 00 00 00 00\texit",
                "       4:\t85 10 00 00 fb ff ff ff\tcall pc-5",
            ]
        );
        let ubpf = listing(&prog[..1], &opts(Syntax::Ubpf, false, true));
        assert_eq!(ubpf, "call 1 # bpf_map_lookup_elem\n");
        let ubpf_raw = listing(&prog[..1], &opts(Syntax::Ubpf, true, false));
        assert_eq!(ubpf_raw, "       0:\t85 00 00 00 01 00 00 00\tcall 1\n");
    }

    #[test]
    fn invalid_slots_print_unknown_and_truncated_lddw_byte_by_byte() {
        let prog = [
            Insn::new(0xff, 0, 0, 0, 0),
            Insn::new(0x95, 0, 0, 0, 0),
            Insn::new(0x18, 1, 0, 0, 1),
        ];
        let text = listing(&prog, &opts(Syntax::Llvm, true, false));
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2 + 8);
        assert_eq!(lines[0], "       0:\tff 00 00 00 00 00 00 00\t<unknown>");
        assert_eq!(lines[2], "       2:\t18\t<unknown>");
        assert_eq!(lines[9], "       2:\t00\t<unknown>");
        let parsed = lines_of(&prog);
        assert_eq!(parsed[1].instruction, Some(Instruction::Exit));
        assert_eq!(parsed[0].instruction, None);
    }

    fn lines_of(prog: &[Insn]) -> Vec<Line> {
        lines(prog, &DisasmOptions::default(), &ListingContext::default())
    }

    /// Every opcode with a spread of fields, in both syntaxes and flavors:
    /// no panic, one or more lines per slot, and `<unknown>` exactly where
    /// the strict decoder refuses.
    #[test]
    fn never_panics_on_any_opcode() {
        let fields = [
            (0u8, 0u8, 0i16, 0i32),
            (15, 15, -1, -1),
            (10, 11, i16::MIN, i32::MIN),
            (1, 2, 8, 0xe1),
            (0, 0, 1, 16),
        ];
        for code in 0..=255u8 {
            for &(dst, src, off, imm) in &fields {
                let prog = [
                    Insn::new(code, dst, src, off, imm),
                    Insn::new(0, 0, 0, 0, 7),
                ];
                for syntax in [Syntax::Llvm, Syntax::Ubpf] {
                    for flavor in [Flavor::Alu32, Flavor::NoAlu32] {
                        let ctx = ListingContext {
                            flavor,
                            ..ListingContext::default()
                        };
                        let ls = lines(&prog, &opts(syntax, true, true), &ctx);
                        assert!(!ls.is_empty());
                        let decoded = Instruction::decode(&prog).is_ok();
                        if !decoded {
                            assert_eq!(ls[0].text, "<unknown>");
                        }
                    }
                }
            }
        }
    }
}
