//! Writing BPF ELF objects from assembly: `bpfkit asm prog.s -o prog.o`.
//!
//! [`assemble_object`] takes an assembly file in the dialect
//! `clang -S -O2 -target bpf` emits (see [`bpfkit_isa::asm::file`]) and
//! writes what clang's integrated assembler writes for it: an ELF64
//! little-endian `ET_REL` object for `EM_BPF` with one `SHT_PROGBITS`
//! section per section directive (`SHF_EXECINSTR` for code, `SHT_NOBITS`
//! for `.bss`), a symbol table (the `STT_FILE` symbol, `STT_FUNC` and
//! `STT_OBJECT` symbols with their sizes, section symbols where relocations
//! need them) ordered as clang orders it, and a `.rel` section after each
//! section with relocations:
//!
//! - `call f` to a global function, to one in another section, or to an
//!   external: `R_BPF_64_32`, against the function's symbol (imm `-1`) or,
//!   for a local one, against its section's symbol with the instruction
//!   offset in the immediate (`offset / 8 - 1`), as clang does;
//! - `r1 = sym ll`: `R_BPF_64_64`, the byte offset from the relocated symbol
//!   in the immediate;
//! - `.quad sym` / `.long sym` in data: `R_BPF_64_ABS64` / `R_BPF_64_ABS32`,
//!   the addend in the data word.
//!
//! Section contents, symbols and relocations are those of clang's own
//! object for the same source (the tests compare them). What is not
//! written: BTF and DWARF (bpfkit writes no debug information), the
//! `.llvm_addrsig` table. Section names live in their own `.shstrtab`
//! (the last section) rather than in clang's shared `.strtab`, so every
//! other section keeps the index it has in clang's object.

mod elf;
mod error;
mod reloc;
mod symtab;

use bpfkit_isa::asm::file::{assemble_file, AssembledFile};

pub use error::WriteError;

/// Assembles `source` and writes it as a relocatable BPF ELF object.
///
/// ```
/// use bpfkit_object::write::assemble_object;
/// let src = "\t.section socket,\"ax\",@progbits\n\t.globl prog\n\t.type prog,@function\nprog:\n\tr0 = 0\n\texit\n.Lend:\n\t.size prog, .Lend-prog\n\t.section license,\"aw\",@progbits\n\t.asciz \"GPL\"\n";
/// let elf = assemble_object(src).unwrap();
/// assert_eq!(&elf[..4], b"\x7fELF");
/// ```
pub fn assemble_object(source: &str) -> Result<Vec<u8>, WriteError> {
    write_object(&assemble_file(source)?)
}

/// Writes an assembled file as a relocatable BPF ELF object.
pub fn write_object(file: &AssembledFile) -> Result<Vec<u8>, WriteError> {
    let table = symtab::Symtab::plan(file);
    let relocated = reloc::relocate(file, &table)?;
    elf::emit(file, &table, &relocated.relocs, &relocated.datas)
}
