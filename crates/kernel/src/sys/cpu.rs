//! `sched_setaffinity(2)` for the calling thread: per-CPU kernel state
//! (an LRU map's local free lists, per-CPU values a program writes) is
//! that of the CPU a syscall runs on, so a test that compares it with a
//! userspace model pins itself first.

use std::path::PathBuf;

use crate::error::{Error, Result};

/// Runs the calling thread on `cpu` only, from now on.
pub fn run_on_cpu(cpu: usize) -> Result<()> {
    // SAFETY: cpu_set_t is a plain bit array; all zeros is the empty set.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    if cpu >= 8 * std::mem::size_of::<libc::cpu_set_t>() {
        return Err(Error::Invalid(format!(
            "CPU {cpu} is past the largest CPU set"
        )));
    }
    // SAFETY: cpu is within the set's bits (checked above).
    unsafe { libc::CPU_SET(cpu, &mut set) };
    // SAFETY: set is a valid cpu_set_t borrowed for the call; pid 0 is the
    // calling thread.
    let r = unsafe { libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) };
    if r == 0 {
        Ok(())
    } else {
        Err(Error::Io {
            path: PathBuf::from(format!("sched_setaffinity(CPU {cpu})")),
            source: std::io::Error::last_os_error(),
        })
    }
}
