//! `BPF_MAP_TYPE_LPM_TRIE` (kernel/bpf/lpm_trie.c): longest-prefix match.
//!
//! A key is `struct bpf_lpm_trie_key_u8 { u32 prefixlen; u8 data[]; }`,
//! `data` big-endian (`data[0]` holds the most significant bits). The
//! kernel's trie is canonical for its set of prefixes, so this map keeps
//! the set itself, ordered as the kernel's `get_next_key` walks the trie:
//! post-order with the 0 branch first, so more specific prefixes come
//! before the prefixes that contain them (for 192.168.0.0/16 with three
//! /24s inside: .0.0/24, .1.0/24, .128.0/24, then the /16).
//!
//! - Creation needs `BPF_F_NO_PREALLOC`; `key_size` is 5 to 260, data up to
//!   256 bytes, so `max_prefixlen = 8 * (key_size - 4)`.
//! - A prefix longer than `max_prefixlen` is `EINVAL` on update and delete
//!   and matches nothing on lookup.
//! - As Linux 6.18 does (measured): `BPF_NOEXIST` on an existing prefix is
//!   `EEXIST`, `BPF_EXIST` on a missing one `ENOENT`, a new prefix in a
//!   full trie `ENOSPC`; replacing a prefix always works.
//! - Lookup returns the value of the longest stored prefix that matches
//!   the key's first `prefixlen` bits; delete needs the exact prefix.
//! - A stored key keeps the data bytes it was last written with, bits past
//!   its prefix included, and `get_next_key` returns them, as the kernel
//!   copies the node's data.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use bpfkit_object::kinds::MapType;
use bpfkit_object::map::{Map, MapError, MapSpec, BPF_EXIST, BPF_NOEXIST};

use super::access::Access;
use super::arena::Arena;
use super::attrs::{
    access_ok, check_common, round_up8, MapAttrs, BPF_F_ACCESS_MASK, BPF_F_NO_PREALLOC,
    BPF_F_NUMA_NODE, KMALLOC_MAX_SIZE,
};
use super::value::{check_len, ValueLayout};
use super::ValueSlot;

const LPM_DATA_SIZE_MAX: u32 = 256;
const LPM_DATA_SIZE_MIN: u32 = 1;
/// `sizeof(struct lpm_trie_node)` on x86-64 (with its rcu head).
const LPM_TRIE_NODE_SIZE: u64 = 40;
const LPM_VAL_SIZE_MAX: u64 = KMALLOC_MAX_SIZE - LPM_DATA_SIZE_MAX as u64 - LPM_TRIE_NODE_SIZE;
const LPM_CREATE_FLAG_MASK: u32 = BPF_F_NO_PREALLOC | BPF_F_NUMA_NODE | BPF_F_ACCESS_MASK;
/// `ENOSPC`: a full trie.
const ENOSPC: i32 = 28;

/// A prefix, ordered as the kernel's trie walk visits it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Prefix {
    len: u32,
    /// The data with every bit past `len` cleared.
    bits: Vec<u8>,
}

fn bit(data: &[u8], index: u32) -> u8 {
    (data[(index / 8) as usize] >> (7 - index % 8)) & 1
}

/// How many leading bits `a` and `b` share, up to `limit`.
fn common_bits(a: &[u8], b: &[u8], limit: u32) -> u32 {
    let mut n = 0;
    for (x, y) in a.iter().zip(b) {
        let diff = x ^ y;
        if diff != 0 {
            n += diff.leading_zeros();
            return n.min(limit);
        }
        n += 8;
        if n >= limit {
            return limit;
        }
    }
    n.min(limit)
}

impl Prefix {
    fn new(len: u32, data: &[u8]) -> Prefix {
        let mut bits = data.to_vec();
        for (i, b) in bits.iter_mut().enumerate() {
            let start = i as u32 * 8;
            if start >= len {
                *b = 0;
            } else if len - start < 8 {
                *b &= 0xffu8 << (8 - (len - start));
            }
        }
        Prefix { len, bits }
    }
}

