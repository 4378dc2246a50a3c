//! The per-relocation report: what was matched and how the instruction
//! changed, serializable for `--json`, and renderable as the lines libbpf
//! logs at debug level (so it can be compared with libbpf's own log).

use serde::{Serialize, Serializer};

use super::error::{CoreErrorKind, ReloLocation};
use super::patch::Patch;
use super::value::ReloValue;
use crate::btf::CoreReloKind;

/// Serializes a relocation kind by libbpf's name (`byte_off`, ...).
pub(crate) fn kind_name<S: Serializer>(kind: &CoreReloKind, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(kind.name())
}

/// One candidate target type tried for a relocation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CandidateReport {
    /// Index in the candidate list (libbpf's `candidate #N`).
    pub index: usize,
    /// The BTF it is in ("vmlinux" or a module).
    pub btf: String,
    /// Its type id.
    pub type_id: u32,
    /// Its kind and name as libbpf logs them (`struct task_struct`).
    pub type_name: String,
    /// Whether the local spec matched it.
    pub matched: bool,
    /// The target spec as far as matching went, rendered as libbpf does.
    pub spec: String,
}

/// A target type found by the candidate search.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FoundCandidate {
    /// The BTF it is in ("vmlinux" or a module).
    pub btf: String,
    /// Its type id.
    pub type_id: u32,
    /// Its kind and name as libbpf logs them (`struct task_struct`).
    pub type_name: String,
}

/// What happened to the instruction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum CoreOutcome {
    /// Patched (or poisoned).
    Patched {
        /// The change.
        patch: Patch,
    },
    /// The relocation failed; libbpf would refuse the object. Only the
    /// lenient [`Relocator::report_section`](super::Relocator::report_section)
    /// and [`Relocator::report`](super::Relocator::report) record failures;
    /// the strict entry points return the error.
    Failed {
        /// The error, rendered.
        error: String,
        /// The error itself (`error` is its text in JSON).
        #[serde(skip)]
        reason: CoreErrorKind,
    },
}

/// The resolution of one CO-RE relocation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CoreResolution {
    /// Which relocation.
    #[serde(flatten)]
    pub location: ReloLocation,
    /// The local root type's kind and name (`struct task_struct`).
    pub local_type: String,
    /// The local spec as libbpf renders it
    /// (`[7] struct task_struct.pid (0:12 @ offset 2484)`); the raw record
    /// when the spec did not parse.
    pub local: String,
    /// The target types the candidate search found, when this relocation
    /// made the search (the first one for its local type does; later ones
    /// reuse the list, pruned to the candidates that matched, as libbpf
    /// does).
    pub found: Vec<FoundCandidate>,
    /// The candidates tried, with the match result of each.
    pub candidates: Vec<CandidateReport>,
    /// The first matching candidate's index in `candidates`.
    pub target: Option<usize>,
    /// Local and target values and the patching decisions.
    pub value: Option<ReloValue>,
    /// The relocation resolved but its instruction could not be patched
    /// (libbpf's "failed to patch insn" rather than "failed to relocate").
    #[serde(skip)]
    pub failed_in_patch: bool,
    /// How the instruction changed, or why the relocation failed.
    #[serde(flatten)]
    pub outcome: CoreOutcome,
}

impl CoreResolution {
    /// The matched target candidate, if any.
    pub fn target(&self) -> Option<&CandidateReport> {
        self.target.and_then(|i| self.candidates.get(i))
    }

    /// Whether the instruction was poisoned.
    pub fn is_poisoned(&self) -> bool {
        matches!(
            self.outcome,
            CoreOutcome::Patched {
                patch: Patch::Poisoned { .. }
            }
        )
    }

    /// The lines libbpf 1.x logs for this relocation at debug level, without
    /// their `prog 'NAME': ` prefix, in libbpf's order: the candidate
    /// search (when this relocation made it), the local spec, each
    /// candidate, the patch. `insn_base` is subtracted from instruction
    /// indices (libbpf counts them from the program's first instruction).
    pub fn libbpf_log(&self, insn_base: usize) -> Vec<String> {
        let mut out = Vec::new();
        let n = self.location.relo_index;
        let kind = self.location.kind.name();
        for c in &self.found {
            out.push(format!(
                "CO-RE relocating [{}] {}: found target candidate [{}] {} in [{}]",
                self.location.type_id, self.local_type, c.type_id, c.type_name, c.btf
            ));
        }
        out.push(format!("relo #{n}: <{kind}> {}", self.local));
        for c in &self.candidates {
            out.push(format!(
                "relo #{n}: {} candidate #{} <{kind}> {}",
                if c.matched {
                    "matching"
                } else {
                    "non-matching"
                },
                c.index,
                c.spec
            ));
        }
        if self.target.is_none()
            && self.location.kind != CoreReloKind::TypeIdLocal
            && matches!(self.outcome, CoreOutcome::Patched { .. })
        {
            out.push(format!("relo #{n}: no matching targets found"));
        }
        let i = self.location.insn_index.wrapping_sub(insn_base);
        if let CoreOutcome::Patched { patch } = &self.outcome {
            match patch {
                Patch::Alu { old, new } => out.push(format!(
                    "relo #{n}: patched insn #{i} (ALU/ALU64) imm {} -> {new}",
                    *old as u64
                )),
                Patch::Mem { old, new, size } => {
                    out.push(format!(
                        "relo #{n}: patched insn #{i} (LDX/ST/STX) off {} -> {new}",
                        *old as u64
                    ));
                    if let Some((a, b)) = size {
                        out.push(format!(
                            "relo #{n}: patched insn #{i} (LDX/ST/STX) mem_sz {a} -> {b}"
                        ));
                    }
                }
                Patch::Ldimm64 { old, new } => out.push(format!(
                    "relo #{n}: patched insn #{i} (LDIMM64) imm64 {old} -> {new}"
                )),
                Patch::Poisoned {
                    unsafe_size_change,
                    lddw,
                } => {
                    if *unsafe_size_change {
                        out.push(format!(
                            "relo #{n}: insn #{i} (LDX/ST/STX) accesses field incorrectly. Make sure you are accessing pointers, unsigned integers, or fields of matching type and size."
                        ));
                    }
                    if *lddw {
                        out.push(format!(
                            "relo #{n}: substituting insn #{} w/ invalid insn",
                            i + 1
                        ));
                    }
                    out.push(format!("relo #{n}: substituting insn #{i} w/ invalid insn"));
                }
            }
        }
        if let CoreOutcome::Failed { reason, .. } = &self.outcome {
            let (msg, errno) = libbpf_failure(reason, insn_base);
            if let Some(msg) = msg {
                out.push(format!("relo #{n}: {msg}"));
            }
            if self.failed_in_patch {
                out.push(format!("relo #{n}: failed to patch insn #{i}: {errno}"));
            } else {
                out.push(format!("relo #{n}: failed to relocate: {errno}"));
            }
        }
        out
    }
}

