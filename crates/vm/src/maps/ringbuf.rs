//! `BPF_MAP_TYPE_RINGBUF` (kernel/bpf/ringbuf.c) and a consumer that drains
//! it as libbpf's `ring_buffer__consume` does.
//!
//! The data area is `max_entries` bytes (a power of two and a multiple of
//! the page size). Each record starts with the kernel's 8-byte header:
//! `u32 len` with `BPF_RINGBUF_BUSY_BIT` (1 << 31) while reserved and
//! `BPF_RINGBUF_DISCARD_BIT` (1 << 30) once discarded, then `u32 pg_off`,
//! the header's page offset from the start of `struct bpf_ringbuf` (three
//! pages of metadata precede the data on x86-64). A record takes
//! `round_up(size + 8, 8)` bytes; a reservation fails when the producer
//! would get `ring size` or more ahead of the consumer, or of the oldest
//! record still reserved, exactly as `__bpf_ringbuf_reserve` checks.
//!
//! The kernel maps the data pages twice so that a record wrapping around
//! the end reads contiguously; here the data buffer is twice the ring and a
//! record is always contiguous from its header's position, which is what
//! both the producer and the consumer see through the double mapping.
//!
//! Wake-ups are counted: a commit wakes the consumer when it has caught up
//! to that record (unless `BPF_RB_NO_WAKEUP`), or always with
//! `BPF_RB_FORCE_WAKEUP`.

use std::collections::BTreeSet;

use bpfkit_object::kinds::MapType;
use bpfkit_object::map::{Map, MapError, MapSpec};

use super::access::Access;
use super::attrs::{check_common, check_prealloc, MapAttrs, BPF_F_NUMA_NODE, PAGE_SIZE};
use super::value::{check_len, ValueLayout};
use super::ValueSlot;

/// `BPF_RINGBUF_BUSY_BIT`.
pub const BPF_RINGBUF_BUSY_BIT: u32 = 1 << 31;
/// `BPF_RINGBUF_DISCARD_BIT`.
pub const BPF_RINGBUF_DISCARD_BIT: u32 = 1 << 30;
/// `BPF_RINGBUF_HDR_SZ`.
pub const BPF_RINGBUF_HDR_SZ: u32 = 8;
/// `BPF_RB_NO_WAKEUP`: do not notify the consumer.
pub const BPF_RB_NO_WAKEUP: u64 = 1;
/// `BPF_RB_FORCE_WAKEUP`: notify the consumer whatever its position.
pub const BPF_RB_FORCE_WAKEUP: u64 = 2;
/// `bpf_ringbuf_query` flag: bytes produced and not yet consumed.
pub const BPF_RB_AVAIL_DATA: u64 = 0;
/// `bpf_ringbuf_query` flag: the ring's size.
pub const BPF_RB_RING_SIZE: u64 = 1;
/// `bpf_ringbuf_query` flag: the consumer position.
pub const BPF_RB_CONS_POS: u64 = 2;
/// `bpf_ringbuf_query` flag: the producer position.
pub const BPF_RB_PROD_POS: u64 = 3;
/// `RINGBUF_MAX_RECORD_SZ`.
const RINGBUF_MAX_RECORD_SZ: u64 = u32::MAX as u64 / 4;
/// Pages of `struct bpf_ringbuf` before the data: the non-mappable part,
/// the consumer page and the producer page.
const RINGBUF_META_PAGES: u32 = 3;
/// `EAGAIN`: `bpf_ringbuf_output` found no room.
const EAGAIN: i32 = 11;

/// A ring buffer map.
#[derive(Debug, Clone)]
pub struct RingBuf {
    spec: MapSpec,
    access: Access,
    mask: u64,
    consumer_pos: u64,
    producer_pos: u64,
    pending_pos: u64,
    data: Vec<u8>,
    /// Ring offsets of the headers of reserved, uncommitted records.
    reserved: BTreeSet<u64>,
    wakeups: u64,
}

fn record_len(hdr_len: u32) -> u64 {
    let len = (hdr_len & !(BPF_RINGBUF_BUSY_BIT | BPF_RINGBUF_DISCARD_BIT)) as u64;
    (len + BPF_RINGBUF_HDR_SZ as u64 + 7) & !7
}

