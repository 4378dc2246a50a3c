//! `BPF_MAP_TYPE_HASH`, `PERCPU_HASH`, `LRU_HASH` and `LRU_PERCPU_HASH`
//! (kernel/bpf/hashtab.c).
//!
//! - A full map refuses a new key with `E2BIG`; replacing an existing key
//!   always works. The LRU maps evict instead, replaying the kernel's LRU
//!   lists (see `lru`): with the same operations on the same CPUs they
//!   evict what Linux evicts. Syscall-side updates of an LRU map run on the
//!   CPU set by [`HashMap::set_syscall_cpu`].
//! - `BPF_NOEXIST` on an existing key is `EEXIST`, `BPF_EXIST` on a missing
//!   one `ENOENT`; `BPF_F_LOCK` only for plain hashes whose value has a spin
//!   lock, updating the value in place.
//! - Elements are bucketed as the kernel buckets them: `n_buckets =
//!   roundup_pow_of_two(max_entries)`, `jhash(key, seed)` (`jhash2` for
//!   4-byte multiples, the same value), a new or replacing element at the
//!   head of its bucket (a per-CPU value is updated in place and keeps its
//!   place). `get_next_key` walks bucket by bucket from the key's
//!   successor in its bucket, and a missing key restarts at the first
//!   element. The kernel guarantees no order across buckets: its seed is
//!   random unless `BPF_F_ZERO_SEED`. With `BPF_F_ZERO_SEED` this map uses
//!   seed 0 and iterates in exactly the kernel's order; without it, a fixed
//!   seed, so the order is deterministic here but not the kernel's.
//! - Plain and per-CPU hashes allocate elements as they come whatever
//!   `BPF_F_NO_PREALLOC` says (the flag is validated as the kernel does);
//!   the element count is bounded by `max_entries` either way. LRU maps are
//!   preallocated, as in the kernel, since their nodes are their elements.

use std::collections::BTreeMap;

use bpfkit_object::kinds::MapType;
use bpfkit_object::map::{Map, MapError, MapSpec};

mod update;

use super::access::Access;
use super::arena::Arena;
use super::attrs::{
    access_ok, check_common, check_prealloc, round_up8, MapAttrs, BPF_F_ACCESS_MASK,
    BPF_F_NO_COMMON_LRU, BPF_F_NO_PREALLOC, BPF_F_NUMA_NODE, BPF_F_ZERO_SEED, KMALLOC_MAX_SIZE,
    PCPU_MIN_UNIT_SIZE,
};
use super::jhash::jhash;
use super::lru::Lru;
use super::value::{check_len, ValueLayout};
use super::ValueSlot;

/// `HTAB_CREATE_FLAG_MASK`.
const HTAB_CREATE_FLAG_MASK: u32 =
    BPF_F_NO_PREALLOC | BPF_F_NO_COMMON_LRU | BPF_F_NUMA_NODE | BPF_F_ACCESS_MASK | BPF_F_ZERO_SEED;
/// `sizeof(struct htab_elem)` on x86-64, part of the kernel's size limits.
const HTAB_ELEM_SIZE: u64 = 48;
/// `sizeof(struct bucket)`: the bucket array must stay below 4 GiB.
const BUCKET_SIZE: u64 = 16;
/// Bytes of LRU bookkeeping per element, counted against the
/// preallocation limit.
const LRU_NODE_SIZE: usize = 24;
/// The seed used without `BPF_F_ZERO_SEED`, where the kernel draws a
/// random one: fixed, so that runs are reproducible.
pub const DEFAULT_SEED: u32 = 0x9e37_79b9;

#[derive(Debug, Clone)]
struct Elem {
    key: Vec<u8>,
    hash: u32,
}

/// A hash map of one of the four hash types.
#[derive(Debug, Clone)]
pub struct HashMap {
    spec: MapSpec,
    layout: ValueLayout,
    access: Access,
    percpu: bool,
    lru: Option<Lru>,
    ncpus: usize,
    /// `round_up(value_size, 8)`: one CPU's share of a per-CPU value.
    stride: usize,
    seed: u32,
    n_buckets: u64,
    /// Non-empty buckets by index, each head first.
    buckets: BTreeMap<u32, Vec<u32>>,
    /// Elements by value slot.
    elems: Vec<Option<Elem>>,
    arena: Arena,
    count: u32,
    /// The CPU syscall-side updates take LRU nodes from.
    sys_cpu: u32,
}

