//! Assembly files: the dialect `clang -S -O2 -target bpf` emits, as sections
//! of items, for writing relocatable objects.
//!
//! [`parse_file`] reads the file into an [`AsmFile`]: sections (`.text`,
//! `.section xdp,"ax",@progbits`, `.data`, `.bss`, `"aw"` data sections),
//! each a list of [`Item`]s (instructions in the LLVM syntax the plain
//! assembler takes, `.byte`/`.short`/`.long`/`.quad` values,
//! `.ascii`/`.asciz` strings, `.zero` and alignment fills), and the symbols
//! (`.globl`, `.weak`, `.local`, `.hidden`, `.type`, `.size`, `.comm`).
//! [`AsmFile::assemble`] resolves labels into an [`AssembledFile`]: section
//! bytes and the [`SymbolRef`]s an object writer turns into relocations.
//!
//! Debug information is skipped, since bpfkit writes none: `.loc`,
//! `.cfi_*`, the DWARF `.file N "dir" "name"` form, `.addrsig`, `.ident`
//! and the contents of `.debug_*` sections. BTF sections are an error
//! (bpfkit's writer does not produce BTF), as is any directive outside this
//! list: nothing meaningful is dropped silently. Errors carry the line and
//! column, as the plain assembler's do.
//!
//! ```
//! use bpfkit_isa::asm::file::{assemble_file, RefKind};
//! let src = "\t.section xdp,\"ax\",@progbits\n\t.globl prog\nprog:\n\tr1 = counter ll\n\tr0 = 2\n\texit\n";
//! let file = assemble_file(src).unwrap();
//! let xdp = &file.sections[1];
//! assert_eq!((xdp.name.as_str(), xdp.size), ("xdp", 32));
//! assert_eq!(xdp.refs[0].kind, RefKind::LoadImm64);
//! assert_eq!(file.symbols[xdp.refs[0].symbol].name, "counter");
//! ```

mod assembled;
mod data;
mod directive;
mod layout;
mod model;
mod parse;

#[cfg(test)]
mod tests;

pub use assembled::{AssembledFile, AssembledSection, AssembledSymbol, RefKind, SymbolRef};
pub use model::{
    AsmFile, Binding, Definition, Expr, Item, ItemKind, Mention, Section, SectionFlags,
    SectionType, SourceLoc, SymbolDecl, SymbolKind, SymbolUse, Visibility,
};
pub use parse::parse_file;

use super::AsmError;

/// Parses and assembles an assembly file: [`parse_file`] then [`AsmFile::assemble`].
pub fn assemble_file(source: &str) -> Result<AssembledFile, AsmError> {
    parse_file(source)?.assemble()
}
