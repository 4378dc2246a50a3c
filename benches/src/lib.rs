//! Benchmarks of bpfkit's interpreter against rbpf's, on programs of our own.
//!
//! The programs are C in `programs/`, compiled once by `programs/build.sh`
//! (clang, `-mcpu=v3`) and committed as bytecode, so building the benches
//! never needs clang. Each takes r1 = pointer to its input and returns a
//! checksum in r0; none reads r2, because rbpf does not set it.
//!
//! - [`workloads`]: the programs, their inputs and expected results.
//! - [`reference`](mod@reference): the same computations in Rust.
//! - [`bpfkit_runner`]: loading and running a program in bpfkit's VM.

pub mod bpfkit_runner;
pub mod inputs;
pub mod reference;
pub mod workloads;

pub use workloads::Workload;
