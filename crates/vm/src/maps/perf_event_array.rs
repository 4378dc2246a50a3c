//! `BPF_MAP_TYPE_PERF_EVENT_ARRAY` and the per-CPU record buffers behind it,
//! with a consumer as libbpf's `perf_buffer` reads them.
//!
//! A slot holds a `PERF_COUNT_SW_BPF_OUTPUT` event bound to one CPU, with a
//! ring of `pages * 4096` bytes (libbpf opens one per CPU at index = CPU).
//! Through the [`Map`] trait the value is the CPU the event is opened on
//! (the kernel takes the event's fd); [`PerfEventArray::open`] also sets the
//! ring size.
//!
//! `bpf_perf_event_output(ctx, map, flags, data, size)` as
//! `__bpf_perf_event_output` does it: the index is `flags &
//! BPF_F_INDEX_MASK`, `BPF_F_CURRENT_CPU` meaning the running CPU; other
//! flag bits are `EINVAL` (the skb/xdp variants also take
//! `BPF_F_CTXLEN_MASK`, bytes of the packet appended to the sample); an
//! index past the end is `E2BIG`, an empty slot `ENOENT`, an event bound to
//! another CPU `EOPNOTSUPP`. A sample is a `PERF_RECORD_SAMPLE` whose raw
//! data is padded with zeros so that its `u32` size plus the data is a
//! multiple of 8 (the size the consumer sees includes the padding). A ring
//! without room fails with `ENOSPC` and counts the sample lost; the next
//! record that fits is preceded by a `PERF_RECORD_LOST` with the count.

use std::collections::VecDeque;

use bpfkit_object::kinds::MapType;
use bpfkit_object::map::{Map, MapError, MapSpec};

use super::attrs::{MapAttrs, PAGE_SIZE};
use super::fd_array::FdArray;
use super::value::index_key;

/// `BPF_F_INDEX_MASK`.
pub const BPF_F_INDEX_MASK: u64 = 0xffff_ffff;
/// `BPF_F_CURRENT_CPU`.
pub const BPF_F_CURRENT_CPU: u64 = BPF_F_INDEX_MASK;
/// `BPF_F_CTXLEN_MASK`: for the skb and xdp outputs, how many bytes of the
/// packet to append.
pub const BPF_F_CTXLEN_MASK: u64 = 0xfffff << 32;
/// The ring size of an event opened through [`Map::update`]: 8 pages.
pub const DEFAULT_PAGES: u32 = 8;
/// `sizeof(struct perf_event_header)`.
const PERF_HEADER: usize = 8;
/// A `PERF_RECORD_LOST`: header, id, count.
const LOST_RECORD: usize = PERF_HEADER + 16;
const ENOSPC: i32 = 28;

/// What a consumer reads from one CPU's ring.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PerfRecord {
    /// A sample's raw data, padding included.
    Sample(Vec<u8>),
    /// This many samples were lost for lack of room.
    Lost(u64),
}

impl PerfRecord {
    fn ring_size(&self) -> usize {
        match self {
            PerfRecord::Sample(d) => PERF_HEADER + 4 + d.len(),
            PerfRecord::Lost(_) => LOST_RECORD,
        }
    }
}

/// One event's ring of records.
#[derive(Debug, Clone)]
struct PerfRing {
    cpu: u32,
    capacity: usize,
    used: usize,
    records: VecDeque<PerfRecord>,
    lost: u64,
}

impl PerfRing {
    /// `perf_output_begin` for a record of `size` bytes: room for it (and a
    /// pending lost record) with one byte always free, as `CIRC_SPACE` has.
    fn push(&mut self, sample: Vec<u8>) -> Result<(), MapError> {
        let rec = PerfRecord::Sample(sample);
        let need = rec.ring_size() + if self.lost > 0 { LOST_RECORD } else { 0 };
        if self.capacity - self.used - 1 < need {
            self.lost += 1;
            return Err(MapError::Errno(ENOSPC));
        }
        if self.lost > 0 {
            self.records.push_back(PerfRecord::Lost(self.lost));
            self.used += LOST_RECORD;
            self.lost = 0;
        }
        self.used += rec.ring_size();
        self.records.push_back(rec);
        Ok(())
    }
}

/// A perf event array.
#[derive(Debug, Clone)]
pub struct PerfEventArray {
    slots: FdArray<PerfRing>,
    ncpus: u32,
}

impl PerfEventArray {
    /// Creates a perf event array (the fd array checks; `BPF_F_PRESERVE_ELEMS`
    /// is allowed).
    pub fn new(attrs: &MapAttrs) -> Result<PerfEventArray, MapError> {
        if attrs.spec.map_type != MapType::PerfEventArray {
            return Err(MapError::Invalid);
        }
        Ok(PerfEventArray {
            slots: FdArray::new(attrs)?,
            ncpus: attrs.ncpus,
        })
    }

