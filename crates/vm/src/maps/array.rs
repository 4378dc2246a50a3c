//! `BPF_MAP_TYPE_ARRAY` and `BPF_MAP_TYPE_PERCPU_ARRAY` (kernel/bpf/arraymap.c),
//! and the global-data maps libbpf makes of `.data`, `.rodata` and `.bss`.
//!
//! - Keys are `u32` indices below `max_entries`; every element exists and
//!   starts zeroed. `delete` is `EINVAL`; `BPF_NOEXIST` is `EEXIST`; an
//!   index past the end is `E2BIG` on update and `ENOENT` on lookup.
//! - `get_next_key` of a missing or out-of-range key is index 0, of the
//!   last index `ENOENT`.
//! - A per-CPU array's syscall value is `round_up(value_size, 8)` bytes per
//!   CPU, padding included (`copy_map_value_long`); a program sees and
//!   writes only its CPU's `value_size` bytes.
//! - `BPF_F_MMAPABLE` arrays expose their values as userspace would map
//!   them ([`ArrayMap::mmap`]); a frozen or `BPF_F_RDONLY_PROG` array cannot
//!   be mapped writable (`EPERM`, `EACCES`).

use bpfkit_object::kinds::MapType;
use bpfkit_object::map::{Map, MapError, MapSpec, BPF_EXIST, BPF_F_LOCK, BPF_NOEXIST};

use super::access::Access;
use super::attrs::{
    access_ok, check_common, check_prealloc, round_up8, MapAttrs, BPF_F_ACCESS_MASK,
    BPF_F_INNER_MAP, BPF_F_MMAPABLE, BPF_F_NUMA_NODE, BPF_F_PRESERVE_ELEMS, BPF_F_RDONLY_PROG,
    PCPU_MIN_UNIT_SIZE,
};
use super::value::{check_len, index_key, ValueLayout};
use super::ValueSlot;

/// `ARRAY_CREATE_FLAG_MASK`.
const ARRAY_CREATE_FLAG_MASK: u32 =
    BPF_F_NUMA_NODE | BPF_F_MMAPABLE | BPF_F_ACCESS_MASK | BPF_F_PRESERVE_ELEMS | BPF_F_INNER_MAP;

/// An array or per-CPU array.
#[derive(Debug, Clone)]
pub struct ArrayMap {
    spec: MapSpec,
    layout: ValueLayout,
    access: Access,
    percpu: bool,
    ncpus: usize,
    /// `round_up(value_size, 8)`: the distance between values (and between
    /// one CPU's value and the next).
    stride: usize,
    data: Vec<u8>,
}

/// `array_map_alloc_check`, shared with the fd arrays (prog, perf event,
/// map-in-map), which add their own checks first.
pub(crate) fn array_alloc_check(attrs: &MapAttrs) -> Result<(), MapError> {
    let s = &attrs.spec;
    let percpu = s.map_type == MapType::PercpuArray;
    let numa = s.map_flags & BPF_F_NUMA_NODE != 0;
    if s.max_entries == 0
        || s.key_size != 4
        || s.value_size == 0
        || s.map_flags & !ARRAY_CREATE_FLAG_MASK != 0
        || !access_ok(s.map_flags)
        || (percpu && numa)
    {
        return Err(MapError::Invalid);
    }
    if s.map_type != MapType::Array && s.map_flags & (BPF_F_MMAPABLE | BPF_F_INNER_MAP) != 0 {
        return Err(MapError::Invalid);
    }
    if s.map_type != MapType::PerfEventArray && s.map_flags & BPF_F_PRESERVE_ELEMS != 0 {
        return Err(MapError::Invalid);
    }
    if s.value_size > i32::MAX as u32 {
        return Err(MapError::TooBig);
    }
    if percpu && round_up8(s.value_size) > PCPU_MIN_UNIT_SIZE as usize {
        return Err(MapError::TooBig);
    }
    Ok(())
}

impl ArrayMap {
    /// Creates an array or per-CPU array, validated as `array_map_alloc_check`
    /// and `map_check_btf` do.
    pub fn new(attrs: &MapAttrs) -> Result<ArrayMap, MapError> {
        let s = &attrs.spec;
        if !matches!(s.map_type, MapType::Array | MapType::PercpuArray) {
            return Err(MapError::Invalid);
        }
        check_common(attrs)?;
        array_alloc_check(attrs)?;
        let layout = ValueLayout::new(s.map_type, s.value_size, s.map_flags, attrs.lock_offset)?;
        let percpu = s.map_type == MapType::PercpuArray;
        let ncpus = if percpu { attrs.ncpus as usize } else { 1 };
        let stride = round_up8(s.value_size);
        let total = s.max_entries as u64 * stride as u64 * ncpus as u64;
        check_prealloc(total)?;
        Ok(ArrayMap {
            spec: s.clone(),
            layout,
            access: Access::new(s.map_flags),
            percpu,
            ncpus,
            stride,
            data: vec![0; total as usize],
        })
    }

