//! [`UserMap`]: any userspace map, made from [`MapAttrs`] by
//! [`UserMap::create`], with the syscall view (the [`Map`] trait) and the
//! program-side operations the VM's helpers call.
//!
//! Program-side rules that differ from the syscall's, as in the kernel:
//! no freeze or `BPF_F_RDONLY`/`BPF_F_WRONLY` checks (those guard the
//! syscall side; a frozen `.data` stays writable by programs), but
//! `BPF_F_RDONLY_PROG` maps refuse program writes (`EPERM`; the verifier
//! rejects such programs) and hand out read-only slots; per-CPU maps read
//! and write the running CPU's value only; a program's lookup marks an LRU
//! element used. Operations the verifier would refuse for a map type
//! (a lookup in a ring buffer, an update of a map-in-map) are `EOPNOTSUPP`.

use bpfkit_object::kinds::MapType;
use bpfkit_object::map::{Map, MapError, MapSpec};

use super::array::ArrayMap;
use super::attrs::{InnerMapMeta, MapAttrs};
use super::bloom_filter::BloomFilter;
use super::devmap::DevMap;
use super::hash::HashMap;
use super::lpm_trie::LpmTrie;
use super::map_in_map::{ArrayOfMaps, HashOfMaps, MapDirectory};
use super::perf_event_array::PerfEventArray;
use super::prog_array::ProgArray;
use super::queue_stack::QueueStack;
use super::ringbuf::RingBuf;
use super::ValueSlot;

/// A userspace map of any supported type.
#[derive(Debug, Clone)]
pub enum UserMap {
    /// `array`, `percpu_array`, global data.
    Array(ArrayMap),
    /// `hash`, `percpu_hash`, `lru_hash`, `lru_percpu_hash`.
    Hash(HashMap),
    /// `lpm_trie`.
    LpmTrie(LpmTrie),
    /// `prog_array`.
    ProgArray(ProgArray),
    /// `perf_event_array`.
    PerfEventArray(PerfEventArray),
    /// `array_of_maps`.
    ArrayOfMaps(ArrayOfMaps),
    /// `hash_of_maps`.
    HashOfMaps(HashOfMaps),
    /// `ringbuf`.
    RingBuf(RingBuf),
    /// `queue`, `stack`.
    QueueStack(QueueStack),
    /// `bloom_filter`.
    BloomFilter(BloomFilter),
    /// `devmap`.
    DevMap(DevMap),
}

macro_rules! each {
    ($self:expr, $m:ident => $e:expr) => {
        match $self {
            UserMap::Array($m) => $e,
            UserMap::Hash($m) => $e,
            UserMap::LpmTrie($m) => $e,
            UserMap::ProgArray($m) => $e,
            UserMap::PerfEventArray($m) => $e,
            UserMap::ArrayOfMaps($m) => $e,
            UserMap::HashOfMaps($m) => $e,
            UserMap::RingBuf($m) => $e,
            UserMap::QueueStack($m) => $e,
            UserMap::BloomFilter($m) => $e,
            UserMap::DevMap($m) => $e,
        }
    };
}

impl UserMap {
    /// `BPF_MAP_CREATE`: validates the attributes as the kernel's
    /// `map_create` and the type's `map_alloc_check` do, with the kernel's
    /// errors, and makes the map. Map-in-maps resolve stored map ids in
    /// `dir`. A type the userspace VM does not provide (sockmap, devmap,
    /// cgroup storage, devmap_hash, ...) is `EINVAL`, as an unknown type is.
    pub fn create(attrs: &MapAttrs, dir: &MapDirectory) -> Result<UserMap, MapError> {
        Ok(match attrs.spec.map_type {
            MapType::Array | MapType::PercpuArray => UserMap::Array(ArrayMap::new(attrs)?),
            MapType::Hash | MapType::PercpuHash | MapType::LruHash | MapType::LruPercpuHash => {
                UserMap::Hash(HashMap::new(attrs)?)
            }
            MapType::LpmTrie => UserMap::LpmTrie(LpmTrie::new(attrs)?),
            MapType::ProgArray => UserMap::ProgArray(ProgArray::new(attrs)?),
            MapType::PerfEventArray => UserMap::PerfEventArray(PerfEventArray::new(attrs)?),
            MapType::ArrayOfMaps => UserMap::ArrayOfMaps(ArrayOfMaps::new(attrs, dir.clone())?),
            MapType::HashOfMaps => UserMap::HashOfMaps(HashOfMaps::new(attrs, dir.clone())?),
            MapType::Ringbuf => UserMap::RingBuf(RingBuf::new(attrs)?),
            MapType::Queue | MapType::Stack => UserMap::QueueStack(QueueStack::new(attrs)?),
            MapType::BloomFilter => UserMap::BloomFilter(BloomFilter::new(attrs)?),
            MapType::Devmap => UserMap::DevMap(DevMap::new(attrs)?),
            _ => return Err(MapError::Invalid),
        })
    }

