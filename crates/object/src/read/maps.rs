//! Map definitions: the model ([`MapDef`]), the legacy `maps` section in
//! libbpf's (`struct bpf_map_def`) and iproute2's (`struct bpf_elf_map`)
//! layouts, and the kernel's requirements applied to each.

use serde::Serialize;

use crate::kinds::MapType;
use crate::map::MapSpec;

use super::elf::ElfView;
use super::error::ObjectError;

pub(crate) use super::maps_btf::btf_maps;
pub(crate) use super::maps_init::initial_slots;

/// The largest legacy `struct bpf_map_def` known: libbpf's five fields
/// (type, key_size, value_size, max_entries, map_flags) and the two that
/// samples/bpf's `bpf_load` added (inner_map_idx, numa_node).
const BPF_MAP_DEF_SIZE: usize = 28;
/// `sizeof(struct bpf_elf_map)` of iproute2: type, size_key, size_value,
/// max_elem, flags, id, pinning, inner_id, inner_idx.
const BPF_ELF_MAP_SIZE: usize = 36;
/// The kernel's page size for ring buffer sizes.
const PAGE_SIZE: u32 = 4096;

/// Where a map's definition came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MapSource {
    /// A BTF-defined map in `.maps` (libbpf 1.x).
    BtfDefined,
    /// The inner map of a BTF-defined map-in-map (`__array(values, ...)`).
    BtfInner,
    /// libbpf's legacy `struct bpf_map_def` in section `maps`.
    Legacy,
    /// iproute2's `struct bpf_elf_map` in section `maps`.
    Iproute2,
    /// `.data` or `.data.*`: writable global data.
    Data,
    /// `.rodata` or `.rodata.*`: read-only global data (frozen after load).
    Rodata,
    /// `.bss` or `.bss.*`: zero-initialised global data.
    Bss,
    /// `.kconfig` externs, filled by the loader.
    Kconfig,
    /// A struct_ops map in `.struct_ops` or `.struct_ops.link`.
    StructOps,
}

impl MapSource {
    /// A map libbpf makes itself for a section (global data, kconfig).
    pub fn is_internal(self) -> bool {
        matches!(
            self,
            MapSource::Data | MapSource::Rodata | MapSource::Bss | MapSource::Kconfig
        )
    }

    /// A short name for listings.
    pub fn name(self) -> &'static str {
        match self {
            MapSource::BtfDefined => "btf",
            MapSource::BtfInner => "btf inner",
            MapSource::Legacy => "legacy bpf_map_def",
            MapSource::Iproute2 => "iproute2 bpf_elf_map",
            MapSource::Data => "data",
            MapSource::Rodata => "rodata",
            MapSource::Bss => "bss",
            MapSource::Kconfig => "kconfig",
            MapSource::StructOps => "struct_ops",
        }
    }
}

/// How the map is pinned, in the convention of its source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Pinning {
    /// Not pinned (0 in both conventions).
    None,
    /// libbpf `LIBBPF_PIN_BY_NAME` (1): `/sys/fs/bpf/NAME`.
    ByName,
    /// iproute2 `PIN_OBJECT_NS` (1): in the object's namespace.
    ObjectNs,
    /// iproute2 `PIN_GLOBAL_NS` (2): in tc's global namespace.
    GlobalNs,
    /// Any other value, kept as read.
    Other(u32),
}

impl Pinning {
    pub(crate) fn libbpf(raw: u32) -> Pinning {
        match raw {
            0 => Pinning::None,
            1 => Pinning::ByName,
            n => Pinning::Other(n),
        }
    }

    fn iproute2(raw: u32) -> Pinning {
        match raw {
            0 => Pinning::None,
            1 => Pinning::ObjectNs,
            2 => Pinning::GlobalNs,
            n => Pinning::Other(n),
        }
    }
}

