//! A checked, owned view of the ELF container: sections, symbols and
//! relocation entries, read with the `object` crate's low-level ELF API.
//!
//! Everything later stages need is copied out once here, bounds-checked, so
//! they index plain vectors and never touch raw ELF structures.

use object::elf;
use object::read::elf::{FileHeader, Rel, Rela, SectionHeader, Sym};
use object::Endianness;

use super::error::ObjectError;

/// `EM_BPF`.
const EM_BPF: u16 = 247;

/// One section header with its bytes.
#[derive(Debug, Clone)]
pub(crate) struct RawSection<'a> {
    pub index: usize,
    pub name: String,
    pub sh_type: u32,
    pub flags: u64,
    pub size: u64,
    /// The file bytes (empty for `SHT_NOBITS`).
    pub data: &'a [u8],
}

impl RawSection<'_> {
    /// Executable program text (`SHF_EXECINSTR` with contents).
    pub fn is_exec(&self) -> bool {
        self.sh_type == elf::SHT_PROGBITS.0 && self.flags & elf::SHF_EXECINSTR.0 != 0
    }

    /// `SHT_NOBITS` (`.bss`).
    pub fn is_nobits(&self) -> bool {
        self.sh_type == elf::SHT_NOBITS.0
    }
}

/// One symbol table entry.
#[derive(Debug, Clone)]
pub(crate) struct RawSymbol {
    pub index: usize,
    pub name: String,
    pub value: u64,
    pub size: u64,
    /// `STT_*`.
    pub kind: u8,
    /// `STB_*`.
    pub bind: u8,
    /// Raw `st_shndx` (0 = undefined, >= 0xff00 reserved).
    pub shndx: u16,
}

impl RawSymbol {
    /// The section the symbol is defined in, if it is a regular index.
    pub fn section(&self) -> Option<usize> {
        if self.shndx == 0 || self.shndx >= 0xff00 {
            None
        } else {
            Some(self.shndx as usize)
        }
    }

    /// Undefined (an extern).
    pub fn is_undefined(&self) -> bool {
        self.shndx == 0
    }

    /// `STT_SECTION`.
    pub fn is_section(&self) -> bool {
        self.kind == elf::STT_SECTION.0
    }

    /// `STT_FUNC`.
    pub fn is_func(&self) -> bool {
        self.kind == elf::STT_FUNC.0
    }
}

/// One relocation entry.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RawReloc {
    pub offset: u64,
    pub r_type: u32,
    pub symbol: usize,
    /// The explicit addend of `SHT_RELA`, `None` for `SHT_REL`.
    pub addend: Option<i64>,
}

/// A relocation section and the section it patches.
#[derive(Debug, Clone)]
pub(crate) struct RawRelocSection {
    /// Index of the section it patches (`sh_info`).
    pub target: usize,
    pub entries: Vec<RawReloc>,
}

/// The parsed container.
#[derive(Debug, Clone)]
pub(crate) struct ElfView<'a> {
    pub big_endian: bool,
    pub machine: u16,
    pub sections: Vec<RawSection<'a>>,
    pub symbols: Vec<RawSymbol>,
    pub relocs: Vec<RawRelocSection>,
}

