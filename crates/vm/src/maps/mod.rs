//! Userspace BPF maps with the kernel's semantics.
//!
//! Every map implements [`bpfkit_object::map::Map`], the syscall view
//! (`BPF_MAP_*_ELEM` with the kernel's flags and errnos), so a test can
//! drive a userspace map and a kernel map with the same operations. Beside
//! it each map has a program-side API for the helpers (`prog_lookup`,
//! `prog_update`, `prog_delete`, push/pop/peek, ring buffer records), with
//! the kernel's program-side differences.
//!
//! # Values a program points at
//!
//! A program's `bpf_map_lookup_elem` gets a [`ValueSlot`]: an offset and a
//! length in the map's value storage. Storage is one buffer per map in which
//! a value never moves (see `arena`), so the VM can map a slot as a checked
//! memory region and keep it valid for the whole run, whatever the program
//! (or a helper) does to the map meanwhile. A deleted element's slot stays
//! addressable and may be reused by a later insertion, as the kernel reuses
//! preallocated elements. The offset is what is stable, not the host
//! address: storage that grows (a hash map filling up) may reallocate, so
//! the VM resolves a slot through its map on each access
//! ([`UserMap::slot`], [`UserMap::slot_mut`]) instead of keeping a borrowed
//! slice across helper calls.
//!
//! ```
//! use bpfkit_object::kinds::MapType;
//! use bpfkit_object::map::{Map, MapError, MapSpec, BPF_ANY, BPF_NOEXIST};
//! use bpfkit_vm::maps::{MapAttrs, MapRegistry};
//!
//! let spec = MapSpec {
//!     name: "counts".into(),
//!     map_type: MapType::Hash,
//!     key_size: 4,
//!     value_size: 8,
//!     max_entries: 1,
//!     map_flags: 0,
//! };
//! let mut maps = MapRegistry::new();
//! let id = maps.create(&MapAttrs::new(spec)).unwrap();
//! let map = maps.get_mut(id).unwrap();
//! // The syscall view, with the kernel's errnos.
//! map.update(&7u32.to_le_bytes(), &[0; 8], BPF_ANY).unwrap();
//! assert_eq!(map.update(&8u32.to_le_bytes(), &[0; 8], BPF_ANY), Err(MapError::TooBig));
//! assert_eq!(map.update(&7u32.to_le_bytes(), &[0; 8], BPF_NOEXIST), Err(MapError::Exists));
//! // A program's lookup: a slot it may write through.
//! let slot = map.prog_lookup(&7u32.to_le_bytes(), 0).unwrap().unwrap();
//! map.slot_mut(slot).unwrap()[0] += 1;
//! assert_eq!(map.lookup(&7u32.to_le_bytes()).unwrap()[0], 1);
//! ```
//!
//! # Per-CPU values
//!
//! Maps are created with a CPU count ([`MapAttrs::ncpus`]). Per-CPU values
//! cross the [`Map`](bpfkit_object::map::Map) trait as the syscall moves
//! them: `round_up(value_size, 8) * ncpus` bytes. Programs name their CPU
//! in each program-side call and see only that CPU's `value_size` bytes.
//!
//! # How close to the kernel
//!
//! The tests replay operations recorded on Linux 6.18 (fixtures under
//! `tests/maps/fixtures`, with the scripts that record them): random
//! syscall operations on hash, per-CPU hash, array, per-CPU array, LPM
//! trie, queue, stack and bloom filter maps match in every errno, value,
//! next key and iteration order; LRU maps evict exactly the kernel's
//! elements (its lists are replayed, see `lru`); ring buffer and perf
//! output sequences match record for record. Where the kernel is random
//! (hash and bloom seeds without `BPF_F_ZERO_SEED`) a fixed seed is used;
//! where it races (operations on several CPUs at once) there is nothing
//! to match. Deviations: a map preallocates at most
//! [`attrs::MAX_PREALLOC_BYTES`] (`ENOMEM` beyond, where the kernel's limit
//! is the machine's memory); prog array values are program ids whose
//! program type the loader checks; the map types that need kernel objects
//! (sockets, devices, cgroups, stack traces, struct_ops, arenas, storage
//! maps) are not provided (`EINVAL`).

mod access;
mod arena;
pub mod array;
pub mod attrs;
pub mod bloom_filter;
pub mod devmap;
mod fd_array;
pub mod hash;
pub mod jhash;
pub mod lpm_trie;
mod lru;
pub mod map_in_map;
pub mod perf_event_array;
pub mod prog_array;
pub mod queue_stack;
pub mod registry;
pub mod ringbuf;
mod user_map;
mod value;

pub use array::ArrayMap;
pub use attrs::{InnerMapMeta, MapAttrs};
pub use bloom_filter::BloomFilter;
pub use devmap::DevMap;
pub use hash::HashMap;
pub use lpm_trie::LpmTrie;
pub use map_in_map::{ArrayOfMaps, HashOfMaps, MapDirectory};
pub use perf_event_array::{PerfEventArray, PerfRecord};
pub use prog_array::{ProgArray, MAX_TAIL_CALL_CNT};
pub use queue_stack::QueueStack;
pub use registry::MapRegistry;
pub use ringbuf::RingBuf;
pub use user_map::UserMap;
pub use value::SPIN_LOCK_SIZE;

/// Where a value a program looked up lives: `len` bytes at `offset` in its
/// map's value storage. Stable for the map's life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ValueSlot {
    /// Byte offset in the map's storage.
    pub offset: usize,
    /// The value's size (`value_size`; one CPU's value for per-CPU maps).
    pub len: usize,
    /// Whether a program may write it (not for `BPF_F_RDONLY_PROG` maps).
    pub writable: bool,
}
