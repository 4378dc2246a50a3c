//! `BPF_MAP_CREATE`, the element commands, their batch forms and
//! `BPF_MAP_FREEZE`.
//!
//! The kernel reads and writes keys and values by the map's own sizes, not
//! by lengths in the attr, so these wrappers take a [`MapFd`], which learned
//! those sizes from the kernel, and refuse slices shorter than that.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::sync::OnceLock;

use bpfkit_object::kinds::MapType;

use super::attr::{MapBatchAttr, MapCreateAttr, MapElemAttr, MapInfoRaw, U32Attr};
use super::{addr, addr_mut, bpf, check, owned_fd, Cmd};
use crate::error::{Error, Result};
use crate::fd::{kind_of, ObjKind};

/// A map's file descriptor with the key and value sizes the kernel uses
/// for it (a per-CPU value is `round_up(value_size, 8)` per possible CPU).
#[derive(Debug)]
pub struct MapFd {
    fd: OwnedFd,
    info: MapInfoRaw,
    value_len: usize,
}

impl MapFd {
    /// Takes a descriptor that must be a map's; reads its info.
    pub fn new(fd: OwnedFd) -> Result<MapFd> {
        match kind_of(fd.as_fd())? {
            ObjKind::Map => {}
            other => {
                return Err(Error::Invalid(format!(
                    "descriptor is a BPF {}, not a map",
                    other.name()
                )))
            }
        }
        let info = super::map_info(fd.as_fd())?;
        let value_len = syscall_value_len(&info)?;
        Ok(MapFd {
            fd,
            info,
            value_len,
        })
    }

    /// The descriptor.
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    /// The info the kernel reported when the handle was made.
    pub fn info(&self) -> &MapInfoRaw {
        &self.info
    }

    /// Key length in bytes.
    pub fn key_len(&self) -> usize {
        self.info.key_size as usize
    }

    /// Value length as the syscall moves it (all CPUs of a per-CPU map).
    pub fn value_len(&self) -> usize {
        self.value_len
    }

    /// Gives up the descriptor.
    pub fn into_fd(self) -> OwnedFd {
        self.fd
    }

    fn raw(&self) -> u32 {
        self.fd.as_raw_fd() as u32
    }

    fn need(&self, what: &str, got: usize, want: usize) -> Result<()> {
        if got == want {
            Ok(())
        } else {
            Err(Error::Invalid(format!(
                "{what} is {got} bytes; map {} (id {}) takes {want}",
                super::super::info::name_str(&self.info.name),
                self.info.id
            )))
        }
    }
}

fn syscall_value_len(info: &MapInfoRaw) -> Result<usize> {
    let per_cpu = matches!(
        MapType::from_raw(info.map_type),
        Some(
            MapType::PercpuHash
                | MapType::PercpuArray
                | MapType::LruPercpuHash
                | MapType::PercpuCgroupStorage
        )
    );
    if per_cpu {
        Ok((info.value_size as usize).div_ceil(8) * 8 * possible_cpus()?)
    } else {
        Ok(info.value_size as usize)
    }
}

/// The number of possible CPUs (`/sys/devices/system/cpu/possible`), which
/// sizes every per-CPU value; read once per process.
pub fn possible_cpus() -> Result<usize> {
    static CPUS: OnceLock<std::result::Result<usize, String>> = OnceLock::new();
    const PATH: &str = "/sys/devices/system/cpu/possible";
    let r = CPUS.get_or_init(|| {
        let text = std::fs::read_to_string(PATH).map_err(|e| e.to_string())?;
        parse_cpu_list(text.trim()).ok_or_else(|| format!("cannot parse {text:?}"))
    });
    r.clone()
        .map_err(|e| Error::Invalid(format!("{PATH}: {e}")))
}

/// Counts the CPUs of a list like `0-3,5,7-8`: the highest index plus one,
/// as the kernel's `num_possible_cpus` sizes per-CPU copies.
fn parse_cpu_list(s: &str) -> Option<usize> {
    let mut max = None;
    for part in s.split(',') {
        let last = match part.split_once('-') {
            Some((_, hi)) => hi.parse::<usize>().ok()?,
            None => part.parse::<usize>().ok()?,
        };
        max = Some(max.map_or(last, |m: usize| m.max(last)));
    }
    max.map(|m| m + 1)
}

/// `BPF_MAP_CREATE`.
pub fn map_create(a: &MapCreateAttr) -> Result<MapFd> {
    let mut attr = *a;
    // SAFETY: the create attr has no pointers.
    let ret = check(Cmd::MapCreate, unsafe { bpf(Cmd::MapCreate, &mut attr) })?;
    MapFd::new(owned_fd(ret))
}

