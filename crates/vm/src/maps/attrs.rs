//! What a userspace map is created from ([`MapAttrs`]), the kernel's
//! `BPF_F_*` creation flags, and the checks `map_create` in
//! `kernel/bpf/syscall.c` makes for every map type before the type's own
//! `map_alloc_check`.

use bpfkit_object::map::{MapError, MapSpec};

/// `BPF_F_NO_PREALLOC`: allocate hash elements on demand (required by
/// `lpm_trie`, refused by the LRU hashes).
pub const BPF_F_NO_PREALLOC: u32 = 1 << 0;
/// `BPF_F_NO_COMMON_LRU`: one LRU list per CPU instead of a common one.
pub const BPF_F_NO_COMMON_LRU: u32 = 1 << 1;
/// `BPF_F_NUMA_NODE`: the `numa_node` attribute is valid (node 0 here).
pub const BPF_F_NUMA_NODE: u32 = 1 << 2;
/// `BPF_F_RDONLY`: the map is read-only from the syscall side.
pub const BPF_F_RDONLY: u32 = 1 << 3;
/// `BPF_F_WRONLY`: the map is write-only from the syscall side.
pub const BPF_F_WRONLY: u32 = 1 << 4;
/// `BPF_F_ZERO_SEED`: hash with seed 0 (hash maps, bloom filters), so the
/// layout is reproducible.
pub const BPF_F_ZERO_SEED: u32 = 1 << 6;
/// `BPF_F_RDONLY_PROG`: programs may only read the map.
pub const BPF_F_RDONLY_PROG: u32 = 1 << 7;
/// `BPF_F_WRONLY_PROG`: programs may only write the map.
pub const BPF_F_WRONLY_PROG: u32 = 1 << 8;
/// `BPF_F_MMAPABLE`: an array whose values userspace may map.
pub const BPF_F_MMAPABLE: u32 = 1 << 10;
/// `BPF_F_PRESERVE_ELEMS`: perf event arrays keep their events when the
/// last file is closed.
pub const BPF_F_PRESERVE_ELEMS: u32 = 1 << 11;
/// `BPF_F_INNER_MAP`: an inner array map whose `max_entries` may differ
/// from its template's.
pub const BPF_F_INNER_MAP: u32 = 1 << 12;
/// `BPF_F_ACCESS_MASK`: the four access flags.
pub const BPF_F_ACCESS_MASK: u32 =
    BPF_F_RDONLY | BPF_F_RDONLY_PROG | BPF_F_WRONLY | BPF_F_WRONLY_PROG;

/// `KMALLOC_MAX_SIZE` on x86-64 (4 MiB): the largest element the kernel
/// allocates, which bounds value sizes.
pub const KMALLOC_MAX_SIZE: u64 = 1 << 22;
/// `PCPU_MIN_UNIT_SIZE` (32 KiB): the largest per-CPU value.
pub const PCPU_MIN_UNIT_SIZE: u32 = 32 << 10;
/// The page size the kernel's ring buffer geometry is defined in.
pub const PAGE_SIZE: u32 = 4096;

/// The most bytes one userspace map preallocates (1 GiB); a larger map
/// fails with `ENOMEM`, as a kernel allocation that cannot be met does.
/// The kernel's limit is the machine's memory (Linux 6.18 creates an array
/// of 2^31 four-byte values); this one keeps a userspace process from
/// aborting on an allocation failure.
pub const MAX_PREALLOC_BYTES: u64 = 1 << 30;

/// Everything `BPF_MAP_CREATE` takes besides the [`MapSpec`]: the template
/// of a map-in-map's inner maps, the `bpf_spin_lock` offset that the kernel
/// finds in the value's BTF, `map_extra`, and the number of CPUs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MapAttrs {
    /// Type, sizes, capacity and flags.
    pub spec: MapSpec,
    /// For `array_of_maps` / `hash_of_maps`: what every inner map must be
    /// (the kernel takes it from `inner_map_fd`).
    pub inner: Option<InnerMapMeta>,
    /// Offset of the value's `struct bpf_spin_lock`, from the value's BTF.
    pub lock_offset: Option<u32>,
    /// `map_extra`: the number of hash functions of a bloom filter (low 4
    /// bits); must be 0 for every other type.
    pub map_extra: u64,
    /// How many CPUs per-CPU values have (`num_possible_cpus()`), at least 1.
    pub ncpus: u32,
}

