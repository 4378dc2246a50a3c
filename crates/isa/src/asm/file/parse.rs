//! The line driver of assembly files: labels, directives and instructions
//! into sections of items.

use std::collections::HashMap;

use super::model::{
    AsmFile, Definition, Item, ItemKind, Mention, Section, SectionFlags, SectionType, SourceLoc,
    SymbolDecl, SymbolUse,
};
use crate::asm::cursor::{fail, Cursor, LineError, PResult, Span};
use crate::asm::{label_definition, llvm, locate, AsmError};

/// The largest section whose bytes are stored (256 MiB): far beyond any BPF
/// object, and small enough that a hostile `.zero` cannot exhaust memory.
const MAX_STORED_SECTION: u64 = 1 << 28;

/// The line being parsed, to turn spans into [`SourceLoc`]s.
#[derive(Clone, Copy)]
pub(super) struct LineCtx<'a> {
    pub line: usize,
    pub text: &'a str,
}

impl LineCtx<'_> {
    pub fn loc(&self, span: Span) -> SourceLoc {
        let e = locate(
            LineError {
                span,
                message: String::new(),
            },
            self.line,
            self.text,
        );
        SourceLoc {
            line: e.line,
            column: e.column,
            len: e.len,
        }
    }
}

/// The state of a file being parsed.
pub(super) struct Parser {
    pub file: AsmFile,
    /// The section items go to.
    pub current: usize,
    /// While inside a DWARF section (`.debug_*`), its name: its contents are
    /// skipped up to the next section directive.
    pub skipping: Option<String>,
    sections_by_name: HashMap<String, usize>,
    symbols_by_name: HashMap<String, usize>,
}

/// Parses `source`, an assembly file in the dialect `clang -S -target bpf`
/// emits, into sections of items. Labels are not resolved yet.
pub fn parse_file(source: &str) -> Result<AsmFile, AsmError> {
    let mut p = Parser::new();
    for (index, text) in source.lines().enumerate() {
        let ctx = LineCtx {
            line: index + 1,
            text,
        };
        let code = strip_comment(text);
        let mut cur = Cursor::new(code);
        p.statement(&mut cur, ctx)
            .map_err(|e| locate(e, ctx.line, text))?;
    }
    Ok(p.file)
}

impl Parser {
    fn new() -> Parser {
        let mut p = Parser {
            file: AsmFile {
                source_name: None,
                sections: Vec::new(),
                symbols: Vec::new(),
                order: Vec::new(),
            },
            current: 0,
            skipping: None,
            sections_by_name: HashMap::new(),
            symbols_by_name: HashMap::new(),
        };
        // clang's assembler starts in `.text`, aligned to 4, and always writes it.
        let text = code_flags();
        p.current = p.section_index(".text", text, SectionType::ProgBits, 0);
        p.file.sections[p.current].align = 4;
        p
    }

    fn statement(&mut self, cur: &mut Cursor, ctx: LineCtx) -> PResult<()> {
        if self.skipping.is_some() {
            let save = cur.pos();
            if let Some((word, span)) = cur.ident() {
                if super::directive::switches_section(word) {
                    return super::directive::run(self, word, span, cur, ctx);
                }
            }
            cur.reset(save);
            return Ok(());
        }
        while let Some((name, span)) = label_definition(cur) {
            self.define_label(name, span, ctx)?;
        }
        if cur.at_end() {
            return Ok(());
        }
        if cur.peek_str(".") {
            let save = cur.pos();
            if let Some((word, span)) = cur.ident() {
                return super::directive::run(self, word, span, cur, ctx);
            }
            cur.reset(save);
        }
        let parsed = llvm::parse(cur)?;
        cur.expect_end("after the instruction")?;
        let span = first_token(ctx.text);
        let target = match parsed.label {
            Some(label) => {
                let use_loc = ctx.loc(label.span);
                Some(SymbolUse {
                    symbol: self.mention(&label.name, use_loc),
                    addend: label.addend,
                    loc: use_loc,
                    helper: label.helper,
                })
            }
            None => None,
        };
        let len = 8 * parsed.insn.encode().as_slice().len() as u64;
        let kind = ItemKind::Instruction {
            insn: parsed.insn,
            target,
        };
        self.emit(kind, len, span, ctx, "instructions")
    }

    /// The section currently written to.
    pub fn section(&mut self) -> &mut Section {
        &mut self.file.sections[self.current]
    }