/// A value the kernel's rules set for a map field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NormalisedValue {
    /// A fixed value.
    Value(u64),
    /// The number of possible CPUs, known only on the loading machine.
    PossibleCpus,
}

/// One field changed (or to be set by the loader) because the kernel
/// requires it, as libbpf does before `BPF_MAP_CREATE`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Normalisation {
    /// The field ("key_size", "max_entries", ...).
    pub field: &'static str,
    /// The value the definition gave.
    pub from: u64,
    /// The value used.
    pub to: NormalisedValue,
    /// Why.
    pub reason: &'static str,
}

/// A variable of a global data section, from its BTF DATASEC.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GlobalVar {
    /// The variable's name.
    pub name: String,
    /// Byte offset in the section (the map value).
    pub offset: u32,
    /// Size in bytes.
    pub size: u32,
    /// Its BTF type id (the VAR's type).
    pub type_id: u32,
    /// The type in C-like words.
    pub type_name: String,
    /// `static` (BTF linkage 0) rather than global.
    pub is_static: bool,
}

/// What a prog array or map-in-map slot initially holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "name", rename_all = "snake_case")]
pub enum InitialTarget {
    /// A map (of a map-in-map), by name.
    Map(String),
    /// A program (of a prog array), by name.
    Program(String),
}

impl std::fmt::Display for InitialTarget {
    /// `map NAME` or `program NAME`, as `inspect` prints a slot.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            InitialTarget::Map(n) => write!(f, "map {n}"),
            InitialTarget::Program(n) => write!(f, "program {n}"),
        }
    }
}

impl std::fmt::Display for Pinning {
    /// The convention's own name: `none`, `by_name` (libbpf),
    /// `object_ns` / `global_ns` (iproute2), or the raw number.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Pinning::None => f.write_str("none"),
            Pinning::ByName => f.write_str("by_name"),
            Pinning::ObjectNs => f.write_str("object_ns"),
            Pinning::GlobalNs => f.write_str("global_ns"),
            Pinning::Other(n) => write!(f, "{n}"),
        }
    }
}

/// One initialised slot of `.values = { [i] = &x }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InitialSlot {
    /// The key (array index).
    pub index: u32,
    /// What to store there once loaded.
    pub target: InitialTarget,
}

/// One function-pointer member of a struct_ops map set to a program.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StructOpsMember {
    /// The member's name.
    pub member: String,
    /// Its index among the struct's members (the program's
    /// `expected_attach_type` at load time, as libbpf sets it).
    pub index: u32,
    /// Its byte offset in the struct.
    pub offset: u32,
    /// The program.
    pub program: String,
}