/// `htab_map_alloc_check` and the size checks of `htab_map_alloc`.
fn alloc_check(attrs: &MapAttrs) -> Result<(), MapError> {
    let s = &attrs.spec;
    let percpu = matches!(s.map_type, MapType::PercpuHash | MapType::LruPercpuHash);
    let lru = matches!(s.map_type, MapType::LruHash | MapType::LruPercpuHash);
    let percpu_lru = s.map_flags & BPF_F_NO_COMMON_LRU != 0;
    let prealloc = s.map_flags & BPF_F_NO_PREALLOC == 0;
    let numa = s.map_flags & BPF_F_NUMA_NODE != 0;
    if s.map_flags & !HTAB_CREATE_FLAG_MASK != 0 || !access_ok(s.map_flags) {
        return Err(MapError::Invalid);
    }
    if !lru && percpu_lru {
        return Err(MapError::Invalid);
    }
    if lru && !prealloc {
        return Err(MapError::NotSupported);
    }
    if numa && (percpu || percpu_lru) {
        return Err(MapError::Invalid);
    }
    if s.max_entries == 0 || s.key_size == 0 || s.value_size == 0 {
        return Err(MapError::Invalid);
    }
    // Linux 6.18 bounds key and value together (measured: key 4 with value
    // 4 MiB - 53 is accepted, - 52 is E2BIG; a 10000-byte key is accepted).
    if s.key_size as u64 + s.value_size as u64 >= KMALLOC_MAX_SIZE - HTAB_ELEM_SIZE {
        return Err(MapError::TooBig);
    }
    if percpu && round_up8(s.value_size) > PCPU_MIN_UNIT_SIZE as usize {
        return Err(MapError::TooBig);
    }
    Ok(())
}

impl HashMap {
    /// Creates a hash map of any of the four hash types, validated as
    /// `htab_map_alloc_check`, `htab_map_alloc` and `map_check_btf` do.
    /// With `BPF_F_NO_COMMON_LRU`, `max_entries` is rounded up to a multiple
    /// of the CPU count, as the kernel does (and [`Map::spec`] shows it).
    pub fn new(attrs: &MapAttrs) -> Result<HashMap, MapError> {
        let s = &attrs.spec;
        if !matches!(
            s.map_type,
            MapType::Hash | MapType::PercpuHash | MapType::LruHash | MapType::LruPercpuHash
        ) {
            return Err(MapError::Invalid);
        }
        check_common(attrs)?;
        alloc_check(attrs)?;
        let layout = ValueLayout::new(s.map_type, s.value_size, s.map_flags, attrs.lock_offset)?;
        let percpu = matches!(s.map_type, MapType::PercpuHash | MapType::LruPercpuHash);
        let is_lru = matches!(s.map_type, MapType::LruHash | MapType::LruPercpuHash);
        let percpu_lru = s.map_flags & BPF_F_NO_COMMON_LRU != 0;
        let mut spec = s.clone();
        if percpu_lru {
            let n = attrs.ncpus;
            spec.max_entries = match s.max_entries.div_ceil(n).checked_mul(n) {
                Some(m) => m,
                None => s.max_entries / n * n,
            };
            if spec.max_entries == 0 {
                return Err(MapError::Invalid);
            }
        }
        let n_buckets = (spec.max_entries as u64).next_power_of_two();
        if n_buckets > u32::MAX as u64 / BUCKET_SIZE {
            return Err(MapError::TooBig);
        }
        let ncpus = if percpu { attrs.ncpus as usize } else { 1 };
        let stride = round_up8(s.value_size);
        let lru = is_lru.then(|| Lru::new(spec.max_entries, attrs.ncpus, percpu_lru));
        // LRU maps are preallocated: node n is value slot n.
        let mut arena = Arena::new(stride * ncpus);
        if is_lru {
            // Values and the LRU node of every element.
            check_prealloc(spec.max_entries as u64 * (stride * ncpus + LRU_NODE_SIZE) as u64)?;
            for _ in 0..spec.max_entries {
                arena.alloc();
            }
        }
        let seed = if s.map_flags & BPF_F_ZERO_SEED != 0 {
            0
        } else {
            DEFAULT_SEED
        };
        Ok(HashMap {
            spec,
            layout,
            access: Access::new(s.map_flags),
            percpu,
            lru,
            ncpus,
            stride,
            seed,
            n_buckets,
            buckets: BTreeMap::new(),
            elems: Vec::new(),
            arena,
            count: 0,
            sys_cpu: 0,
        })
    }

    /// The syscall-side checks that precede everything else in
    /// `map_update_elem`: write permission, then `BPF_F_LOCK`.
    pub(crate) fn precheck_update(&self, flags: u64) -> Result<(), MapError> {
        self.access.sys_write()?;
        self.layout.check_lock_flag(flags)
    }

    /// The number of elements.
    pub fn len(&self) -> usize {
        self.count as usize
    }