    /// Appends an item of `len` bytes, written at `span`, to the current
    /// section. `what` names it for the error when the section holds no
    /// data (`@nobits`).
    pub fn emit(
        &mut self,
        kind: ItemKind,
        len: u64,
        span: Span,
        ctx: LineCtx,
        what: &str,
    ) -> PResult<()> {
        let zero = match &kind {
            ItemKind::Fill { byte, .. } => *byte == 0,
            ItemKind::Bytes(bytes) => bytes.iter().all(|&b| b == 0),
            _ => false,
        };
        let sec = &mut self.file.sections[self.current];
        // clang's assembler takes zeros in `.bss` (`.long 0`), nothing else.
        let kind = match kind {
            ItemKind::Bytes(_) if sec.ty == SectionType::NoBits && zero => {
                ItemKind::Fill { len, byte: 0 }
            }
            other => other,
        };
        if sec.ty == SectionType::NoBits && !zero {
            return fail(
                span,
                format!(
                    "section `{}` is @nobits (zero-filled, nothing stored): it cannot hold {what}",
                    sec.name
                ),
            );
        }
        let offset = sec.size;
        let limit = match sec.ty {
            SectionType::ProgBits => MAX_STORED_SECTION,
            SectionType::NoBits => u64::MAX,
        };
        let Some(end) = offset.checked_add(len).filter(|&e| e <= limit) else {
            return fail(
                span,
                format!("section `{}` would exceed {limit} bytes", sec.name),
            );
        };
        sec.size = end;
        sec.items.push(Item {
            offset,
            loc: ctx.loc(span),
            kind,
        });
        Ok(())
    }

    /// Pads the current section to a multiple of `align` bytes with `fill`,
    /// unless that needs more than `max` bytes; the section's alignment
    /// becomes at least `align` either way, as in clang's assembler.
    pub fn align(
        &mut self,
        align: u64,
        fill: u8,
        max: Option<u64>,
        span: Span,
        ctx: LineCtx,
    ) -> PResult<()> {
        let sec = self.section();
        sec.align = sec.align.max(align);
        let pad = (align - sec.size % align) % align;
        if pad == 0 || max.is_some_and(|m| pad > m) {
            return Ok(());
        }
        let fill = ItemKind::Fill {
            len: pad,
            byte: fill,
        };
        self.emit(fill, pad, span, ctx, "a non-zero fill")
    }

    /// The index of the section `name`, creating it (and recording its first
    /// appearance) if it is new.
    pub fn section_index(
        &mut self,
        name: &str,
        flags: SectionFlags,
        ty: SectionType,
        entsize: u64,
    ) -> usize {
        if let Some(&i) = self.sections_by_name.get(name) {
            return i;
        }
        let i = self.file.sections.len();
        self.file.sections.push(Section {
            name: name.to_string(),
            flags,
            ty,
            entsize,
            align: 1,
            size: 0,
            items: Vec::new(),
        });
        self.sections_by_name.insert(name.to_string(), i);
        self.file.order.push(Mention::Section(i));
        i
    }

    /// Whether a section of that name exists.
    pub fn find_section(&self, name: &str) -> Option<usize> {
        self.sections_by_name.get(name).copied()
    }

    /// The index of the symbol `name`, recording its first appearance at `loc`.
    pub fn mention(&mut self, name: &str, loc: SourceLoc) -> usize {
        if let Some(&i) = self.symbols_by_name.get(name) {
            return i;
        }
        let i = self.file.symbols.len();
        self.file.symbols.push(SymbolDecl {
            name: name.to_string(),
            binding: None,
            kind: Default::default(),
            visibility: Default::default(),
            definition: None,
            size: None,
            first: loc,
        });
        self.symbols_by_name.insert(name.to_string(), i);
        self.file.order.push(Mention::Symbol(i));
        i
    }

    /// Defines `name` at the current offset of the current section.
    pub fn define_label(&mut self, name: &str, span: Span, ctx: LineCtx) -> PResult<()> {
        let loc = ctx.loc(span);
        let i = self.mention(name, loc);
        let offset = self.file.sections[self.current].size;
        self.define_at(i, offset, span, loc)
    }

    /// Defines symbol `i` at `offset` in the current section.
    pub fn define_at(&mut self, i: usize, offset: u64, span: Span, loc: SourceLoc) -> PResult<()> {
        let sym = &mut self.file.symbols[i];
        if let Some(first) = sym.definition {
            return fail(
                span,
                format!(
                    "duplicate label `{}` (first defined on line {})",
                    sym.name, first.loc.line
                ),
            );
        }
        sym.definition = Some(Definition {
            section: self.current,
            offset,
            loc,
        });
        Ok(())
    }
}

/// `"ax"`: the flags of code sections.
pub(super) fn code_flags() -> SectionFlags {
    SectionFlags {
        alloc: true,
        exec: true,
        ..SectionFlags::default()
    }
}

/// The first token of a line, which an instruction's errors point at.
fn first_token(text: &str) -> Span {
    let start = text.len() - text.trim_start().len();
    let code = strip_comment(text);
    let end = code.trim_end().len().max(start);
    Span { start, end }
}

/// The line without its comment: from `#`, `;` or `//` outside a string
/// literal to the end of the line. (`# %bb.0:` and `# @prog` are how clang
/// annotates its output; `.asciz "a#b"` keeps its `#`.)
pub(super) fn strip_comment(line: &str) -> &str {
    let bytes = line.as_bytes();
    let mut in_string = false;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if in_string {
            match b {
                b'\\' => i += 1,
                b'"' => in_string = false,
                _ => {}
            }
        } else {
            match b {
                b'"' => in_string = true,
                b'#' | b';' => return &line[..i],
                b'/' if bytes.get(i + 1) == Some(&b'/') => return &line[..i],
                _ => {}
            }
        }
        i += 1;
    }
    line
}
