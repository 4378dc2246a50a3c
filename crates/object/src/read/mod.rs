//! Reading BPF ELF objects: programs, maps, global data and relocations.
//!
//! [`Object::parse`] reads what libbpf, iproute2 and `llvm-objdump` read
//! from a relocatable BPF object (`clang -target bpf -c`) into one owned
//! model that every later stage takes (verifier, userspace VM, kernel
//! loader): no later stage re-parses bytes.
//!
//! - [`Object::functions`]: every function of every executable section as
//!   the file holds it (what `llvm-objdump -d` lists).
//! - [`Object::programs`]: the entry points, each linked with the `.text`
//!   subprograms it calls (appended after it, as libbpf does), so it stands
//!   alone; their relocations are typed ([`Relocation`]) and already applied
//!   except for what only a loader knows (map fds, kernel BTF ids).
//! - [`Object::maps`]: BTF-defined (`.maps`), legacy (`maps`, `struct
//!   bpf_map_def`), iproute2 (`struct bpf_elf_map`) and internal maps for
//!   global data (`.data`, `.rodata`, `.bss`, `.data.*`, `.rodata.*`,
//!   `.kconfig`), each with where its definition came from and what was
//!   normalised for the kernel.
//! - [`Object::externs`]: `.kconfig` and `.ksyms` externs.
//!
//! Nothing in the input can make the reader panic: every defect is an
//! [`ObjectError`] naming the section, symbol, relocation or instruction.
//!
//! ```
//! use bpfkit_object::kinds::ProgType;
//! use bpfkit_object::read::{Object, RelocTarget};
//!
//! let obj = Object::open(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/rd_full.o")).unwrap();
//! let prog = obj.program("xdp_first").unwrap();
//! assert_eq!(prog.section_type.prog_type, ProgType::Xdp);
//! // Linked: the program, then the .text functions it reaches.
//! let names: Vec<&str> = prog.functions.iter().map(|f| f.name.as_str()).collect();
//! assert_eq!(names, ["xdp_first", "middle", "leaf"]);
//! // A loader puts the fd of each map in the instructions that name it.
//! for r in &prog.relocations {
//!     if let RelocTarget::Map { map, .. } = r.target {
//!         assert_eq!(prog.slots()[r.insn].src, 1); // BPF_PSEUDO_MAP_FD
//!         assert_eq!(obj.maps[map].name, "counters");
//!     }
//! }
//! ```

mod elf;
mod error;
mod externs;
mod globals;
mod link;
pub mod listing;
mod maps;
mod maps_btf;
mod maps_init;
mod programs;
mod relocs;
pub mod section_defs;
mod struct_ops;

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::btf::{Btf, BtfExt};

pub use error::ObjectError;
pub use externs::{Extern, ExternKind};
pub use listing::ListingOptions;
pub use maps::{
    GlobalVar, InitialSlot, InitialTarget, MapDef, MapSource, Normalisation, NormalisedValue,
    Pinning, StructOpsMember,
};
pub use programs::{Function, LinkedFunction, Program};
pub use relocs::{RelocTarget, RelocType, Relocation};
pub use section_defs::{SectionType, TypeSource};

/// One section header, as `llvm-readelf -S` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Section {
    /// Index in the section header table.
    pub index: usize,
    /// The name.
    pub name: String,
    /// `sh_type` (`SHT_PROGBITS` = 1, `SHT_NOBITS` = 8, ...).
    pub sh_type: u32,
    /// `sh_flags` (`SHF_WRITE` = 1, `SHF_ALLOC` = 2, `SHF_EXECINSTR` = 4).
    pub flags: u64,
    /// `sh_size`.
    pub size: u64,
}

