//! Getting a program from a file: raw bytecode, or assembly text assembled on the way.

use crate::failure::{fail, Failure};
use crate::files;
use bpfkit_isa::{asm, check, decode_slots, Insn, Program, Syntax};
use std::path::Path;

/// Whether a path names assembly text rather than raw bytecode.
pub fn is_assembly(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("s" | "S" | "asm")
    )
}

/// Whether a file starts with the ELF magic.
pub fn is_elf(path: &Path) -> Result<bool, Failure> {
    use std::io::Read;
    let mut magic = [0u8; 4];
    let mut f = std::fs::File::open(path).map_err(|e| fail(format!("{}: {e}", path.display())))?;
    let n = f
        .read(&mut magic)
        .map_err(|e| fail(format!("{}: {e}", path.display())))?;
    Ok(n == 4 && magic == *b"\x7fELF")
}

/// Assembles a text file, rendering errors with the offending line underlined.
pub fn assemble_file(path: &Path, syntax: Syntax) -> Result<Vec<Insn>, Failure> {
    let text = files::read_text(path)?;
    asm::assemble(&text, syntax).map_err(|e| fail(e.render(&text, &path.display().to_string())))
}

/// Reads raw bytecode into slots.
pub fn read_bytecode(path: &Path) -> Result<Vec<Insn>, Failure> {
    let bytes = files::read(path)?;
    decode_slots(&bytes).map_err(|e| fail(format!("{}: {e}", path.display())))
}

/// Loads a structurally checked program from raw bytecode, or from assembly
/// when the file is `.s`/`.asm`.
pub fn load_program(path: &Path, syntax: Syntax) -> Result<Program, Failure> {
    let slots = if is_assembly(path) {
        assemble_file(path, syntax)?
    } else {
        read_bytecode(path)?
    };
    check(&slots).map_err(|e| fail(format!("{}: {e}", path.display())))
}
