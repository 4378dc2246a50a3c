//! ELF64 emission with the `object` crate's two-phase writer. Section
//! headers: `.strtab` (index 1, as in clang's objects), each section
//! followed by its `.rel` section, `.symtab`, then `.shstrtab` (clang
//! shares one string table for both; the writer keeps them apart).

use bpfkit_isa::asm::file::{
    AssembledFile, Binding, SectionFlags, SectionType, SymbolKind, Visibility,
};
use object::elf;
use object::write::elf::{FileHeader, Rel, SectionHeader, SectionIndex, Sym, Writer};
use object::write::StringId;
use object::Endianness;

use super::reloc::Relocation;
use super::symtab::{Entry, Symtab};
use super::WriteError;

/// The most a section's file offset is aligned to. `sh_addralign` keeps
/// the alignment the source asked for (up to 2^31, as llvm-mc allows),
/// but a relocatable object's file offsets need none of it: aligning them
/// to 2^31 would write gigabytes of padding (found by fuzzing asm_object:
/// `fuzz/regressions/asm_object/p2align_31_first`). 4 KiB is more than
/// any section clang emits asks for, so its layout is unchanged.
const MAX_FILE_ALIGN: u64 = 4096;

/// The file-offset alignment of a section aligned to `align`.
fn file_align(align: u64) -> u64 {
    align.clamp(1, MAX_FILE_ALIGN)
}

/// A section to write, with the indices and names reserved for it.
struct Planned {
    name: StringId,
    index: SectionIndex,
    offset: u64,
    rel: Option<(StringId, SectionIndex, u64)>,
}

/// Writes `file` as an ELF64 little-endian relocatable object for EM_BPF,
/// given its symbol table, relocations and patched section bytes.
pub(super) fn emit(
    file: &AssembledFile,
    symtab: &Symtab,
    relocs: &[Vec<Relocation>],
    datas: &[Vec<u8>],
) -> Result<Vec<u8>, WriteError> {
    let mut buf = Vec::new();
    let mut w = Writer::new(Endianness::Little, true, &mut buf);
    w.reserve_file_header();
    // Index 1 is the string table, as in clang's objects, so that every
    // other section has the index it has in clang's object for the same source.
    w.reserve_strtab_section_index();

    let rel_names: Vec<Vec<u8>> = file
        .sections
        .iter()
        .map(|s| format!(".rel{}", s.name).into_bytes())
        .collect();
    let mut planned = Vec::with_capacity(file.sections.len());
    for (i, sec) in file.sections.iter().enumerate() {
        let name = w.add_section_name(sec.name.as_bytes());
        let index = w.reserve_section_index();
        let offset = match sec.ty {
            SectionType::ProgBits => w.reserve(datas[i].len() as u64, file_align(sec.align)),
            SectionType::NoBits => w.reserve(0, file_align(sec.align)),
        };
        let rel = if relocs[i].is_empty() {
            None
        } else {
            let rel_name = w.add_section_name(&rel_names[i]);
            let rel_index = w.reserve_section_index();
            Some((rel_name, rel_index, 0))
        };
        planned.push(Planned {
            name,
            index,
            offset,
            rel,
        });
    }
    let symtab_index = w.reserve_symtab_section_index();
    w.reserve_shstrtab_section_index();

    let names: Vec<Option<StringId>> = symtab
        .entries
        .iter()
        .map(|e| match *e {
            Entry::File => file
                .source_name
                .as_deref()
                .map(|n| w.add_string(n.as_bytes())),
            Entry::Section(_) => None,
            Entry::Symbol(i) => Some(w.add_string(file.symbols[i].name.as_bytes())),
        })
        .collect();
    w.reserve_null_symbol_index();
    for e in &symtab.entries {
        let section = match *e {
            Entry::Section(i) => Some(planned[i].index),
            Entry::Symbol(i) => file.symbols[i].definition.map(|(s, _)| planned[s].index),
            Entry::File => None,
        };
        w.reserve_symbol_index(section);
    }
    w.reserve_symtab();
    w.reserve_strtab()
        .map_err(|e| WriteError::Elf(e.to_string()))?;
    for (i, p) in planned.iter_mut().enumerate() {
        if let Some((_, _, offset)) = p.rel.as_mut() {
            *offset = w.reserve_relocations(relocs[i].len(), false);
        }
    }
    w.reserve_shstrtab()
        .map_err(|e| WriteError::Elf(e.to_string()))?;
    w.reserve_section_headers();

    w.write_file_header(&FileHeader {
        os_abi: elf::ELFOSABI_NONE,
        abi_version: 0,
        e_type: elf::ET_REL,
        e_machine: elf::EM_BPF,
        e_entry: 0,
        e_flags: elf::FileFlags(0),
    })
    .map_err(|e| WriteError::Elf(e.to_string()))?;
    for (i, sec) in file.sections.iter().enumerate() {
        // `@nobits` sections take no bytes but an aligned offset, as in clang's objects.
        w.write_align(file_align(sec.align));
        if sec.ty == SectionType::ProgBits {
            w.write(&datas[i]);
        }
    }
    w.write_null_symbol();
    for (e, name) in symtab.entries.iter().zip(&names) {
        let st_name = w.string_offset(*name);
        w.write_symbol(&symbol(file, *e, st_name, &planned));
    }
    w.write_strtab();
    for (i, p) in planned.iter().enumerate() {
        if p.rel.is_some() {
            w.write_align_relocation();
            for r in &relocs[i] {
                let rel = Rel {
                    r_offset: r.offset,
                    r_sym: r.symbol,
                    r_type: elf::RelocationType(r.r_type),
                    r_addend: 0,
                };
                w.write_relocation(false, &rel);
            }
        }
    }
    w.write_shstrtab();

    w.write_null_section_header();
    w.write_strtab_section_header();
    for (i, (sec, p)) in file.sections.iter().zip(&planned).enumerate() {
        let ty = match sec.ty {
            SectionType::ProgBits => elf::SHT_PROGBITS,
            SectionType::NoBits => elf::SHT_NOBITS,
        };
        w.write_section_header(&SectionHeader {
            sh_name: w.section_name_offset(Some(p.name)),
            sh_type: ty,
            sh_flags: section_flags(sec.flags),
            sh_addr: 0,
            sh_offset: p.offset,
            sh_size: sec.size,
            sh_link: 0,
            sh_info: 0,
            sh_addralign: sec.align.max(1),
            sh_entsize: sec.entsize,
        });
        if let Some((name, _, offset)) = p.rel {
            w.write_relocation_section_header(
                name,
                p.index,
                symtab_index,
                offset,
                relocs[i].len(),
                false,
            );
        }
    }
    w.write_symtab_section_header(symtab.num_local);
    w.write_shstrtab_section_header();
    Ok(buf)
}

