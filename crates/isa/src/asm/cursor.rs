//! A cursor over one line of assembly: tokens with their byte positions, so
//! that every error can point at the text it is about.

use crate::instruction::Reg;

/// A byte range in the current line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    /// The span covering `self` through `other`.
    pub fn to(self, other: Span) -> Span {
        Span {
            start: self.start,
            end: other.end.max(self.start),
        }
    }
}

/// An error inside one line; the assembler adds the line number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct LineError {
    pub span: Span,
    pub message: String,
}

/// Result of parsing within a line.
pub(super) type PResult<T> = Result<T, LineError>;

/// Fails with `message` about the text at `span`.
pub(super) fn fail<T>(span: Span, message: impl Into<String>) -> PResult<T> {
    Err(LineError {
        span,
        message: message.into(),
    })
}

/// An integer literal as written: its value, whether it was hexadecimal, and
/// where it is. Range checks depend on the field it goes into.
#[derive(Clone, Copy, Debug)]
pub(super) struct Number {
    pub value: i128,
    pub hex: bool,
    pub span: Span,
}

impl Number {
    /// A 32-bit immediate: decimal must fit `i32`; hexadecimal may also be
    /// written as an unsigned 32-bit pattern (`0xffffffff` is -1), as uBPF and
    /// LLVM accept.
    pub fn imm32(&self) -> PResult<i32> {
        let v = self.value;
        if (i32::MIN as i128..=i32::MAX as i128).contains(&v) {
            Ok(v as i32)
        } else if self.hex && (0..=u32::MAX as i128).contains(&v) {
            Ok(v as u32 as i32)
        } else {
            fail(
                self.span,
                format!(
                    "immediate {} does not fit in 32 bits (-2147483648 to 2147483647, or 0x0 to 0xffffffff)",
                    self.text_value()
                ),
            )
        }
    }

    /// A 64-bit immediate of `lddw`: signed or unsigned 64-bit.
    pub fn imm64(&self) -> PResult<i64> {
        let v = self.value;
        if (i64::MIN as i128..=u64::MAX as i128).contains(&v) {
            Ok(v as u64 as i64)
        } else {
            fail(
                self.span,
                format!("immediate {} does not fit in 64 bits", self.text_value()),
            )
        }
    }

    /// A signed 16-bit offset (memory access or jump).
    pub fn off16(&self, what: &str) -> PResult<i16> {
        i16::try_from(self.value).or_else(|_| {
            fail(
                self.span,
                format!(
                    "{what} {} does not fit in 16 bits (-32768 to 32767)",
                    self.text_value()
                ),
            )
        })
    }

    /// A signed 32-bit value with no unsigned reading (jump offsets of `gotol`,
    /// local call offsets).
    pub fn signed32(&self, what: &str) -> PResult<i32> {
        i32::try_from(self.value).or_else(|_| {
            fail(
                self.span,
                format!(
                    "{what} {} does not fit in 32 bits (-2147483648 to 2147483647)",
                    self.text_value()
                ),
            )
        })
    }

    fn text_value(&self) -> String {
        match (self.hex, self.value < 0) {
            (true, true) => format!("-{:#x}", -self.value),
            (true, false) => format!("{:#x}", self.value),
            _ => self.value.to_string(),
        }
    }
}

/// The register flavour written: `rN` (64-bit) or `wN` (32-bit view).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum RegKind {
    R,
    W,
}

/// A register operand as written.
#[derive(Clone, Copy, Debug)]
pub(super) struct RegTok {
    pub reg: Reg,
    pub kind: RegKind,
    pub span: Span,
}

/// A position in one line of source text.
pub(super) struct Cursor<'a> {
    line: &'a str,
    pos: usize,
}

fn is_ident_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_' || c == '.'
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '$'
}

impl<'a> Cursor<'a> {
    pub fn new(line: &'a str) -> Self {
        Cursor { line, pos: 0 }
    }

    /// The current byte position (for backtracking with [`Cursor::reset`]).
    pub fn pos(&self) -> usize {
        self.pos
    }

