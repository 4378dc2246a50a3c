//! The array of object references shared by the kernel's "fd arrays"
//! (`prog_array`, `perf_event_array`, `array_of_maps`): `u32` index keys as
//! in an array, but slots start empty. Userspace passes a file descriptor
//! and reads back an id; here a slot holds what the descriptor stands for.
//!
//! The kernel's rules (kernel/bpf/arraymap.c, `bpf_fd_array_map_*`):
//! creation needs `value_size` 4 and no `BPF_F_RDONLY_PROG` /
//! `BPF_F_WRONLY_PROG` (`EINVAL`) besides the array checks; update takes
//! only `BPF_ANY` (`EINVAL`) and an index below `max_entries` (`E2BIG`);
//! delete is `E2BIG` past the end and `ENOENT` on an empty slot, as is a
//! lookup of an empty slot; `get_next_key` is the array's.

use bpfkit_object::map::{MapError, MapSpec, BPF_ANY};

use super::access::Access;
use super::array::array_alloc_check;
use super::attrs::{check_common, check_prealloc, MapAttrs, BPF_F_RDONLY_PROG, BPF_F_WRONLY_PROG};
use super::value::{check_len, index_key, ValueLayout};

/// `max_entries` slots, each empty or holding a `T`.
#[derive(Debug, Clone)]
pub(crate) struct FdArray<T> {
    pub(crate) spec: MapSpec,
    pub(crate) access: Access,
    slots: Vec<Option<T>>,
}

impl<T: Clone> FdArray<T> {
    /// `fd_array_map_alloc_check` then `array_map_alloc_check`.
    pub(crate) fn new(attrs: &MapAttrs) -> Result<FdArray<T>, MapError> {
        let s = &attrs.spec;
        check_common(attrs)?;
        if s.value_size != 4 || s.map_flags & (BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG) != 0 {
            return Err(MapError::Invalid);
        }
        array_alloc_check(attrs)?;
        ValueLayout::new(s.map_type, s.value_size, s.map_flags, attrs.lock_offset)?;
        check_prealloc(s.max_entries as u64 * 8)?;
        Ok(FdArray {
            spec: s.clone(),
            access: Access::new(s.map_flags),
            slots: vec![None; s.max_entries as usize],
        })
    }

    /// The index of a key, after the syscall's key size check.
    pub(crate) fn index(&self, key: &[u8]) -> Result<u32, MapError> {
        check_len(key, 4)?;
        index_key(key)
    }

    /// A syscall update's checks before the value is resolved: write
    /// access, a 4-byte value, then [`FdArray::check_update`]'s. The slot's
    /// index.
    pub(crate) fn sys_update_checks(
        &self,
        key: &[u8],
        value: &[u8],
        flags: u64,
    ) -> Result<u32, MapError> {
        self.access.sys_write()?;
        check_len(value, 4)?;
        self.check_update(key, flags)
    }

    /// A syscall delete: write access, then [`FdArray::remove`].
    pub(crate) fn sys_delete(&mut self, key: &[u8]) -> Result<(), MapError> {
        self.access.sys_write()?;
        self.remove(key).map(|_| ())
    }

    /// `BPF_MAP_LOOKUP_AND_DELETE_ELEM`, which no fd array has: the access
    /// and key checks, then `ENOTSUPP`.
    pub(crate) fn sys_lookup_and_delete(&self, key: &[u8]) -> Result<Vec<u8>, MapError> {
        self.access.sys_read()?;
        self.access.sys_write()?;
        self.index(key)?;
        Err(MapError::NotSupported)
    }

    /// `BPF_MAP_FREEZE` (no fd array's value has a spin lock).
    pub(crate) fn freeze(&mut self) -> Result<(), MapError> {
        self.access.freeze(false)
    }

    /// The checks of `bpf_fd_array_map_update_elem` before the value is
    /// resolved.
    pub(crate) fn check_update(&self, key: &[u8], flags: u64) -> Result<u32, MapError> {
        let index = self.index(key)?;
        if flags != BPF_ANY {
            return Err(MapError::Invalid);
        }
        if index >= self.spec.max_entries {
            return Err(MapError::TooBig);
        }
        Ok(index)
    }

    pub(crate) fn set(&mut self, index: u32, value: T) {
        self.slots[index as usize] = Some(value);
    }

    pub(crate) fn get(&self, index: u32) -> Option<&T> {
        self.slots.get(index as usize)?.as_ref()
    }

    pub(crate) fn get_mut(&mut self, index: u32) -> Option<&mut T> {
        self.slots.get_mut(index as usize)?.as_mut()
    }

    /// A syscall lookup: `ENOENT` for an empty or out-of-range slot.
    pub(crate) fn lookup(&self, key: &[u8]) -> Result<&T, MapError> {
        self.access.sys_read()?;
        let index = self.index(key)?;
        self.get(index).ok_or(MapError::NotFound)
    }

    /// `fd_array_map_delete_elem`.
    pub(crate) fn remove(&mut self, key: &[u8]) -> Result<T, MapError> {
        let index = self.index(key)?;
        if index >= self.spec.max_entries {
            return Err(MapError::TooBig);
        }
        self.slots[index as usize].take().ok_or(MapError::NotFound)
    }

    /// `array_map_get_next_key`.
    pub(crate) fn next_key(&self, key: Option<&[u8]>) -> Result<Vec<u8>, MapError> {
        self.access.sys_read()?;
        let index = match key {
            Some(k) => self.index(k)?,
            None => u32::MAX,
        };
        if index >= self.spec.max_entries {
            return Ok(0u32.to_le_bytes().to_vec());
        }
        if index == self.spec.max_entries - 1 {
            return Err(MapError::NotFound);
        }
        Ok((index + 1).to_le_bytes().to_vec())
    }
}