impl Section {
    /// The ELF name of the section type (`PROGBITS`, `REL`, ...).
    pub fn type_name(&self) -> String {
        match self.sh_type {
            0 => "NULL".into(),
            1 => "PROGBITS".into(),
            2 => "SYMTAB".into(),
            3 => "STRTAB".into(),
            4 => "RELA".into(),
            8 => "NOBITS".into(),
            9 => "REL".into(),
            0x6fff_4c03 => "LLVM_ADDRSIG".into(),
            t => format!("{t:#x}"),
        }
    }

    /// `readelf`'s flag letters: W (write), A (alloc), X (execute).
    pub fn flag_letters(&self) -> String {
        let mut s = String::new();
        for (bit, c) in [
            (1, 'W'),
            (2, 'A'),
            (4, 'X'),
            (0x10, 'M'),
            (0x20, 'S'),
            (0x40, 'I'),
        ] {
            if self.flags & bit != 0 {
                s.push(c);
            }
        }
        s
    }
}

/// One symbol table entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Symbol {
    /// Index in `.symtab`.
    pub index: usize,
    /// The name ("" for section and null symbols).
    pub name: String,
    /// `st_value`: byte offset in its section.
    pub value: u64,
    /// `st_size`.
    pub size: u64,
    /// `STT_*` (0 notype, 1 object, 2 func, 3 section, 4 file).
    pub kind: u8,
    /// `STB_*` (0 local, 1 global, 2 weak).
    pub bind: u8,
    /// The section it is defined in, `None` when undefined or absolute.
    pub section: Option<usize>,
}

/// A parsed BPF ELF object. See the [module docs](self).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Object {
    /// The object's name: the file name up to its first `.` (libbpf's
    /// rule), "" for [`Object::parse`]. Prefixes internal map names.
    pub name: String,
    /// Big-endian (`bpfeb`) object.
    pub big_endian: bool,
    /// `e_machine` (247 `EM_BPF`, or 0 from old toolchains).
    pub machine: u16,
    /// Every section header, in file order.
    pub sections: Vec<Section>,
    /// Every symbol, in table order.
    pub symbols: Vec<Symbol>,
    /// The `license` section's string, when present.
    pub license: Option<String>,
    /// The `version` section's kernel version (`LINUX_VERSION_CODE`).
    pub kernel_version: Option<u32>,
    /// Every function of every executable section, unlinked, in section
    /// then offset order.
    pub functions: Vec<Function>,
    /// The programs (entry points), linked, in section then offset order.
    pub programs: Vec<Program>,
    /// The maps, in libbpf's order: legacy, BTF-defined, global data,
    /// kconfig, struct_ops.
    pub maps: Vec<MapDef>,
    /// `.kconfig` and `.ksyms` externs.
    pub externs: Vec<Extern>,
    /// `.BTF`, parsed.
    pub btf: Option<Btf>,
    /// `.BTF.ext`, parsed.
    pub btf_ext: Option<BtfExt>,
}

impl Object {
    /// Parses an object from its bytes. Internal maps are named by their
    /// section (`.data`, ...) since there is no file name to prefix them.
    pub fn parse(bytes: &[u8]) -> Result<Object, ObjectError> {
        Object::parse_named(bytes, "")
    }

    /// Parses an object whose libbpf object name is `name` (see
    /// [`Object::name`]).
    pub fn parse_named(bytes: &[u8], name: &str) -> Result<Object, ObjectError> {
        let view = elf::ElfView::parse(bytes)?;
        build(&view, name)
    }

    /// Reads and parses a file; errors name the file.
    pub fn open(path: impl AsRef<Path>) -> Result<Object, ObjectError> {
        let path = path.as_ref();
        let in_file = |e: ObjectError| ObjectError::InFile {
            path: path.to_path_buf(),
            source: Box::new(e),
        };
        let bytes = std::fs::read(path).map_err(|e| ObjectError::Io {
            path: PathBuf::from(path),
            message: e.to_string(),
        })?;
        Object::parse_named(&bytes, &object_name(path)).map_err(in_file)
    }

    /// The program named `name`.
    pub fn program(&self, name: &str) -> Option<&Program> {
        self.programs.iter().find(|p| p.name == name)
    }

