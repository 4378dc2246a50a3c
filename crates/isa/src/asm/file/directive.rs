//! The directives of the dialect `clang -S -target bpf` emits.
//!
//! Meaningful ones change the object (sections, symbols, data, alignment);
//! debug-only ones are skipped (`.loc`, `.cfi_*`, `.file N ...`, the
//! contents of `.debug_*` sections, `.addrsig`, `.ident`), because bpfkit
//! writes no debug information. Anything else is an error that names the
//! directive, so nothing meaningful is dropped silently.

use super::data::{expr, le_bytes, name_text, string_literal, symbol_name};
use super::model::{Binding, Expr, ItemKind, SectionFlags, SectionType, SymbolKind, Visibility};
use super::parse::{code_flags, LineCtx, Parser};
use crate::asm::cursor::{fail, Cursor, PResult, Span};

/// Whether directive `word` switches sections (and so ends a skipped
/// `.debug_*` section).
pub(super) fn switches_section(word: &str) -> bool {
    matches!(word, ".section" | ".text" | ".data" | ".bss")
}

/// Runs the directive `word` (at `span`) with the operands at the cursor.
pub(super) fn run(
    p: &mut Parser,
    word: &str,
    span: Span,
    cur: &mut Cursor,
    ctx: LineCtx,
) -> PResult<()> {
    match word {
        ".text" => switch(p, ".text", Some(code_flags()), None, None, span)?,
        ".data" => switch(p, ".data", Some(data_flags()), None, None, span)?,
        ".bss" => switch(
            p,
            ".bss",
            Some(data_flags()),
            Some(SectionType::NoBits),
            None,
            span,
        )?,
        ".section" => section(p, cur)?,
        ".globl" | ".global" => symbols(p, cur, ctx, |s| s.binding = Some(Binding::Global))?,
        ".weak" => symbols(p, cur, ctx, |s| s.binding = Some(Binding::Weak))?,
        ".local" => symbols(p, cur, ctx, |s| s.binding = Some(Binding::Local))?,
        ".hidden" => symbols(p, cur, ctx, |s| s.visibility = Visibility::Hidden)?,
        ".protected" => symbols(p, cur, ctx, |s| s.visibility = Visibility::Protected)?,
        ".internal" => symbols(p, cur, ctx, |s| s.visibility = Visibility::Internal)?,
        ".extern" => symbols(p, cur, ctx, |_| ())?,
        ".type" => symbol_type(p, cur, ctx)?,
        ".size" => {
            let (name, nspan) = symbol_name(cur)?;
            let index = p.mention(&name, ctx.loc(nspan));
            cur.expect(",", "after the symbol name")?;
            let (value, vspan) = expr(p, cur, ctx)?;
            p.file.symbols[index].size = Some((value, ctx.loc(vspan)));
        }
        ".p2align" | ".balign" | ".align" => align(p, word, span, cur, ctx)?,
        ".byte" => values(p, 1, cur, ctx)?,
        ".short" | ".hword" | ".2byte" | ".value" => values(p, 2, cur, ctx)?,
        ".long" | ".int" | ".4byte" => values(p, 4, cur, ctx)?,
        ".quad" | ".8byte" => values(p, 8, cur, ctx)?,
        ".ascii" => strings(p, false, cur, ctx)?,
        ".asciz" | ".string" => strings(p, true, cur, ctx)?,
        ".zero" | ".skip" | ".space" => zero(p, cur, ctx)?,
        ".comm" | ".lcomm" => common(p, word == ".lcomm", span, cur, ctx)?,
        ".file" => file(p, cur)?,
        // Debug information, which bpfkit does not write: DWARF line and
        // frame tables, the address-significance table, the producer string.
        ".loc" | ".addrsig" | ".addrsig_sym" | ".ident" => {
            cur.advance(cur.rest().len());
        }
        w if w.starts_with(".cfi_") => cur.advance(cur.rest().len()),
        _ => {
            return fail(
                span,
                format!("unsupported directive `{word}` (bpfkit takes the directives clang emits for BPF: sections, symbols, data, alignment)"),
            )
        }
    }
    cur.expect_end(&format!("after `{word}`"))
}

/// `"aw"`: the flags of data sections.
fn data_flags() -> SectionFlags {
    SectionFlags {
        alloc: true,
        write: true,
        ..SectionFlags::default()
    }
}

