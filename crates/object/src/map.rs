//! The one map abstraction: the operations, update flags and error codes of
//! the kernel's `bpf(2)` map commands, implemented alike by bpfkit's
//! userspace maps (crate `bpfkit-vm`) and by kernel map handles (crate
//! `bpfkit-kernel`), so that `map dump` and the Rust API work on both.
//!
//! Values cross this interface as the syscall moves them: a per-CPU map's
//! value is `round_up(value_size, 8) * ncpus` bytes, one slot per CPU.

use serde::Serialize;
use thiserror::Error;

use crate::kinds::MapType;

/// `BPF_ANY`: create a new element or update an existing one.
pub const BPF_ANY: u64 = 0;
/// `BPF_NOEXIST`: create a new element only if it did not exist.
pub const BPF_NOEXIST: u64 = 1;
/// `BPF_EXIST`: update an existing element only.
pub const BPF_EXIST: u64 = 2;
/// `BPF_F_LOCK`: update the value under its `struct bpf_spin_lock`.
pub const BPF_F_LOCK: u64 = 4;

/// Why a map operation failed, as the kernel says it: one variant per errno
/// the map commands return, so userspace and kernel maps compare one to one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Error, Serialize)]
pub enum MapError {
    /// `ENOENT`: no such key (or no next key, at the end of iteration).
    #[error("no such element (ENOENT)")]
    NotFound,
    /// `EEXIST`: `BPF_NOEXIST` and the key exists.
    #[error("element exists (EEXIST)")]
    Exists,
    /// `E2BIG`: the map is full, or an index is past `max_entries`.
    #[error("map is full or index out of range (E2BIG)")]
    TooBig,
    /// `EINVAL`: bad flags, sizes or arguments.
    #[error("invalid argument (EINVAL)")]
    Invalid,
    /// `ENOMEM`: no memory for the element.
    #[error("out of memory (ENOMEM)")]
    NoMemory,
    /// `EBUSY`: the map is in use (a held lock, a pending record).
    #[error("busy (EBUSY)")]
    Busy,
    /// `EPERM`: not permitted (a frozen map written from userspace).
    #[error("operation not permitted (EPERM)")]
    Permission,
    /// `EOPNOTSUPP` / `ENOTSUPP`: the map type has no such operation.
    #[error("operation not supported by this map type (EOPNOTSUPP)")]
    NotSupported,
    /// `EFAULT`: memory could not be read or written.
    #[error("bad address (EFAULT)")]
    Fault,
    /// Any other errno, kept as the kernel returned it.
    #[error("errno {0}")]
    Errno(i32),
}

impl MapError {
    /// The positive errno.
    pub fn errno(self) -> i32 {
        match self {
            MapError::NotFound => 2,
            MapError::Exists => 17,
            MapError::TooBig => 7,
            MapError::Invalid => 22,
            MapError::NoMemory => 12,
            MapError::Busy => 16,
            MapError::Permission => 1,
            MapError::NotSupported => 95,
            MapError::Fault => 14,
            MapError::Errno(e) => e,
        }
    }

    /// The variant for a positive errno (`ENOTSUPP`, 524, is
    /// [`MapError::NotSupported`] too).
    pub fn from_errno(errno: i32) -> MapError {
        match errno {
            2 => MapError::NotFound,
            17 => MapError::Exists,
            7 => MapError::TooBig,
            22 => MapError::Invalid,
            12 => MapError::NoMemory,
            16 => MapError::Busy,
            1 => MapError::Permission,
            95 | 524 => MapError::NotSupported,
            14 => MapError::Fault,
            e => MapError::Errno(e),
        }
    }
}

/// What a map is: the attributes `BPF_MAP_CREATE` takes and
/// `BPF_OBJ_GET_INFO_BY_FD` reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MapSpec {
    /// The map's name (at most 15 bytes reach the kernel).
    pub name: String,
    /// The map type.
    pub map_type: MapType,
    /// Key size in bytes (0 for queue, stack, ringbuf, bloom filter).
    pub key_size: u32,
    /// Value size in bytes, per CPU for per-CPU maps.
    pub value_size: u32,
    /// Capacity (bytes of data for a ring buffer).
    pub max_entries: u32,
    /// `BPF_F_*` map flags.
    pub map_flags: u32,
}

