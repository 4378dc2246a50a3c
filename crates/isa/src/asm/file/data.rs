//! Operands of data directives: expressions over symbols and numbers, and
//! string literals with the assembler's escapes.

use super::model::Expr;
use super::parse::{LineCtx, Parser};
use crate::asm::cursor::{fail, Cursor, PResult, Span};

/// A symbol name at the cursor: an identifier or a quoted name.
pub(super) fn symbol_name(cur: &mut Cursor) -> PResult<(String, Span)> {
    if cur.peek_str("\"") {
        let (bytes, span) = string_literal(cur)?;
        return name_text(bytes, span, "symbol");
    }
    match cur.ident() {
        Some((name, span)) => Ok((name.to_string(), span)),
        None => cur.unexpected("expected a symbol name"),
    }
}

/// A quoted name's bytes as a name: non-empty UTF-8 without NUL (ELF
/// string tables end names at NUL).
pub(super) fn name_text(bytes: Vec<u8>, span: Span, what: &str) -> PResult<(String, Span)> {
    match String::from_utf8(bytes) {
        Ok(name) if !name.is_empty() && !name.contains('\0') => Ok((name, span)),
        _ => fail(
            span,
            format!("a {what} name must be non-empty UTF-8 text without NUL bytes"),
        ),
    }
}

/// An expression: terms (numbers or symbols) joined by `+` and `-`, with at
/// most one symbol added and one subtracted (`8`, `g`, `arr+16`,
/// `.Lfunc_end0-prog`).
pub(super) fn expr(p: &mut Parser, cur: &mut Cursor, ctx: LineCtx) -> PResult<(Expr, Span)> {
    let start = cur.token_span();
    let mut constant: i128 = 0;
    let mut plus: Option<usize> = None;
    let mut minus: Option<usize> = None;
    // `-5` is a number; `-sym` negates a symbol.
    let mut negative = !cur.at_number() && cur.eat("-").is_some();
    let mut end;
    loop {
        if cur.at_number() {
            let n = cur.number()?;
            let term = if negative { -n.value } else { n.value };
            constant = constant.saturating_add(term);
            end = n.span;
        } else {
            let Some((name, span)) = cur.ident() else {
                return cur.unexpected("expected a number or a symbol");
            };
            let index = p.mention(name, ctx.loc(span));
            let slot = if negative { &mut minus } else { &mut plus };
            if slot.is_some() {
                let which = if negative { "subtracted" } else { "added" };
                return fail(
                    span,
                    format!("only one symbol can be {which} in an expression"),
                );
            }
            *slot = Some(index);
            end = span;
        }
        if cur.eat("+").is_some() {
            negative = false;
        } else if cur.eat("-").is_some() {
            negative = true;
        } else {
            break;
        }
    }
    let span = start.to(end);
    let Ok(addend) = i64::try_from(constant).or_else(|_| u64::try_from(constant).map(|v| v as i64))
    else {
        return fail(span, "the value does not fit in 64 bits");
    };
    let value = match (plus, minus) {
        (None, None) => Expr::Const(addend),
        (Some(symbol), None) => Expr::Symbol { symbol, addend },
        (Some(plus), Some(minus)) => Expr::Difference {
            plus,
            minus,
            addend,
        },
        (None, Some(_)) => {
            return fail(
                span,
                "a symbol can only be subtracted from another symbol (`a - b`)",
            )
        }
    };
    Ok((value, span))
}

/// The bytes of a constant `value` as a `size`-byte little-endian field, or
/// why it does not fit (signed or unsigned readings are both accepted, as
/// assemblers do).
pub(super) fn le_bytes(value: i64, size: u8) -> Result<Vec<u8>, String> {
    let bits = u32::from(size) * 8;
    if bits < 64 {
        let min = -(1i64 << (bits - 1));
        let max = (1i64 << bits) - 1;
        if !(min..=max).contains(&value) {
            return Err(format!(
                "{value} does not fit in {size} byte{} ({min} to {max})",
                if size == 1 { "" } else { "s" }
            ));
        }
    }
    Ok(value.to_le_bytes()[..usize::from(size)].to_vec())
}

/// A string literal: `"..."` with `\n \t \r \b \f \v \a \\ \" \'`, octal
/// `\NNN` and hex `\xHH` escapes, as clang prints them (`"\214\001"`).
pub(super) fn string_literal(cur: &mut Cursor) -> PResult<(Vec<u8>, Span)> {
    let open = cur.expect("\"", "to start a string")?;
    let rest = cur.rest().as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    loop {
        let Some(&b) = rest.get(i) else {
            return fail(open, "unterminated string");
        };
        i += 1;
        match b {
            b'"' => break,
            b'\\' => {
                let Some(&e) = rest.get(i) else {
                    return fail(open, "unterminated string");
                };
                i += 1;
                match e {
                    b'n' => out.push(b'\n'),
                    b't' => out.push(b'\t'),
                    b'r' => out.push(b'\r'),
                    b'b' => out.push(8),
                    b'f' => out.push(12),
                    b'v' => out.push(11),
                    b'a' => out.push(7),
                    b'\\' | b'"' | b'\'' => out.push(e),
                    b'0'..=b'7' => {
                        let mut v = u32::from(e - b'0');
                        for _ in 0..2 {
                            match rest.get(i) {
                                Some(&d @ b'0'..=b'7') => {
                                    v = v * 8 + u32::from(d - b'0');
                                    i += 1;
                                }
                                _ => break,
                            }
                        }
                        if v > 255 {
                            let at = open.end + i;
                            return fail(
                                Span {
                                    start: at - 4,
                                    end: at,
                                },
                                "octal escape above \\377",
                            );
                        }
                        out.push(v as u8);
                    }
                    b'x' | b'X' => {
                        let digits = rest[i..]
                            .iter()
                            .take_while(|c| c.is_ascii_hexdigit())
                            .count();
                        if digits == 0 {
                            let at = open.end + i;
                            return fail(
                                Span {
                                    start: at - 2,
                                    end: at,
                                },
                                "`\\x` needs hexadecimal digits",
                            );
                        }
                        // As in gas, only the low byte of a long escape counts.
                        let low = &rest[i + digits.saturating_sub(2)..i + digits];
                        let v = low.iter().fold(0u8, |acc, &d| {
                            let digit = char::from(d).to_digit(16).unwrap_or(0) as u8;
                            acc.wrapping_mul(16).wrapping_add(digit)
                        });
                        out.push(v);
                        i += digits;
                    }
                    _ => {
                        let at = open.end + i;
                        return fail(
                            Span {
                                start: at - 2,
                                end: at,
                            },
                            format!("unknown escape `\\{}`", char::from(e)),
                        );
                    }
                }
            }
            _ => out.push(b),
        }
    }
    cur.advance(i);
    let span = Span {
        start: open.start,
        end: open.end + i,
    };
    Ok((out, span))
}
