//! A value's layout: its size and the `struct bpf_spin_lock` inside it,
//! which the kernel never copies to or from userspace (`copy_map_value`
//! skips it, and a lookup's copy has it zeroed).

use bpfkit_object::kinds::MapType;
use bpfkit_object::map::{MapError, BPF_F_LOCK};

use super::attrs::{BPF_F_RDONLY_PROG, BPF_F_WRONLY_PROG};

/// Size of `struct bpf_spin_lock`.
pub const SPIN_LOCK_SIZE: u32 = 4;

/// A value's size and spin lock offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ValueLayout {
    pub(crate) size: usize,
    pub(crate) lock: Option<usize>,
}

impl ValueLayout {
    /// Validates a spin lock the way `map_check_btf` does: only hash and
    /// array maps may hold one (`EOPNOTSUPP` otherwise), not with
    /// `BPF_F_RDONLY_PROG`/`BPF_F_WRONLY_PROG` (`EACCES`), 4-aligned and
    /// inside the value (`EINVAL`, the BTF would not parse).
    pub(crate) fn new(
        map_type: MapType,
        value_size: u32,
        map_flags: u32,
        lock: Option<u32>,
    ) -> Result<ValueLayout, MapError> {
        if let Some(off) = lock {
            if off % SPIN_LOCK_SIZE != 0
                || off
                    .checked_add(SPIN_LOCK_SIZE)
                    .map_or(true, |e| e > value_size)
            {
                return Err(MapError::Invalid);
            }
            if map_flags & (BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG) != 0 {
                return Err(MapError::Errno(13));
            }
            if !matches!(map_type, MapType::Hash | MapType::Array) {
                return Err(MapError::NotSupported);
            }
        }
        Ok(ValueLayout {
            size: value_size as usize,
            lock: lock.map(|o| o as usize),
        })
    }

    pub(crate) fn has_lock(&self) -> bool {
        self.lock.is_some()
    }

    /// `BPF_F_LOCK` on a value without a spin lock is `EINVAL`.
    pub(crate) fn check_lock_flag(&self, flags: u64) -> Result<(), MapError> {
        check_lock_flag(flags, self.has_lock())
    }

    /// `copy_map_value`: `src` into `dst`, leaving the lock as it is.
    pub(crate) fn copy_in(&self, dst: &mut [u8], src: &[u8]) {
        match self.lock {
            None => dst[..self.size].copy_from_slice(&src[..self.size]),
            Some(off) => {
                let end = off + SPIN_LOCK_SIZE as usize;
                dst[..off].copy_from_slice(&src[..off]);
                dst[end..self.size].copy_from_slice(&src[end..self.size]);
            }
        }
    }

    /// A lookup's copy of `src`: the value with its lock zeroed
    /// (`check_and_init_map_value`).
    pub(crate) fn copy_out(&self, src: &[u8]) -> Vec<u8> {
        let mut out = src[..self.size].to_vec();
        if let Some(off) = self.lock {
            out[off..off + SPIN_LOCK_SIZE as usize].fill(0);
        }
        out
    }
}

/// Fails with `EINVAL` unless `bytes` has exactly `len` bytes: a key or
/// value of the wrong size cannot cross the syscall.
pub(crate) fn check_len(bytes: &[u8], len: usize) -> Result<(), MapError> {
    if bytes.len() == len {
        Ok(())
    } else {
        Err(MapError::Invalid)
    }
}

/// The `u32` index of an array key.
pub(crate) fn index_key(key: &[u8]) -> Result<u32, MapError> {
    let raw: [u8; 4] = key.try_into().map_err(|_| MapError::Invalid)?;
    Ok(u32::from_le_bytes(raw))
}

/// `BPF_F_LOCK` in `flags` when the value has no spin lock (`has_lock`
/// false) is `EINVAL`: for maps without a [`ValueLayout`] as well.
pub(crate) fn check_lock_flag(flags: u64, has_lock: bool) -> Result<(), MapError> {
    if flags & BPF_F_LOCK != 0 && !has_lock {
        Err(MapError::Invalid)
    } else {
        Ok(())
    }
}