    pub fn reset(&mut self, pos: usize) {
        self.pos = pos;
    }

    /// The text from the cursor to the end of the line.
    pub fn rest(&self) -> &'a str {
        &self.line[self.pos..]
    }

    /// Moves past `n` bytes, which the caller has checked are ASCII.
    pub fn advance(&mut self, n: usize) {
        self.pos = (self.pos + n).min(self.line.len());
    }

    pub fn skip_ws(&mut self) {
        let rest = self.rest();
        self.pos += rest.len() - rest.trim_start().len();
    }

    /// The next character after whitespace.
    pub fn peek(&mut self) -> Option<char> {
        self.skip_ws();
        self.rest().chars().next()
    }

    /// Whether the rest (after whitespace) starts with `s`.
    pub fn peek_str(&mut self, s: &str) -> bool {
        self.skip_ws();
        self.rest().starts_with(s)
    }

    /// Consumes `s` if the rest starts with it.
    pub fn eat(&mut self, s: &str) -> Option<Span> {
        if self.peek_str(s) {
            let start = self.pos;
            self.pos += s.len();
            Some(Span {
                start,
                end: self.pos,
            })
        } else {
            None
        }
    }

    /// Consumes `s` or fails naming what was expected and what was found.
    pub fn expect(&mut self, s: &str, context: &str) -> PResult<Span> {
        match self.eat(s) {
            Some(span) => Ok(span),
            None => self.unexpected(&format!("expected `{s}` {context}")),
        }
    }

    /// Whether only whitespace is left.
    pub fn at_end(&mut self) -> bool {
        self.peek().is_none()
    }

    /// Fails unless only whitespace is left.
    pub fn expect_end(&mut self, context: &str) -> PResult<()> {
        if self.at_end() {
            Ok(())
        } else {
            let span = self.token_span();
            fail(
                span,
                format!(
                    "unexpected `{}` {context}",
                    &self.line[span.start..span.end]
                ),
            )
        }
    }

    /// Fails with `expected ..., found <next token>` pointing at the next token.
    pub fn unexpected<T>(&mut self, expected: &str) -> PResult<T> {
        let span = self.token_span();
        let found = if span.start == span.end {
            "end of line".to_string()
        } else {
            format!("`{}`", &self.line[span.start..span.end])
        };
        fail(span, format!("{expected}, found {found}"))
    }

    /// The span of the next token (an identifier, a number, or one other
    /// character); empty at the end of the line.
    pub fn token_span(&mut self) -> Span {
        self.skip_ws();
        let start = self.pos;
        let mut chars = self.rest().char_indices();
        let end = match chars.next() {
            None => 0,
            Some((_, c)) if is_ident_char(c) || c == '%' => self
                .rest()
                .char_indices()
                .skip(1)
                .find(|&(_, c)| !is_ident_char(c))
                .map_or(self.rest().len(), |(i, _)| i),
            Some((_, c)) => c.len_utf8(),
        };
        Span {
            start,
            end: start + end,
        }
    }

    /// An identifier: `[A-Za-z_.][A-Za-z0-9_.$]*`.
    pub fn ident(&mut self) -> Option<(&'a str, Span)> {
        self.skip_ws();
        let rest = self.rest();
        let first = rest.chars().next()?;
        if !is_ident_start(first) {
            return None;
        }
        let len = rest
            .char_indices()
            .find(|&(_, c)| !is_ident_char(c))
            .map_or(rest.len(), |(i, _)| i);
        let start = self.pos;
        self.pos += len;
        Some((
            &rest[..len],
            Span {
                start,
                end: self.pos,
            },
        ))
    }

    /// Consumes the identifier `word` if it is next (whole word only).
    pub fn eat_word(&mut self, word: &str) -> Option<Span> {
        let save = self.pos;
        match self.ident() {
            Some((w, span)) if w == word => Some(span),
            _ => {
                self.pos = save;
                None
            }
        }
    }

    /// Whether a number (optionally signed) comes next.
    pub fn at_number(&mut self) -> bool {
        self.skip_ws();
        let mut chars = self.rest().chars();
        match chars.next() {
            Some('+' | '-') => chars.next().is_some_and(|c| c.is_ascii_digit()),
            Some(c) => c.is_ascii_digit(),
            None => false,
        }
    }

    /// An integer literal: `[+-]?(0x[0-9a-f]+|[0-9]+)`.
    pub fn number(&mut self) -> PResult<Number> {
        if !self.at_number() {
            return self.unexpected("expected a number");
        }
        let start = self.pos;
        let rest = self.rest();
        let (neg, body) = match rest.as_bytes()[0] {
            b'-' => (true, &rest[1..]),
            b'+' => (false, &rest[1..]),
            _ => (false, rest),
        };
        let sign_len = rest.len() - body.len();
        let (radix, digits_at) = if body.starts_with("0x") || body.starts_with("0X") {
            (16, 2)
        } else {
            (10, 0)
        };
        let digits_len = body[digits_at..]
            .find(|c: char| !c.is_ascii_alphanumeric() && c != '_')
            .unwrap_or(body.len() - digits_at);
        let digits = &body[digits_at..digits_at + digits_len];
        self.pos = start + sign_len + digits_at + digits_len;
        let span = Span {
            start,
            end: self.pos,
        };
        let clean: String = digits.chars().filter(|&c| c != '_').collect();
        if clean.is_empty() {
            return fail(span, "expected digits after `0x`");
        }
        // 40 digits cannot overflow i128 in either base below u64 range
        // checks; longer literals are rejected here rather than overflowing.
        let magnitude = if clean.len() > 32 {
            None
        } else {
            u128::from_str_radix(&clean, radix).ok()
        };
        let Some(magnitude) = magnitude else {
            let what = if clean.chars().all(|c| c.is_digit(radix)) {
                "number is too large"
            } else if radix == 16 {
                "invalid hexadecimal number"
            } else {
                "invalid number"
            };
            return fail(span, format!("{what} `{}`", &self.line[start..self.pos]));
        };
        let magnitude = magnitude.min(i128::MAX as u128) as i128;
        Ok(Number {
            value: if neg { -magnitude } else { magnitude },
            hex: radix == 16,
            span,
        })
    }

    /// A register in LLVM spelling (`r0`..`r10`, `w0`..`w10`), or `None`
    /// (consuming nothing) when the next word is not one.
    pub fn llvm_reg(&mut self) -> Option<PResult<RegTok>> {
        let save = self.pos;
        let (word, span) = self.ident()?;
        let kind = match word.as_bytes()[0] {
            b'r' => RegKind::R,
            b'w' => RegKind::W,
            _ => {
                self.pos = save;
                return None;
            }
        };
        let digits = &word[1..];
        if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
            self.pos = save;
            return None;
        }
        Some(reg_from_digits(digits, kind, span, word))
    }

    /// A register in uBPF spelling (`%r0`..`%r10`), or `None` (consuming
    /// nothing) when no `%` comes next.
    pub fn ubpf_reg(&mut self) -> Option<PResult<RegTok>> {
        let start = self.eat("%")?;
        let (word, span) = match self.ident() {
            Some((w, s)) if s.start == start.end => (w, start.to(s)),
            _ => return Some(fail(start, "expected a register name after `%`")),
        };
        let text = &self.line[span.start..span.end];
        let digits = word.strip_prefix('r').unwrap_or("");
        if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
            return Some(fail(
                span,
                format!("invalid register `{text}` (registers are %r0 to %r10)"),
            ));
        }
        Some(reg_from_digits(digits, RegKind::R, span, text))
    }
}

fn reg_from_digits(digits: &str, kind: RegKind, span: Span, text: &str) -> PResult<RegTok> {
    let n = digits.parse::<u8>().ok().filter(|&n| n <= 10);
    match n.map(Reg::new) {
        Some(Ok(reg)) => Ok(RegTok { reg, kind, span }),
        _ => {
            let p = text.trim_end_matches(|c: char| c.is_ascii_digit());
            fail(
                span,
                format!("invalid register `{text}` (registers are {p}0 to {p}10)"),
            )
        }
    }
}
