//! The eviction order of the LRU hash maps.
//!
//! The kernel's LRU (kernel/bpf/bpf_lru_list.c) is an approximation: nodes
//! sit on active and inactive lists with a reference bit that a program's
//! lookup sets; when a CPU finds no free node it refills its local free
//! list in a batch (up to `LOCAL_FREE_TARGET`, 128, nodes), evicting
//! unreferenced inactive nodes first and rotating the rest, so several
//! elements may go at once and a recently inserted one can outlive an older
//! but referenced one only approximately. With `BPF_F_NO_COMMON_LRU` each
//! CPU has its own list of `max_entries / ncpus` nodes.
//!
//! Here the order is exact and deterministic: every element has the tick of
//! its last use (insertion, update, a program's lookup; a syscall lookup
//! does not count, as in the kernel), and a full list evicts exactly one
//! element, the least recently used, at the moment the kernel would take a
//! free node (before the update's flags are checked, so a full map's
//! refused `BPF_NOEXIST` update still evicts, as on the kernel). What stays
//! different from the kernel: it evicts in batches, so it may evict more,
//! and earlier, than here; which element goes is the least recently used
//! only approximately.

use std::collections::BTreeMap;

#[derive(Debug, Clone)]
struct List {
    capacity: u32,
    used: u32,
    by_tick: BTreeMap<u64, u32>,
}

/// The LRU lists of one map: one common list, or one per CPU.
#[derive(Debug, Clone)]
pub(crate) struct Lru {
    lists: Vec<List>,
    /// Per element slot: its list and last-use tick.
    place: Vec<Option<(u32, u64)>>,
    tick: u64,
}

impl Lru {
    /// `nlists` lists sharing `max_entries` nodes equally.
    pub(crate) fn new(max_entries: u32, nlists: u32) -> Lru {
        let capacity = max_entries / nlists;
        Lru {
            lists: (0..nlists)
                .map(|_| List {
                    capacity,
                    used: 0,
                    by_tick: BTreeMap::new(),
                })
                .collect(),
            place: Vec::new(),
            tick: 0,
        }
    }

    /// The list a CPU takes its nodes from.
    pub(crate) fn list_of_cpu(&self, cpu: u32) -> u32 {
        if self.lists.len() == 1 {
            0
        } else {
            cpu % self.lists.len() as u32
        }
    }

    /// The element to evict before a node can be taken from `list`, if
    /// the list has no free node.
    pub(crate) fn victim(&self, list: u32) -> Option<u32> {
        let l = &self.lists[list as usize];
        if l.used < l.capacity {
            None
        } else {
            l.by_tick.first_key_value().map(|(_, &slot)| slot)
        }
    }

    /// Takes a node of `list` for element `slot`, used now.
    pub(crate) fn take(&mut self, list: u32, slot: u32) {
        self.tick += 1;
        let l = &mut self.lists[list as usize];
        l.used += 1;
        l.by_tick.insert(self.tick, slot);
        if self.place.len() <= slot as usize {
            self.place.resize(slot as usize + 1, None);
        }
        self.place[slot as usize] = Some((list, self.tick));
    }

    /// Marks `slot` as just used.
    pub(crate) fn touch(&mut self, slot: u32) {
        if let Some(Some((list, tick))) = self.place.get(slot as usize).copied() {
            self.tick += 1;
            let l = &mut self.lists[list as usize];
            l.by_tick.remove(&tick);
            l.by_tick.insert(self.tick, slot);
            self.place[slot as usize] = Some((list, self.tick));
        }
    }

    /// Returns `slot`'s node to its list's free nodes.
    pub(crate) fn release(&mut self, slot: u32) {
        if let Some(Some((list, tick))) = self.place.get(slot as usize).copied() {
            let l = &mut self.lists[list as usize];
            l.by_tick.remove(&tick);
            l.used -= 1;
            self.place[slot as usize] = None;
        }
    }
}