    /// What a map-in-map compares against its template: the attributes
    /// and the spin lock offset.
    pub fn meta(&self) -> InnerMapMeta {
        InnerMapMeta {
            spec: Map::spec(self).clone(),
            lock_offset: self.lock_offset(),
        }
    }

    /// Where the value's `struct bpf_spin_lock` is, for `bpf_spin_lock`.
    pub fn lock_offset(&self) -> Option<u32> {
        match self {
            UserMap::Array(m) => m.lock_offset(),
            UserMap::Hash(m) => m.lock_offset(),
            _ => None,
        }
    }

    /// A program's `bpf_map_lookup_elem` (and `bpf_map_lookup_percpu_elem`
    /// with an explicit CPU) on a map with values: the value's slot, `None`
    /// for NULL. Map-in-maps answer [`UserMap::prog_lookup_inner`] instead.
    pub fn prog_lookup(&mut self, key: &[u8], cpu: u32) -> Result<Option<ValueSlot>, MapError> {
        match self {
            UserMap::Array(m) => m.prog_lookup(key, cpu),
            UserMap::Hash(m) => m.prog_lookup(key, cpu),
            UserMap::LpmTrie(m) => m.prog_lookup(key),
            _ => Err(MapError::NotSupported),
        }
    }

    /// What `bpf_for_each_map_elem` visits, in the kernel's order: each key
    /// with the slot of `cpu`'s value. Only arrays and hashes have it
    /// (`EOPNOTSUPP` otherwise, as the verifier refuses the call).
    pub fn prog_elements(&self, cpu: u32) -> Result<Vec<(Vec<u8>, ValueSlot)>, MapError> {
        match self {
            UserMap::Array(m) => Ok(m.prog_elements(cpu)),
            UserMap::Hash(m) => Ok(m.prog_elements(cpu)),
            _ => Err(MapError::NotSupported),
        }
    }

    /// A program's `bpf_map_lookup_elem` on a map-in-map: the inner map's id.
    pub fn prog_lookup_inner(&mut self, key: &[u8]) -> Result<Option<u32>, MapError> {
        match self {
            UserMap::ArrayOfMaps(m) => m.prog_lookup(key),
            UserMap::HashOfMaps(m) => m.prog_lookup(key),
            _ => Err(MapError::NotSupported),
        }
    }

    /// A program's `bpf_map_update_elem` from `cpu`.
    pub fn prog_update(
        &mut self,
        key: &[u8],
        value: &[u8],
        flags: u64,
        cpu: u32,
    ) -> Result<(), MapError> {
        match self {
            UserMap::Array(m) => m.prog_update(key, value, flags, cpu),
            UserMap::Hash(m) => m.prog_update(key, value, flags, cpu),
            UserMap::LpmTrie(m) => m.prog_update(key, value, flags),
            _ => Err(MapError::NotSupported),
        }
    }

    /// A program's `bpf_map_delete_elem`.
    pub fn prog_delete(&mut self, key: &[u8]) -> Result<(), MapError> {
        match self {
            UserMap::Array(m) => m.prog_delete(key),
            UserMap::Hash(m) => m.prog_delete(key),
            UserMap::LpmTrie(m) => m.prog_delete(key),
            _ => Err(MapError::NotSupported),
        }
    }

    /// `bpf_map_push_elem` (queue, stack, bloom filter).
    pub fn push(&mut self, value: &[u8], flags: u64) -> Result<(), MapError> {
        match self {
            UserMap::QueueStack(m) => m.push(value, flags),
            UserMap::BloomFilter(m) => m.push(value, flags),
            _ => Err(MapError::NotSupported),
        }
    }