impl MapAttrs {
    /// Attributes with no inner map, no lock, no `map_extra`, one CPU.
    pub fn new(spec: MapSpec) -> MapAttrs {
        MapAttrs {
            spec,
            inner: None,
            lock_offset: None,
            map_extra: 0,
            ncpus: 1,
        }
    }

    /// The same attributes with `ncpus` CPUs.
    pub fn with_ncpus(mut self, ncpus: u32) -> MapAttrs {
        self.ncpus = ncpus;
        self
    }

    /// The same attributes with a `bpf_spin_lock` at `offset` in the value.
    pub fn with_lock(mut self, offset: u32) -> MapAttrs {
        self.lock_offset = Some(offset);
        self
    }

    /// The same attributes with `map_extra`.
    pub fn with_map_extra(mut self, map_extra: u64) -> MapAttrs {
        self.map_extra = map_extra;
        self
    }

    /// The same attributes with an inner-map template.
    pub fn with_inner(mut self, inner: InnerMapMeta) -> MapAttrs {
        self.inner = Some(inner);
        self
    }

    pub(crate) fn flags(&self) -> u32 {
        self.spec.map_flags
    }
}

/// What the kernel keeps of an inner map (`bpf_map_meta_alloc`): its
/// attributes and whether its value has a spin lock; an inserted map must
/// match it (`bpf_map_meta_equal`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InnerMapMeta {
    /// The inner map's attributes.
    pub spec: MapSpec,
    /// The inner map's spin lock offset, part of its BTF record.
    pub lock_offset: Option<u32>,
}

impl InnerMapMeta {
    /// Whether a map with `spec` and `lock_offset` may be stored in a
    /// map-in-map made from this template: same type, key and value sizes,
    /// flags and BTF record, and, for arrays without `BPF_F_INNER_MAP`, the
    /// same `max_entries` (`array_map_meta_equal`).
    pub fn matches(&self, spec: &MapSpec, lock_offset: Option<u32>) -> bool {
        let t = &self.spec;
        let base = t.map_type == spec.map_type
            && t.key_size == spec.key_size
            && t.value_size == spec.value_size
            && t.map_flags == spec.map_flags
            && self.lock_offset == lock_offset;
        let array_like = matches!(
            t.map_type,
            bpfkit_object::kinds::MapType::Array | bpfkit_object::kinds::MapType::PercpuArray
        );
        if array_like && t.map_flags & BPF_F_INNER_MAP == 0 {
            base && t.max_entries == spec.max_entries
        } else {
            base
        }
    }
}

/// `bpf_map_flags_access_ok`: a map cannot be both read-only and
/// write-only for programs.
pub(crate) fn access_ok(flags: u32) -> bool {
    flags & (BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG) != (BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG)
}

/// The checks `map_create` makes before the type's own: the syscall-side
/// access flags (`bpf_get_file_flag`), `map_extra` only for bloom filters,
/// a name of `[A-Za-z0-9_.]` (`bpf_obj_name_cpy`, on the 15 bytes that reach
/// the kernel), and our CPU count.
pub(crate) fn check_common(attrs: &MapAttrs) -> Result<(), MapError> {
    let flags = attrs.flags();
    if flags & BPF_F_RDONLY != 0 && flags & BPF_F_WRONLY != 0 {
        return Err(MapError::Invalid);
    }
    if attrs.map_extra != 0 && attrs.spec.map_type != bpfkit_object::kinds::MapType::BloomFilter {
        return Err(MapError::Invalid);
    }
    // Only the first 15 bytes reach the kernel (libbpf truncates the rest).
    if !attrs
        .spec
        .name
        .bytes()
        .take(15)
        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.')
    {
        return Err(MapError::Invalid);
    }
    if attrs.ncpus == 0 {
        return Err(MapError::Invalid);
    }
    Ok(())
}

/// `round_up(n, 8)`, the stride of values in arrays and per-CPU buffers.
pub(crate) fn round_up8(n: u32) -> usize {
    (n as usize + 7) & !7
}

/// Fails with `ENOMEM` when `bytes` is more than one map may preallocate.
pub(crate) fn check_prealloc(bytes: u64) -> Result<(), MapError> {
    if bytes > MAX_PREALLOC_BYTES {
        Err(MapError::NoMemory)
    } else {
        Ok(())
    }
}
