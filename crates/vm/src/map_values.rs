//! Map values as program memory.
//!
//! A program reaches a map value two ways: a pointer returned by
//! `bpf_map_lookup_elem` (or `bpf_ringbuf_reserve`), and a direct access to
//! global data (`lddw r1, .data + 8`, `BPF_PSEUDO_MAP_VALUE`). In the kernel
//! both are plain pointers into the map's storage, and the verifier bounds
//! every access by the value's size. bpfkit does the same with the address
//! scheme of [`memory`](crate::memory): each value handed out becomes a
//! region of its own, numbered from [`MAP_VALUE_REGION`], whose low 32
//! address bits are the offset inside the value. So an access is checked
//! against that one value (not the whole map), and reads and writes go to
//! the map's storage in place: what the program writes through the pointer
//! is what a later lookup, a userspace `lookup` or another program sees.
//!
//! Region numbers:
//! - values pinned at load time ([`MapValues::pin`]: global data, kconfig),
//!   whose addresses are constants in the program's `lddw`s, keep their
//!   numbers for the runtime's life;
//! - values exposed during a run ([`MapValues::expose`]) are numbered after
//!   them, one region per distinct value (a second lookup of the same value
//!   gets the same address, as in the kernel), and are forgotten when the
//!   next run starts. A stale pointer cannot outlive its run, since
//!   pointers live only in the program's registers and stack.
//!
//! Because map storage never moves (see the `maps` module), a value slot
//! stays valid while the program runs, even if a helper deletes or inserts
//! elements meanwhile; a deleted element's slot may be reused, as the
//! kernel reuses preallocated elements.
//!
//! Map *handles* (`lddw r1, map`, `BPF_PSEUDO_MAP_FD`) are addresses in
//! region [`MAP_HANDLE_REGION`] whose low bits are the map's id: a helper
//! recognises them, a dereference faults (no such memory is mapped), as the
//! kernel's verifier rejects it.

use std::collections::HashMap;

use crate::maps::{MapRegistry, ValueSlot};

/// The region number of map handles: `(MAP_HANDLE_REGION << 32) | map id`.
pub const MAP_HANDLE_REGION: u64 = 0x1800;
/// The first region number of map values.
pub const MAP_VALUE_REGION: u64 = 0x2000;
/// The region of the key a helper hands a callback
/// (`bpf_for_each_map_elem`): a read-only copy, valid during the call.
pub const KEY_REGION: u64 = 0xffff_ffff;
/// At most this many distinct values may be exposed in one run (a bound on
/// the table, far above what any verified program can reach in its budget).
pub const MAX_RUN_VALUES: usize = 1 << 24;

/// The program address of map `id`'s handle.
pub fn map_handle(id: u32) -> u64 {
    (MAP_HANDLE_REGION << 32) | id as u64
}

/// The map id of a handle address, if `addr` is one.
pub fn handle_map_id(addr: u64) -> Option<u32> {
    (addr >> 32 == MAP_HANDLE_REGION).then_some(addr as u32)
}

/// One value reachable as a region.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ValueRegion {
    map: u32,
    slot: ValueSlot,
}

/// The maps of a runtime and the value regions programs can address.
#[derive(Debug, Clone, Default)]
pub struct MapValues {
    registry: MapRegistry,
    regions: Vec<ValueRegion>,
    /// How many leading `regions` are pinned (survive runs).
    pinned: usize,
    /// The key of [`KEY_REGION`].
    key: Vec<u8>,
    /// Region index of each value exposed in the current run, built only
    /// once a run has exposed more than [`LINEAR_VALUES`] (a linear scan
    /// is faster below that, and most runs look up a value or two).
    run_index: HashMap<(u32, usize), u32>,
}

/// Up to this many values exposed in a run are found by a linear scan.
const LINEAR_VALUES: usize = 16;

impl MapValues {
    /// The value regions over `registry`'s maps.
    pub fn new(registry: MapRegistry) -> MapValues {
        MapValues {
            registry,
            ..MapValues::default()
        }
    }

    /// The maps.
    pub fn registry(&self) -> &MapRegistry {
        &self.registry
    }

    /// The maps, to change (userspace updates between runs).
    pub fn registry_mut(&mut self) -> &mut MapRegistry {
        &mut self.registry
    }