fn section_flags(f: SectionFlags) -> elf::SectionFlags {
    let mut bits = 0;
    for (on, flag) in [
        (f.write, elf::SHF_WRITE),
        (f.alloc, elf::SHF_ALLOC),
        (f.exec, elf::SHF_EXECINSTR),
        (f.merge, elf::SHF_MERGE),
        (f.strings, elf::SHF_STRINGS),
    ] {
        if on {
            bits |= flag.0;
        }
    }
    elf::SectionFlags(bits)
}

/// The ELF symbol of one symbol-table entry.
fn symbol(file: &AssembledFile, e: Entry, st_name: u32, planned: &[Planned]) -> Sym {
    match e {
        Entry::File => Sym {
            st_name,
            section: None,
            st_info: elf::SymbolInfo::new(elf::STB_LOCAL, elf::STT_FILE),
            st_other: elf::SymbolOther(0),
            st_shndx: elf::SHN_ABS,
            st_value: 0,
            st_size: 0,
        },
        Entry::Section(i) => Sym {
            st_name,
            section: Some(planned[i].index.0),
            st_info: elf::SymbolInfo::new(elf::STB_LOCAL, elf::STT_SECTION),
            st_other: elf::SymbolOther(0),
            st_shndx: elf::SHN_UNDEF,
            st_value: 0,
            st_size: 0,
        },
        Entry::Symbol(i) => {
            let s = &file.symbols[i];
            let bind = match s.binding {
                Binding::Local => elf::STB_LOCAL,
                Binding::Global => elf::STB_GLOBAL,
                Binding::Weak => elf::STB_WEAK,
            };
            let ty = match s.kind {
                SymbolKind::NoType => elf::STT_NOTYPE,
                SymbolKind::Func => elf::STT_FUNC,
                SymbolKind::Object => elf::STT_OBJECT,
            };
            let vis = match s.visibility {
                Visibility::Default => elf::STV_DEFAULT,
                Visibility::Hidden => elf::STV_HIDDEN,
                Visibility::Protected => elf::STV_PROTECTED,
                Visibility::Internal => elf::STV_INTERNAL,
            };
            Sym {
                st_name,
                section: s.definition.map(|(sec, _)| planned[sec].index.0),
                st_info: elf::SymbolInfo::new(bind, ty),
                st_other: vis.into(),
                st_shndx: elf::SHN_UNDEF,
                st_value: s.definition.map_or(0, |(_, off)| off),
                st_size: s.size,
            }
        }
    }
}
