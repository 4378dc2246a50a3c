//! `BPF_MAP_TYPE_ARRAY_OF_MAPS` and `BPF_MAP_TYPE_HASH_OF_MAPS`
//! (kernel/bpf/map_in_map.c): values are maps.
//!
//! A map-in-map is created from a template of its inner maps
//! ([`MapAttrs::inner`], the kernel's `inner_map_fd`): the template may not
//! itself be a map-in-map (`EINVAL`) nor a program array (`ENOTSUPP`, as
//! Linux 6.18 answers). A stored map must match the template
//! ([`InnerMapMeta::matches`], `EINVAL` otherwise). Userspace passes a map
//! fd and reads back a map id; here both are the map's id in a
//! [`MapDirectory`] (an unknown id is `EBADF`, as a bad fd is). The array
//! form takes only `BPF_ANY`; the hash form has the hash map's flags.
//! Programs may look inner maps up, not store them.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use bpfkit_object::kinds::MapType;
use bpfkit_object::map::{Map, MapError, MapSpec};

use super::attrs::{InnerMapMeta, MapAttrs};
use super::fd_array::FdArray;
use super::hash::HashMap;
use super::value::{check_len, index_key};

/// `EBADF`: the id names no map.
const EBADF: i32 = 9;

/// The maps a map-in-map may refer to, by id: what the kernel's fd table
/// is to `BPF_MAP_UPDATE_ELEM` of a map-in-map. Cheap to clone; clones
/// share one directory.
#[derive(Debug, Clone, Default)]
pub struct MapDirectory(Arc<RwLock<BTreeMap<u32, InnerMapMeta>>>);

impl MapDirectory {
    /// An empty directory.
    pub fn new() -> MapDirectory {
        MapDirectory::default()
    }

    /// Records what map `id` is.
    pub fn register(&self, id: u32, meta: InnerMapMeta) {
        if let Ok(mut d) = self.0.write() {
            d.insert(id, meta);
        }
    }

    /// Forgets map `id`.
    pub fn unregister(&self, id: u32) {
        if let Ok(mut d) = self.0.write() {
            d.remove(&id);
        }
    }

    /// What map `id` is.
    pub fn get(&self, id: u32) -> Option<InnerMapMeta> {
        self.0.read().ok()?.get(&id).cloned()
    }
}

/// `bpf_map_meta_alloc`'s checks of the template.
fn check_template(attrs: &MapAttrs) -> Result<InnerMapMeta, MapError> {
    let inner = attrs.inner.clone().ok_or(MapError::Invalid)?;
    if inner.spec.map_type.is_map_in_map() {
        return Err(MapError::Invalid);
    }
    if inner.spec.map_type == MapType::ProgArray {
        return Err(MapError::NotSupported);
    }
    Ok(inner)
}

/// `bpf_map_fd_get_ptr`: the id of a stored map, checked against the
/// template.
fn resolve(dir: &MapDirectory, template: &InnerMapMeta, value: &[u8]) -> Result<u32, MapError> {
    check_len(value, 4)?;
    let id = index_key(value)?;
    let meta = dir.get(id).ok_or(MapError::Errno(EBADF))?;
    if !template.matches(&meta.spec, meta.lock_offset) {
        return Err(MapError::Invalid);
    }
    Ok(id)
}

/// An array of maps.
#[derive(Debug, Clone)]
pub struct ArrayOfMaps {
    slots: FdArray<u32>,
    template: InnerMapMeta,
    dir: MapDirectory,
}

impl ArrayOfMaps {
    /// Creates an array of maps whose values are looked up in `dir`.
    pub fn new(attrs: &MapAttrs, dir: MapDirectory) -> Result<ArrayOfMaps, MapError> {
        if attrs.spec.map_type != MapType::ArrayOfMaps {
            return Err(MapError::Invalid);
        }
        let slots = FdArray::new(attrs)?;
        Ok(ArrayOfMaps {
            slots,
            template: check_template(attrs)?,
            dir,
        })
    }