/// One line per relocation, the form `bpfkit btf core` prints:
/// `kprobe/x relo #0 insn #2 <byte_off> [5] struct task_struct.pid (0:4 @ offset 32)
/// => [114] struct task_struct.pid (0:92 @ offset 1264): off 32 -> 1264`.
impl std::fmt::Display for CoreResolution {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let l = &self.location;
        write!(
            f,
            "{} relo #{} insn #{} <{}> {}",
            l.section,
            l.relo_index,
            l.insn_index,
            l.kind.name(),
            self.local
        )?;
        match self.target() {
            Some(t) if t.btf == "vmlinux" => write!(f, " => {}", t.spec)?,
            Some(t) => write!(f, " => {} in {}", t.spec, t.btf)?,
            None if l.kind == CoreReloKind::TypeIdLocal => {}
            None => write!(f, " => no target")?,
        }
        match &self.outcome {
            CoreOutcome::Patched { patch } => match patch {
                Patch::Alu { old, new } => write!(f, ": imm {old} -> {}", *new as i64),
                Patch::Mem { old, new, size } => {
                    write!(f, ": off {old} -> {new}")?;
                    if let Some((a, b)) = size {
                        write!(f, ", size {a} -> {b}")?;
                    }
                    Ok(())
                }
                Patch::Ldimm64 { old, new } => write!(f, ": imm64 {old:#x} -> {new:#x}"),
                Patch::Poisoned {
                    unsafe_size_change: true,
                    ..
                } => write!(
                    f,
                    ": poisoned (the load/store cannot follow the field's new size)"
                ),
                Patch::Poisoned { .. } => write!(f, ": poisoned (call 0xbad2310)"),
            },
            CoreOutcome::Failed { error, .. } => write!(f, ": error: {error}"),
        }
    }
}

/// libbpf's own message for a failure (when it logs one per relocation)
/// and the errno it returns, instruction indices counted from `insn_base`.
fn libbpf_failure(reason: &CoreErrorKind, insn_base: usize) -> (Option<String>, i32) {
    const EINVAL: i32 = -22;
    const ERANGE: i32 = -34;
    const E2BIG: i32 = -7;
    let rel = |i: usize| i.wrapping_sub(insn_base);
    match reason {
        CoreErrorKind::AmbiguousOffset {
            first_bits,
            cand_bits,
            ..
        } => (
            Some(format!(
                "field offset ambiguity: {cand_bits} != {first_bits}"
            )),
            EINVAL,
        ),
        CoreErrorKind::AmbiguousValue { first, cand, .. } => (
            Some(format!("relocation decision ambiguity: {cand} != {first}")),
            EINVAL,
        ),
        CoreErrorKind::InsnValueMismatch {
            insn_index,
            class,
            got,
            expected,
            new,
        } => {
            // libbpf prints the s32 immediate and the s16 offset with %u.
            let got = if *class == "LDIMM64" {
                (*got as u64).to_string()
            } else {
                (*got as i32 as u32).to_string()
            };
            (
                Some(format!(
                    "unexpected insn #{} ({class}) value: got {got}, exp {expected} -> {new}",
                    rel(*insn_index)
                )),
                EINVAL,
            )
        }
        CoreErrorKind::OffsetTooBig { insn_index, value } => (
            Some(format!(
                "insn #{} (LDX/ST/STX) value too big: {value}",
                rel(*insn_index)
            )),
            ERANGE,
        ),
        CoreErrorKind::MemSize { insn_index, reason } => (
            Some(format!("insn #{} (LDX/ST/STX) {reason}", rel(*insn_index))),
            EINVAL,
        ),
        CoreErrorKind::Calc { reason, .. } if reason.contains("64-bit load") => (None, E2BIG),
        _ => (None, EINVAL),
    }
}
