//! Errors of BTF parsing and type queries, each naming where it happened.

use thiserror::Error;

/// Why a BTF blob (or a query on one) was rejected.
///
/// Byte offsets are from the start of the blob given to the parser; type ids
/// are global ids (for split BTF they continue the base's numbering).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum BtfError {
    /// The blob ends before a structure that must be there.
    #[error("truncated {what} at byte offset {offset}: need {need} bytes, have {have}")]
    Truncated {
        /// What was being read (e.g. "header", "type record").
        what: &'static str,
        /// Byte offset where the structure starts.
        offset: usize,
        /// Bytes the structure needs.
        need: usize,
        /// Bytes left in the blob (or section).
        have: usize,
    },
    /// The first two bytes are not 0xeB9F in either byte order.
    #[error("bad BTF magic {found:#06x} at byte offset 0 (expected 0xeb9f)")]
    BadMagic {
        /// The magic as read in little-endian order.
        found: u16,
    },
    /// Only BTF version 1 exists.
    #[error("unsupported BTF version {0} at byte offset 2 (expected 1)")]
    BadVersion(u8),
    /// The header's flags byte must be zero.
    #[error("unsupported BTF header flags {0:#x} at byte offset 3")]
    BadFlags(u8),
    /// `hdr_len` is smaller than the header or larger than the blob, or the
    /// bytes beyond the known header are not zero.
    #[error("bad BTF header length {hdr_len} (blob is {blob_len} bytes)")]
    BadHeaderLen {
        /// The header length field.
        hdr_len: u32,
        /// Size of the whole blob.
        blob_len: usize,
    },
    /// The type or string section lies outside the blob, or they overlap.
    #[error("BTF {section} section [{offset}, +{len}) is outside the {avail} bytes after the header or overlaps")]
    SectionOutOfRange {
        /// "type" or "string".
        section: &'static str,
        /// Offset relative to the end of the header.
        offset: u32,
        /// Length of the section.
        len: u32,
        /// Bytes available after the header.
        avail: usize,
    },
    /// The type section does not start on a 4-byte boundary.
    #[error("BTF type section offset {0} is not 4-byte aligned")]
    MisalignedTypes(u32),
    /// The string section must start and end with a NUL byte.
    #[error("malformed BTF string section: {0}")]
    BadStrings(&'static str),
    /// A name offset points outside the string section.
    #[error("type [{type_id}]: string offset {offset} out of range")]
    StringOffset {
        /// The type whose record holds the offset.
        type_id: u32,
        /// The bad offset.
        offset: u32,
    },
    /// A type record has a kind the BTF format does not define.
    #[error("type [{type_id}] at byte offset {offset}: unknown kind {kind}")]
    UnknownKind {
        /// Id the record would have had.
        type_id: u32,
        /// Byte offset of the record.
        offset: usize,
        /// The raw kind number.
        kind: u8,
    },
    /// A type record ends past the type section.
    #[error("type [{type_id}] at byte offset {offset}: record of {need} bytes runs past the type section ({have} left)")]
    TruncatedType {
        /// Id of the record.
        type_id: u32,
        /// Byte offset of the record.
        offset: usize,
        /// Bytes the record needs (with its vlen entries).
        need: usize,
        /// Bytes left in the type section.
        have: usize,
    },
    /// A type refers to a type id that does not exist.
    #[error("type [{type_id}]: refers to type id {target}, but there are only {count} types")]
    TypeIdOutOfRange {
        /// The referring type.
        type_id: u32,
        /// The id it refers to.
        target: u32,
        /// Number of types (ids are `0..count`).
        count: u32,
    },
    /// More types than BTF can number (0xfffff).
    #[error("too many BTF types: {0}")]
    TooManyTypes(u32),
    /// A record is well-formed in layout but invalid for its kind.
    #[error("type [{type_id}]: {reason}")]
    InvalidType {
        /// The type.
        type_id: u32,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A query named a type id that does not exist.
    #[error("no type with id {0}")]
    NoSuchType(u32),
    /// A size was asked of a type that has none (void, function, forward).
    #[error("type [{0}] has no size")]
    NotSized(u32),
    /// Resolving a type's size followed more than 32 references (a loop).
    #[error("type [{0}]: reference chain too deep or cyclic")]
    TooDeep(u32),
    /// A size computation overflowed (huge arrays).
    #[error("type [{0}]: size overflows")]
    SizeOverflow(u32),
    /// A `.BTF.ext` info block declares a record size below the minimum
    /// or not a multiple of 4.
    #[error(".BTF.ext {section}: bad record size {size} at byte offset {offset}")]
    ExtRecordSize {
        /// "func_info", "line_info" or "core_relo".
        section: &'static str,
        /// The declared size.
        size: u32,
        /// Byte offset of the size field.
        offset: usize,
    },
    /// A `.BTF.ext` record names a string not in the BTF string section.
    #[error(".BTF.ext record at byte offset {offset}: string offset {str_off} out of range")]
    ExtStringOffset {
        /// Byte offset of the record (or section header) in `.BTF.ext`.
        offset: usize,
        /// The bad string offset.
        str_off: u32,
    },
    /// A `.BTF.ext` record names a type id that does not exist.
    #[error(".BTF.ext record at byte offset {offset}: type id {type_id} out of range")]
    ExtTypeId {
        /// Byte offset of the record in `.BTF.ext`.
        offset: usize,
        /// The bad id.
        type_id: u32,
    },
    /// A CO-RE relocation record has a kind libbpf does not define.
    #[error(".BTF.ext CO-RE record at byte offset {offset}: unknown relocation kind {kind}")]
    UnknownCoreReloKind {
        /// Byte offset of the record in `.BTF.ext`.
        offset: usize,
        /// The raw kind.
        kind: u32,
    },
}
