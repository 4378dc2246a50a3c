//! `BPF_MAP_TYPE_BLOOM_FILTER` (kernel/bpf/bloom_filter.c).
//!
//! - Keyless; `map_extra`'s low 4 bits are the number of hash functions
//!   (0 means 5; any higher bit is `EINVAL`).
//! - The bit array has `max_entries * nr_hash_funcs / 5 * 7` bits rounded
//!   up to a power of two (at least 64), or 2^32 when that overflows or
//!   passes 2^31, exactly as the kernel sizes it; hash `i` of a value is
//!   `jhash(value, seed + i) & mask`. The seed is 0 with `BPF_F_ZERO_SEED`
//!   (bits then land where the kernel's do, false positives included);
//!   without it the kernel draws a random seed and this map uses a fixed one.
//! - Push (`update` with an empty key, `bpf_map_push_elem`) takes only
//!   `BPF_ANY` (`EINVAL` otherwise). Peek (`lookup`, `bpf_map_peek_elem`)
//!   is `ENOENT` unless every bit of the value is set; the syscall passes
//!   the value to test in place of the key (see [`Map::lookup`]).
//! - Pop, delete and `get_next_key` are not supported.

use bpfkit_object::kinds::MapType;
use bpfkit_object::map::{Map, MapError, MapSpec, BPF_ANY, BPF_F_LOCK};

use super::access::Access;
use super::attrs::{
    access_ok, check_common, check_prealloc, MapAttrs, BPF_F_ACCESS_MASK, BPF_F_NUMA_NODE,
    BPF_F_ZERO_SEED,
};
use super::hash::DEFAULT_SEED;
use super::jhash::jhash;
use super::value::{check_len, ValueLayout};

const BLOOM_CREATE_FLAG_MASK: u32 = BPF_F_NUMA_NODE | BPF_F_ZERO_SEED | BPF_F_ACCESS_MASK;
const BLOOM_FILTER_EXTRA_HASH_FUNCS_MASK: u64 = 0xf;
const DEFAULT_NR_HASH_FUNCS: u32 = 5;

/// A bloom filter.
#[derive(Debug, Clone)]
pub struct BloomFilter {
    spec: MapSpec,
    access: Access,
    nr_hash_funcs: u32,
    seed: u32,
    mask: u32,
    bits: Vec<u64>,
}

impl BloomFilter {
    /// Creates a bloom filter, validated and sized as `bloom_map_alloc`.
    pub fn new(attrs: &MapAttrs) -> Result<BloomFilter, MapError> {
        let s = &attrs.spec;
        if s.map_type != MapType::BloomFilter {
            return Err(MapError::Invalid);
        }
        check_common(attrs)?;
        if s.key_size != 0
            || s.value_size == 0
            || s.max_entries == 0
            || s.map_flags & !BLOOM_CREATE_FLAG_MASK != 0
            || !access_ok(s.map_flags)
            || attrs.map_extra & !BLOOM_FILTER_EXTRA_HASH_FUNCS_MASK != 0
        {
            return Err(MapError::Invalid);
        }
        ValueLayout::new(s.map_type, s.value_size, s.map_flags, attrs.lock_offset)?;
        let mut nr_hash_funcs = (attrs.map_extra & BLOOM_FILTER_EXTRA_HASH_FUNCS_MASK) as u32;
        if nr_hash_funcs == 0 {
            nr_hash_funcs = DEFAULT_NR_HASH_FUNCS;
        }
        let nr_bits = s
            .max_entries
            .checked_mul(nr_hash_funcs)
            .and_then(|n| (n / 5).checked_mul(7))
            .filter(|&n| n as u64 <= 1 << 31);
        let (bytes, mask) = match nr_bits {
            None => ((u32::MAX as u64).div_ceil(8), u32::MAX),
            Some(n) => {
                let n = if n <= 64 { 64 } else { n.next_power_of_two() };
                ((n as u64).div_ceil(8), n - 1)
            }
        };
        let words = bytes.div_ceil(8);
        check_prealloc(words * 8)?;
        let seed = if s.map_flags & BPF_F_ZERO_SEED != 0 {
            0
        } else {
            DEFAULT_SEED
        };
        Ok(BloomFilter {
            spec: s.clone(),
            access: Access::new(s.map_flags),
            nr_hash_funcs,
            seed,
            mask,
            bits: vec![0; words as usize],
        })
    }

    /// The number of hash functions.
    pub fn nr_hash_funcs(&self) -> u32 {
        self.nr_hash_funcs
    }

    /// The number of bits in the bit array.
    pub fn nr_bits(&self) -> u64 {
        self.mask as u64 + 1
    }

    fn bit_indices<'a>(&'a self, value: &'a [u8]) -> impl Iterator<Item = u32> + 'a {
        (0..self.nr_hash_funcs).map(move |i| jhash(value, self.seed.wrapping_add(i)) & self.mask)
    }

    /// `bpf_map_push_elem`: sets the value's bits.
    pub fn push(&mut self, value: &[u8], flags: u64) -> Result<(), MapError> {
        check_len(value, self.spec.value_size as usize)?;
        if flags != BPF_ANY {
            return Err(MapError::Invalid);
        }
        let idx: Vec<u32> = self.bit_indices(value).collect();
        for b in idx {
            self.bits[(b / 64) as usize] |= 1 << (b % 64);
        }
        Ok(())
    }

    /// `bpf_map_peek_elem`: `Ok` when the value may be in the set,
    /// `ENOENT` when it certainly is not.
    pub fn peek(&self, value: &[u8]) -> Result<(), MapError> {
        check_len(value, self.spec.value_size as usize)?;
        if self
            .bit_indices(value)
            .all(|b| self.bits[(b / 64) as usize] & (1 << (b % 64)) != 0)
        {
            Ok(())
        } else {
            Err(MapError::NotFound)
        }
    }
}

impl Map for BloomFilter {
    fn spec(&self) -> &MapSpec {
        &self.spec
    }

    fn lookup(&self, value: &[u8]) -> Result<Vec<u8>, MapError> {
        self.access.sys_read()?;
        self.peek(value)?;
        Ok(value.to_vec())
    }

    fn lookup_flags(&self, value: &[u8], flags: u64) -> Result<Vec<u8>, MapError> {
        self.access.lookup_checks(flags, false)?;
        self.lookup(value)
    }

    fn update(&mut self, key: &[u8], value: &[u8], flags: u64) -> Result<(), MapError> {
        self.access.sys_write()?;
        if flags & BPF_F_LOCK != 0 {
            return Err(MapError::Invalid);
        }
        check_len(key, 0)?;
        self.push(value, flags)
    }

    fn delete(&mut self, _key: &[u8]) -> Result<(), MapError> {
        self.access.sys_write()?;
        Err(MapError::NotSupported)
    }

    fn next_key(&self, _key: Option<&[u8]>) -> Result<Vec<u8>, MapError> {
        self.access.sys_read()?;
        Err(MapError::NotSupported)
    }

    fn lookup_and_delete(&mut self, _key: &[u8]) -> Result<Vec<u8>, MapError> {
        self.access.sys_read()?;
        self.access.sys_write()?;
        Err(MapError::NotSupported)
    }

    fn freeze(&mut self) -> Result<(), MapError> {
        self.access.freeze(false)
    }
}
