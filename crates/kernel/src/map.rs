//! Kernel maps: creating them, opening them by id or pin, their element and
//! batch commands, and the shared [`Map`] abstraction over them.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::Path;

use bpfkit_object::kinds::MapType;
use bpfkit_object::map::{Map, MapError, MapSpec};

use crate::error::{Error, Result};
use crate::info::{name_str, MapInfo};
use crate::sys::{self, attr::MapCreateAttr, IdKind, MapFd};

/// Everything `BPF_MAP_CREATE` takes beyond the [`MapSpec`].
#[derive(Debug, Default, Clone, Copy)]
pub struct MapCreateExtra<'a> {
    /// The inner map's template, for array- and hash-of-maps.
    pub inner_map_fd: Option<BorrowedFd<'a>>,
    /// BTF describing key and value.
    pub btf_fd: Option<BorrowedFd<'a>>,
    /// BTF type id of the key in `btf_fd`.
    pub btf_key_type_id: u32,
    /// BTF type id of the value in `btf_fd`.
    pub btf_value_type_id: u32,
    /// vmlinux BTF type id of a struct_ops map's value.
    pub btf_vmlinux_value_type_id: u32,
    /// NUMA node (sets `BPF_F_NUMA_NODE`).
    pub numa_node: Option<u32>,
    /// `map_extra`: bloom filter hash count, arena address.
    pub map_extra: u64,
    /// Offload device.
    pub ifindex: u32,
}

/// `BPF_F_NUMA_NODE`.
const BPF_F_NUMA_NODE: u32 = 1 << 2;

/// A map in the kernel, held open by its descriptor (closed on drop).
#[derive(Debug)]
pub struct KernelMap {
    fd: MapFd,
    spec: MapSpec,
}

/// Where a batch walk stands: before the first call, between calls (the
/// kernel's token), or done.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct BatchCursor {
    token: Option<Vec<u8>>,
    done: bool,
}

impl BatchCursor {
    /// A walk from the start of the map.
    pub fn new() -> BatchCursor {
        BatchCursor::default()
    }

    /// Whether the kernel said there is nothing after the last batch.
    pub fn is_done(&self) -> bool {
        self.done
    }
}

impl KernelMap {
    /// `BPF_MAP_CREATE` from a spec.
    pub fn create(spec: &MapSpec) -> Result<KernelMap> {
        KernelMap::create_with(spec, &MapCreateExtra::default())
    }

    /// `BPF_MAP_CREATE` with BTF, an inner map, a NUMA node or `map_extra`.
    pub fn create_with(spec: &MapSpec, extra: &MapCreateExtra<'_>) -> Result<KernelMap> {
        use std::os::fd::AsRawFd;
        let raw_fd = |f: Option<BorrowedFd<'_>>| f.map_or(0, |f| f.as_raw_fd() as u32);
        let mut attr = MapCreateAttr {
            map_type: spec.map_type.raw(),
            key_size: spec.key_size,
            value_size: spec.value_size,
            max_entries: spec.max_entries,
            map_flags: spec.map_flags,
            inner_map_fd: raw_fd(extra.inner_map_fd),
            map_ifindex: extra.ifindex,
            btf_fd: raw_fd(extra.btf_fd),
            btf_key_type_id: extra.btf_key_type_id,
            btf_value_type_id: extra.btf_value_type_id,
            btf_vmlinux_value_type_id: extra.btf_vmlinux_value_type_id,
            map_extra: extra.map_extra,
            ..Default::default()
        };
        attr.map_name = sys::obj_name(&spec.name)?;
        if let Some(node) = extra.numa_node {
            attr.numa_node = node;
            attr.map_flags |= BPF_F_NUMA_NODE;
        }
        KernelMap::from_map_fd(sys::map_create(&attr)?)
    }

    /// Wraps a map descriptor (refusing any other kind of descriptor).
    pub fn from_fd(fd: OwnedFd) -> Result<KernelMap> {
        KernelMap::from_map_fd(MapFd::new(fd)?)
    }

    /// Opens the map with this id (`BPF_MAP_GET_FD_BY_ID`).
    pub fn from_id(id: u32) -> Result<KernelMap> {
        KernelMap::from_fd(sys::fd_by_id(IdKind::Map, id)?)
    }

    /// Opens the map pinned at `path` (`BPF_OBJ_GET`).
    pub fn from_pin(path: &Path) -> Result<KernelMap> {
        KernelMap::from_fd(crate::pin::get(path)?)
    }

