//! Errors of CO-RE relocation, each naming the relocation it belongs to.

use serde::Serialize;
use thiserror::Error;

use crate::btf::CoreReloKind;

/// Which relocation an error (or a report line) is about: the ELF section,
/// the record's index in that section (libbpf's `relo #N`), the instruction
/// it patches, and the record itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReloLocation {
    /// ELF section of the code ("kprobe/do_nanosleep", ".text").
    pub section: String,
    /// Index of the record among the section's CO-RE records.
    pub relo_index: usize,
    /// Instruction slot index in the section (`insn_off / 8`).
    pub insn_index: usize,
    /// What the relocation computes.
    #[serde(serialize_with = "super::report::kind_name")]
    pub kind: CoreReloKind,
    /// The local root type id.
    pub type_id: u32,
    /// The access string ("0:1:2").
    pub access: String,
    /// The source line of the instruction, from `.BTF.ext` line info, when
    /// the caller had it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<SourceLine>,
}

/// A source position from `.BTF.ext` line info.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourceLine {
    /// Source file name as the compiler recorded it.
    pub file: String,
    /// Line number.
    pub line: u32,
    /// Column.
    pub col: u32,
    /// The line's text.
    pub text: String,
}

impl SourceLine {
    /// The line info covering the instruction at byte offset `insn_off` of
    /// `section`: the last record at or before it.
    pub fn find(ext: &crate::btf::BtfExt, section: &str, insn_off: u32) -> Option<SourceLine> {
        let l = ext
            .line_info(section)
            .iter()
            .filter(|l| l.insn_off <= insn_off)
            .max_by_key(|l| l.insn_off)?;
        Some(SourceLine {
            file: l.file_name.clone(),
            line: l.line,
            col: l.col,
            text: l.line_text.trim().to_owned(),
        })
    }
}

impl std::fmt::Display for ReloLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "section '{}' relo #{} (insn #{}, <{}> [{}] \"{}\")",
            self.section,
            self.relo_index,
            self.insn_index,
            self.kind.name(),
            self.type_id,
            self.access
        )?;
        if let Some(s) = &self.source {
            write!(f, " at {}:{}:{} `{}`", s.file, s.line, s.col, s.text)?;
        }
        Ok(())
    }
}

/// A CO-RE relocation that could not be applied.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{location}: {reason}")]
pub struct CoreError {
    /// The relocation.
    pub location: Box<ReloLocation>,
    /// Why it failed.
    pub reason: CoreErrorKind,
}

/// Why a CO-RE relocation failed. The cases are libbpf's: where libbpf
/// refuses to load an object, bpfkit returns one of these.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum CoreErrorKind {
    /// The record's local type id is not in the local BTF.
    #[error("local type id {0} does not exist")]
    NoLocalType(u32),
    /// The access string does not parse, or does not fit the local type.
    #[error("bad access spec \"{access}\" for [{type_id}]: {reason}")]
    BadAccessSpec {
        /// The local root type id.
        type_id: u32,
        /// The access string.
        access: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Candidate search needs a name; the local type is anonymous.
    #[error("[{0}]: relocation of an anonymous type is not supported")]
    AnonymousType(u32),
    /// Matching a candidate failed on malformed BTF (not a mere mismatch).
    #[error("error matching candidate [{type_id}] in {btf}: {reason}")]
    CandidateMatch {
        /// The target BTF's name ("vmlinux" or a module).
        btf: String,
        /// The candidate type id.
        type_id: u32,
        /// What went wrong.
        reason: String,
    },
    /// Two matching candidates give the field at different bit offsets.
    #[error("field offset ambiguity: candidate [{cand_id}] at bit {cand_bits} != [{first_id}] at bit {first_bits}")]
    AmbiguousOffset {
        /// The first matching candidate.
        first_id: u32,
        /// Its field bit offset.
        first_bits: u32,
        /// The disagreeing candidate.
        cand_id: u32,
        /// Its field bit offset.
        cand_bits: u32,
    },
    /// Two matching candidates give different values or decisions.
    #[error("relocation decision ambiguity: candidate [{cand_id}] {cand} != [{first_id}] {first}")]
    AmbiguousValue {
        /// The first matching candidate.
        first_id: u32,
        /// Its outcome ("success 8" or "failure 0").
        first: String,
        /// The disagreeing candidate.
        cand_id: u32,
        /// Its outcome.
        cand: String,
    },
    /// The value cannot be computed for this access (libbpf's `-EINVAL` or
    /// `-E2BIG` from `bpf_core_calc_relo`).
    #[error("cannot compute {kind}: {reason}")]
    Calc {
        /// libbpf's kind name.
        kind: &'static str,
        /// Why.
        reason: String,
    },
    /// The record's instruction offset is not a multiple of 8.
    #[error("instruction offset {0} is not a multiple of 8")]
    MisalignedInsnOff(u32),
    /// The instruction index is past the section's instructions.
    #[error("instruction #{insn_index} is outside the section's {len} instructions")]
    InsnOutOfRange {
        /// The index.
        insn_index: usize,
        /// Number of slots given.
        len: usize,
    },
    /// The instruction does not hold the value the local BTF predicts
    /// (libbpf: "unexpected insn #N value: got X, exp Y -> Z").
    #[error("unexpected insn #{insn_index} ({class}) value: got {got}, exp {expected} -> {new}")]
    InsnValueMismatch {
        /// The instruction index.
        insn_index: usize,
        /// "ALU/ALU64", "LDX/ST/STX" or "LDIMM64".
        class: &'static str,
        /// What the instruction holds.
        got: i64,
        /// What the local BTF says it should hold.
        expected: u64,
        /// The value it would have been patched to.
        new: u64,
    },
    /// The instruction cannot carry a CO-RE value (wrong class or form).
    #[error("insn #{insn_index} (code {code:#04x}) cannot be relocated: {reason}")]
    UnsupportedInsn {
        /// The instruction index.
        insn_index: usize,
        /// Its opcode.
        code: u8,
        /// Why.
        reason: &'static str,
    },
    /// A memory offset does not fit the 16-bit `off` field.
    #[error("insn #{insn_index} (LDX/ST/STX) value too big: {value}")]
    OffsetTooBig {
        /// The instruction index.
        insn_index: usize,
        /// The offset.
        value: u64,
    },
    /// The load/store size is not the local field's size, or the target's
    /// size is not one a load/store can have.
    #[error("insn #{insn_index} (LDX/ST/STX) {reason}")]
    MemSize {
        /// The instruction index.
        insn_index: usize,
        /// What is wrong.
        reason: String,
    },
}