    /// The map named `name` (kernel name or, for internal maps, section).
    pub fn map(&self, name: &str) -> Option<&MapDef> {
        self.maps
            .iter()
            .find(|m| m.name == name || m.section == name && m.source.is_internal())
    }

    /// The functions of section `index`, in offset order.
    pub fn functions_in(&self, index: usize) -> impl Iterator<Item = &Function> {
        self.functions
            .iter()
            .filter(move |f| f.section_index == index)
    }
}

/// libbpf's object name: the base name, cut at its first `.`, at most 15
/// bytes.
fn object_name(path: &Path) -> String {
    let base = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut name: String = base.chars().take_while(|&c| c != '.').collect();
    while name.len() > 15 {
        name.pop();
    }
    name
}

fn build(view: &elf::ElfView<'_>, name: &str) -> Result<Object, ObjectError> {
    let sections = view
        .sections
        .iter()
        .map(|s| Section {
            index: s.index,
            name: s.name.clone(),
            sh_type: s.sh_type,
            flags: s.flags,
            size: s.size,
        })
        .collect();
    let symbols = view
        .symbols
        .iter()
        .map(|s| Symbol {
            index: s.index,
            name: s.name.clone(),
            value: s.value,
            size: s.size,
            kind: s.kind,
            bind: s.bind,
            section: s.section(),
        })
        .collect();

    let license = view.section_by_name("license").map(|s| {
        let end = s.data.iter().position(|&b| b == 0).unwrap_or(s.data.len());
        String::from_utf8_lossy(&s.data[..end]).into_owned()
    });
    let kernel_version = match view.section_by_name("version") {
        None => None,
        Some(s) => {
            if s.data.len() != 4 {
                return Err(ObjectError::section(
                    "version",
                    format!("holds {} bytes, not a 4-byte kernel version", s.data.len()),
                ));
            }
            view.u32_at(s.data, 0)
        }
    };

    let btf = match view.section_by_name(".BTF") {
        Some(s) => Some(Btf::parse(s.data).map_err(|source| ObjectError::Btf {
            section: ".BTF",
            source,
        })?),
        None => None,
    };
    let btf_ext = match (view.section_by_name(".BTF.ext"), &btf) {
        (Some(s), Some(b)) => {
            Some(BtfExt::parse(s.data, b).map_err(|source| ObjectError::Btf {
                section: ".BTF.ext",
                source,
            })?)
        }
        _ => None,
    };

    let mut maps = maps::legacy_maps(view)?;
    let tc_object = maps.iter().any(|m| m.source == MapSource::Iproute2);
    maps.extend(maps::btf_maps(view, btf.as_ref())?);
    maps.extend(globals::data_maps(view, btf.as_ref(), name)?);
    let externs = externs::collect(view, btf.as_ref())?;
    if let Some(kconfig) = globals::kconfig_map(btf.as_ref(), &externs, name)? {
        maps.push(kconfig);
    }
    maps.extend(struct_ops::struct_ops_maps(view, btf.as_ref())?);

    let functions = programs::functions(view, &maps, &externs)?;
    maps::initial_slots(view, btf.as_ref(), &mut maps, &functions)?;
    struct_ops::struct_ops_members(view, btf.as_ref(), &mut maps, &functions)?;
    let programs = link::programs(&functions, &externs, btf_ext.as_ref(), tc_object)?;

    Ok(Object {
        name: name.to_string(),
        big_endian: view.big_endian,
        machine: view.machine,
        sections,
        symbols,
        license,
        kernel_version,
        functions,
        programs,
        maps,
        externs,
        btf,
        btf_ext,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_names_follow_libbpf() {
        assert_eq!(object_name(Path::new("/x/rd_full.bpf.o")), "rd_full");
        assert_eq!(
            object_name(Path::new("a_very_long_object_name.o")),
            "a_very_long_obj"
        );
    }
}