impl<'a> ElfView<'a> {
    /// Reads and checks the header, sections, symbols and relocations.
    pub fn parse(data: &'a [u8]) -> Result<ElfView<'a>, ObjectError> {
        if data.len() >= 5 && &data[..4] == b"\x7fELF" && data[4] != elf::ELFCLASS64.0 {
            return Err(ObjectError::NotBpf(format!(
                "ELF class {} is not ELFCLASS64",
                data[4]
            )));
        }
        let header = elf::FileHeader64::<Endianness>::parse(data)
            .map_err(|e| ObjectError::elf("file header", e))?;
        let endian = header
            .endian()
            .map_err(|e| ObjectError::elf("file header", e))?;
        let e_type = header.e_type(endian).0;
        if e_type != elf::ET_REL.0 {
            return Err(ObjectError::NotBpf(format!(
                "e_type {e_type} is not ET_REL (1)"
            )));
        }
        let machine = header.e_machine(endian).0;
        // Older toolchains left e_machine 0 (EM_NONE); libbpf accepts both.
        if machine != EM_BPF && machine != 0 {
            return Err(ObjectError::NotBpf(format!(
                "e_machine {machine} is neither EM_BPF (247) nor EM_NONE (0)"
            )));
        }
        let table = header
            .sections(endian, data)
            .map_err(|e| ObjectError::elf("section table", e))?;

        let mut sections = Vec::with_capacity(table.len());
        for (i, sh) in table.iter().enumerate() {
            let name = table
                .section_name(endian, sh)
                .map_err(|e| ObjectError::elf(&format!("name of section #{i}"), e))?;
            let name = String::from_utf8_lossy(name).into_owned();
            let sh_type = sh.sh_type(endian).0;
            let bytes = if sh_type == elf::SHT_NOBITS.0 || i == 0 {
                &[][..]
            } else {
                sh.data(endian, data).map_err(|_| {
                    ObjectError::section(
                        &name,
                        format!(
                            "contents [{:#x}, +{:#x}) lie outside the {}-byte file",
                            sh.sh_offset(endian),
                            sh.sh_size(endian),
                            data.len()
                        ),
                    )
                })?
            };
            sections.push(RawSection {
                index: i,
                name,
                sh_type,
                flags: sh.sh_flags(endian).0,
                size: sh.sh_size(endian),
                data: bytes,
            });
        }

        let symtab = table
            .symbols(endian, data, elf::SHT_SYMTAB)
            .map_err(|e| ObjectError::elf("symbol table", e))?;
        let mut symbols = Vec::with_capacity(symtab.len());
        for (i, sym) in symtab.iter().enumerate() {
            let name = sym
                .name(endian, symtab.strings())
                .map_err(|_| ObjectError::Symbol {
                    symbol: String::new(),
                    index: i,
                    message: format!(
                        "name offset {:#x} is outside the string table",
                        sym.st_name(endian)
                    ),
                })?;
            let shndx = sym.st_shndx(endian).0;
            if shndx != 0 && shndx < 0xff00 && shndx as usize >= sections.len() {
                return Err(ObjectError::Symbol {
                    symbol: String::from_utf8_lossy(name).into_owned(),
                    index: i,
                    message: format!(
                        "section index {shndx} is past the {} sections",
                        sections.len()
                    ),
                });
            }
            symbols.push(RawSymbol {
                index: i,
                name: String::from_utf8_lossy(name).into_owned(),
                value: sym.st_value(endian),
                size: sym.st_size(endian),
                kind: sym.st_type().0,
                bind: sym.st_bind().0,
                shndx,
            });
        }

        let mut relocs = Vec::new();
        for (i, sh) in table.iter().enumerate() {
            let t = sh.sh_type(endian);
            if t != elf::SHT_REL && t != elf::SHT_RELA {
                continue;
            }
            let name = &sections[i].name;
            let target = sh.sh_info(endian) as usize;
            if target == 0 || target >= sections.len() {
                return Err(ObjectError::section(
                    name,
                    format!("relocation section patches section #{target}, which does not exist"),
                ));
            }
            let bad = |_| ObjectError::section(name, "relocation entries do not fit the section");
            let mut entries = Vec::new();
            if t == elf::SHT_REL {
                let rels: &[elf::Rel64<Endianness>] =
                    sh.data_as_array(endian, data).map_err(bad)?;
                for r in rels {
                    entries.push(RawReloc {
                        offset: r.r_offset(endian),
                        r_type: r.r_type(endian).0,
                        symbol: r.r_sym(endian) as usize,
                        addend: None,
                    });
                }
            } else {
                let relas: &[elf::Rela64<Endianness>] =
                    sh.data_as_array(endian, data).map_err(bad)?;
                for r in relas {
                    entries.push(RawReloc {
                        offset: r.r_offset(endian),
                        r_type: r.r_type(endian, false).0,
                        symbol: r.r_sym(endian, false) as usize,
                        addend: Some(r.r_addend(endian)),
                    });
                }
            }
            for (n, e) in entries.iter().enumerate() {
                if e.symbol >= symbols.len() {
                    return Err(ObjectError::Relocation {
                        section: sections[target].name.clone(),
                        index: n,
                        offset: e.offset,
                        symbol: format!("#{}", e.symbol),
                        message: format!("symbol index past the {} symbols", symbols.len()),
                    });
                }
            }
            relocs.push(RawRelocSection { target, entries });
        }

        Ok(ElfView {
            big_endian: !matches!(endian, Endianness::Little),
            machine,
            sections,
            symbols,
            relocs,
        })
    }

    /// The first section named `name`.
    pub fn section_by_name(&self, name: &str) -> Option<&RawSection<'a>> {
        self.sections.iter().find(|s| s.name == name)
    }

    /// The named symbol defined in section `index`, if any.
    pub fn symbol_in(&self, index: usize, name: &str) -> Option<&RawSymbol> {
        self.symbols
            .iter()
            .find(|s| s.section() == Some(index) && !s.is_section() && s.name == name)
    }

    /// Reads a u32 in the file's byte order.
    pub fn u32_at(&self, bytes: &[u8], off: usize) -> Option<u32> {
        let b: [u8; 4] = bytes.get(off..off.checked_add(4)?)?.try_into().ok()?;
        Some(if self.big_endian {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        })
    }

    /// Decodes instruction slots in the file's byte order (big-endian
    /// objects swap the register nibbles, as `bpfeb` does).
    pub fn insns(&self, bytes: &[u8]) -> Vec<bpfkit_isa::Insn> {
        bytes
            .chunks_exact(8)
            .map(|c| {
                let b: [u8; 8] = c.try_into().unwrap_or([0; 8]);
                if self.big_endian {
                    bpfkit_isa::Insn {
                        code: b[0],
                        dst: b[1] >> 4,
                        src: b[1] & 0x0f,
                        off: i16::from_be_bytes([b[2], b[3]]),
                        imm: i32::from_be_bytes([b[4], b[5], b[6], b[7]]),
                    }
                } else {
                    bpfkit_isa::Insn::from_bytes(&b)
                }
            })
            .collect()
    }
}
