//! Helper probes: load `call N; exit` as the program type and read the
//! verifier's log (libbpf's `libbpf_probe_bpf_helper`).
//!
//! The verifier names a helper id it does not know with "invalid func",
//! and a known helper the program type may not call with "unknown func"
//! (before Linux 6.2) or "program of this type cannot use helper" (since);
//! any other outcome, including other load errors, counts as available,
//! as libbpf counts it.

use bpfkit_isa::{helpers::HELPER_NAMES, Insn};
use bpfkit_object::kinds::ProgType;

use super::prog_types::probe_load;
use super::Cache;
use crate::prog::LOG_LEVEL_BRANCHES;

/// Helpers `bpftool feature probe` leaves out unless asked for `full`:
/// probing them makes the kernel write to dmesg (`bpf_trace_printk`,
/// `bpf_probe_write_user`, `bpf_trace_vprintk`).
pub const HELPERS_SKIPPED_BY_DEFAULT: [u32; 3] = [6, 36, 177];

/// Whether programs of `t` may call helper `id`; `None` for the types
/// whose minimal program cannot load at all without a real attach target
/// (tracing, ext, LSM, struct_ops), where nothing can be learned, and for
/// types the kernel does not have.
pub fn helper(t: ProgType, id: u32) -> Option<bool> {
    static CACHE: Cache<(ProgType, u32), Option<bool>> = Cache::new();
    CACHE.get((t, id), || probe(t, id))
}

/// Every helper id (from 1 up to the highest this build names) that
/// programs of `t` may call, without those of
/// [`HELPERS_SKIPPED_BY_DEFAULT`] unless `full`.
pub fn available_helpers(t: ProgType, full: bool) -> Vec<u32> {
    (1..HELPER_NAMES.len() as u32)
        .filter(|id| full || !HELPERS_SKIPPED_BY_DEFAULT.contains(id))
        .filter(|&id| helper(t, id) == Some(true))
        .collect()
}

fn probe(t: ProgType, id: u32) -> Option<bool> {
    if matches!(
        t,
        ProgType::Unspec | ProgType::Tracing | ProgType::Ext | ProgType::Lsm | ProgType::StructOps
    ) {
        return None;
    }
    if !super::prog_type(t) {
        return None;
    }
    let insns = [
        Insn::new(0x85, 0, 0, 0, id as i32),
        Insn::new(0x95, 0, 0, 0, 0),
    ];
    let (mut load, _) = probe_load(t, &insns);
    load.log_level = LOG_LEVEL_BRANCHES;
    load.log_size = 4096;
    let log = match load.load() {
        Ok(p) => p.log().to_string(),
        Err(e) => e.log().unwrap_or("").to_string(),
    };
    Some(
        !(log.contains("invalid func ")
            || log.contains("unknown func ")
            || log.contains("program of this type cannot use helper ")),
    )
}
