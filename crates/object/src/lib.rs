//! BPF ELF objects as clang, iproute2-era toolchains and bpfkit itself write
//! them: programs, maps, global data, relocations, BTF and CO-RE.
//!
//! - [`btf`]: the BPF Type Format: `.BTF` and `.BTF.ext`, every kind, C and
//!   raw dumps as bpftool prints them, the kernel's vmlinux BTF.
//! - [`read`]: an ELF object's programs (linked with their subprograms),
//!   maps (BTF-defined, legacy `maps`, iproute2 `bpf_elf_map`), global data
//!   and relocations.
//! - [`co_re`]: CO-RE relocations resolved against a target BTF with
//!   libbpf's matching rules.
//! - [`write`](mod@write): BPF ELF objects from assembly files (`bpfkit asm -o prog.o`).
//! - [`kinds`]: the kernel's program, attach and map type numbers.
//! - [`map`]: the one map abstraction (operations, flags, error codes)
//!   that userspace and kernel maps both implement.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod btf;
pub mod co_re;
pub mod kinds;
pub mod map;
pub mod read;
pub mod write;