    /// The template stored maps must match.
    pub fn template(&self) -> &InnerMapMeta {
        &self.template
    }

    /// A program's `bpf_map_lookup_elem`: the inner map's id.
    pub fn prog_lookup(&self, key: &[u8]) -> Result<Option<u32>, MapError> {
        let index = self.slots.index(key)?;
        Ok(self.slots.get(index).copied())
    }
}

impl Map for ArrayOfMaps {
    fn spec(&self) -> &MapSpec {
        &self.slots.spec
    }

    /// The inner map's id.
    fn lookup(&self, key: &[u8]) -> Result<Vec<u8>, MapError> {
        self.slots.lookup(key).map(|id| id.to_le_bytes().to_vec())
    }

    /// Stores the map whose id is the `u32` value.
    fn update(&mut self, key: &[u8], value: &[u8], flags: u64) -> Result<(), MapError> {
        let index = self.slots.sys_update_checks(key, value, flags)?;
        let id = resolve(&self.dir, &self.template, value)?;
        self.slots.set(index, id);
        Ok(())
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

/// A hash of maps: a hash map whose `u32` values are map ids.
#[derive(Debug, Clone)]
pub struct HashOfMaps {
    spec: MapSpec,
    elems: HashMap,
    template: InnerMapMeta,
    dir: MapDirectory,
}

impl HashOfMaps {
    /// Creates a hash of maps (`value_size` 4, then the hash map's checks)
    /// whose values are looked up in `dir`.
    pub fn new(attrs: &MapAttrs, dir: MapDirectory) -> Result<HashOfMaps, MapError> {
        let s = &attrs.spec;
        if s.map_type != MapType::HashOfMaps {
            return Err(MapError::Invalid);
        }
        if s.value_size != 4 {
            return Err(MapError::Invalid);
        }
        let mut as_hash = attrs.clone();
        as_hash.spec.map_type = MapType::Hash;
        as_hash.inner = None;
        let elems = HashMap::new(&as_hash)?;
        Ok(HashOfMaps {
            spec: s.clone(),
            elems,
            template: check_template(attrs)?,
            dir,
        })
    }

    /// The template stored maps must match.
    pub fn template(&self) -> &InnerMapMeta {
        &self.template
    }

    /// A program's `bpf_map_lookup_elem`: the inner map's id.
    pub fn prog_lookup(&mut self, key: &[u8]) -> Result<Option<u32>, MapError> {
        let Some(slot) = self.elems.prog_lookup(key, 0)? else {
            return Ok(None);
        };
        let bytes = self.elems.slot(slot).ok_or(MapError::Fault)?;
        Ok(Some(index_key(bytes)?))
    }
}

impl Map for HashOfMaps {
    fn spec(&self) -> &MapSpec {
        &self.spec
    }

    fn lookup(&self, key: &[u8]) -> Result<Vec<u8>, MapError> {
        self.elems.lookup(key)
    }

    /// Stores the map whose id is the `u32` value, with the hash map's
    /// flags (`bpf_fd_htab_map_update_elem` resolves the fd first).
    fn update(&mut self, key: &[u8], value: &[u8], flags: u64) -> Result<(), MapError> {
        self.elems.precheck_update(flags)?;
        check_len(value, 4)?;
        let id = resolve(&self.dir, &self.template, value)?;
        self.elems.update(key, &id.to_le_bytes(), flags)
    }

    fn delete(&mut self, key: &[u8]) -> Result<(), MapError> {
        self.elems.delete(key)
    }

    fn next_key(&self, key: Option<&[u8]>) -> Result<Vec<u8>, MapError> {
        self.elems.next_key(key)
    }

    fn lookup_and_delete(&mut self, key: &[u8]) -> Result<Vec<u8>, MapError> {
        // Only plain hashes have it; the kernel's check is by map type.
        check_len(key, self.spec.key_size as usize)?;
        Err(MapError::NotSupported)
    }

    fn freeze(&mut self) -> Result<(), MapError> {
        self.elems.freeze()
    }
}