    /// Opens an output event on `cpu` with a ring of `pages` pages (a power
    /// of two, as `perf_event_mmap` wants) and stores it at `index`.
    pub fn open(&mut self, index: u32, cpu: u32, pages: u32) -> Result<(), MapError> {
        self.slots.access.sys_write()?;
        if cpu >= self.ncpus || !pages.is_power_of_two() {
            return Err(MapError::Invalid);
        }
        let index = self.slots.check_update(&index.to_le_bytes(), 0)?;
        self.slots.set(
            index,
            PerfRing {
                cpu,
                capacity: pages as usize * PAGE_SIZE as usize,
                used: 0,
                records: VecDeque::new(),
                lost: 0,
            },
        );
        Ok(())
    }

    fn ring_for(&mut self, cpu: u32, flags: u64) -> Result<&mut PerfRing, MapError> {
        let mut index = flags & BPF_F_INDEX_MASK;
        if index == BPF_F_CURRENT_CPU {
            index = cpu as u64;
        }
        if index >= self.slots.spec.max_entries as u64 {
            return Err(MapError::TooBig);
        }
        let ring = self.slots.get_mut(index as u32).ok_or(MapError::NotFound)?;
        if ring.cpu != cpu {
            return Err(MapError::NotSupported);
        }
        Ok(ring)
    }

    /// `bpf_perf_event_output` from a program running on `cpu`.
    pub fn output(&mut self, cpu: u32, flags: u64, data: &[u8]) -> Result<(), MapError> {
        if flags & !BPF_F_INDEX_MASK != 0 {
            return Err(MapError::Invalid);
        }
        self.emit(cpu, flags, data, &[])
    }

    /// `bpf_skb_output` / `bpf_xdp_output`: `data`, then the first
    /// `(flags & BPF_F_CTXLEN_MASK) >> 32` bytes of `packet` (`EFAULT`
    /// when the packet is shorter).
    pub fn output_with_packet(
        &mut self,
        cpu: u32,
        flags: u64,
        data: &[u8],
        packet: &[u8],
    ) -> Result<(), MapError> {
        if flags & !(BPF_F_INDEX_MASK | BPF_F_CTXLEN_MASK) != 0 {
            return Err(MapError::Invalid);
        }
        let ctx_len = ((flags & BPF_F_CTXLEN_MASK) >> 32) as usize;
        let ctx = packet.get(..ctx_len).ok_or(MapError::Fault)?;
        self.emit(cpu, flags & BPF_F_INDEX_MASK, data, ctx)
    }

    fn emit(&mut self, cpu: u32, flags: u64, data: &[u8], ctx: &[u8]) -> Result<(), MapError> {
        let ring = self.ring_for(cpu, flags)?;
        let total = data.len() + ctx.len();
        let padded = (total + 4).div_ceil(8) * 8 - 4;
        let mut sample = Vec::with_capacity(padded);
        sample.extend_from_slice(data);
        sample.extend_from_slice(ctx);
        sample.resize(padded, 0);
        ring.push(sample)
    }

    /// Reads and frees every record of the event at `index`, oldest first.
    pub fn consume(&mut self, index: u32) -> Vec<PerfRecord> {
        match self.slots.get_mut(index) {
            Some(ring) => {
                ring.used = 0;
                ring.records.drain(..).collect()
            }
            None => Vec::new(),
        }
    }
}

impl Map for PerfEventArray {
    fn spec(&self) -> &MapSpec {
        &self.slots.spec
    }

    /// The kernel has no syscall lookup for perf events (`ENOTSUPP`).
    fn lookup(&self, key: &[u8]) -> Result<Vec<u8>, MapError> {
        self.slots.access.sys_read()?;
        self.slots.index(key)?;
        Err(MapError::NotSupported)
    }

    /// Opens an event on the CPU given as the `u32` value.
    fn update(&mut self, key: &[u8], value: &[u8], flags: u64) -> Result<(), MapError> {
        let index = self.slots.sys_update_checks(key, value, flags)?;
        self.open(index, index_key(value)?, DEFAULT_PAGES)
    }

    fn delete(&mut self, key: &[u8]) -> Result<(), MapError> {
        self.slots.sys_delete(key)
    }

    fn next_key(&self, key: Option<&[u8]>) -> Result<Vec<u8>, MapError> {
        self.slots.next_key(key)
    }

    fn lookup_and_delete(&mut self, key: &[u8]) -> Result<Vec<u8>, MapError> {
        self.slots.sys_lookup_and_delete(key)
    }

    fn freeze(&mut self) -> Result<(), MapError> {
        self.slots.freeze()
    }
}