impl RingBuf {
    /// Creates a ring buffer, validated as `ringbuf_map_alloc` does: no key
    /// or value, `max_entries` a power of two and a multiple of 4096, no
    /// flag but `BPF_F_NUMA_NODE`.
    pub fn new(attrs: &MapAttrs) -> Result<RingBuf, MapError> {
        let s = &attrs.spec;
        if s.map_type != MapType::Ringbuf {
            return Err(MapError::Invalid);
        }
        check_common(attrs)?;
        if s.map_flags & !BPF_F_NUMA_NODE != 0
            || s.key_size != 0
            || s.value_size != 0
            || !s.max_entries.is_power_of_two()
            || s.max_entries % PAGE_SIZE != 0
        {
            return Err(MapError::Invalid);
        }
        ValueLayout::new(s.map_type, s.value_size, s.map_flags, attrs.lock_offset)?;
        let size = s.max_entries as u64;
        check_prealloc(2 * size)?;
        Ok(RingBuf {
            spec: s.clone(),
            access: Access::new(s.map_flags),
            mask: size - 1,
            consumer_pos: 0,
            producer_pos: 0,
            pending_pos: 0,
            data: vec![0; 2 * size as usize],
            reserved: BTreeSet::new(),
            wakeups: 0,
        })
    }

    fn header(&self, pos: u64) -> u32 {
        let off = (pos & self.mask) as usize;
        u32::from_le_bytes([
            self.data[off],
            self.data[off + 1],
            self.data[off + 2],
            self.data[off + 3],
        ])
    }

    fn set_header_len(&mut self, pos: u64, len: u32) {
        let off = (pos & self.mask) as usize;
        self.data[off..off + 4].copy_from_slice(&len.to_le_bytes());
    }

    /// `bpf_ringbuf_reserve`: room for a `size`-byte sample, `None` (NULL)
    /// when there is none or `flags` is not 0.
    pub fn reserve(&mut self, size: u64, flags: u64) -> Option<ValueSlot> {
        if flags != 0 {
            return None;
        }
        self.reserve_record(size)
    }

    fn reserve_record(&mut self, size: u64) -> Option<ValueSlot> {
        if size > RINGBUF_MAX_RECORD_SZ {
            return None;
        }
        let len = (size + BPF_RINGBUF_HDR_SZ as u64 + 7) & !7;
        if len > self.mask + 1 {
            return None;
        }
        // Skip committed records at the front of the reserved range.
        let mut pend = self.pending_pos;
        while pend < self.producer_pos {
            let h = self.header(pend);
            if h & BPF_RINGBUF_BUSY_BIT != 0 {
                break;
            }
            pend += record_len(h);
        }
        self.pending_pos = pend;
        let new_prod = self.producer_pos + len;
        if new_prod - self.consumer_pos > self.mask || new_prod - pend > self.mask {
            return None;
        }
        let pos = self.producer_pos;
        let off = (pos & self.mask) as usize;
        let pg_off = RINGBUF_META_PAGES + (off as u32 / PAGE_SIZE);
        self.data[off..off + 4]
            .copy_from_slice(&(size as u32 | BPF_RINGBUF_BUSY_BIT).to_le_bytes());
        self.data[off + 4..off + 8].copy_from_slice(&pg_off.to_le_bytes());
        self.producer_pos = new_prod;
        self.reserved.insert(pos & self.mask);
        Some(ValueSlot {
            offset: off + BPF_RINGBUF_HDR_SZ as usize,
            len: size as usize,
            writable: true,
        })
    }

    fn commit(&mut self, record: ValueSlot, flags: u64, discard: bool) -> Result<(), MapError> {
        let hdr = record
            .offset
            .checked_sub(BPF_RINGBUF_HDR_SZ as usize)
            .ok_or(MapError::Invalid)? as u64;
        if !self.reserved.remove(&hdr) {
            return Err(MapError::Invalid);
        }
        let mut len = self.header(hdr) ^ BPF_RINGBUF_BUSY_BIT;
        if discard {
            len |= BPF_RINGBUF_DISCARD_BIT;
        }
        self.set_header_len(hdr, len);
        let cons = self.consumer_pos & self.mask;
        if flags & BPF_RB_FORCE_WAKEUP != 0 || (cons == hdr && flags & BPF_RB_NO_WAKEUP == 0) {
            self.wakeups += 1;
        }
        Ok(())
    }

    /// `bpf_ringbuf_submit`: the record becomes visible to the consumer.
    /// `EINVAL` for a slot that is not a reserved record (the verifier's
    /// reference tracking makes that impossible for a checked program).
    pub fn submit(&mut self, record: ValueSlot, flags: u64) -> Result<(), MapError> {
        self.commit(record, flags, false)
    }