    /// A global-data map as libbpf creates it for a `.data`, `.rodata` or
    /// `.bss` section: a one-element `BPF_F_MMAPABLE` array whose value is
    /// the section's bytes. `.rodata` (`read_only`) also gets
    /// `BPF_F_RDONLY_PROG` and is frozen after its initial contents are
    /// written, so neither programs nor userspace can change it.
    pub fn global_data(name: &str, init: &[u8], read_only: bool) -> Result<ArrayMap, MapError> {
        let value_size = u32::try_from(init.len()).map_err(|_| MapError::TooBig)?;
        let mut flags = BPF_F_MMAPABLE;
        if read_only {
            flags |= BPF_F_RDONLY_PROG;
        }
        let spec = MapSpec {
            name: name.to_string(),
            map_type: MapType::Array,
            key_size: 4,
            value_size,
            max_entries: 1,
            map_flags: flags,
        };
        let mut map = ArrayMap::new(&MapAttrs::new(spec))?;
        map.update(&0u32.to_le_bytes(), init, 0)?;
        if read_only {
            map.freeze()?;
        }
        Ok(map)
    }

    fn elem_offset(&self, index: u32, cpu: usize) -> usize {
        (index as usize * self.ncpus + cpu) * self.stride
    }

    /// The syscall value size: `value_size`, or `round_up(value_size, 8) *
    /// ncpus` for a per-CPU array.
    pub fn sys_value_size(&self) -> usize {
        if self.percpu {
            self.stride * self.ncpus
        } else {
            self.layout.size
        }
    }

    fn checked_index(&self, key: &[u8]) -> Result<u32, MapError> {
        index_key(key)
    }

    /// The values as a `BPF_F_MMAPABLE` array's mapping shows them:
    /// `max_entries` values `round_up(value_size, 8)` apart. `EINVAL` for
    /// an array without `BPF_F_MMAPABLE`, `ENOTSUPP` for values with a spin
    /// lock.
    pub fn mmap(&self) -> Result<&[u8], MapError> {
        // bpf_map_mmap refuses values with special fields before the
        // array's own flag check.
        if self.layout.has_lock() {
            return Err(MapError::NotSupported);
        }
        if self.spec.map_flags & BPF_F_MMAPABLE == 0 {
            return Err(MapError::Invalid);
        }
        Ok(&self.data)
    }

    /// The writable mapping: also `EPERM` once frozen and `EACCES` for a
    /// `BPF_F_RDONLY_PROG` array (`array_map_mmap`, `bpf_map_mmap`).
    pub fn mmap_mut(&mut self) -> Result<&mut [u8], MapError> {
        if self.layout.has_lock() {
            return Err(MapError::NotSupported);
        }
        if self.spec.map_flags & BPF_F_MMAPABLE == 0 {
            return Err(MapError::Invalid);
        }
        if self.access.frozen() {
            return Err(MapError::Permission);
        }
        if self.spec.map_flags & BPF_F_RDONLY_PROG != 0 {
            return Err(MapError::Errno(13));
        }
        Ok(&mut self.data)
    }

    /// `BPF_MAP_LOOKUP_ELEM` with flags: `BPF_F_LOCK` only for a value with
    /// a spin lock, no other flag (`EINVAL`).
    pub fn lookup_flags(&self, key: &[u8], flags: u64) -> Result<Vec<u8>, MapError> {
        self.access.lookup_checks(flags, self.layout.has_lock())?;
        check_len(key, 4)?;
        let index = self.checked_index(key)?;
        if index >= self.spec.max_entries {
            return Err(MapError::NotFound);
        }
        let off = self.elem_offset(index, 0);
        if self.percpu {
            Ok(self.data[off..off + self.stride * self.ncpus].to_vec())
        } else {
            Ok(self.layout.copy_out(&self.data[off..off + self.stride]))
        }
    }

    /// The flag and index checks of `array_map_update_elem` (and
    /// `bpf_percpu_array_update`, which refuses `BPF_F_LOCK`).
    fn update_checks(&self, index: u32, flags: u64) -> Result<(), MapError> {
        let bad_flags = if self.percpu {
            flags > BPF_EXIST
        } else {
            flags & !BPF_F_LOCK > BPF_EXIST
        };
        if bad_flags {
            return Err(MapError::Invalid);
        }
        if index >= self.spec.max_entries {
            return Err(MapError::TooBig);
        }
        if flags & BPF_NOEXIST != 0 {
            return Err(MapError::Exists);
        }
        self.layout.check_lock_flag(flags)
    }

    /// A program's `bpf_map_lookup_elem` (and, with an explicit CPU,
    /// `bpf_map_lookup_percpu_elem`): the slot of `cpu`'s value, `None`
    /// (NULL) for an index or CPU out of range.
    pub fn prog_lookup(&self, key: &[u8], cpu: u32) -> Result<Option<ValueSlot>, MapError> {
        check_len(key, 4)?;
        let index = self.checked_index(key)?;
        let cpu = if self.percpu { cpu as usize } else { 0 };
        if index >= self.spec.max_entries || cpu >= self.ncpus {
            return Ok(None);
        }
        Ok(Some(ValueSlot {
            offset: self.elem_offset(index, cpu),
            len: self.layout.size,
            writable: self.access.prog_write().is_ok(),
        }))
    }

