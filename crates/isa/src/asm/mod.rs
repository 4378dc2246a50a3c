//! The assembler: LLVM/kernel syntax and uBPF/bpf_conformance syntax to slots.
//!
//! Both syntaxes share this driver: one statement per line, `name:` labels
//! (alone or before an instruction), comments from `#`, `;` or `//` to the end
//! of the line, and jump or call targets given as numbers or labels. Labels are
//! resolved after the whole text is read, so they may be used before they are
//! defined. Every error carries the line and column of the offending text.
//!
//! The LLVM syntax also takes lines pasted from `llvm-objdump -d` or the
//! kernel verifier log: a leading `12:` address, the raw bytes or `(b7)`
//! opcode after it, `<sym+0x10>` annotations after jump targets,
//! `0000000000000000 <func>:` headers (which define the label `func`) and the
//! `file format` / `Disassembly of section` banners (skipped), so a whole
//! `llvm-objdump -d` listing assembles back to its bytes.
//!
//! [`file`](mod@file) reads whole assembly files as `clang -S` writes them (sections,
//! symbols, data directives) for writing relocatable objects; its
//! instructions are this assembler's LLVM syntax, plus `rD = sym ll`, which
//! raw bytecode cannot express.

mod cursor;
mod error;
pub mod file;
mod llvm;
mod llvm_rhs;

mod ubpf;

#[cfg(test)]
mod tests;

use std::collections::HashMap;

use cursor::{fail, Cursor, LineError, PResult, Span};
pub use error::AsmError;

use crate::instruction::{CallTarget, Instruction};
use crate::{Insn, Syntax};

/// One parsed instruction and, when its target is a label, the label to
/// patch in once all labels are known.
pub(super) struct Parsed {
    insn: Instruction,
    label: Option<LabelRef>,
}

impl Parsed {
    fn plain(insn: Instruction) -> Parsed {
        Parsed { insn, label: None }
    }
}

/// A use of a label as a jump or call target.
pub(super) struct LabelRef {
    name: String,
    span: Span,
    /// For `call name`: the helper to call when no label `name` exists.
    helper: Option<i32>,
    /// For `rD = name + 8 ll`: the constant added to the symbol's address.
    addend: i64,
}

/// An instruction waiting for its label, with where it came from.
struct Pending<'a> {
    pc: usize,
    line: usize,
    text: &'a str,
    insn: Instruction,
    label: LabelRef,
}

/// Assembles `source` into instruction slots.
///
/// ```
/// use bpfkit_isa::{asm::assemble, Insn, Syntax};
/// let llvm = assemble("r0 = 1\nexit", Syntax::Llvm).unwrap();
/// let ubpf = assemble("mov %r0, 1\nexit", Syntax::Ubpf).unwrap();
/// assert_eq!(llvm, ubpf);
/// assert_eq!(llvm[0], Insn::new(0xb7, 0, 0, 0, 1));
/// ```
pub fn assemble(source: &str, syntax: Syntax) -> Result<Vec<Insn>, AsmError> {
    let mut slots: Vec<Insn> = Vec::new();
    let mut labels: HashMap<&str, (usize, usize)> = HashMap::new();
    let mut pending: Vec<Pending> = Vec::new();
    let mut first_exit = None;
    for (index, text) in source.lines().enumerate() {
        let line = index + 1;
        let code = strip_comment(text);
        let mut cur = Cursor::new(code);
        let at = |e: LineError| locate(e, line, text);
        if syntax == Syntax::Llvm {
            if objdump_banner(code) {
                continue;
            }
            if let Some((name, span)) = objdump_header(code) {
                define(&mut labels, name, span, slots.len(), line).map_err(at)?;
                continue;
            }
            skip_address_prefix(&mut cur);
        }
        while let Some((name, span)) = label_definition(&mut cur) {
            define(&mut labels, name, span, slots.len(), line).map_err(at)?;
        }
        if cur.at_end() {
            continue;
        }
        let parsed = match syntax {
            Syntax::Llvm => llvm::parse(&mut cur),
            Syntax::Ubpf => ubpf::parse(&mut cur),
        }
        .map_err(at)?;
        cur.expect_end("after the instruction").map_err(at)?;
        if let (Instruction::LoadImm64 { .. }, Some(label)) = (&parsed.insn, &parsed.label) {
            let message = format!(
                "`{}` is a symbol: loading its address needs a relocation, which raw bytecode \
                 cannot hold; write an ELF object (`bpfkit asm FILE -o prog.o`)",
                label.name
            );
            return Err(at(LineError {
                span: label.span,
                message,
            }));
        }
        if parsed.insn == Instruction::Exit && first_exit.is_none() {
            first_exit = Some(slots.len());
        }
        if let Some(label) = parsed.label {
            pending.push(Pending {
                pc: slots.len(),
                line,
                text,
                insn: parsed.insn,
                label,
            });
        }
        slots.extend_from_slice(parsed.insn.encode().as_slice());
    }
    for p in pending {
        let target = match labels.get(p.label.name.as_str()) {
            Some(&(pc, _)) => pc,
            None if p.label.helper.is_some() => {
                let id = p.label.helper.unwrap_or_default();
                slots[p.pc] = Instruction::Call(CallTarget::Helper(id))
                    .encode()
                    .as_slice()[0];
                continue;
            }
            // uBPF programs say `jne %r0, %r1, exit` for "jump to the first
            // exit" without defining the label.
            None if syntax == Syntax::Ubpf && p.label.name == "exit" && first_exit.is_some() => {
                first_exit.unwrap_or_default()
            }
            None => {
                let e = fail::<()>(p.label.span, format!("unknown label `{}`", p.label.name));
                return Err(locate(e.unwrap_err(), p.line, p.text));
            }
        };
        let insn = patch(p.insn, target as i64 - p.pc as i64 - 1, &p.label)
            .map_err(|e| locate(e, p.line, p.text))?;
        slots[p.pc] = insn.encode().as_slice()[0];
    }
    Ok(slots)
}