    /// `bpf_ringbuf_discard`: the record is skipped by the consumer.
    pub fn discard(&mut self, record: ValueSlot, flags: u64) -> Result<(), MapError> {
        self.commit(record, flags, true)
    }

    /// `bpf_ringbuf_output`: reserve, copy and submit; `EINVAL` for flags
    /// other than the wake-up flags, `EAGAIN` when there is no room.
    pub fn output(&mut self, data: &[u8], flags: u64) -> Result<(), MapError> {
        if flags & !(BPF_RB_NO_WAKEUP | BPF_RB_FORCE_WAKEUP) != 0 {
            return Err(MapError::Invalid);
        }
        let rec = self
            .reserve_record(data.len() as u64)
            .ok_or(MapError::Errno(EAGAIN))?;
        self.data[rec.offset..rec.offset + rec.len].copy_from_slice(data);
        self.commit(rec, flags, false)
    }

    /// `bpf_ringbuf_query`: 0 for an unknown flag.
    pub fn query(&self, flags: u64) -> u64 {
        match flags {
            BPF_RB_AVAIL_DATA => self.producer_pos - self.consumer_pos,
            BPF_RB_RING_SIZE => self.mask + 1,
            BPF_RB_CONS_POS => self.consumer_pos,
            BPF_RB_PROD_POS => self.producer_pos,
            _ => 0,
        }
    }

    /// The bytes of a reserved record, for the program to fill.
    pub fn record_mut(&mut self, record: ValueSlot) -> Option<&mut [u8]> {
        let hdr = record.offset.checked_sub(BPF_RINGBUF_HDR_SZ as usize)? as u64;
        if !self.reserved.contains(&hdr) {
            return None;
        }
        self.data
            .get_mut(record.offset..record.offset.checked_add(record.len)?)
    }

    /// The bytes of a reserved (not yet submitted or discarded) record.
    pub fn record(&self, record: ValueSlot) -> Option<&[u8]> {
        let hdr = record.offset.checked_sub(BPF_RINGBUF_HDR_SZ as usize)? as u64;
        if !self.reserved.contains(&hdr) {
            return None;
        }
        self.data
            .get(record.offset..record.offset.checked_add(record.len)?)
    }

    /// The 8-byte header of the record whose sample is `record`.
    pub fn header_of(&self, record: ValueSlot) -> Option<[u8; 8]> {
        let hdr = record.offset.checked_sub(BPF_RINGBUF_HDR_SZ as usize)?;
        self.data.get(hdr..hdr + 8)?.try_into().ok()
    }

    /// How many times the consumer would have been woken up.
    pub fn wakeups(&self) -> u64 {
        self.wakeups
    }

    /// Drains committed records in order, as `ring_buffer__consume` does:
    /// `f` gets each submitted sample (discarded ones are skipped); it stops
    /// at the first record still reserved. Returns how many samples `f` got.
    pub fn consume(&mut self, mut f: impl FnMut(&[u8])) -> usize {
        let mut n = 0;
        while self.consumer_pos < self.producer_pos {
            let h = self.header(self.consumer_pos);
            if h & BPF_RINGBUF_BUSY_BIT != 0 {
                break;
            }
            if h & BPF_RINGBUF_DISCARD_BIT == 0 {
                let off = (self.consumer_pos & self.mask) as usize + BPF_RINGBUF_HDR_SZ as usize;
                f(&self.data[off..off + h as usize]);
                n += 1;
            }
            self.consumer_pos += record_len(h);
        }
        n
    }

    /// [`RingBuf::consume`] collecting the samples.
    pub fn drain(&mut self) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        self.consume(|s| out.push(s.to_vec()));
        out
    }
}

impl Map for RingBuf {
    fn spec(&self) -> &MapSpec {
        &self.spec
    }

    fn lookup(&self, key: &[u8]) -> Result<Vec<u8>, MapError> {
        self.access.sys_read()?;
        check_len(key, 0)?;
        Err(MapError::NotSupported)
    }

    fn update(&mut self, key: &[u8], _value: &[u8], _flags: u64) -> Result<(), MapError> {
        self.access.sys_write()?;
        check_len(key, 0)?;
        Err(MapError::NotSupported)
    }

    fn delete(&mut self, key: &[u8]) -> Result<(), MapError> {
        self.access.sys_write()?;
        check_len(key, 0)?;
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
