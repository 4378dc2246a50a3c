//! Creating an object's maps: from BTF-defined, legacy (`bpf_map_def`),
//! iproute2 (`bpf_elf_map`) and internal definitions alike, with their BTF
//! types when the kernel took the object's BTF, inner-map templates for
//! map-in-maps, and pinned maps reused when compatible.

use std::os::fd::BorrowedFd;
use std::path::{Path, PathBuf};

use bpfkit_object::map::MapSpec;
use bpfkit_object::read::{MapDef, MapSource, NormalisedValue, Pinning};

use super::error::LoadError;
use crate::map::{KernelMap, MapCreateExtra};

/// `BPF_F_NUMA_NODE`.
const BPF_F_NUMA_NODE: u32 = 1 << 2;

/// Where a map's definition says to pin it, under `root` (bpffs, usually
/// `/sys/fs/bpf`): `root/NAME` for `LIBBPF_PIN_BY_NAME`, iproute2's
/// `root/tc/globals/NAME` for `PIN_GLOBAL_NS` and `root/tc/OBJECT/NAME`
/// for `PIN_OBJECT_NS`, `object` being the namespace's directory name
/// (iproute2's: the object file's SHA-1, [`super::object_ns_of`]).
pub fn pin_path(def: &MapDef, root: &Path, object: &str) -> Option<PathBuf> {
    match def.pinning {
        Pinning::ByName => Some(root.join(&def.name)),
        Pinning::GlobalNs => Some(root.join("tc").join("globals").join(&def.name)),
        Pinning::ObjectNs => Some(root.join("tc").join(object).join(&def.name)),
        Pinning::None | Pinning::Other(_) => None,
    }
}

/// What `BPF_MAP_CREATE` gets for a definition, possible CPUs filled in.
pub fn spec_of(def: &MapDef) -> Result<MapSpec, LoadError> {
    let mut spec = def.spec().ok_or_else(|| LoadError::Unsupported {
        what: format!("map '{}'", def.name),
        message: format!("map type {} is unknown to this build", def.map_type_raw),
    })?;
    let cpus_wanted = def
        .normalisations
        .iter()
        .any(|n| n.field == "max_entries" && n.to == NormalisedValue::PossibleCpus);
    if cpus_wanted && spec.max_entries == 0 {
        spec.max_entries = crate::possible_cpus().map_err(|e| LoadError::map(&def.name, e))? as u32;
    }
    // MapCreateExtra::numa_node sets the flag with the node.
    spec.map_flags &= !BPF_F_NUMA_NODE;
    Ok(spec)
}

/// Creates the map of `def`: with its BTF key/value types when `btf` is
/// given (and again without them if the kernel refuses them, as libbpf
/// retries), and `inner` as the template of a map-in-map.
pub fn create(
    def: &MapDef,
    btf: Option<BorrowedFd<'_>>,
    inner: Option<BorrowedFd<'_>>,
) -> Result<KernelMap, LoadError> {
    let spec = spec_of(def)?;
    let numa = def.map_flags & BPF_F_NUMA_NODE != 0;
    let mut extra = MapCreateExtra {
        inner_map_fd: inner,
        numa_node: numa.then_some(def.numa_node),
        map_extra: def.map_extra,
        ..Default::default()
    };
    let typed = def.key_type.is_some() || def.value_type.is_some();
    if let (Some(fd), true) = (btf, typed) {
        let with_btf = MapCreateExtra {
            btf_fd: Some(fd),
            btf_key_type_id: def.key_type.unwrap_or(0),
            btf_value_type_id: def.value_type.unwrap_or(0),
            ..extra
        };
        if let Ok(m) = KernelMap::create_with(&spec, &with_btf) {
            return Ok(m);
        }
        extra.btf_fd = None;
    }
    KernelMap::create_with(&spec, &extra).map_err(|e| LoadError::map(&def.name, e))
}

/// The pinned map at `path` if it matches `def` (libbpf's
/// `map_is_reuse_compat`: type, key and value size, max_entries, flags,
/// map_extra); an error naming every difference if not.
pub fn reuse(def: &MapDef, path: &Path) -> Result<KernelMap, LoadError> {
    let map = KernelMap::from_pin(path).map_err(|e| LoadError::map(&def.name, e))?;
    let spec = spec_of(def)?;
    let info = map.info().map_err(|e| LoadError::map(&def.name, e))?;
    let want_flags = spec.map_flags
        | if def.map_flags & BPF_F_NUMA_NODE != 0 {
            BPF_F_NUMA_NODE
        } else {
            0
        };
    let mut differences = Vec::new();
    let mut differ = |field: &str, pinned: String, object: String| {
        if pinned != object {
            differences.push(format!("{field}: pinned {pinned}, object {object}"));
        }
    };
    differ(
        "type",
        info.map_type
            .map_or_else(|| info.map_type_raw.to_string(), |t| t.name().to_string()),
        spec.map_type.name().to_string(),
    );
    differ(
        "key_size",
        info.key_size.to_string(),
        spec.key_size.to_string(),
    );
    differ(
        "value_size",
        info.value_size.to_string(),
        spec.value_size.to_string(),
    );
    differ(
        "max_entries",
        info.max_entries.to_string(),
        spec.max_entries.to_string(),
    );
    differ(
        "map_flags",
        format!("{:#x}", info.map_flags),
        format!("{want_flags:#x}"),
    );
    differ(
        "map_extra",
        info.map_extra.to_string(),
        def.map_extra.to_string(),
    );
    if differences.is_empty() {
        Ok(map)
    } else {
        Err(LoadError::PinMismatch {
            map: def.name.clone(),
            path: path.to_path_buf(),
            differences,
        })
    }
}

/// The index in `maps` of a map-in-map's inner definition for the
/// definitions that name it another way than BTF's `__array`: a 28-byte
/// `bpf_map_def`'s `inner_map_idx` (the n-th definition of its section) or
/// an iproute2 `inner_id` (the definition whose `id` it is).
pub fn inner_index(maps: &[MapDef], def: &MapDef) -> Option<usize> {
    match def.source {
        MapSource::Legacy => {
            let n = def.legacy_inner_idx? as usize;
            let mut same: Vec<(usize, &MapDef)> = maps
                .iter()
                .enumerate()
                .filter(|(_, m)| {
                    m.source == MapSource::Legacy && m.section_index == def.section_index
                })
                .collect();
            same.sort_by_key(|(_, m)| m.offset);
            same.get(n).map(|(i, _)| *i)
        }
        MapSource::Iproute2 => {
            let inner_id = def.iproute2_ids?[1];
            if inner_id == 0 {
                return None;
            }
            maps.iter().position(|m| {
                m.source == MapSource::Iproute2
                    && m.iproute2_ids.is_some_and(|ids| ids[0] == inner_id)
            })
        }
        _ => None,
    }
}