impl Ord for Prefix {
    /// Post-order of the binary trie, 0 branch first: where two prefixes
    /// first differ, the one with a 0 bit comes first; when one contains
    /// the other, the longer (more specific) one comes first.
    fn cmp(&self, other: &Prefix) -> Ordering {
        let limit = self.len.min(other.len);
        let m = common_bits(&self.bits, &other.bits, limit);
        if m < limit {
            return bit(&self.bits, m).cmp(&bit(&other.bits, m));
        }
        other.len.cmp(&self.len)
    }
}

impl PartialOrd for Prefix {
    fn partial_cmp(&self, other: &Prefix) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

#[derive(Debug, Clone)]
struct Node {
    /// The key's data as last written.
    data: Vec<u8>,
    slot: u32,
}

/// A longest-prefix-match trie.
#[derive(Debug, Clone)]
pub struct LpmTrie {
    spec: MapSpec,
    layout: ValueLayout,
    access: Access,
    max_prefixlen: u32,
    nodes: BTreeMap<Prefix, Node>,
    /// How many stored prefixes have each length.
    lens: BTreeMap<u32, u32>,
    arena: Arena,
}

impl LpmTrie {
    /// Creates a trie, validated as `trie_alloc` does.
    pub fn new(attrs: &MapAttrs) -> Result<LpmTrie, MapError> {
        let s = &attrs.spec;
        if s.map_type != MapType::LpmTrie {
            return Err(MapError::Invalid);
        }
        check_common(attrs)?;
        if s.max_entries == 0
            || s.map_flags & BPF_F_NO_PREALLOC == 0
            || s.map_flags & !LPM_CREATE_FLAG_MASK != 0
            || !access_ok(s.map_flags)
            || s.key_size < 4 + LPM_DATA_SIZE_MIN
            || s.key_size > 4 + LPM_DATA_SIZE_MAX
            || s.value_size < 1
            || s.value_size as u64 > LPM_VAL_SIZE_MAX
        {
            return Err(MapError::Invalid);
        }
        let layout = ValueLayout::new(s.map_type, s.value_size, s.map_flags, attrs.lock_offset)?;
        Ok(LpmTrie {
            spec: s.clone(),
            layout,
            access: Access::new(s.map_flags),
            max_prefixlen: (s.key_size - 4) * 8,
            nodes: BTreeMap::new(),
            lens: BTreeMap::new(),
            arena: Arena::new(round_up8(s.value_size)),
        })
    }

    /// `8 * data_size`.
    pub fn max_prefixlen(&self) -> u32 {
        self.max_prefixlen
    }

    /// The number of stored prefixes.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether no prefix is stored.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    fn split_key<'k>(&self, key: &'k [u8]) -> Result<(u32, &'k [u8]), MapError> {
        check_len(key, self.spec.key_size as usize)?;
        let len = u32::from_le_bytes([key[0], key[1], key[2], key[3]]);
        Ok((len, &key[4..]))
    }

    /// The longest stored prefix matching `key` (`trie_lookup_elem`).
    fn longest_match(&self, key: &[u8]) -> Result<Option<&Node>, MapError> {
        let (len, data) = self.split_key(key)?;
        // Linux 6.18 finds nothing for a prefix past max_prefixlen (measured).
        if len > self.max_prefixlen {
            return Ok(None);
        }
        for (&l, _) in self.lens.range(..=len).rev() {
            if let Some(node) = self.nodes.get(&Prefix::new(l, data)) {
                return Ok(Some(node));
            }
        }
        Ok(None)
    }

    fn update_elem(&mut self, key: &[u8], value: &[u8], flags: u64) -> Result<(), MapError> {
        check_len(value, self.layout.size)?;
        if flags > BPF_EXIST {
            return Err(MapError::Invalid);
        }
        let (len, data) = self.split_key(key)?;
        if len > self.max_prefixlen {
            return Err(MapError::Invalid);
        }
        let prefix = Prefix::new(len, data);
        let exists = self.nodes.contains_key(&prefix);
        if exists && flags == BPF_NOEXIST {
            return Err(MapError::Exists);
        }
        if !exists && flags == BPF_EXIST {
            return Err(MapError::NotFound);
        }
        if !exists && self.nodes.len() as u64 >= self.spec.max_entries as u64 {
            return Err(MapError::Errno(ENOSPC));
        }
        // The kernel allocates a new node and frees the replaced one.
        let slot = self.arena.alloc();
        let layout = self.layout;
        layout.copy_in(self.arena.slot_mut(slot), value);
        let node = Node {
            data: data.to_vec(),
            slot,
        };
        match self.nodes.insert(prefix, node) {
            Some(old) => self.arena.free(old.slot),
            None => *self.lens.entry(len).or_default() += 1,
        }
        Ok(())
    }

