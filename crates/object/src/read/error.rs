//! Why an ELF object was rejected, naming the place: section, symbol,
//! relocation or instruction index.

use thiserror::Error;

use crate::btf::BtfError;

/// Why [`Object::parse`](super::Object::parse) rejected its input.
///
/// Every variant names where the problem is, so a user can find it with
/// `llvm-readelf` or `llvm-objdump`.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ObjectError {
    /// The ELF container itself is malformed (header, section table, string
    /// or symbol table), as reported by the `object` crate.
    #[error("malformed ELF: {what}: {message}")]
    Elf {
        /// What was being read ("file header", "section table", ...).
        what: String,
        /// The `object` crate's message.
        message: String,
    },
    /// Not a relocatable BPF object (wrong class, type or machine).
    #[error("not a BPF relocatable object: {0}")]
    NotBpf(String),
    /// A section's contents do not fit its declared size or alignment.
    #[error("section '{section}': {message}")]
    Section {
        /// The section name.
        section: String,
        /// What is wrong.
        message: String,
    },
    /// A symbol is malformed or points outside its section.
    #[error("symbol '{symbol}' (#{index}): {message}")]
    Symbol {
        /// The symbol name ("" when it has none).
        symbol: String,
        /// The symbol table index.
        index: usize,
        /// What is wrong.
        message: String,
    },
    /// A relocation cannot be applied.
    #[error("relocation #{index} of section '{section}' at offset {offset:#x} against '{symbol}': {message}")]
    Relocation {
        /// The section the relocation patches.
        section: String,
        /// Index of the relocation within its relocation section.
        index: usize,
        /// Byte offset in the patched section.
        offset: u64,
        /// The symbol name.
        symbol: String,
        /// What is wrong.
        message: String,
    },
    /// An instruction of a program is malformed for linking.
    #[error("program '{program}' (section '{section}'), instruction {insn}: {message}")]
    Instruction {
        /// The program (function) name.
        program: String,
        /// Its section.
        section: String,
        /// Instruction (slot) index: within the function, or within the
        /// linked program for an error found while linking.
        insn: usize,
        /// What is wrong.
        message: String,
    },
    /// A map definition cannot be read.
    #[error("map '{map}' in section '{section}': {message}")]
    Map {
        /// The map name.
        map: String,
        /// The section holding the definition.
        section: String,
        /// What is wrong.
        message: String,
    },
    /// The file could not be read.
    #[error("{}: {message}", path.display())]
    Io {
        /// The file.
        path: std::path::PathBuf,
        /// The system's message.
        message: String,
    },
    /// An error in a named file ([`Object::open`](super::Object::open)).
    #[error("{}: {source}", path.display())]
    InFile {
        /// The file.
        path: std::path::PathBuf,
        /// What is wrong in it.
        #[source]
        source: Box<ObjectError>,
    },
    /// An extern (undefined symbol) cannot be resolved to a kind.
    #[error("extern '{name}': {message}")]
    Extern {
        /// The symbol name.
        name: String,
        /// What is wrong.
        message: String,
    },
    /// `.BTF` or `.BTF.ext` is malformed where the object needs it (BTF maps,
    /// externs, func/line info).
    #[error("section '{section}': {source}")]
    Btf {
        /// ".BTF" or ".BTF.ext".
        section: &'static str,
        /// The BTF parser's error.
        #[source]
        source: BtfError,
    },
}

impl ObjectError {
    /// Builds an [`ObjectError::Section`].
    pub(crate) fn section(section: &str, message: impl Into<String>) -> Self {
        ObjectError::Section {
            section: section.to_string(),
            message: message.into(),
        }
    }

    /// Builds an [`ObjectError::Map`].
    pub(crate) fn map(map: &str, section: &str, message: impl Into<String>) -> Self {
        ObjectError::Map {
            map: map.to_string(),
            section: section.to_string(),
            message: message.into(),
        }
    }

    /// Wraps an error of the `object` crate.
    pub(crate) fn elf(what: &str, e: object::read::Error) -> Self {
        ObjectError::Elf {
            what: what.to_string(),
            message: e.to_string(),
        }
    }
}