/// Switches to section `name`, creating it with `flags`, `ty` and `entsize`
/// (or the defaults its name implies) if new. Given flags must agree with
/// the section's existing ones.
fn switch(
    p: &mut Parser,
    name: &str,
    flags: Option<SectionFlags>,
    ty: Option<SectionType>,
    entsize: Option<u64>,
    span: Span,
) -> PResult<()> {
    if name == ".BTF" || name == ".BTF.ext" {
        return fail(
            span,
            format!("section `{name}`: BTF is not supported by bpfkit's object writer; assemble clang output built without -g"),
        );
    }
    if name.starts_with(".debug_") {
        p.skipping = Some(name.to_string());
        return Ok(());
    }
    p.skipping = None;
    if let Some(i) = p.find_section(name) {
        let sec = &p.file.sections[i];
        let differs = flags.is_some_and(|f| f != sec.flags)
            || ty.is_some_and(|t| t != sec.ty)
            || entsize.is_some_and(|e| e != sec.entsize);
        if differs {
            return fail(
                span,
                format!("section `{name}` was first given other flags, type or entry size"),
            );
        }
        p.current = i;
        return Ok(());
    }
    let (default_flags, default_ty) = defaults_for(name);
    p.current = p.section_index(
        name,
        flags.unwrap_or(default_flags),
        ty.unwrap_or(default_ty),
        entsize.unwrap_or(0),
    );
    Ok(())
}

/// The flags and type a section name implies when `.section` gives none,
/// as in clang's assembler.
fn defaults_for(name: &str) -> (SectionFlags, SectionType) {
    let prefixed = |p: &str| name == p || name.starts_with(&format!("{p}."));
    if prefixed(".text") {
        (code_flags(), SectionType::ProgBits)
    } else if prefixed(".bss") {
        (data_flags(), SectionType::NoBits)
    } else if prefixed(".data") {
        (data_flags(), SectionType::ProgBits)
    } else if prefixed(".rodata") {
        let flags = SectionFlags {
            alloc: true,
            ..SectionFlags::default()
        };
        (flags, SectionType::ProgBits)
    } else {
        (SectionFlags::default(), SectionType::ProgBits)
    }
}

/// `.section NAME[,"FLAGS"[,@TYPE[,ENTSIZE]]]`.
fn section(p: &mut Parser, cur: &mut Cursor) -> PResult<()> {
    let (name, nspan) = section_name(cur)?;
    let mut flags = None;
    let mut ty = None;
    let mut entsize = None;
    if cur.eat(",").is_some() {
        let (text, fspan) = string_literal(cur)?;
        let mut f = SectionFlags::default();
        for &c in &text {
            match c {
                b'a' => f.alloc = true,
                b'w' => f.write = true,
                b'x' => f.exec = true,
                b'M' => f.merge = true,
                b'S' => f.strings = true,
                _ => {
                    return fail(
                        fspan,
                        format!(
                            "unsupported section flag `{}` (bpfkit takes a, w, x, M, S)",
                            char::from(c)
                        ),
                    )
                }
            }
        }
        flags = Some(f);
        if cur.eat(",").is_some() {
            if cur.eat("@").is_none() && cur.eat("%").is_none() {
                return cur.unexpected("expected a section type such as `@progbits`");
            }
            ty = Some(match cur.ident() {
                Some(("progbits", _)) => SectionType::ProgBits,
                Some(("nobits", _)) => SectionType::NoBits,
                Some((other, tspan)) => {
                    return fail(
                        tspan,
                        format!(
                        "unsupported section type `@{other}` (bpfkit takes @progbits and @nobits)"
                    ),
                    )
                }
                None => return cur.unexpected("expected a section type such as `@progbits`"),
            });
            if cur.eat(",").is_some() {
                let n = cur.number()?;
                match u64::try_from(n.value) {
                    Ok(v) => entsize = Some(v),
                    Err(_) => return fail(n.span, "the entry size must be a non-negative number"),
                }
            }
        }
        if f.merge && entsize.is_none() {
            return fail(fspan, "a mergeable section (`M`) needs an entry size");
        }
    }
    switch(p, &name, flags, ty, entsize, nspan)
}

