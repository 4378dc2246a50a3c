//! The current task (kernel/bpf/helpers.c): `bpf_get_current_pid_tgid`,
//! `_uid_gid`, `_comm`, answered from the task the caller set in the
//! runtime's [`Env`](crate::runtime::Env). Without one the helpers answer
//! as the kernel does when `current` is NULL: `-EINVAL` (as a u64) for the
//! ids, a zeroed buffer and `-EINVAL` for the name.

use super::{env_of, neg, HelperResult, EINVAL};
use crate::helpers::HelperContext;

/// `TASK_COMM_LEN`.
const TASK_COMM_LEN: usize = 16;

/// `u64 bpf_get_current_pid_tgid(void)`: `tgid << 32 | pid`.
pub(crate) fn get_current_pid_tgid(
    ctx: &mut HelperContext<'_, '_, '_>,
    _: [u64; 5],
) -> HelperResult {
    Ok(match &env_of(ctx)?.task {
        Some(t) => (t.tgid as u64) << 32 | t.pid as u64,
        None => neg(EINVAL),
    })
}

/// `u64 bpf_get_current_uid_gid(void)`: `gid << 32 | uid`.
pub(crate) fn get_current_uid_gid(
    ctx: &mut HelperContext<'_, '_, '_>,
    _: [u64; 5],
) -> HelperResult {
    Ok(match &env_of(ctx)?.task {
        Some(t) => (t.gid as u64) << 32 | t.uid as u64,
        None => neg(EINVAL),
    })
}

/// `long bpf_get_current_comm(buf, size)`: `strscpy_pad` of the name into
/// `size` bytes (truncated, NUL-terminated, the rest zeroed).
pub(crate) fn get_current_comm(ctx: &mut HelperContext<'_, '_, '_>, a: [u64; 5]) -> HelperResult {
    let size = a[1] as usize;
    let comm = env_of(ctx)?.task.as_ref().map(|t| t.comm.clone());
    let mut buf = vec![0u8; size];
    let r = match comm {
        Some(name) => {
            let bytes = name.as_bytes();
            let n = bytes
                .len()
                .min(TASK_COMM_LEN - 1)
                .min(size.saturating_sub(1));
            buf[..n].copy_from_slice(&bytes[..n]);
            0
        }
        None => neg(EINVAL),
    };
    ctx.write(a[0], &buf)?;
    Ok(r)
}