    /// Makes a value addressable for the runtime's life (global data):
    /// its base address. Only before the first run, as the loader does.
    pub fn pin(&mut self, map: u32, slot: ValueSlot) -> u64 {
        if let Some(i) = self.regions[..self.pinned]
            .iter()
            .position(|r| r.map == map && r.slot == slot)
        {
            return (MAP_VALUE_REGION + i as u64) << 32;
        }
        self.regions.truncate(self.pinned);
        self.run_index.clear();
        self.regions.push(ValueRegion { map, slot });
        self.pinned += 1;
        (MAP_VALUE_REGION + self.pinned as u64 - 1) << 32
    }

    /// Makes a value addressable until the next run starts: its base
    /// address, or `None` when the run has exposed [`MAX_RUN_VALUES`].
    pub fn expose(&mut self, map: u32, slot: ValueSlot) -> Option<u64> {
        let wanted = ValueRegion { map, slot };
        let run = self.regions.len() - self.pinned;
        let found = if run <= LINEAR_VALUES {
            self.regions[self.pinned..]
                .iter()
                .position(|r| *r == wanted)
                .map(|i| i + self.pinned)
        } else {
            self.run_index
                .get(&(map, slot.offset))
                .map(|&i| i as usize)
                .filter(|&i| self.regions[i] == wanted)
        };
        let index = match found {
            Some(i) => i,
            None => {
                if run >= MAX_RUN_VALUES {
                    return None;
                }
                self.regions.push(wanted);
                let i = self.regions.len() - 1;
                if run + 1 > LINEAR_VALUES {
                    if self.run_index.is_empty() {
                        for (j, r) in self.regions.iter().enumerate().skip(self.pinned) {
                            self.run_index.insert((r.map, r.slot.offset), j as u32);
                        }
                    }
                    self.run_index.insert((map, slot.offset), i as u32);
                }
                i
            }
        };
        Some((MAP_VALUE_REGION + index as u64) << 32)
    }

    /// Sets the key callbacks see at [`KEY_REGION`]; its address.
    pub fn set_callback_key(&mut self, key: &[u8]) -> u64 {
        self.key.clear();
        self.key.extend_from_slice(key);
        KEY_REGION << 32
    }

    /// Forgets the values of the previous run.
    pub(crate) fn start_run(&mut self) {
        if self.regions.len() > self.pinned {
            self.regions.truncate(self.pinned);
            if !self.run_index.is_empty() {
                self.run_index.clear();
            }
        }
    }

    /// The map and slot behind a value address (any offset inside it).
    pub fn resolve(&self, addr: u64) -> Option<(u32, ValueSlot)> {
        let r = self.region(addr >> 32)?;
        Some((r.map, r.slot))
    }

    fn region(&self, region: u64) -> Option<&ValueRegion> {
        let i = usize::try_from(region.checked_sub(MAP_VALUE_REGION)?).ok()?;
        self.regions.get(i)
    }

    /// The `len` bytes at offset `off` of value region `region`.
    pub(crate) fn bytes(&self, region: u64, off: usize, len: usize) -> Option<&[u8]> {
        if region == KEY_REGION {
            return self.key.get(off..off.checked_add(len)?);
        }
        let r = self.region(region)?;
        let end = off.checked_add(len).filter(|&e| e <= r.slot.len)?;
        self.registry.get(r.map)?.slot(r.slot)?.get(off..end)
    }

    /// The same bytes for writing; `None` for a read-only value.
    pub(crate) fn bytes_mut(&mut self, region: u64, off: usize, len: usize) -> Option<&mut [u8]> {
        let r = *self.region(region)?;
        let end = off.checked_add(len).filter(|&e| e <= r.slot.len)?;
        self.registry
            .get_mut(r.map)?
            .slot_mut(r.slot)?
            .get_mut(off..end)
    }

    /// What a fault report says about value region `region`: its name,
    /// length, and whether the program may write it.
    pub(crate) fn describe(&self, region: u64) -> Option<(String, u64, bool)> {
        if region == KEY_REGION {
            return Some(("callback key".into(), self.key.len() as u64, true));
        }
        let r = self.region(region)?;
        let name = self
            .registry
            .get(r.map)
            .map(|m| bpfkit_object::map::Map::spec(m).name.clone())
            .unwrap_or_default();
        Some((
            format!("value of map {name}"),
            r.slot.len as u64,
            !r.slot.writable,
        ))
    }
}