/// `BPF_MAP_LOOKUP_ELEM` into `value` (the map's value length), with
/// `BPF_F_LOCK` or 0 in `flags`.
pub fn map_lookup(m: &MapFd, key: &[u8], value: &mut [u8], flags: u64) -> Result<()> {
    read_elem(Cmd::MapLookupElem, m, key, value, flags)
}

/// A command that reads the element at `key` into `value`: a lookup, or
/// a lookup and delete.
fn read_elem(cmd: Cmd, m: &MapFd, key: &[u8], value: &mut [u8], flags: u64) -> Result<()> {
    m.need("key", key.len(), m.key_len())?;
    m.need("value buffer", value.len(), m.value_len())?;
    let mut attr = MapElemAttr {
        map_fd: m.raw(),
        key: addr(key),
        value: addr_mut(value),
        flags,
        ..Default::default()
    };
    // SAFETY: key and value are exactly the map's key and value lengths,
    // borrowed (value mutably) across the call.
    check(cmd, unsafe { bpf(cmd, &mut attr) }).map(drop)
}

/// `BPF_MAP_UPDATE_ELEM`.
pub fn map_update(m: &MapFd, key: &[u8], value: &[u8], flags: u64) -> Result<()> {
    m.need("key", key.len(), m.key_len())?;
    m.need("value", value.len(), m.value_len())?;
    let mut attr = MapElemAttr {
        map_fd: m.raw(),
        key: addr(key),
        value: addr(value),
        flags,
        ..Default::default()
    };
    // SAFETY: key and value are the map's lengths; the kernel only reads them.
    check(Cmd::MapUpdateElem, unsafe {
        bpf(Cmd::MapUpdateElem, &mut attr)
    })
    .map(drop)
}

/// `BPF_MAP_DELETE_ELEM`.
pub fn map_delete(m: &MapFd, key: &[u8]) -> Result<()> {
    m.need("key", key.len(), m.key_len())?;
    let mut attr = MapElemAttr {
        map_fd: m.raw(),
        key: addr(key),
        ..Default::default()
    };
    // SAFETY: the key is the map's key length; the kernel only reads it.
    check(Cmd::MapDeleteElem, unsafe {
        bpf(Cmd::MapDeleteElem, &mut attr)
    })
    .map(drop)
}

/// `BPF_MAP_GET_NEXT_KEY`: the key after `key` (the first with `None`).
pub fn map_next_key(m: &MapFd, key: Option<&[u8]>, next: &mut [u8]) -> Result<()> {
    if let Some(k) = key {
        m.need("key", k.len(), m.key_len())?;
    }
    m.need("next key buffer", next.len(), m.key_len())?;
    let mut attr = MapElemAttr {
        map_fd: m.raw(),
        key: key.map_or(0, addr),
        value: addr_mut(next),
        ..Default::default()
    };
    // SAFETY: key (or NULL) and next are the map's key length, next borrowed
    // mutably for the kernel's write.
    check(Cmd::MapGetNextKey, unsafe {
        bpf(Cmd::MapGetNextKey, &mut attr)
    })
    .map(drop)
}

/// `BPF_MAP_LOOKUP_AND_DELETE_ELEM` (a pop for queue and stack maps).
pub fn map_lookup_and_delete(m: &MapFd, key: &[u8], value: &mut [u8], flags: u64) -> Result<()> {
    read_elem(Cmd::MapLookupAndDeleteElem, m, key, value, flags)
}

/// `BPF_MAP_FREEZE`.
pub fn map_freeze(m: &MapFd) -> Result<()> {
    let mut attr = U32Attr {
        value: m.raw(),
        ..Default::default()
    };
    // SAFETY: no pointers.
    check(Cmd::MapFreeze, unsafe { bpf(Cmd::MapFreeze, &mut attr) }).map(drop)
}

/// What a lookup batch returned: how many elements were written, and
/// whether the kernel said the map has no more (`ENOENT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchOut {
    /// Elements written to the key and value buffers.
    pub count: usize,
    /// The end of the map was reached.
    pub done: bool,
}

/// The length of a batch token: a bucket index (u32) for hash maps, a key
/// for array maps; the longer of the two serves both.
pub fn batch_token_len(m: &MapFd) -> usize {
    m.key_len().max(4)
}