    /// Whether the map has no element.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The syscall value size (all CPUs for a per-CPU hash).
    pub fn sys_value_size(&self) -> usize {
        if self.percpu {
            self.stride * self.ncpus
        } else {
            self.layout.size
        }
    }

    fn hash(&self, key: &[u8]) -> u32 {
        jhash(key, self.seed)
    }

    fn bucket_of(&self, hash: u32) -> u32 {
        (hash as u64 & (self.n_buckets - 1)) as u32
    }

    /// The slot of `key`'s element.
    fn find(&self, key: &[u8]) -> Option<u32> {
        let b = self.bucket_of(self.hash(key));
        self.buckets.get(&b)?.iter().copied().find(|&slot| {
            self.elems[slot as usize]
                .as_ref()
                .is_some_and(|e| e.key == key)
        })
    }

    /// Links a new element at the head of its bucket.
    fn link(&mut self, slot: u32, key: &[u8]) {
        let hash = self.hash(key);
        let b = self.bucket_of(hash);
        if self.elems.len() <= slot as usize {
            self.elems.resize(slot as usize + 1, None);
        }
        self.elems[slot as usize] = Some(Elem {
            key: key.to_vec(),
            hash,
        });
        self.buckets.entry(b).or_default().insert(0, slot);
        self.count += 1;
    }

    /// Unlinks an element and frees its slot, or its LRU node.
    fn unlink(&mut self, slot: u32) {
        if !self.detach(slot) {
            return;
        }
        match &mut self.lru {
            Some(lru) => lru.push_free(slot),
            None => self.arena.free(slot),
        }
    }

    /// Takes an element out of the table only (an LRU eviction, whose node
    /// the LRU lists keep); whether it was there.
    fn detach(&mut self, slot: u32) -> bool {
        let Some(elem) = self.elems.get_mut(slot as usize).and_then(Option::take) else {
            return false;
        };
        let b = self.bucket_of(elem.hash);
        if let Some(list) = self.buckets.get_mut(&b) {
            list.retain(|&s| s != slot);
            if list.is_empty() {
                self.buckets.remove(&b);
            }
        }
        self.count -= 1;
        true
    }

    /// The CPU that syscall-side updates of an LRU map run on (0 unless
    /// set): the kernel takes the node from the current CPU's lists, so a
    /// comparison with a kernel map pins its process to this CPU.
    pub fn set_syscall_cpu(&mut self, cpu: u32) {
        self.sys_cpu = cpu;
    }

    /// A program's `bpf_map_lookup_elem`: the slot of `cpu`'s value (all of
    /// it for a non-per-CPU map), `None` when the key is missing. Marks the
    /// element used for LRU eviction, as the kernel sets its reference bit.
    pub fn prog_lookup(&mut self, key: &[u8], cpu: u32) -> Result<Option<ValueSlot>, MapError> {
        check_len(key, self.spec.key_size as usize)?;
        let cpu = if self.percpu { cpu as usize } else { 0 };
        if cpu >= self.ncpus {
            return Ok(None);
        }
        let Some(slot) = self.find(key) else {
            return Ok(None);
        };
        if let Some(lru) = &mut self.lru {
            lru.set_ref(slot);
        }
        Ok(Some(ValueSlot {
            offset: self.arena.offset(slot) + cpu * self.stride,
            len: self.layout.size,
            writable: self.access.prog_write().is_ok(),
        }))
    }

    /// A program's `bpf_map_update_elem`: the kernel's update with the
    /// program's CPU (a per-CPU map writes only that CPU's value; a new
    /// element's other CPUs are zero; `BPF_F_NO_COMMON_LRU` maps take the
    /// node from that CPU's list). No freeze check. `EPERM` for
    /// `BPF_F_RDONLY_PROG`.
    pub fn prog_update(
        &mut self,
        key: &[u8],
        value: &[u8],
        flags: u64,
        cpu: u32,
    ) -> Result<(), MapError> {
        self.access.prog_write()?;
        check_len(key, self.spec.key_size as usize)?;
        check_len(value, self.layout.size)?;
        if self.percpu && cpu as usize >= self.ncpus {
            return Err(MapError::Invalid);
        }
        self.update_at(key, value, flags, Some(cpu as usize))
    }

    /// A program's `bpf_map_delete_elem`.
    pub fn prog_delete(&mut self, key: &[u8]) -> Result<(), MapError> {
        self.access.prog_write()?;
        self.delete_elem(key)
    }

    fn delete_elem(&mut self, key: &[u8]) -> Result<(), MapError> {
        check_len(key, self.spec.key_size as usize)?;
        let slot = self.find(key).ok_or(MapError::NotFound)?;
        self.unlink(slot);
        Ok(())
    }