    fn from_map_fd(fd: MapFd) -> Result<KernelMap> {
        let i = fd.info();
        let map_type = MapType::from_raw(i.map_type).ok_or_else(|| {
            Error::Invalid(format!(
                "map id {} has type {}, unknown to this build",
                i.id, i.map_type
            ))
        })?;
        let spec = MapSpec {
            name: name_str(&i.name),
            map_type,
            key_size: i.key_size,
            value_size: i.value_size,
            max_entries: i.max_entries,
            map_flags: i.map_flags,
        };
        Ok(KernelMap { fd, spec })
    }

    /// The map's id.
    pub fn id(&self) -> u32 {
        self.fd.info().id
    }

    /// The descriptor.
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.fd.fd()
    }

    /// Gives up the descriptor.
    pub fn into_fd(self) -> OwnedFd {
        self.fd.into_fd()
    }

    /// Fresh info from the kernel (`BPF_OBJ_GET_INFO_BY_FD` and fdinfo).
    pub fn info(&self) -> Result<MapInfo> {
        MapInfo::of_fd(self.fd())
    }

    /// Key length in bytes.
    pub fn key_len(&self) -> usize {
        self.fd.key_len()
    }

    /// Value length as the syscall moves it: `round_up(value_size, 8)` per
    /// possible CPU for per-CPU maps, `value_size` otherwise.
    pub fn value_len(&self) -> usize {
        self.fd.value_len()
    }

    /// Pins the map at `path` on bpffs.
    pub fn pin(&self, path: &Path) -> Result<()> {
        crate::pin::pin(self.fd(), path)
    }

    /// `BPF_MAP_LOOKUP_ELEM` with `flags` (0 or `BPF_F_LOCK`). A bloom
    /// filter has no keys: the value to test is passed as `key` (the
    /// syscall carries it in the value buffer) and comes back on a hit;
    /// a miss is `ENOENT`.
    pub fn lookup_elem(&self, key: &[u8], flags: u64) -> Result<Vec<u8>> {
        if self.spec.map_type == MapType::BloomFilter {
            let mut v = key.to_vec();
            sys::map_lookup(&self.fd, &[], &mut v, flags)?;
            return Ok(v);
        }
        let mut v = vec![0u8; self.value_len()];
        sys::map_lookup(&self.fd, key, &mut v, flags)?;
        Ok(v)
    }

    /// `BPF_MAP_UPDATE_ELEM` with `BPF_ANY`/`BPF_NOEXIST`/`BPF_EXIST`
    /// (optionally or-ed with `BPF_F_LOCK`).
    pub fn update_elem(&self, key: &[u8], value: &[u8], flags: u64) -> Result<()> {
        sys::map_update(&self.fd, key, value, flags)
    }

    /// `BPF_MAP_DELETE_ELEM`.
    pub fn delete_elem(&self, key: &[u8]) -> Result<()> {
        sys::map_delete(&self.fd, key)
    }

    /// `BPF_MAP_GET_NEXT_KEY`: `Ok(None)` at the end.
    pub fn get_next_key(&self, key: Option<&[u8]>) -> Result<Option<Vec<u8>>> {
        let mut next = vec![0u8; self.key_len()];
        match sys::map_next_key(&self.fd, key, &mut next) {
            Ok(()) => Ok(Some(next)),
            Err(e) if e.errno() == Some(libc::ENOENT) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `BPF_MAP_LOOKUP_AND_DELETE_ELEM` (pop for queue and stack maps,
    /// whose key is empty).
    pub fn lookup_and_delete_elem(&self, key: &[u8], flags: u64) -> Result<Vec<u8>> {
        let mut v = vec![0u8; self.value_len()];
        sys::map_lookup_and_delete(&self.fd, key, &mut v, flags)?;
        Ok(v)
    }

    /// `BPF_MAP_FREEZE`: no more writes through the syscall.
    pub fn freeze_map(&self) -> Result<()> {
        sys::map_freeze(&self.fd)
    }

    /// `BPF_MAP_LOOKUP_BATCH`: up to `max` elements after the cursor.
    pub fn lookup_batch(
        &self,
        cursor: &mut BatchCursor,
        max: usize,
        elem_flags: u64,
    ) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        self.batch(cursor, max, elem_flags, false)
    }

    /// `BPF_MAP_LOOKUP_AND_DELETE_BATCH`: as [`KernelMap::lookup_batch`],
    /// removing what it returns.
    pub fn lookup_and_delete_batch(
        &self,
        cursor: &mut BatchCursor,
        max: usize,
        elem_flags: u64,
    ) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        self.batch(cursor, max, elem_flags, true)
    }

    fn batch(
        &self,
        cursor: &mut BatchCursor,
        max: usize,
        elem_flags: u64,
        delete: bool,
    ) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        if cursor.done || max == 0 {
            return Ok(Vec::new());
        }
        let (k, v) = (self.key_len(), self.value_len());
        let mut keys = vec![0u8; k * max];
        let mut values = vec![0u8; v * max];
        let mut out_token = vec![0u8; sys::batch_token_len(&self.fd)];
        let got = sys::map_lookup_batch(
            &self.fd,
            delete,
            cursor.token.as_deref(),
            &mut out_token,
            &mut keys,
            &mut values,
            elem_flags,
        )?;
        cursor.done = got.done;
        cursor.token = Some(out_token);
        let n = got.count.min(max);
        Ok((0..n)
            .map(|i| {
                (
                    keys[i * k..(i + 1) * k].to_vec(),
                    values[i * v..(i + 1) * v].to_vec(),
                )
            })
            .collect())
    }

    /// `BPF_MAP_UPDATE_BATCH`: writes every pair; on failure the error says
    /// how many were written before it.
    pub fn update_batch(&self, entries: &[(&[u8], &[u8])], elem_flags: u64) -> Result<usize> {
        let keys: Vec<u8> = entries
            .iter()
            .flat_map(|(k, _)| k.iter().copied())
            .collect();
        let values: Vec<u8> = entries
            .iter()
            .flat_map(|(_, v)| v.iter().copied())
            .collect();
        self.check_pairs(entries)?;
        let (n, r) = sys::map_update_batch(&self.fd, &keys, &values, elem_flags);
        r.map(|()| n).map_err(|e| partial(e, n, entries.len()))
    }

    /// `BPF_MAP_DELETE_BATCH`: deletes every key.
    pub fn delete_batch(&self, keys: &[&[u8]]) -> Result<usize> {
        if let Some(k) = keys.iter().find(|k| k.len() != self.key_len()) {
            return Err(self.wrong("key", k.len(), self.key_len()));
        }
        let packed: Vec<u8> = keys.iter().flat_map(|k| k.iter().copied()).collect();
        let (n, r) = sys::map_delete_batch(&self.fd, &packed);
        r.map(|()| n).map_err(|e| partial(e, n, keys.len()))
    }

    fn check_pairs(&self, entries: &[(&[u8], &[u8])]) -> Result<()> {
        for (k, v) in entries {
            if k.len() != self.key_len() {
                return Err(self.wrong("key", k.len(), self.key_len()));
            }
            if v.len() != self.value_len() {
                return Err(self.wrong("value", v.len(), self.value_len()));
            }
        }
        Ok(())
    }

    fn wrong(&self, what: &str, got: usize, want: usize) -> Error {
        Error::Invalid(format!(
            "{what} is {got} bytes; map {} (id {}) takes {want}",
            self.spec.name,
            self.id()
        ))
    }
}

