//! `clock_gettime(2)` for the realtime and boottime clocks: the kernel
//! stamps programs with boottime, users read wall-clock time.

/// (CLOCK_REALTIME seconds, CLOCK_BOOTTIME seconds), read back to back.
pub fn clocks() -> (i64, i64) {
    (seconds(libc::CLOCK_REALTIME), seconds(libc::CLOCK_BOOTTIME))
}

// time_t is i64 here but 32 bits on some targets.
#[allow(clippy::useless_conversion)]
fn seconds(clock: libc::clockid_t) -> i64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: ts is an exclusively borrowed timespec the call fills.
    let r = unsafe { libc::clock_gettime(clock, &mut ts) };
    if r == 0 {
        i64::from(ts.tv_sec)
    } else {
        0
    }
}