    fn delete_elem(&mut self, key: &[u8]) -> Result<(), MapError> {
        let (len, data) = self.split_key(key)?;
        if len > self.max_prefixlen {
            return Err(MapError::Invalid);
        }
        let node = self
            .nodes
            .remove(&Prefix::new(len, data))
            .ok_or(MapError::NotFound)?;
        self.arena.free(node.slot);
        if let Some(n) = self.lens.get_mut(&len) {
            *n -= 1;
            if *n == 0 {
                self.lens.remove(&len);
            }
        }
        Ok(())
    }

    fn key_bytes(prefix: &Prefix, node: &Node) -> Vec<u8> {
        let mut k = prefix.len.to_le_bytes().to_vec();
        k.extend_from_slice(&node.data);
        k
    }

    /// A program's `bpf_map_lookup_elem`: the slot of the longest match.
    pub fn prog_lookup(&self, key: &[u8]) -> Result<Option<ValueSlot>, MapError> {
        Ok(self.longest_match(key)?.map(|node| ValueSlot {
            offset: self.arena.offset(node.slot),
            len: self.layout.size,
            writable: self.access.prog_write().is_ok(),
        }))
    }

    /// A program's `bpf_map_update_elem` (the same function as the
    /// syscall's; no freeze check).
    pub fn prog_update(&mut self, key: &[u8], value: &[u8], flags: u64) -> Result<(), MapError> {
        self.access.prog_write()?;
        self.update_elem(key, value, flags)
    }

    /// A program's `bpf_map_delete_elem`.
    pub fn prog_delete(&mut self, key: &[u8]) -> Result<(), MapError> {
        self.access.prog_write()?;
        self.delete_elem(key)
    }

    /// The bytes of a slot returned by [`LpmTrie::prog_lookup`].
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
}

impl Map for LpmTrie {
    fn spec(&self) -> &MapSpec {
        &self.spec
    }

    fn lookup(&self, key: &[u8]) -> Result<Vec<u8>, MapError> {
        self.access.sys_read()?;
        let node = self.longest_match(key)?.ok_or(MapError::NotFound)?;
        Ok(self.layout.copy_out(self.arena.slot(node.slot)))
    }

    fn update(&mut self, key: &[u8], value: &[u8], flags: u64) -> Result<(), MapError> {
        self.access.sys_write()?;
        self.layout.check_lock_flag(flags)?;
        self.update_elem(key, value, flags)
    }

    fn delete(&mut self, key: &[u8]) -> Result<(), MapError> {
        self.access.sys_write()?;
        self.delete_elem(key)
    }

    /// `trie_get_next_key`: the post-order successor of the exact prefix
    /// `key`, or the first prefix when `key` is absent, not stored exactly,
    /// or longer than `max_prefixlen`.
    fn next_key(&self, key: Option<&[u8]>) -> Result<Vec<u8>, MapError> {
        self.access.sys_read()?;
        let first = || {
            self.nodes
                .iter()
                .next()
                .map(|(p, n)| Self::key_bytes(p, n))
                .ok_or(MapError::NotFound)
        };
        let Some(key) = key else {
            return first();
        };
        let (len, data) = self.split_key(key)?;
        if len > self.max_prefixlen {
            return first();
        }
        let prefix = Prefix::new(len, data);
        if !self.nodes.contains_key(&prefix) {
            return first();
        }
        use std::ops::Bound::{Excluded, Unbounded};
        self.nodes
            .range((Excluded(prefix), Unbounded))
            .next()
            .map(|(p, n)| Self::key_bytes(p, n))
            .ok_or(MapError::NotFound)
    }

    fn lookup_and_delete(&mut self, key: &[u8]) -> Result<Vec<u8>, MapError> {
        self.access.sys_read()?;
        self.access.sys_write()?;
        self.split_key(key)?;
        Err(MapError::NotSupported)
    }

    fn freeze(&mut self) -> Result<(), MapError> {
        self.access.freeze(false)
    }
}