/// `BPF_MAP_LOOKUP_BATCH` or `BPF_MAP_LOOKUP_AND_DELETE_BATCH`: up to
/// `keys.len() / key_len` elements after `in_batch` (from the start with
/// `None`); the token to continue from goes to `out_batch`.
pub fn map_lookup_batch(
    m: &MapFd,
    delete: bool,
    in_batch: Option<&[u8]>,
    out_batch: &mut [u8],
    keys: &mut [u8],
    values: &mut [u8],
    elem_flags: u64,
) -> Result<BatchOut> {
    let cmd = if delete {
        Cmd::MapLookupAndDeleteBatch
    } else {
        Cmd::MapLookupBatch
    };
    let tok = batch_token_len(m);
    if let Some(t) = in_batch {
        m.need("batch token", t.len(), tok)?;
    }
    m.need("batch token buffer", out_batch.len(), tok)?;
    let count = batch_count(m, keys.len(), values.len())?;
    let mut attr = MapBatchAttr {
        in_batch: in_batch.map_or(0, addr),
        out_batch: addr_mut(out_batch),
        keys: addr_mut(keys),
        values: addr_mut(values),
        count,
        map_fd: m.raw(),
        elem_flags,
        flags: 0,
    };
    // SAFETY: the tokens are max(key, 4) bytes, which covers the kernel's
    // u32 bucket or key-sized cursor; keys and values hold `count` elements
    // of the map's sizes and are borrowed mutably for the kernel's writes.
    match unsafe { bpf(cmd, &mut attr) } {
        Ok(_) => Ok(BatchOut {
            count: attr.count as usize,
            done: false,
        }),
        Err(libc::ENOENT) => Ok(BatchOut {
            count: attr.count as usize,
            done: true,
        }),
        Err(errno) => Err(Error::Syscall { cmd, errno }),
    }
}

/// `BPF_MAP_UPDATE_BATCH`: every (key, value) of the packed buffers; the
/// count of elements written is returned even when the kernel stopped early.
pub fn map_update_batch(
    m: &MapFd,
    keys: &[u8],
    values: &[u8],
    elem_flags: u64,
) -> (usize, Result<()>) {
    let count = match batch_count(m, keys.len(), values.len()) {
        Ok(c) => c,
        Err(e) => return (0, Err(e)),
    };
    let mut attr = MapBatchAttr {
        keys: addr(keys),
        values: addr(values),
        count,
        map_fd: m.raw(),
        elem_flags,
        ..Default::default()
    };
    // SAFETY: keys and values hold `count` elements of the map's sizes; the
    // kernel only reads them.
    let r = unsafe { bpf(Cmd::MapUpdateBatch, &mut attr) };
    (
        batch_done(&r, count, attr.count),
        check(Cmd::MapUpdateBatch, r).map(drop),
    )
}

/// `BPF_MAP_DELETE_BATCH`: every key of the packed buffer.
pub fn map_delete_batch(m: &MapFd, keys: &[u8]) -> (usize, Result<()>) {
    let count = match batch_count(m, keys.len(), usize::MAX) {
        Ok(c) => c,
        Err(e) => return (0, Err(e)),
    };
    let mut attr = MapBatchAttr {
        keys: addr(keys),
        count,
        map_fd: m.raw(),
        ..Default::default()
    };
    // SAFETY: keys holds `count` keys of the map's key size, read only.
    let r = unsafe { bpf(Cmd::MapDeleteBatch, &mut attr) };
    (
        batch_done(&r, count, attr.count),
        check(Cmd::MapDeleteBatch, r).map(drop),
    )
}

/// How many elements a batch command did. The kernel writes the count back
/// only once it has started on the elements; a failure that leaves the
/// count as it was sent (all of them) happened before the first one, since
/// a batch that did every element succeeded.
fn batch_done(r: &std::result::Result<i64, i32>, sent: u32, returned: u32) -> usize {
    if r.is_err() && returned == sent {
        0
    } else {
        returned as usize
    }
}

/// How many whole elements the key and value buffers hold (the same number
/// for both, or the batch is refused).
fn batch_count(m: &MapFd, keys_len: usize, values_len: usize) -> Result<u32> {
    let k = m.key_len();
    let v = m.value_len();
    if k == 0 {
        return Err(Error::Invalid(
            "batch commands need a map with keys".to_string(),
        ));
    }
    if keys_len % k != 0 {
        return Err(Error::Invalid(format!(
            "keys buffer of {keys_len} bytes is not a whole number of {k}-byte keys"
        )));
    }
    let n = keys_len / k;
    if values_len != usize::MAX && values_len != n * v {
        return Err(Error::Invalid(format!(
            "values buffer is {values_len} bytes; {n} values of {v} bytes need {}",
            n * v
        )));
    }
    super::len_u32("batch count", n)
}

#[cfg(test)]
mod tests {
    use super::parse_cpu_list;

    #[test]
    fn cpu_lists() {
        assert_eq!(parse_cpu_list("0"), Some(1));
        assert_eq!(parse_cpu_list("0-1"), Some(2));
        assert_eq!(parse_cpu_list("0-3,5,7-8"), Some(9));
        assert_eq!(parse_cpu_list("x"), None);
    }
}
