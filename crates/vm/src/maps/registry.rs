//! [`MapRegistry`]: the userspace counterpart of the kernel's map ids, so
//! that map-in-maps can hold maps and the VM can find a map by id.

use std::collections::BTreeMap;

use bpfkit_object::map::MapError;

use super::attrs::MapAttrs;
use super::map_in_map::MapDirectory;
use super::user_map::UserMap;

/// Every userspace map of one program set, by id (from 1, as kernel map
/// ids are never 0).
#[derive(Debug, Clone, Default)]
pub struct MapRegistry {
    maps: BTreeMap<u32, UserMap>,
    dir: MapDirectory,
    next_id: u32,
}

impl MapRegistry {
    /// An empty registry.
    pub fn new() -> MapRegistry {
        MapRegistry::default()
    }

    /// `BPF_MAP_CREATE`: validates and creates a map, returning its id.
    pub fn create(&mut self, attrs: &MapAttrs) -> Result<u32, MapError> {
        let map = UserMap::create(attrs, &self.dir)?;
        Ok(self.insert(map))
    }

    /// Adds a map made elsewhere (a global-data array, say), returning its id.
    pub fn insert(&mut self, map: UserMap) -> u32 {
        self.next_id += 1;
        let id = self.next_id;
        self.dir.register(id, map.meta());
        self.maps.insert(id, map);
        id
    }

    /// The map with id `id`.
    pub fn get(&self, id: u32) -> Option<&UserMap> {
        self.maps.get(&id)
    }

    /// The map with id `id`, to change.
    pub fn get_mut(&mut self, id: u32) -> Option<&mut UserMap> {
        self.maps.get_mut(&id)
    }

    /// The ids in creation order.
    pub fn ids(&self) -> impl Iterator<Item = u32> + '_ {
        self.maps.keys().copied()
    }

    /// The directory map-in-maps of this registry resolve ids in.
    pub fn directory(&self) -> &MapDirectory {
        &self.dir
    }
}
