//! Why an object could not be written.

use bpfkit_isa::asm::AsmError;
use thiserror::Error;

/// Why [`assemble_object`](super::assemble_object) or
/// [`write_object`](super::write_object) failed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum WriteError {
    /// The source does not assemble, or a reference in it cannot be
    /// expressed as a BPF relocation; the error has the line and column
    /// ([`AsmError::render`] shows them under the source line).
    #[error(transparent)]
    Asm(#[from] AsmError),
    /// The ELF writer failed (a size beyond what ELF64 can describe).
    #[error("writing the ELF object: {0}")]
    Elf(String),
}
