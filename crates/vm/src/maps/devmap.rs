//! `BPF_MAP_TYPE_DEVMAP`: the interfaces `bpf_redirect_map` sends XDP
//! frames to (kernel/bpf/devmap.c).
//!
//! A slot holds a `struct bpf_devmap_val` (`ifindex`, and with an 8-byte
//! value a program fd to run on the frame). Userspace has no network
//! devices, so any non-zero `ifindex` is taken as it is, where the kernel
//! checks that the device exists; a devmap program fd is refused
//! (`EOPNOTSUPP`: the runtime does not run devmap programs). The rest is
//! the kernel's: creation needs `key_size` 4 and `value_size` 4 or 8 and
//! only `BPF_F_NUMA_NODE`/`BPF_F_RDONLY`/`BPF_F_WRONLY` (`EINVAL`);
//! updates take `BPF_ANY`/`BPF_EXIST` (`BPF_NOEXIST` is `EEXIST`, a flag
//! above `BPF_EXIST` `EINVAL`, an index past the end `E2BIG`); an
//! `ifindex` of 0 empties the slot; a delete past the end is `EINVAL`, of
//! an empty slot 0; lookups of empty slots `ENOENT`; `get_next_key` is the
//! array's.

use bpfkit_object::kinds::MapType;
use bpfkit_object::map::{Map, MapError, MapSpec, BPF_EXIST, BPF_NOEXIST};

use super::access::Access;
use super::attrs::{
    check_common, check_prealloc, MapAttrs, BPF_F_NUMA_NODE, BPF_F_RDONLY, BPF_F_WRONLY,
};
use super::value::{check_len, index_key};

/// A device map.
#[derive(Debug, Clone)]
pub struct DevMap {
    spec: MapSpec,
    access: Access,
    slots: Vec<Option<Vec<u8>>>,
}

impl DevMap {
    /// `dev_map_alloc`'s checks, then the empty map.
    pub fn new(attrs: &MapAttrs) -> Result<DevMap, MapError> {
        let s = &attrs.spec;
        check_common(attrs)?;
        if s.map_type != MapType::Devmap
            || s.max_entries == 0
            || s.key_size != 4
            || !matches!(s.value_size, 4 | 8)
            || s.map_flags & !(BPF_F_NUMA_NODE | BPF_F_RDONLY | BPF_F_WRONLY) != 0
        {
            return Err(MapError::Invalid);
        }
        check_prealloc(s.max_entries as u64 * 8)?;
        Ok(DevMap {
            spec: s.clone(),
            access: Access::new(s.map_flags),
            slots: vec![None; s.max_entries as usize],
        })
    }

    fn index(&self, key: &[u8]) -> Result<u32, MapError> {
        check_len(key, 4)?;
        index_key(key)
    }

    /// The interface a `bpf_redirect_map(map, key, ...)` sends to, `None`
    /// for an empty slot or an index past the end.
    pub fn redirect_target(&self, key: u32) -> Option<u32> {
        let v = self.slots.get(key as usize)?.as_ref()?;
        Some(u32::from_le_bytes([v[0], v[1], v[2], v[3]]))
    }
}

impl Map for DevMap {
    fn spec(&self) -> &MapSpec {
        &self.spec
    }

    fn lookup(&self, key: &[u8]) -> Result<Vec<u8>, MapError> {
        self.access.sys_read()?;
        let i = self.index(key)?;
        self.slots
            .get(i as usize)
            .and_then(Clone::clone)
            .ok_or(MapError::NotFound)
    }

    fn update(&mut self, key: &[u8], value: &[u8], flags: u64) -> Result<(), MapError> {
        self.access.sys_write()?;
        let i = self.index(key)?;
        check_len(value, self.spec.value_size as usize)?;
        if flags > BPF_EXIST {
            return Err(MapError::Invalid);
        }
        if i >= self.spec.max_entries {
            return Err(MapError::TooBig);
        }
        if flags == BPF_NOEXIST {
            return Err(MapError::Exists);
        }
        let ifindex = u32::from_le_bytes([value[0], value[1], value[2], value[3]]);
        let prog_fd = value
            .get(4..8)
            .map_or(0, |b| i32::from_le_bytes([b[0], b[1], b[2], b[3]]));
        if ifindex == 0 {
            if prog_fd > 0 {
                return Err(MapError::Invalid);
            }
            self.slots[i as usize] = None;
            return Ok(());
        }
        if prog_fd > 0 {
            return Err(MapError::NotSupported);
        }
        let mut stored = value.to_vec();
        if stored.len() == 8 {
            // The kernel reports the program's id, none here.
            stored[4..8].fill(0);
        }
        self.slots[i as usize] = Some(stored);
        Ok(())
    }

    fn delete(&mut self, key: &[u8]) -> Result<(), MapError> {
        self.access.sys_write()?;
        let i = self.index(key)?;
        if i >= self.spec.max_entries {
            return Err(MapError::Invalid);
        }
        self.slots[i as usize] = None;
        Ok(())
    }

    fn next_key(&self, key: Option<&[u8]>) -> Result<Vec<u8>, MapError> {
        let index = match key {
            Some(k) => self.index(k)?,
            None => u32::MAX,
        };
        if index >= self.spec.max_entries {
            return Ok(0u32.to_le_bytes().to_vec());
        }
        if index == self.spec.max_entries - 1 {
            return Err(MapError::NotFound);
        }
        Ok((index + 1).to_le_bytes().to_vec())
    }

    fn lookup_and_delete(&mut self, _key: &[u8]) -> Result<Vec<u8>, MapError> {
        Err(MapError::NotSupported)
    }

    fn freeze(&mut self) -> Result<(), MapError> {
        self.access.freeze(false)
    }
}