/// A batch error that keeps the kernel's count of what was done.
fn partial(e: Error, done: usize, total: usize) -> Error {
    match e {
        Error::Syscall { cmd, errno } if done > 0 => Error::Batch {
            cmd,
            errno,
            done,
            total,
        },
        e => e,
    }
}

impl Map for KernelMap {
    fn spec(&self) -> &MapSpec {
        &self.spec
    }

    fn lookup(&self, key: &[u8]) -> std::result::Result<Vec<u8>, MapError> {
        Ok(self.lookup_elem(key, 0)?)
    }

    /// The kernel's own answer, `BPF_F_LOCK` included.
    fn lookup_flags(&self, key: &[u8], flags: u64) -> std::result::Result<Vec<u8>, MapError> {
        Ok(self.lookup_elem(key, flags)?)
    }

    fn update(
        &mut self,
        key: &[u8],
        value: &[u8],
        flags: u64,
    ) -> std::result::Result<(), MapError> {
        Ok(self.update_elem(key, value, flags)?)
    }

    fn delete(&mut self, key: &[u8]) -> std::result::Result<(), MapError> {
        Ok(self.delete_elem(key)?)
    }

    fn next_key(&self, key: Option<&[u8]>) -> std::result::Result<Vec<u8>, MapError> {
        self.get_next_key(key)?.ok_or(MapError::NotFound)
    }

    fn lookup_and_delete(&mut self, key: &[u8]) -> std::result::Result<Vec<u8>, MapError> {
        Ok(self.lookup_and_delete_elem(key, 0)?)
    }

    fn freeze(&mut self) -> std::result::Result<(), MapError> {
        Ok(self.freeze_map()?)
    }
}

impl AsFd for KernelMap {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd()
    }
}
