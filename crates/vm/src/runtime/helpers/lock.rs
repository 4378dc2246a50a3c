//! `bpf_spin_lock` / `bpf_spin_unlock` (kernel/bpf/helpers.c) on the
//! `struct bpf_spin_lock` of a map value. The runtime runs one program at a
//! time, so a lock is never contended: taking it sets the lock word,
//! releasing clears it. Taking a held lock (the kernel would spin forever;
//! its verifier refuses such programs) or releasing a free one stops the
//! run with an error, as does a pointer that is not a value's lock.

use super::{env_of, HelperResult};
use crate::helpers::{HelperContext, HelperError};

/// Checks that `addr` is the lock of a map value; its current word.
fn lock_word(ctx: &mut HelperContext<'_, '_, '_>, addr: u64) -> Result<u32, HelperError> {
    let env = env_of(ctx)?;
    let (id, _) = env
        .values
        .resolve(addr)
        .ok_or_else(|| HelperError(format!("{addr:#x} is not in a map value")))?;
    let off = env.map_mut(id)?.lock_offset();
    if off != Some(addr as u32) {
        return Err(HelperError(format!(
            "{addr:#x} is not the struct bpf_spin_lock of its map value (lock at {off:?})"
        )));
    }
    let b = ctx.read(addr, 4)?;
    Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

/// `long bpf_spin_lock(struct bpf_spin_lock *lock)`.
pub(crate) fn spin_lock(ctx: &mut HelperContext<'_, '_, '_>, a: [u64; 5]) -> HelperResult {
    if lock_word(ctx, a[0])? != 0 {
        return Err(HelperError(
            "bpf_spin_lock on a lock this program already holds (the kernel would deadlock)".into(),
        ));
    }
    ctx.write(a[0], &1u32.to_le_bytes())?;
    Ok(0)
}

/// `long bpf_spin_unlock(struct bpf_spin_lock *lock)`.
pub(crate) fn spin_unlock(ctx: &mut HelperContext<'_, '_, '_>, a: [u64; 5]) -> HelperResult {
    if lock_word(ctx, a[0])? == 0 {
        return Err(HelperError(
            "bpf_spin_unlock of a lock that is not held".into(),
        ));
    }
    ctx.write(a[0], &0u32.to_le_bytes())?;
    Ok(0)
}