/// The operations of a map, with the kernel's semantics and error codes.
///
/// Keys and values are byte slices of the map's `key_size` and value size
/// (see the module docs for per-CPU maps); a slice of another length is
/// [`MapError::Invalid`]. Maps without keys (queue, stack, bloom filter)
/// take an empty key.
pub trait Map {
    /// The map's attributes.
    fn spec(&self) -> &MapSpec;

    /// `BPF_MAP_LOOKUP_ELEM`: the value stored under `key`. For a bloom
    /// filter the syscall passes the value to test in the value buffer and
    /// no key: here that value is passed as `key`, and a hit returns it
    /// (a miss is [`MapError::NotFound`]).
    fn lookup(&self, key: &[u8]) -> Result<Vec<u8>, MapError>;

    /// `BPF_MAP_LOOKUP_ELEM` with its `flags` (`BPF_F_LOCK`: copy the value
    /// under its spin lock). Added beside [`Map::lookup`] so that the lock
    /// flag's errors (`EINVAL` without a spin lock or with any other flag)
    /// can be compared; the default knows no spin locks: flags 0 is a
    /// plain lookup, anything else `EINVAL`. Maps with spin locks override it.
    fn lookup_flags(&self, key: &[u8], flags: u64) -> Result<Vec<u8>, MapError> {
        if flags == 0 {
            self.lookup(key)
        } else {
            Err(MapError::Invalid)
        }
    }

    /// `BPF_MAP_UPDATE_ELEM` with `BPF_ANY`, `BPF_NOEXIST`, `BPF_EXIST`,
    /// optionally or-ed with `BPF_F_LOCK`. For queue and stack maps this is
    /// a push (`BPF_EXIST` overwrites the oldest element when full).
    fn update(&mut self, key: &[u8], value: &[u8], flags: u64) -> Result<(), MapError>;

    /// `BPF_MAP_DELETE_ELEM`.
    fn delete(&mut self, key: &[u8]) -> Result<(), MapError>;

    /// `BPF_MAP_GET_NEXT_KEY`: the key after `key`, or the first key when
    /// `key` is `None` or not in the map; [`MapError::NotFound`] at the end.
    fn next_key(&self, key: Option<&[u8]>) -> Result<Vec<u8>, MapError>;

    /// `BPF_MAP_LOOKUP_AND_DELETE_ELEM`: for queue and stack maps a pop
    /// (empty key), for hash maps a lookup then delete.
    fn lookup_and_delete(&mut self, key: &[u8]) -> Result<Vec<u8>, MapError>;

    /// `BPF_MAP_FREEZE`: no more writes from userspace.
    fn freeze(&mut self) -> Result<(), MapError>;
}

/// One `(key, value)` pair of a map, as bytes.
pub type Entry = (Vec<u8>, Vec<u8>);

/// Every `(key, value)` of a map in iteration order, as `map dump` shows it.
/// Stops at the first error other than the end of iteration; a key removed
/// between `next_key` and `lookup` is skipped, as bpftool does.
pub fn entries(map: &dyn Map) -> Result<Vec<Entry>, MapError> {
    let mut out = Vec::new();
    let mut key: Option<Vec<u8>> = None;
    loop {
        let next = match map.next_key(key.as_deref()) {
            Ok(k) => k,
            Err(MapError::NotFound) => return Ok(out),
            Err(e) => return Err(e),
        };
        match map.lookup(&next) {
            Ok(v) => out.push((next.clone(), v)),
            Err(MapError::NotFound) => {}
            Err(e) => return Err(e),
        }
        key = Some(next);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errno_round_trips() {
        for e in [
            MapError::NotFound,
            MapError::Exists,
            MapError::TooBig,
            MapError::Invalid,
            MapError::NoMemory,
            MapError::Busy,
            MapError::Permission,
            MapError::NotSupported,
            MapError::Fault,
            MapError::Errno(113),
        ] {
            assert_eq!(MapError::from_errno(e.errno()), e);
        }
        assert_eq!(MapError::from_errno(524), MapError::NotSupported);
    }
}