/// One map of an object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MapDef {
    /// The kernel-visible name: the symbol, or for internal maps libbpf's
    /// name (object-name prefix and section, e.g. `rd_full.rodata`).
    pub name: String,
    /// The section holding the definition (for internal maps: the data).
    pub section: String,
    /// Its index.
    pub section_index: usize,
    /// Byte offset of the definition in the section.
    pub offset: u64,
    /// Bytes of the definition (for internal maps: the section size).
    pub def_size: u64,
    /// Where the definition came from.
    pub source: MapSource,
    /// The map type; `None` when this build does not know the number.
    pub map_type: Option<MapType>,
    /// The raw `BPF_MAP_TYPE_*` number.
    pub map_type_raw: u32,
    /// Key size in bytes (after normalisation).
    pub key_size: u32,
    /// Value size in bytes (after normalisation).
    pub value_size: u32,
    /// `max_entries` (after normalisation; 0 where the loader must decide).
    pub max_entries: u32,
    /// `BPF_F_*` map flags.
    pub map_flags: u32,
    /// NUMA node (`BPF_F_NUMA_NODE`).
    pub numa_node: u32,
    /// `map_extra` (bloom filter hash count, arena address).
    pub map_extra: u64,
    /// Pinning.
    pub pinning: Pinning,
    /// BTF key type id (`__type(key, T)`), dropped where the kernel refuses one.
    pub key_type: Option<u32>,
    /// BTF value type id (`__type(value, T)`, a DATASEC for global data).
    pub value_type: Option<u32>,
    /// The inner map of a map-in-map: a BTF-defined one's `__array(values,
    /// ...)` definition, or a copy of the legacy definition it names.
    pub inner: Option<Box<MapDef>>,
    /// iproute2's `id`, `inner_id`, `inner_idx`.
    pub iproute2_ids: Option<[u32; 3]>,
    /// A 28-byte legacy definition's `inner_map_idx`: the inner map of a
    /// map-in-map, as an index among the section's definitions.
    pub legacy_inner_idx: Option<u32>,
    /// Initial slots of a prog array or map-in-map.
    pub initial_slots: Vec<InitialSlot>,
    /// Initial value of a global data map. `None` for `.bss` and
    /// `.kconfig` as read (their `value_size` zeros, which a new map holds
    /// anyway, are not allocated from a size the section header or an
    /// extern's type merely claims); a loader that sets a `.bss` variable
    /// fills it in, and the loaders lay `.kconfig`'s values out.
    pub data: Option<Vec<u8>>,
    /// Variables of a global data map.
    pub variables: Vec<GlobalVar>,
    /// Frozen after loading (`.rodata`: `BPF_F_RDONLY_PROG` and
    /// `BPF_MAP_FREEZE`, as libbpf does).
    pub frozen: bool,
    /// What the kernel's rules changed or leave to the loader.
    pub normalisations: Vec<Normalisation>,
    /// A struct_ops map's function-pointer members and the programs they
    /// name (from `.rel.struct_ops*`), in member order.
    pub struct_ops: Vec<StructOpsMember>,
    /// Byte offset of a BTF definition's `values` member (for `.rel.maps`).
    #[serde(skip)]
    pub(crate) values_offset: Option<u64>,
}

impl MapDef {
    /// A definition with every field zero, to fill in.
    pub(crate) fn empty(
        name: &str,
        section: &str,
        section_index: usize,
        source: MapSource,
    ) -> MapDef {
        MapDef {
            name: name.to_string(),
            section: section.to_string(),
            section_index,
            offset: 0,
            def_size: 0,
            source,
            map_type: Some(MapType::Unspec),
            map_type_raw: 0,
            key_size: 0,
            value_size: 0,
            max_entries: 0,
            map_flags: 0,
            numa_node: 0,
            map_extra: 0,
            pinning: Pinning::None,
            key_type: None,
            value_type: None,
            inner: None,
            iproute2_ids: None,
            legacy_inner_idx: None,
            initial_slots: Vec::new(),
            data: None,
            variables: Vec::new(),
            frozen: false,
            normalisations: Vec::new(),
            struct_ops: Vec::new(),
            values_offset: None,
        }
    }

    pub(crate) fn set_type(&mut self, raw: u32) {
        self.map_type_raw = raw;
        self.map_type = MapType::from_raw(raw);
    }

    /// Whether a symbol at `offset` of section `section` names this map.
    pub(crate) fn covers(&self, section: usize, offset: u64) -> bool {
        if self.section_index != section {
            return false;
        }
        if self.source.is_internal() {
            return true;
        }
        offset >= self.offset && offset < self.offset.saturating_add(self.def_size.max(1))
    }

    /// The variable of a global data map at `offset`.
    pub fn variable_at(&self, offset: u32) -> Option<&GlobalVar> {
        self.variables
            .iter()
            .find(|v| offset >= v.offset && offset < v.offset.saturating_add(v.size.max(1)))
    }

    /// What `BPF_MAP_CREATE` takes, when the map type is known.
    pub fn spec(&self) -> Option<MapSpec> {
        Some(MapSpec {
            name: self.name.chars().take(15).collect(),
            map_type: self.map_type?,
            key_size: self.key_size,
            value_size: self.value_size,
            max_entries: self.max_entries,
            map_flags: self.map_flags,
        })
    }