    /// `bpf_map_pop_elem`: the value is written to `value`.
    pub fn pop(&mut self, value: &mut [u8]) -> Result<(), MapError> {
        match self {
            UserMap::QueueStack(m) => {
                if value.len() != Map::spec(m).value_size as usize {
                    return Err(MapError::Invalid);
                }
                value.copy_from_slice(&m.pop()?);
                Ok(())
            }
            _ => Err(MapError::NotSupported),
        }
    }

    /// `bpf_map_peek_elem`: a queue or stack writes its next value to
    /// `value`; a bloom filter tests `value` (`ENOENT` when absent).
    pub fn peek(&self, value: &mut [u8]) -> Result<(), MapError> {
        match self {
            UserMap::QueueStack(m) => {
                if value.len() != Map::spec(m).value_size as usize {
                    return Err(MapError::Invalid);
                }
                value.copy_from_slice(&m.peek()?);
                Ok(())
            }
            UserMap::BloomFilter(m) => m.peek(value),
            _ => Err(MapError::NotSupported),
        }
    }

    /// The bytes of a value slot (or ring buffer record) this map handed
    /// out; `None` if the slot is not one of its own.
    pub fn slot(&self, slot: ValueSlot) -> Option<&[u8]> {
        match self {
            UserMap::Array(m) => m.slot(slot),
            UserMap::Hash(m) => m.slot(slot),
            UserMap::LpmTrie(m) => m.slot(slot),
            UserMap::RingBuf(m) => m.record(slot),
            _ => None,
        }
    }

    /// The writable bytes of a slot; `None` for a read-only slot.
    pub fn slot_mut(&mut self, slot: ValueSlot) -> Option<&mut [u8]> {
        match self {
            UserMap::Array(m) => m.slot_mut(slot),
            UserMap::Hash(m) => m.slot_mut(slot),
            UserMap::LpmTrie(m) => m.slot_mut(slot),
            UserMap::RingBuf(m) => m.record_mut(slot),
            _ => None,
        }
    }

    /// The CPU the syscall side runs on, where it matters: an LRU hash
    /// takes the nodes of syscall updates from that CPU's lists (see
    /// [`HashMap::set_syscall_cpu`]). Other maps ignore it.
    pub fn set_syscall_cpu(&mut self, cpu: u32) {
        if let UserMap::Hash(m) = self {
            m.set_syscall_cpu(cpu);
        }
    }

    /// The ring buffer, for `bpf_ringbuf_*` and its consumer.
    pub fn as_ringbuf_mut(&mut self) -> Option<&mut RingBuf> {
        match self {
            UserMap::RingBuf(m) => Some(m),
            _ => None,
        }
    }

    /// The perf event array, for `bpf_perf_event_output` and its consumer.
    pub fn as_perf_event_array_mut(&mut self) -> Option<&mut PerfEventArray> {
        match self {
            UserMap::PerfEventArray(m) => Some(m),
            _ => None,
        }
    }

    /// The device map, for `bpf_redirect_map`.
    pub fn as_devmap(&self) -> Option<&DevMap> {
        match self {
            UserMap::DevMap(m) => Some(m),
            _ => None,
        }
    }

    /// The program array, for `bpf_tail_call`.
    pub fn as_prog_array(&self) -> Option<&ProgArray> {
        match self {
            UserMap::ProgArray(m) => Some(m),
            _ => None,
        }
    }
}

impl Map for UserMap {
    fn spec(&self) -> &MapSpec {
        each!(self, m => Map::spec(m))
    }

    fn lookup(&self, key: &[u8]) -> Result<Vec<u8>, MapError> {
        each!(self, m => m.lookup(key))
    }

    fn lookup_flags(&self, key: &[u8], flags: u64) -> Result<Vec<u8>, MapError> {
        each!(self, m => Map::lookup_flags(m, key, flags))
    }

    fn update(&mut self, key: &[u8], value: &[u8], flags: u64) -> Result<(), MapError> {
        each!(self, m => m.update(key, value, flags))
    }

    fn delete(&mut self, key: &[u8]) -> Result<(), MapError> {
        each!(self, m => m.delete(key))
    }

    fn next_key(&self, key: Option<&[u8]>) -> Result<Vec<u8>, MapError> {
        each!(self, m => m.next_key(key))
    }

    fn lookup_and_delete(&mut self, key: &[u8]) -> Result<Vec<u8>, MapError> {
        each!(self, m => m.lookup_and_delete(key))
    }

    fn freeze(&mut self) -> Result<(), MapError> {
        each!(self, m => m.freeze())
    }
}