    /// A program's `bpf_map_update_elem`: the checks of
    /// `array_map_update_elem` (no freeze check: a program may write a
    /// frozen `.data`), writing only `cpu`'s value of a per-CPU array.
    /// `EPERM` for a `BPF_F_RDONLY_PROG` map, which the verifier refuses.
    pub fn prog_update(
        &mut self,
        key: &[u8],
        value: &[u8],
        flags: u64,
        cpu: u32,
    ) -> Result<(), MapError> {
        self.access.prog_write()?;
        check_len(key, 4)?;
        check_len(value, self.layout.size)?;
        let index = self.checked_index(key)?;
        // Program-side per-CPU updates share array_map_update_elem, so
        // BPF_F_LOCK reaches the spin-lock check (EINVAL) rather than the
        // syscall's flag check.
        if flags & !BPF_F_LOCK > BPF_EXIST {
            return Err(MapError::Invalid);
        }
        if index >= self.spec.max_entries {
            return Err(MapError::TooBig);
        }
        if flags & BPF_NOEXIST != 0 {
            return Err(MapError::Exists);
        }
        self.layout.check_lock_flag(flags)?;
        let cpu = if self.percpu { cpu as usize } else { 0 };
        if cpu >= self.ncpus {
            return Err(MapError::Invalid);
        }
        let off = self.elem_offset(index, cpu);
        let layout = self.layout;
        layout.copy_in(&mut self.data[off..off + self.stride], value);
        Ok(())
    }

    /// A program's `bpf_map_delete_elem`: `EINVAL`, array elements always
    /// exist.
    pub fn prog_delete(&mut self, key: &[u8]) -> Result<(), MapError> {
        check_len(key, 4)?;
        Err(MapError::Invalid)
    }

    /// Where the value's `struct bpf_spin_lock` is.
    pub fn lock_offset(&self) -> Option<u32> {
        self.layout.lock.map(|o| o as u32)
    }

    /// What `bpf_for_each_map_elem` visits, in its order: every index with
    /// the slot of `cpu`'s value (`bpf_for_each_array_elem`).
    pub fn prog_elements(&self, cpu: u32) -> Vec<(Vec<u8>, ValueSlot)> {
        (0..self.spec.max_entries)
            .filter_map(|i| {
                let key = i.to_le_bytes();
                let slot = self.prog_lookup(&key, cpu).ok()??;
                Some((key.to_vec(), slot))
            })
            .collect()
    }

    /// The bytes of a slot returned by [`ArrayMap::prog_lookup`].
    pub fn slot(&self, slot: ValueSlot) -> Option<&[u8]> {
        self.data
            .get(slot.offset..slot.offset.checked_add(slot.len)?)
    }

    /// The writable bytes of a slot; `None` for a read-only slot.
    pub fn slot_mut(&mut self, slot: ValueSlot) -> Option<&mut [u8]> {
        if !slot.writable {
            return None;
        }
        self.data
            .get_mut(slot.offset..slot.offset.checked_add(slot.len)?)
    }

    /// Whether the array was frozen.
    pub fn is_frozen(&self) -> bool {
        self.access.frozen()
    }
}

impl Map for ArrayMap {
    fn spec(&self) -> &MapSpec {
        &self.spec
    }

    fn lookup(&self, key: &[u8]) -> Result<Vec<u8>, MapError> {
        self.lookup_flags(key, 0)
    }

    fn lookup_flags(&self, key: &[u8], flags: u64) -> Result<Vec<u8>, MapError> {
        ArrayMap::lookup_flags(self, key, flags)
    }

    fn update(&mut self, key: &[u8], value: &[u8], flags: u64) -> Result<(), MapError> {
        self.access.sys_write()?;
        self.layout.check_lock_flag(flags)?;
        check_len(key, 4)?;
        check_len(value, self.sys_value_size())?;
        let index = self.checked_index(key)?;
        self.update_checks(index, flags)?;
        let off = self.elem_offset(index, 0);
        if self.percpu {
            let len = self.stride * self.ncpus;
            self.data[off..off + len].copy_from_slice(value);
        } else {
            let layout = self.layout;
            layout.copy_in(&mut self.data[off..off + self.stride], value);
        }
        Ok(())
    }

    fn delete(&mut self, key: &[u8]) -> Result<(), MapError> {
        self.access.sys_write()?;
        check_len(key, 4)?;
        Err(MapError::Invalid)
    }

    fn next_key(&self, key: Option<&[u8]>) -> Result<Vec<u8>, MapError> {
        self.access.sys_read()?;
        let index = match key {
            Some(k) => {
                check_len(k, 4)?;
                self.checked_index(k)?
            }
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

    fn lookup_and_delete(&mut self, key: &[u8]) -> Result<Vec<u8>, MapError> {
        self.access.sys_read()?;
        self.access.sys_write()?;
        check_len(key, 4)?;
        Err(MapError::NotSupported)
    }

    fn freeze(&mut self) -> Result<(), MapError> {
        self.access.freeze(self.layout.has_lock())
    }
}