    fn set(&mut self, field: &'static str, to: NormalisedValue, reason: &'static str) {
        let slot = match field {
            "key_size" => &mut self.key_size,
            "value_size" => &mut self.value_size,
            _ => &mut self.max_entries,
        };
        let from = u64::from(*slot);
        if let NormalisedValue::Value(v) = to {
            if from == v {
                return;
            }
            *slot = v as u32;
        }
        self.normalisations.push(Normalisation {
            field,
            from,
            to,
            reason,
        });
    }

    /// Applies what the kernel requires of the map type, recording each
    /// change (libbpf makes the same ones before creating the map).
    pub(crate) fn normalise(&mut self) {
        use NormalisedValue::{PossibleCpus, Value};
        let Some(t) = self.map_type else { return };
        match t {
            MapType::Ringbuf | MapType::UserRingbuf => {
                self.set("key_size", Value(0), "ring buffers have no keys");
                self.set("value_size", Value(0), "ring buffers have no values");
                let m = self.max_entries;
                let want = if m <= PAGE_SIZE {
                    PAGE_SIZE
                } else {
                    m.checked_next_power_of_two().unwrap_or(m)
                };
                self.set(
                    "max_entries",
                    Value(u64::from(want)),
                    "a ring buffer's size is a power-of-2 multiple of the page size",
                );
            }
            MapType::PerfEventArray => {
                self.set(
                    "key_size",
                    Value(4),
                    "perf event arrays are indexed by CPU (u32)",
                );
                self.set(
                    "value_size",
                    Value(4),
                    "perf event array values are perf event fds (u32)",
                );
                if self.max_entries == 0 {
                    self.set(
                        "max_entries",
                        PossibleCpus,
                        "a perf event array has one slot per possible CPU",
                    );
                }
            }
            MapType::ProgArray
            | MapType::ArrayOfMaps
            | MapType::HashOfMaps
            | MapType::Devmap
            | MapType::DevmapHash
            | MapType::Cpumap
            | MapType::Xskmap
            | MapType::Sockmap
            | MapType::Sockhash
            | MapType::CgroupArray => {
                if matches!(t, MapType::ProgArray | MapType::ArrayOfMaps) && self.key_size == 0 {
                    self.set("key_size", Value(4), "array keys are u32 indices");
                }
                if matches!(
                    t,
                    MapType::ProgArray | MapType::ArrayOfMaps | MapType::HashOfMaps
                ) && self.value_size == 0
                {
                    self.set("value_size", Value(4), "values are fds (u32)");
                }
            }
            _ => {}
        }
        // The kernel refuses BTF key/value types for these types, so libbpf
        // drops them before creating the map.
        if matches!(
            t,
            MapType::PerfEventArray
                | MapType::CgroupArray
                | MapType::StackTrace
                | MapType::ArrayOfMaps
                | MapType::HashOfMaps
                | MapType::Devmap
                | MapType::DevmapHash
                | MapType::Cpumap
                | MapType::Xskmap
                | MapType::Sockmap
                | MapType::Sockhash
                | MapType::Queue
                | MapType::Stack
                | MapType::Arena
        ) && (self.key_type.is_some() || self.value_type.is_some())
        {
            self.key_type = None;
            self.value_type = None;
        }
    }
}

