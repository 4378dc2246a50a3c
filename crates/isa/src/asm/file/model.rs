//! The parsed form of an assembly file: sections of items, and the symbols
//! the file defines, declares or uses.

use crate::asm::AsmError;
use crate::Instruction;

/// Where a thing was written in the source: for errors found after the line
/// was parsed (an undefined label, a jump too far, a relocation that cannot
/// be expressed). 1-based line and column, in characters, as in [`AsmError`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct SourceLoc {
    /// 1-based line number.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// Number of characters to underline (at least 1).
    pub len: usize,
}

impl SourceLoc {
    /// An [`AsmError`] with `message` at this place.
    pub fn error(&self, message: impl Into<String>) -> AsmError {
        AsmError {
            line: self.line,
            column: self.column,
            len: self.len.max(1),
            message: message.into(),
        }
    }
}

/// The flags of a `.section` directive (`"awx"`), as ELF section flags mean them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct SectionFlags {
    /// `a`: occupies memory at run time (SHF_ALLOC).
    pub alloc: bool,
    /// `w`: writable (SHF_WRITE).
    pub write: bool,
    /// `x`: executable, i.e. holds BPF programs (SHF_EXECINSTR).
    pub exec: bool,
    /// `M`: mergeable entries of `entsize` bytes (SHF_MERGE).
    pub merge: bool,
    /// `S`: the entries are NUL-terminated strings (SHF_STRINGS).
    pub strings: bool,
}

/// Whether a section's contents are stored in the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum SectionType {
    /// `@progbits`: bytes in the file (code, `.data`, `.rodata`, `license`).
    #[default]
    ProgBits,
    /// `@nobits`: zero-filled at load, nothing in the file (`.bss`).
    NoBits,
}

/// One section of the file, with its items in source order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Section {
    /// The section name (`xdp`, `.text`, `license`, `.rodata.str1.1`).
    pub name: String,
    /// Its flags.
    pub flags: SectionFlags,
    /// `@progbits` or `@nobits`.
    pub ty: SectionType,
    /// Entry size of a mergeable section (`.section .rodata.cst16,"aM",@progbits,16`), else 0.
    pub entsize: u64,
    /// The largest alignment requested in it (`.p2align`), at least 1.
    pub align: u64,
    /// Its size in bytes: the offset of the next item.
    pub size: u64,
    /// What it holds, in order, each at its byte offset.
    pub items: Vec<Item>,
}

/// One piece of a section's contents.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Item {
    /// Byte offset in the section.
    pub offset: u64,
    /// Where it was written.
    pub loc: SourceLoc,
    /// What it is.
    pub kind: ItemKind,
}

/// The kinds of section contents.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ItemKind {
    /// An instruction (8 bytes, 16 for `lddw`). A jump, a call or an `lddw`
    /// written with a symbol has `target`; its offset or immediate is set
    /// when the file is assembled.
    Instruction {
        /// The instruction, with a zero offset or immediate where `target` goes.
        insn: Instruction,
        /// The label or symbol it refers to.
        target: Option<SymbolUse>,
    },
    /// Literal bytes (`.byte 1`, `.asciz "GPL"`).
    Bytes(Vec<u8>),
    /// A `size`-byte little-endian value computed from symbols (`.quad g`,
    /// `.long .Lend-.Lstart`).
    Value {
        /// 1, 2, 4 or 8.
        size: u8,
        /// The expression.
        value: Expr,
    },
    /// `len` copies of `byte` (`.zero 32`, alignment padding).
    Fill {
        /// Number of bytes.
        len: u64,
        /// The byte repeated.
        byte: u8,
    },
}

/// A use of a symbol by an instruction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SymbolUse {
    /// Index into [`AsmFile::symbols`].
    pub symbol: usize,
    /// Constant added to the symbol's address (`r1 = sym + 8 ll`).
    pub addend: i64,
    /// Where the name was written.
    pub loc: SourceLoc,
    /// For `call name`: the helper of that name, used when no symbol `name`
    /// is defined or declared in the file.
    pub helper: Option<i32>,
}

/// A value of a data directive or `.size`: a constant, a symbol's address
/// plus a constant, or the distance between two labels of one section.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expr {
    /// A number.
    Const(i64),
    /// `sym + addend`.
    Symbol {
        /// Index into [`AsmFile::symbols`].
        symbol: usize,
        /// The constant added.
        addend: i64,
    },
    /// `plus - minus + addend`.
    Difference {
        /// Index of the symbol added.
        plus: usize,
        /// Index of the symbol subtracted.
        minus: usize,
        /// The constant added.
        addend: i64,
    },
}

/// A symbol's ELF binding.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Binding {
    /// Visible in this file only (`static` in C; labels by default).
    Local,
    /// `.globl`: visible to the linker and loader.
    Global,
    /// `.weak`: global, and may stay undefined.
    Weak,
}

/// A symbol's ELF type, from `.type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum SymbolKind {
    /// No `.type`: a plain label.
    #[default]
    NoType,
    /// `@function`.
    Func,
    /// `@object`.
    Object,
}

/// A symbol's ELF visibility (`.hidden`, `.protected`, `.internal`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Visibility {
    /// Default visibility.
    #[default]
    Default,
    /// `.hidden`.
    Hidden,
    /// `.protected`.
    Protected,
    /// `.internal`.
    Internal,
}

/// Where a label was defined.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Definition {
    /// Index into [`AsmFile::sections`].
    pub section: usize,
    /// Byte offset in that section.
    pub offset: u64,
    /// Where the label was written.
    pub loc: SourceLoc,
}

/// Everything the file says about one name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SymbolDecl {
    /// The name.
    pub name: String,
    /// The binding a directive gave it (`.globl`, `.weak`, `.local`), if any.
    pub binding: Option<Binding>,
    /// Its type (`.type`).
    pub kind: SymbolKind,
    /// Its visibility.
    pub visibility: Visibility,
    /// Where it is defined, if it is.
    pub definition: Option<Definition>,
    /// Its `.size`, with where that was written.
    pub size: Option<(Expr, SourceLoc)>,
    /// Where the name first appears.
    pub first: SourceLoc,
}

/// The order in which sections and symbols first appear: the order clang's
/// assembler gives their symbol-table entries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Mention {
    /// A section (index into [`AsmFile::sections`]).
    Section(usize),
    /// A symbol (index into [`AsmFile::symbols`]).
    Symbol(usize),
}

/// A parsed assembly file: sections of items and the symbols, before labels
/// are resolved. [`AsmFile::assemble`] resolves them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AsmFile {
    /// The source file named by `.file "prog.c"`, if any.
    pub source_name: Option<String>,
    /// The sections in order of first appearance; `.text` is always first,
    /// as clang's assembler always creates it.
    pub sections: Vec<Section>,
    /// Every name defined, declared or used.
    pub symbols: Vec<SymbolDecl>,
    /// Sections and symbols in order of first appearance.
    pub order: Vec<Mention>,
}
