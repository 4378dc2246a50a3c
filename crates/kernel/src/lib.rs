//! The kernel side of bpfkit: bpf(2) spoken directly, without libbpf.
//!
//! - [`map::KernelMap`]: create, open (id, pin), element and batch commands,
//!   freeze; it implements the shared [`bpfkit_object::map::Map`].
//! - [`prog::ProgLoad`] → [`prog::Program`]: `BPF_PROG_LOAD` with the
//!   verifier log, grown until the kernel no longer truncates it;
//!   [`test_run::TestRun`] runs a loaded program.
//! - [`pin`]: pins on bpffs (mounted at `/sys/fs/bpf` when absent).
//! - [`btf::KernelBtf`]: `BPF_BTF_LOAD` with its log.
//! - [`info`]: typed program, map, link and BTF info; enumeration by id.
//! - [`link::Link`]: `BPF_LINK_CREATE` / `BPF_LINK_DETACH`;
//!   [`stats`]: `BPF_ENABLE_STATS`.
//! - [`loader`]: a whole `bpfkit_object::read::Object` into the kernel
//!   (BTF, maps of every kind of definition, pins, externs, CO-RE,
//!   programs, initial slots), with rejections that show the failing
//!   instruction and source line.
//! - [`probe`]: which program types, map types and helpers this kernel
//!   has, probed once per process; the verifier's capabilities, the BPF
//!   sysctls and build options.
//! - [`fd`]: what a descriptor is, and its fdinfo.
//!
//! Descriptors are [`std::os::fd::OwnedFd`], closed on drop. Errors
//! ([`Error`]) name the command and errno, and carry the log of a rejected
//! load. All `unsafe` is in the private `sys` module.
#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod btf;
pub mod error;
pub mod fd;
pub mod info;
pub mod link;
pub mod loader;
pub mod map;
pub mod pin;
pub mod probe;
pub mod prog;
pub mod stats;
mod sys;
pub mod test_run;

pub use error::{Error, Result};
pub use sys::{possible_cpus, run_on_cpu, Cmd, IdKind};
