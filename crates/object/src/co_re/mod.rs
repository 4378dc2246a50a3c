//! CO-RE (compile once, run everywhere) relocations against a target BTF,
//! with libbpf's rules (`tools/lib/bpf/relo_core.c`) and its results.
//!
//! clang records, for each instruction whose value depends on a kernel
//! type's layout, a `bpf_core_relo` in `.BTF.ext`: the instruction, a local
//! type, an access string and a kind. Relocating one record:
//!
//! 1. [`parse_spec`] turns the access string into a [`Spec`] against the
//!    local BTF (named fields, array indices, the field's bit offset).
//! 2. [`find_candidates`] lists target types with the local type's
//!    [`essential_name`] (without `___flavor`) and a compatible kind.
//! 3. [`spec_match`] matches the spec to each candidate: fields by name
//!    (through anonymous members) with [`fields_are_compat`] types, arrays
//!    in bounds; type kinds use [`types_are_compat`] or, for
//!    `TYPE_MATCHES`, [`types_match`]; enumerators by essential name.
//! 4. The value per kind is computed for the local spec and for every
//!    matching candidate ([`ReloValue`]); candidates that disagree make the
//!    relocation ambiguous, an error. With no candidate, the `*_EXISTS`
//!    kinds, `TYPE_MATCHES`, `TYPE_SIZE` and `TYPE_ID_TARGET` give 0 and the
//!    others poison their instruction (`call 0xbad2310`, rejected by the
//!    verifier only if reachable).
//! 5. [`patch_insn`] checks the instruction holds the local value and
//!    writes the target value: ALU immediates, load/store offsets (and the
//!    load size when an unsigned or pointer field changes size), `lddw`.
//!
//! [`Relocator`] does this for every record of a section
//! ([`Relocator::relocate_section`], or [`Relocator::report_section`] which
//! goes on past failures) or of a linked program from the reader
//! ([`Relocator::relocate_program`]), and reports each record as a
//! [`CoreResolution`] (serializable, printable on one line, and renderable
//! as libbpf's debug log lines).
//!
//! ```
//! use bpfkit_object::btf::{Btf, BtfExt};
//! use bpfkit_object::co_re::{CoreTarget, Relocator};
//! # use object::{Object, ObjectSection};
//! # let data = std::fs::read("tests/fixtures/core_local.o")?;
//! # let elf = object::File::parse(&*data)?;
//! # let section = |n: &str| elf.section_by_name(n).map(|s| s.data().unwrap().to_vec()).unwrap();
//! # let (btf_bytes, ext_bytes) = (section(".BTF"), section(".BTF.ext"));
//! # let text = section("kprobe/core_fields");
//! # let target_elf = std::fs::read("tests/fixtures/core_target.o")?;
//! # let target_elf = object::File::parse(&*target_elf)?;
//! # let target_bytes = target_elf.section_by_name(".BTF").unwrap().data()?.to_vec();
//! // The object's `.BTF` and `.BTF.ext`, and one program section's slots.
//! let local = Btf::parse(&btf_bytes)?;
//! let ext = BtfExt::parse(&ext_bytes, &local)?;
//! let mut insns = bpfkit_isa::decode_slots(&text)?;
//! // The target: here another object's BTF; for the running kernel,
//! // Btf::parse(&std::fs::read("/sys/kernel/btf/vmlinux")?)?.
//! let target = Btf::parse(&target_bytes)?;
//!
//! let mut relocator = Relocator::new(&local, CoreTarget::new(&target));
//! let report = relocator.relocate_section(&ext, "kprobe/core_fields", &mut insns)?;
//! assert_eq!(
//!     report[1].to_string(),
//!     "kprobe/core_fields relo #1 insn #1 <byte_off> [5] struct core_task.pid (0:0 @ offset 0) \
//!      => [10] struct core_task.pid (0:5 @ offset 56): off 0 -> 56"
//! );
//! assert_eq!(insns[1].off, 56);
//! // A field the target lacks poisons its load: `call 0xbad2310`.
//! assert!(report[2].is_poisoned());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod candidates;
mod compat;
mod error;
mod names;
mod patch;
mod relocate;
mod report;
mod spec;
mod spec_match;
mod type_match;
mod value;

pub use candidates::{find_candidates, Candidate, CoreTarget};
pub use compat::{fields_are_compat, kind_core_compat, types_are_compat};
pub use error::{CoreError, CoreErrorKind, ReloLocation, SourceLine};
pub use names::{essential_name, kind_str};
pub use patch::{patch_insn, Patch, POISON_IMM};
pub use relocate::{relocate_section, Relocator};
pub use report::{CandidateReport, CoreOutcome, CoreResolution, FoundCandidate};
pub use spec::{parse_spec, Accessor, Spec, MAX_SPEC_LEN};
pub use spec_match::spec_match;
pub use type_match::types_match;
pub use value::ReloValue;
