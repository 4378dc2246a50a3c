//! Assembler errors: where in the source, what is wrong, and a rustc-like rendering.

use thiserror::Error;

/// An assembly error at a place in the source text.
///
/// `line` and `column` are 1-based and count characters, `len` is the number
/// of characters to underline (at least 1).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("line {line}, column {column}: {message}")]
pub struct AsmError {
    /// 1-based line number.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// Number of characters underlined (at least 1).
    pub len: usize,
    /// What is wrong.
    pub message: String,
}

impl AsmError {
    /// Renders the error as rustc does: `file:line:col: error: message`, then
    /// the source line and a `^^^` underline under the offending text.
    ///
    /// ```
    /// use bpfkit_isa::{asm::assemble, Syntax};
    /// let src = "mov %r0, 1\nldxq %r0, [%r1]\nexit\n";
    /// let err = assemble(src, Syntax::Ubpf).unwrap_err();
    /// let text = err.render(src, "prog.s");
    /// assert!(text.starts_with("prog.s:2:1: error: unknown mnemonic `ldxq`"));
    /// assert!(text.contains("2 | ldxq %r0, [%r1]"));
    /// assert!(text.ends_with("  | ^^^^\n"));
    /// ```
    pub fn render(&self, source: &str, file: &str) -> String {
        let mut out = format!(
            "{file}:{}:{}: error: {}\n",
            self.line, self.column, self.message
        );
        let Some(text) = source.lines().nth(self.line.saturating_sub(1)) else {
            return out;
        };
        let number = self.line.to_string();
        let gutter = " ".repeat(number.len());
        out.push_str(&format!("{gutter} |\n{number} | {text}\n{gutter} | "));
        // Keep tabs so that the underline lines up with the text above it.
        for c in text.chars().take(self.column.saturating_sub(1)) {
            out.push(if c == '\t' { '\t' } else { ' ' });
        }
        out.push_str(&"^".repeat(self.len.max(1)));
        out.push('\n');
        out
    }
}
