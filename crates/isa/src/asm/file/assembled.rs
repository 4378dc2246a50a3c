//! An assembled file: the bytes of each section, its symbols with their
//! values, and the references to symbols that an object writer turns into
//! relocations.

use super::model::{
    Binding, Mention, SectionFlags, SectionType, SourceLoc, SymbolKind, Visibility,
};

/// An assembly file with every label resolved that can be resolved without
/// a linker: the input of an object writer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AssembledFile {
    /// The source file named by `.file "prog.c"`, if any.
    pub source_name: Option<String>,
    /// The sections, `.text` first, then in order of first appearance.
    pub sections: Vec<AssembledSection>,
    /// Every name the file mentions, indexed as in [`SymbolRef::symbol`].
    pub symbols: Vec<AssembledSymbol>,
    /// Sections and symbols in order of first appearance.
    pub order: Vec<Mention>,
}

/// One section's final contents.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AssembledSection {
    /// Its name.
    pub name: String,
    /// Its flags.
    pub flags: SectionFlags,
    /// `@progbits` or `@nobits`.
    pub ty: SectionType,
    /// Entry size of a mergeable section, else 0.
    pub entsize: u64,
    /// Its alignment in bytes.
    pub align: u64,
    /// Its size in bytes.
    pub size: u64,
    /// Its bytes (`size` of them; empty for `@nobits`). Where a reference
    /// is, the bytes hold zero: the writer stores the addend there.
    pub data: Vec<u8>,
    /// The places that refer to a symbol's address, in offset order.
    pub refs: Vec<SymbolRef>,
}

/// What a reference is: an instruction field or a data word.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RefKind {
    /// The immediate of a BPF-to-BPF `call` (ELF: `R_BPF_64_32`).
    Call,
    /// The 64-bit immediate of `lddw` (`r1 = sym ll`; ELF: `R_BPF_64_64`).
    LoadImm64,
    /// A `.quad sym` data word (ELF: `R_BPF_64_ABS64`).
    Abs64,
    /// A `.long sym` data word (ELF: `R_BPF_64_ABS32`).
    Abs32,
}

/// A place in a section that holds, or jumps to, a symbol's address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SymbolRef {
    /// Byte offset in the section: the instruction, or the data word.
    pub offset: u64,
    /// What kind of field it is.
    pub kind: RefKind,
    /// Index into [`AssembledFile::symbols`].
    pub symbol: usize,
    /// Bytes added to the symbol's address.
    pub addend: i64,
    /// Where the reference was written.
    pub loc: SourceLoc,
}

/// A symbol with its final binding and value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AssembledSymbol {
    /// The name.
    pub name: String,
    /// Its binding: as declared, else local when defined and global when not
    /// (an undefined name is an external).
    pub binding: Binding,
    /// Whether a directive (`.globl`, `.weak`, `.local`) gave the binding.
    pub declared: bool,
    /// Its type.
    pub kind: SymbolKind,
    /// Its visibility.
    pub visibility: Visibility,
    /// `(section index, byte offset)` where it is defined; `None` for an external.
    pub definition: Option<(usize, u64)>,
    /// Its `.size` (0 without one).
    pub size: u64,
    /// An assembler-local label (`.Lfunc_end0`, and clang's basic-block
    /// labels `LBB0_2`), which clang keeps out of the symbol table.
    pub temporary: bool,
    /// Where the name first appears.
    pub loc: SourceLoc,
}

impl AssembledSymbol {
    /// Whether references to it go through its section's symbol (a local
    /// definition) rather than through the symbol itself, as clang does.
    pub fn is_local_definition(&self) -> bool {
        self.binding == Binding::Local && self.definition.is_some()
    }
}