/// Sets the relative offset of a jump or call whose target was a label.
fn patch(insn: Instruction, rel: i64, label: &LabelRef) -> PResult<Instruction> {
    patch_offset(insn, rel, &label.name).or_else(|message| fail(label.span, message))
}

/// Sets the relative offset `rel` (in slots) of a jump or call to label
/// `name`, or says why it does not fit.
fn patch_offset(insn: Instruction, rel: i64, name: &str) -> Result<Instruction, String> {
    let too_far = |bits: u32, hint: &str| {
        Err(format!(
            "label `{name}` is {rel} instructions away, beyond the {bits}-bit offset range{hint}"
        ))
    };
    Ok(match insn {
        Instruction::Ja { long: false, .. } => match i16::try_from(rel) {
            Ok(off) => Instruction::Ja {
                off: off as i32,
                long: false,
            },
            Err(_) => return too_far(16, " (use the 32-bit `gotol` / `ja32`)"),
        },
        Instruction::Jump {
            width,
            cond,
            dst,
            src,
            ..
        } => match i16::try_from(rel) {
            Ok(off) => Instruction::Jump {
                width,
                cond,
                dst,
                src,
                off,
            },
            Err(_) => return too_far(16, ""),
        },
        Instruction::Ja { long: true, .. } => match i32::try_from(rel) {
            Ok(off) => Instruction::Ja { off, long: true },
            Err(_) => return too_far(32, ""),
        },
        Instruction::Call(CallTarget::Local(_)) => match i32::try_from(rel) {
            Ok(off) => Instruction::Call(CallTarget::Local(off)),
            Err(_) => return too_far(32, ""),
        },
        other => other,
    })
}

fn define<'a>(
    labels: &mut HashMap<&'a str, (usize, usize)>,
    name: &'a str,
    span: Span,
    pc: usize,
    line: usize,
) -> PResult<()> {
    if let Some(&(_, first)) = labels.get(name) {
        return fail(
            span,
            format!("duplicate label `{name}` (first defined on line {first})"),
        );
    }
    labels.insert(name, (pc, line));
    Ok(())
}

/// Turns a position inside line `line` (whose text is `text`) into an [`AsmError`].
fn locate(e: LineError, line: usize, text: &str) -> AsmError {
    let start = e.span.start.min(text.len());
    let end = e.span.end.clamp(start, text.len());
    let (start, end) = match (text.get(..start), text.get(start..end)) {
        (Some(before), Some(inside)) => (before.chars().count(), inside.chars().count()),
        _ => (0, 0),
    };
    AsmError {
        line,
        column: start + 1,
        len: end.max(1),
        message: e.message,
    }
}

/// The line without its comment (`#`, `;` or `//` to the end of the line).
fn strip_comment(line: &str) -> &str {
    let cut = [line.find('#'), line.find(';'), line.find("//")]
        .into_iter()
        .flatten()
        .min();
    match cut {
        Some(i) => &line[..i],
        None => line,
    }
}

/// `name:` at the cursor: a label definition.
fn label_definition<'a>(cur: &mut Cursor<'a>) -> Option<(&'a str, Span)> {
    let save = cur.pos();
    if let Some((name, span)) = cur.ident() {
        if cur.eat(":").is_some() {
            return Some((name, span));
        }
    }
    cur.reset(save);
    None
}

/// The banner lines of `llvm-objdump -d`: `prog.o:\tfile format elf64-bpf`,
/// `Disassembly of section .text:`, and the relocation lines of `-dr`.
fn objdump_banner(code: &str) -> bool {
    let t = code.trim();
    t.starts_with("Disassembly of section ")
        // relocation lines of `llvm-objdump -dr`
        || t.contains("R_BPF_")
        || t.split_once(':')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with("file format "))
}

/// `0000000000000018 <f>:`, the function header of `llvm-objdump -d`.
fn objdump_header(code: &str) -> Option<(&str, Span)> {
    let trimmed = code.trim();
    let (addr, rest) = trimmed.split_once(char::is_whitespace)?;
    if addr.is_empty() || !addr.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    let name = rest.trim().strip_prefix('<')?.strip_suffix(">:")?;
    if name.is_empty() || name.contains(char::is_whitespace) {
        return None;
    }
    let start = code.find(name)?;
    Some((
        name,
        Span {
            start,
            end: start + name.len(),
        },
    ))
}

/// Skips `12:` and what follows it in `llvm-objdump -d` output (the bytes,
/// `61 10 00 00 ...`) or in the verifier log (the opcode, `(61)`).
fn skip_address_prefix(cur: &mut Cursor) {
    cur.skip_ws();
    let rest = cur.rest().as_bytes();
    let digits = rest.iter().take_while(|c| c.is_ascii_digit()).count();
    if digits == 0 || rest.get(digits) != Some(&b':') {
        return;
    }
    cur.advance(digits + 1);
    cur.skip_ws();
    let rest = cur.rest().as_bytes();
    if rest.len() >= 4
        && rest[0] == b'('
        && rest[1].is_ascii_hexdigit()
        && rest[2].is_ascii_hexdigit()
        && rest[3] == b')'
    {
        cur.advance(4);
        return;
    }
    loop {
        cur.skip_ws();
        let b = cur.rest().as_bytes();
        let byte = b.len() >= 2
            && b[0].is_ascii_hexdigit()
            && b[1].is_ascii_hexdigit()
            && b.get(2).map_or(true, |c| c.is_ascii_whitespace());
        if !byte {
            return;
        }
        cur.advance(2);
    }
}
