//! Userspace maps against the kernel's documented behaviour: one module per
//! map type (every flag, errno, iteration order, eviction, full map), and
//! property tests comparing each map with a simple model.

mod array;
mod bloom_filter;
mod devmap;
mod hash;
mod kernel_replay;
mod lpm_trie;
mod lru_kernel;
mod map_in_map;
mod perf_event_array;
mod prog_array;
mod queue_stack;
mod ringbuf;
mod user_map;

use bpfkit_object::kinds::MapType;
use bpfkit_object::map::MapSpec;
use bpfkit_vm::maps::MapAttrs;

/// A spec named "t".
pub fn spec(
    map_type: MapType,
    key_size: u32,
    value_size: u32,
    max_entries: u32,
    map_flags: u32,
) -> MapSpec {
    MapSpec {
        name: "t".into(),
        map_type,
        key_size,
        value_size,
        max_entries,
        map_flags,
    }
}

/// Attributes of a spec named "t".
pub fn attrs(
    map_type: MapType,
    key_size: u32,
    value_size: u32,
    max_entries: u32,
    map_flags: u32,
) -> MapAttrs {
    MapAttrs::new(spec(map_type, key_size, value_size, max_entries, map_flags))
}

/// A little-endian u32 key.
pub fn k32(i: u32) -> Vec<u8> {
    i.to_le_bytes().to_vec()
}