/// A section name: a quoted string, or the text up to a comma or space
/// (names such as `.rodata.str1.1` or `kprobe/sys_open`).
fn section_name(cur: &mut Cursor) -> PResult<(String, Span)> {
    if cur.peek_str("\"") {
        let (bytes, span) = string_literal(cur)?;
        return name_text(bytes, span, "section");
    }
    cur.skip_ws();
    let start = cur.pos();
    let rest = cur.rest();
    let len = rest
        .find(|c: char| c == ',' || c.is_whitespace())
        .unwrap_or(rest.len());
    if len == 0 {
        return cur.unexpected("expected a section name");
    }
    let span = Span {
        start,
        end: start + len,
    };
    let name = rest.as_bytes()[..len].to_vec();
    cur.advance(len);
    name_text(name, span, "section")
}

/// A comma-separated list of symbol names, each changed by `set`.
fn symbols(
    p: &mut Parser,
    cur: &mut Cursor,
    ctx: LineCtx,
    set: impl Fn(&mut super::model::SymbolDecl),
) -> PResult<()> {
    loop {
        let (name, span) = symbol_name(cur)?;
        let i = p.mention(&name, ctx.loc(span));
        set(&mut p.file.symbols[i]);
        if cur.eat(",").is_none() {
            return Ok(());
        }
    }
}

/// `.type sym,@function` (also `%function`, `"function"`, `STT_FUNC`).
fn symbol_type(p: &mut Parser, cur: &mut Cursor, ctx: LineCtx) -> PResult<()> {
    let (name, nspan) = symbol_name(cur)?;
    let i = p.mention(&name, ctx.loc(nspan));
    cur.expect(",", "after the symbol name")?;
    let (ty, tspan) = if cur.peek_str("\"") {
        let (bytes, span) = string_literal(cur)?;
        (String::from_utf8_lossy(&bytes).into_owned(), span)
    } else {
        let sigil = cur.eat("@").or_else(|| cur.eat("%"));
        match cur.ident() {
            Some((word, span)) => (word.to_string(), sigil.map_or(span, |s| s.to(span))),
            None => return cur.unexpected("expected a symbol type such as `@function`"),
        }
    };
    p.file.symbols[i].kind = match ty.as_str() {
        "function" | "STT_FUNC" => SymbolKind::Func,
        "object" | "STT_OBJECT" => SymbolKind::Object,
        "notype" | "STT_NOTYPE" => SymbolKind::NoType,
        _ => {
            return fail(
                tspan,
                format!(
                    "unsupported symbol type `{ty}` (bpfkit takes @function, @object, @notype)"
                ),
            )
        }
    };
    Ok(())
}

/// `.p2align P[, FILL[, MAX]]` (a power of two) and `.balign`/`.align N[, FILL[, MAX]]` (bytes).
fn align(p: &mut Parser, word: &str, span: Span, cur: &mut Cursor, ctx: LineCtx) -> PResult<()> {
    let n = cur.number()?;
    let bytes = if word == ".p2align" {
        match u32::try_from(n.value).ok().filter(|&v| v < 32) {
            Some(v) => 1u64 << v,
            None => return fail(n.span, "the alignment power must be 0 to 31"),
        }
    } else {
        match u64::try_from(n.value).ok().filter(|v| v.is_power_of_two()) {
            Some(v) if v <= 1 << 31 => v,
            _ => return fail(n.span, "the alignment must be a power of two up to 2^31"),
        }
    };
    let mut fill = 0u8;
    let mut max = None;
    if cur.eat(",").is_some() {
        if cur.at_number() {
            let f = cur.number()?;
            fill = match u8::try_from(f.value) {
                Ok(b) => b,
                Err(_) => return fail(f.span, "the fill value must be a byte (0 to 255)"),
            };
        }
        if cur.eat(",").is_some() {
            let m = cur.number()?;
            max = match u64::try_from(m.value) {
                Ok(v) => Some(v),
                Err(_) => return fail(m.span, "the maximum padding must be non-negative"),
            };
        }
    }
    p.align(bytes, fill, max, span, ctx)
}

/// `.byte`/`.short`/`.long`/`.quad` with a comma-separated list of expressions.
fn values(p: &mut Parser, size: u8, cur: &mut Cursor, ctx: LineCtx) -> PResult<()> {
    loop {
        let (value, span) = expr(p, cur, ctx)?;
        let kind = match value {
            Expr::Const(v) => match le_bytes(v, size) {
                Ok(bytes) => ItemKind::Bytes(bytes),
                Err(message) => return fail(span, message),
            },
            value => ItemKind::Value { size, value },
        };
        p.emit(kind, u64::from(size), span, ctx, "data")?;
        if cur.eat(",").is_none() {
            return Ok(());
        }
    }
}

