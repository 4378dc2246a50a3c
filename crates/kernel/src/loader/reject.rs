//! A program the verifier refused, with where it stopped: the last
//! instruction index of its log, that instruction disassembled, and the C
//! source line BTF line info gives for it.

use std::fmt;

use bpfkit_isa::disasm::format_instruction;
use bpfkit_isa::{Insn, Instruction, Syntax};
use bpfkit_object::read::Program;

use crate::error::{errno_name, Errno};

/// How many log lines the one-line form of a rejection shows.
const LOG_TAIL: usize = 6;

/// The source line of an instruction, from BTF line info.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SourceLine {
    /// The source file.
    pub file: String,
    /// Line number.
    pub line: u32,
    /// Column.
    pub col: u32,
    /// The line's text, trimmed.
    pub text: String,
}

/// The instruction the verifier stopped at.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FailingInsn {
    /// Its slot index in the loaded program (the verifier's numbering).
    pub index: usize,
    /// Its disassembly (LLVM syntax), as loaded (relocations applied).
    pub disasm: String,
    /// Its source line, when the object has line info.
    pub source: Option<SourceLine>,
}

/// A program the kernel refused to load.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Rejection {
    /// The program's name.
    pub program: String,
    /// Its section.
    pub section: String,
    /// The kernel's errno.
    pub errno: i32,
    /// The verifier's whole log.
    pub log: String,
    /// The last instruction the log names, when it names one.
    pub failing: Option<FailingInsn>,
}

impl Rejection {
    /// Builds the rejection of `program` loaded as `slots`.
    pub fn new(program: &Program, slots: &[Insn], errno: i32, log: String) -> Rejection {
        let failing = last_insn_index(&log).map(|index| FailingInsn {
            index,
            disasm: disassemble(slots, index),
            source: program.line_at(index).map(|l| SourceLine {
                file: l.file_name.clone(),
                line: l.line,
                col: l.col,
                text: l.line_text.trim().to_string(),
            }),
        });
        Rejection {
            program: program.name.clone(),
            section: program.section.clone(),
            errno,
            log,
            failing,
        }
    }

    /// The log's last line that says why: the last non-empty line before
    /// the verifier's closing statistics (`processed N insns ...`,
    /// `verification time ...`, `stack depth ...`).
    pub fn last_log_line(&self) -> &str {
        let stats = ["processed ", "verification time", "stack depth"];
        self.log
            .lines()
            .rev()
            .map(str::trim)
            .find(|l| !l.is_empty() && !stats.iter().any(|s| l.starts_with(s)))
            .unwrap_or("")
    }

    /// The symbolic errno (`EACCES`), or its number.
    pub fn errno_name(&self) -> String {
        errno_name(self.errno).map_or_else(|| self.errno.to_string(), str::to_string)
    }

    /// The full rendering: the verdict, the failing instruction with its
    /// source line, and the whole verifier log.
    pub fn render(&self) -> String {
        let mut out = self.header();
        if self.log.trim().is_empty() {
            out.push_str("(the kernel refused it before the verifier wrote a log)\n");
            return out;
        }
        out.push_str("verifier log:\n");
        for line in self.log.lines() {
            out.push_str("  ");
            out.push_str(line);
            out.push('\n');
        }
        out
    }

    fn header(&self) -> String {
        let mut out = format!(
            "program '{}' (section {}) rejected by the kernel: {}\n",
            self.program,
            self.section,
            Errno(self.errno)
        );
        if let Some(f) = &self.failing {
            out.push_str(&format!("  at insn {}: {}\n", f.index, f.disasm));
            if let Some(s) = &f.source {
                out.push_str(&format!("  {}:{}:{}: {}\n", s.file, s.line, s.col, s.text));
            }
        }
        out
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.header())?;
        let lines: Vec<&str> = self.log.lines().filter(|l| !l.trim().is_empty()).collect();
        let start = lines.len().saturating_sub(LOG_TAIL);
        for l in &lines[start..] {
            writeln!(f, "  | {l}")?;
        }
        Ok(())
    }
}

/// The index of the last instruction the verifier printed: its lines are
/// `N: (OP) text`, where OP is the opcode in hex.
pub fn last_insn_index(log: &str) -> Option<usize> {
    log.lines().rev().find_map(|line| {
        let (num, rest) = line.split_once(": (")?;
        let op = rest.split_once(')')?.0;
        if op.len() == 2 && op.bytes().all(|b| b.is_ascii_hexdigit()) {
            num.trim().parse().ok()
        } else {
            None
        }
    })
}

fn disassemble(slots: &[Insn], index: usize) -> String {
    match slots.get(index..).map(Instruction::decode) {
        Some(Ok((insn, _))) => format_instruction(&insn, Syntax::Llvm),
        Some(Err(e)) => format!("<undecodable: {e}>"),
        None => format!("<no instruction {index} in a program of {}>", slots.len()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_last_instruction_of_a_log() {
        let log = "func#0 @0\n0: R1=ctx() R10=fp0\n0: (b7) r0 = 0\n1: (61) r2 = *(u32 *)(r1 +76)\n\
                   invalid bpf_context access off=76 size=4\nprocessed 2 insns\n";
        assert_eq!(last_insn_index(log), Some(1));
        assert_eq!(last_insn_index("no instructions here\n"), None);
        // A state line ("5: R0=...") is not an instruction.
        assert_eq!(last_insn_index("3: (95) exit\n5: R0=1\n"), Some(3));
    }
}