/// The legacy `maps` section: one definition per symbol, each of size
/// section size / symbol count (libbpf's rule); 36-byte definitions are
/// iproute2's `struct bpf_elf_map`, others `struct bpf_map_def` (libbpf's
/// 20 bytes or samples/bpf's 28; a longer one must have a zero tail, as
/// libbpf requires).
pub(crate) fn legacy_maps(view: &ElfView<'_>) -> Result<Vec<MapDef>, ObjectError> {
    let Some(sec) = view.section_by_name("maps") else {
        return Ok(Vec::new());
    };
    let mut syms: Vec<_> = view
        .symbols
        .iter()
        .filter(|s| s.section() == Some(sec.index) && !s.is_section() && !s.name.is_empty())
        .collect();
    if syms.is_empty() {
        return Ok(Vec::new());
    }
    syms.sort_by_key(|s| s.value);
    let size = sec.data.len();
    if size == 0 || size % syms.len() != 0 {
        return Err(ObjectError::section(
            "maps",
            format!(
                "cannot tell the definition size: {} symbols in {size} bytes",
                syms.len()
            ),
        ));
    }
    let def_size = size / syms.len();
    let iproute2 = def_size == BPF_ELF_MAP_SIZE;
    let mut out = Vec::new();
    for sym in syms {
        let start = sym.value as usize;
        let bytes = start
            .checked_add(def_size)
            .and_then(|end| sec.data.get(start..end))
            .ok_or_else(|| {
                ObjectError::map(
                    &sym.name,
                    "maps",
                    format!("definition at {start:#x} runs past the section"),
                )
            })?;
        let word = |i: usize| {
            if (i + 1) * 4 <= bytes.len() {
                view.u32_at(bytes, i * 4).unwrap_or(0)
            } else {
                0
            }
        };
        let source = if iproute2 {
            MapSource::Iproute2
        } else {
            MapSource::Legacy
        };
        let mut m = MapDef::empty(&sym.name, "maps", sec.index, source);
        m.offset = sym.value;
        m.def_size = def_size as u64;
        m.set_type(word(0));
        m.key_size = word(1);
        m.value_size = word(2);
        m.max_entries = word(3);
        m.map_flags = word(4);
        if iproute2 {
            m.pinning = Pinning::iproute2(word(6));
            m.iproute2_ids = Some([word(5), word(7), word(8)]);
        } else if def_size >= BPF_MAP_DEF_SIZE {
            m.legacy_inner_idx = Some(word(5));
            m.numa_node = word(6);
        }
        if !iproute2
            && def_size > BPF_MAP_DEF_SIZE
            && bytes[BPF_MAP_DEF_SIZE..].iter().any(|&b| b != 0)
        {
            return Err(ObjectError::map(
                &sym.name,
                "maps",
                format!(
                    "{def_size}-byte definition has non-zero fields past the 28 bytes of struct bpf_map_def"
                ),
            ));
        }
        m.normalise();
        out.push(m);
    }
    link_inner_maps(&mut out)?;
    Ok(out)
}

/// Gives each legacy map-in-map its inner map: iproute2 names it by `id`
/// (`inner_id`), samples/bpf's 28-byte layout by its position in the
/// section (`inner_map_idx`).
fn link_inner_maps(maps: &mut [MapDef]) -> Result<(), ObjectError> {
    for i in 0..maps.len() {
        if !maps[i].map_type.is_some_and(MapType::is_map_in_map) {
            continue;
        }
        let inner = match (maps[i].iproute2_ids, maps[i].legacy_inner_idx) {
            (Some([_, inner_id, _]), _) if inner_id != 0 => maps
                .iter()
                .position(|m| m.iproute2_ids.is_some_and(|ids| ids[0] == inner_id))
                .ok_or_else(|| {
                    ObjectError::map(
                        &maps[i].name,
                        "maps",
                        format!("no map has the inner_id {inner_id} as its id"),
                    )
                })?,
            (None, Some(idx)) => {
                let idx = idx as usize;
                if idx >= maps.len() || idx == i {
                    return Err(ObjectError::map(
                        &maps[i].name,
                        "maps",
                        format!("inner_map_idx {idx} names no other definition of the {} in the section", maps.len()),
                    ));
                }
                idx
            }
            _ => continue,
        };
        maps[i].inner = Some(Box::new(maps[inner].clone()));
    }
    Ok(())
}