/// `.ascii "..."[, "..."]` and `.asciz` (each string NUL-terminated).
fn strings(p: &mut Parser, nul: bool, cur: &mut Cursor, ctx: LineCtx) -> PResult<()> {
    loop {
        let (mut bytes, span) = string_literal(cur)?;
        if nul {
            bytes.push(0);
        }
        let len = bytes.len() as u64;
        p.emit(ItemKind::Bytes(bytes), len, span, ctx, "data")?;
        if cur.eat(",").is_none() {
            return Ok(());
        }
    }
}

/// `.zero N[, FILL]`.
fn zero(p: &mut Parser, cur: &mut Cursor, ctx: LineCtx) -> PResult<()> {
    let n = cur.number()?;
    let len = match u64::try_from(n.value) {
        Ok(v) if v <= 1 << 32 => v,
        _ => return fail(n.span, "the size must be 0 to 2^32 bytes"),
    };
    let mut byte = 0u8;
    let mut span = n.span;
    if cur.eat(",").is_some() {
        let f = cur.number()?;
        span = span.to(f.span);
        byte = match u8::try_from(f.value) {
            Ok(b) => b,
            Err(_) => return fail(f.span, "the fill value must be a byte (0 to 255)"),
        };
    }
    p.emit(
        ItemKind::Fill { len, byte },
        len,
        span,
        ctx,
        "a non-zero fill",
    )
}

/// `.comm sym, SIZE[, ALIGN]` of a `.local` symbol, and `.lcomm`: space in
/// `.bss`, where clang's assembler puts local common symbols.
fn common(p: &mut Parser, lcomm: bool, span: Span, cur: &mut Cursor, ctx: LineCtx) -> PResult<()> {
    let (name, nspan) = symbol_name(cur)?;
    let i = p.mention(&name, ctx.loc(nspan));
    cur.expect(",", "after the symbol name")?;
    let n = cur.number()?;
    let Ok(size) = u64::try_from(n.value) else {
        return fail(n.span, "the size must be non-negative");
    };
    let mut align = 1;
    if cur.eat(",").is_some() {
        let a = cur.number()?;
        align = match u64::try_from(a.value).ok().filter(|v| v.is_power_of_two()) {
            Some(v) if v <= 1 << 31 => v,
            _ => return fail(a.span, "the alignment must be a power of two up to 2^31"),
        };
    }
    if lcomm {
        p.file.symbols[i].binding = Some(Binding::Local);
    } else if p.file.symbols[i].binding != Some(Binding::Local) {
        return fail(
            span,
            format!("`{name}` is a common symbol, which BPF objects do not support (declare it `.local` first, or compile with -fno-common)"),
        );
    }
    let previous = (p.current, p.skipping.take());
    switch(
        p,
        ".bss",
        Some(data_flags()),
        Some(SectionType::NoBits),
        None,
        span,
    )?;
    p.align(align, 0, None, span, ctx)?;
    let offset = p.section().size;
    p.define_at(i, offset, nspan, ctx.loc(nspan))?;
    p.emit(ItemKind::Fill { len: size, byte: 0 }, size, n.span, ctx, "")?;
    // A common symbol is data, as clang's assembler types it.
    if p.file.symbols[i].kind == SymbolKind::NoType {
        p.file.symbols[i].kind = SymbolKind::Object;
    }
    if p.file.symbols[i].size.is_none() {
        p.file.symbols[i].size = Some((Expr::Const(size as i64), ctx.loc(n.span)));
    }
    (p.current, p.skipping) = previous;
    Ok(())
}

/// `.file "prog.c"` names the source (an STT_FILE symbol); the DWARF form
/// `.file 1 "dir" "name" md5 0x...` is debug information and is skipped.
fn file(p: &mut Parser, cur: &mut Cursor) -> PResult<()> {
    if cur.at_number() {
        cur.advance(cur.rest().len());
        return Ok(());
    }
    let (bytes, span) = string_literal(cur)?;
    p.file.source_name = Some(name_text(bytes, span, "file")?.0);
    Ok(())
}
