//! `BPF_ENABLE_STATS`: run-time statistics of every program, on while the
//! returned guard lives.

use std::os::fd::OwnedFd;

use crate::error::Result;
use crate::sys;

/// `BPF_STATS_RUN_TIME`: `run_time_ns` and `run_cnt` in program info.
pub const BPF_STATS_RUN_TIME: u32 = 0;

/// Statistics stay enabled until this is dropped (the kernel counts the
/// open descriptors).
#[derive(Debug)]
pub struct StatsGuard {
    _fd: OwnedFd,
}

/// Turns on run-time statistics (`run_time_ns`, `run_cnt`) for all programs.
pub fn enable_run_time_stats() -> Result<StatsGuard> {
    Ok(StatsGuard {
        _fd: sys::enable_stats(BPF_STATS_RUN_TIME)?,
    })
}