    /// Where the value's `struct bpf_spin_lock` is.
    pub fn lock_offset(&self) -> Option<u32> {
        self.layout.lock.map(|o| o as u32)
    }

    /// What `bpf_for_each_map_elem` visits, in its order: buckets in
    /// index order, each from its head (`bpf_for_each_hash_elem`), with the
    /// slot of `cpu`'s value; reference bits are left alone, as the kernel
    /// leaves them.
    pub fn prog_elements(&self, cpu: u32) -> Vec<(Vec<u8>, ValueSlot)> {
        let cpu = if self.percpu { cpu as usize } else { 0 };
        if cpu >= self.ncpus {
            return Vec::new();
        }
        let writable = self.access.prog_write().is_ok();
        self.buckets
            .values()
            .flatten()
            .filter_map(|&slot| {
                let elem = self.elems.get(slot as usize)?.as_ref()?;
                Some((
                    elem.key.clone(),
                    ValueSlot {
                        offset: self.arena.offset(slot) + cpu * self.stride,
                        len: self.layout.size,
                        writable,
                    },
                ))
            })
            .collect()
    }

    /// The bytes of a slot returned by [`HashMap::prog_lookup`].
    pub fn slot(&self, slot: ValueSlot) -> Option<&[u8]> {
        self.arena.get(slot.offset, slot.len)
    }

    /// The writable bytes of a slot; `None` for a read-only slot.
    pub fn slot_mut(&mut self, slot: ValueSlot) -> Option<&mut [u8]> {
        if !slot.writable {
            return None;
        }
        self.arena.get_mut(slot.offset, slot.len)
    }

    fn copy_value(&self, slot: u32) -> Vec<u8> {
        let bytes = self.arena.slot(slot);
        if self.percpu {
            bytes.to_vec()
        } else {
            self.layout.copy_out(bytes)
        }
    }

    /// `BPF_MAP_LOOKUP_ELEM` with flags (`BPF_F_LOCK` needs a spin lock).
    pub fn lookup_flags(&self, key: &[u8], flags: u64) -> Result<Vec<u8>, MapError> {
        self.access.lookup_checks(flags, self.layout.has_lock())?;
        check_len(key, self.spec.key_size as usize)?;
        let slot = self.find(key).ok_or(MapError::NotFound)?;
        Ok(self.copy_value(slot))
    }
}

impl Map for HashMap {
    fn spec(&self) -> &MapSpec {
        &self.spec
    }

    fn lookup(&self, key: &[u8]) -> Result<Vec<u8>, MapError> {
        self.lookup_flags(key, 0)
    }

    fn lookup_flags(&self, key: &[u8], flags: u64) -> Result<Vec<u8>, MapError> {
        HashMap::lookup_flags(self, key, flags)
    }

    fn update(&mut self, key: &[u8], value: &[u8], flags: u64) -> Result<(), MapError> {
        self.access.sys_write()?;
        self.layout.check_lock_flag(flags)?;
        check_len(key, self.spec.key_size as usize)?;
        check_len(value, self.sys_value_size())?;
        self.update_at(key, value, flags, None)
    }

    fn delete(&mut self, key: &[u8]) -> Result<(), MapError> {
        self.access.sys_write()?;
        self.delete_elem(key)
    }

    fn next_key(&self, key: Option<&[u8]>) -> Result<Vec<u8>, MapError> {
        self.access.sys_read()?;
        let mut start = 0u32;
        if let Some(key) = key {
            check_len(key, self.spec.key_size as usize)?;
            if let Some(slot) = self.find(key) {
                let b = self.bucket_of(self.hash(key));
                let list = &self.buckets[&b];
                let pos = list.iter().position(|&s| s == slot).unwrap_or(list.len());
                if let Some(&next) = list.get(pos + 1) {
                    if let Some(e) = &self.elems[next as usize] {
                        return Ok(e.key.clone());
                    }
                }
                match b.checked_add(1) {
                    Some(n) => start = n,
                    None => return Err(MapError::NotFound),
                }
            }
        }
        self.buckets
            .range(start..)
            .find_map(|(_, list)| list.first())
            .and_then(|&slot| self.elems[slot as usize].as_ref())
            .map(|e| e.key.clone())
            .ok_or(MapError::NotFound)
    }

    fn lookup_and_delete(&mut self, key: &[u8]) -> Result<Vec<u8>, MapError> {
        self.access.sys_read()?;
        self.access.sys_write()?;
        check_len(key, self.spec.key_size as usize)?;
        let slot = self.find(key).ok_or(MapError::NotFound)?;
        let value = self.copy_value(slot);
        self.unlink(slot);
        Ok(value)
    }

    fn freeze(&mut self) -> Result<(), MapError> {
        self.access.freeze(self.layout.has_lock())
    }
}
