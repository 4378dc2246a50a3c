//! The object writer against LLVM: for each fixture in tests/fixtures/asm
//! (our own C programs and hand-written assembly) and tests/fixtures/asm/objects
//! (the reader's C fixtures, built without -g), the object bpfkit writes
//! from the assembly
//!
//! - disassembles, through bpfkit's disassembler, to exactly the text
//!   `llvm-objdump-19 -d` printed for it (golden/NAME.objdump, made by
//!   rebuild.sh, which also checked that clang's object prints the same);
//! - has the sections, bytes, symbols and relocations of clang's own object
//!   for the same source (NAME.clang.o);
//! - reads back with the `object` crate as an ELF64 little-endian BPF
//!   relocatable object.
//!
//! No LLVM tool runs here: the goldens and clang's objects are committed.

use bpfkit_isa::decode_slots;
use bpfkit_isa::disasm::{lines, DisasmOptions, Flavor, ListingContext, Symbol};
use bpfkit_object::write::assemble_object;
use object::{
    Architecture, BinaryFormat, Endianness, Object, ObjectKind, ObjectSection, ObjectSymbol,
    RelocationFlags, RelocationTarget, SectionFlags, SectionKind, SymbolFlags, SymbolKind,
};
use std::path::PathBuf;

/// The writer's own fixtures.
const OWN: &[&str] = &["alu32", "calls", "globals", "handwritten", "v4"];

/// Every fixture, as a path under tests/fixtures/asm without `.s`: the own
/// ones and every `objects/*.s`.
fn fixtures() -> Vec<String> {
    let mut out: Vec<String> = OWN.iter().map(|s| s.to_string()).collect();
    let dir = fixture("objects");
    let mut objects: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.strip_suffix(".s").map(|n| format!("objects/{n}"))
        })
        .collect();
    objects.sort();
    assert!(
        objects.len() >= 20,
        "only {} object fixtures",
        objects.len()
    );
    out.extend(objects);
    out
}

/// `golden/NAME.objdump` beside the fixture.
fn golden(name: &str) -> String {
    match name.rsplit_once('/') {
        Some((dir, base)) => format!("{dir}/golden/{base}.objdump"),
        None => format!("golden/{name}.objdump"),
    }
}

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/asm")
        .join(name)
}

fn read_text(name: &str) -> String {
    let p = fixture(name);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// bpfkit's object for fixture `name`.
fn ours(name: &str) -> Vec<u8> {
    let src = read_text(&format!("{name}.s"));
    assemble_object(&src).unwrap_or_else(|e| panic!("{name}.s: {e}"))
}

/// clang's object for fixture `name`.
fn clangs(name: &str) -> Vec<u8> {
    let p = fixture(&format!("{name}.clang.o"));
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn is_exec(s: &object::Section) -> bool {
    matches!(s.flags(), SectionFlags::Elf { sh_flags, .. } if sh_flags.0 & object::elf::SHF_EXECINSTR.0 != 0)
}

/// What `llvm-objdump -d NAME.o` prints for `elf`: the banner, then each
/// non-empty executable section with a header per symbol.
fn objdump_listing(elf: &[u8]) -> String {
    let file = object::File::parse(elf).expect("our object parses");
    let mut out = String::from("\nNAME.o:\tfile format elf64-bpf\n");
    for section in file.sections() {
        let data = section.data().expect("section data");
        if !is_exec(&section) || data.is_empty() {
            continue;
        }
        let name = section.name().expect("section name").to_string();
        out.push_str(&format!("\nDisassembly of section {name}:\n"));
        let mut symbols: Vec<Symbol> = file
            .symbols()
            .filter(|s| {
                s.section_index() == Some(section.index())
                    && s.kind() != SymbolKind::Section
                    && !s.name().unwrap_or("").is_empty()
            })
            .map(|s| Symbol {
                offset: s.address(),
                name: s.name().expect("symbol name").to_string(),
            })
            .collect();
        symbols.sort_by_key(|s| s.offset);
        if symbols.first().map_or(true, |s| s.offset != 0) {
            symbols.insert(
                0,
                Symbol {
                    offset: 0,
                    name: name.clone(),
                },
            );
        }
        let slots = decode_slots(data).expect("whole slots");
        let ctx = ListingContext {
            section: name,
            symbols: symbols.clone(),
            flavor: Flavor::NoAlu32,
        };
        for line in lines(&slots, &DisasmOptions::default(), &ctx) {
            for sym in symbols.iter().filter(|s| s.offset == line.pc as u64 * 8) {
                out.push_str(&format!("\n{:016x} <{}>:\n", sym.offset, sym.name));
            }
            out.push_str(&line.render(true));
            out.push('\n');
        }
    }
    out
}

#[test]
fn listings_equal_llvm_objdump_of_our_objects() {
    let mut lines = 0;
    for name in &fixtures() {
        let expected = read_text(&golden(name));
        let listing = objdump_listing(&ours(name));
        if listing != expected {
            let diff: Vec<String> = expected
                .lines()
                .zip(listing.lines())
                .filter(|(e, o)| e != o)
                .take(8)
                .map(|(e, o)| format!("  objdump: {e:?}\n  bpfkit:  {o:?}"))
                .collect();
            panic!(
                "{name}: the listing differs from llvm-objdump's ({} vs {} lines):\n{}",
                expected.lines().count(),
                listing.lines().count(),
                diff.join("\n")
            );
        }
        lines += expected.lines().count();
    }
    assert!(lines > 2000, "only {lines} golden lines compared");
    eprintln!(
        "writer: {lines} llvm-objdump lines of {} fixtures reproduced",
        fixtures().len()
    );
}

/// A section as both objects must have it (clang-only sections aside).
#[derive(Debug, PartialEq, Eq)]
struct SectionView {
    index: usize,
    name: String,
    kind: SectionKind,
    flags: SectionFlags,
    align: u64,
    size: u64,
    data: Vec<u8>,
    relocations: Vec<(u64, RelocationFlags, String)>,
}

fn sections(elf: &[u8]) -> Vec<SectionView> {
    let file = object::File::parse(elf).expect("parses");
    file.sections()
        .filter(|s| {
            let name = s.name().unwrap_or("");
            // Clang's address-significance table is not written by bpfkit;
            // symbol and string tables are compared as symbols below.
            !matches!(name, ".llvm_addrsig" | ".strtab" | ".symtab" | ".shstrtab")
                && !name.starts_with(".rel")
        })
        .map(|s| SectionView {
            index: s.index().0,
            name: s.name().expect("name").to_string(),
            kind: s.kind(),
            flags: s.flags(),
            align: s.align(),
            size: s.size(),
            data: s.data().expect("data").to_vec(),
            relocations: s
                .relocations()
                .map(|(off, r)| {
                    let target = match r.target() {
                        RelocationTarget::Symbol(i) => {
                            let sym = file.symbol_by_index(i).expect("relocation symbol");
                            match sym.kind() {
                                SymbolKind::Section => format!(
                                    "section {}",
                                    file.section_by_index(sym.section_index().expect("index"))
                                        .and_then(|s| s.name().map(str::to_string))
                                        .expect("section name")
                                ),
                                _ => sym.name().expect("name").to_string(),
                            }
                        }
                        other => format!("{other:?}"),
                    };
                    (off, r.flags(), target)
                })
                .collect(),
        })
        .collect()
}

/// A symbol as both objects must have it.
#[derive(Debug, PartialEq, Eq)]
struct SymbolView {
    name: String,
    address: u64,
    size: u64,
    kind: SymbolKind,
    /// Binding, type and visibility (`st_info`, `st_other`).
    flags: SymbolFlags<object::SectionIndex, object::SymbolIndex>,
    section: Option<usize>,
}

/// Symbols in table order.
fn symbols(elf: &[u8]) -> Vec<SymbolView> {
    let file = object::File::parse(elf).expect("parses");
    file.symbols()
        .map(|s| SymbolView {
            name: s.name().expect("name").to_string(),
            address: s.address(),
            size: s.size(),
            kind: s.kind(),
            flags: s.flags(),
            section: s.section_index().map(|i| i.0),
        })
        .collect()
}

#[test]
fn sections_symbols_and_relocations_equal_clangs() {
    for name in &fixtures() {
        let (ours, clangs) = (ours(name), clangs(name));
        let (a, b) = (sections(&ours), sections(&clangs));
        assert_eq!(
            a.iter().map(|s| &s.name).collect::<Vec<_>>(),
            b.iter().map(|s| &s.name).collect::<Vec<_>>(),
            "{name}: section names"
        );
        for (x, y) in a.iter().zip(&b) {
            assert_eq!(x, y, "{name}: section {}", x.name);
        }
        assert_eq!(symbols(&ours), symbols(&clangs), "{name}: symbol tables");
    }
}

#[test]
fn program_sections_are_byte_identical_to_clangs() {
    let mut programs = 0;
    for name in &fixtures() {
        let (ours, clangs) = (ours(name), clangs(name));
        let ours = object::File::parse(&*ours).expect("parses");
        let clangs = object::File::parse(&*clangs).expect("parses");
        for theirs in clangs.sections().filter(is_exec) {
            let name = theirs.name().expect("name");
            let mine = ours
                .section_by_name(name)
                .unwrap_or_else(|| panic!("no section {name}"));
            assert_eq!(mine.data().ok(), theirs.data().ok(), "section {name}");
            programs += usize::from(!theirs.data().expect("data").is_empty());
        }
    }
    assert!(programs >= 40, "only {programs} program sections compared");
    eprintln!("writer: {programs} program sections byte-identical to clang's");
}

#[test]
fn the_object_crate_reads_what_we_write() {
    for name in &fixtures() {
        let elf = ours(name);
        let file = object::File::parse(&*elf).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(file.format(), BinaryFormat::Elf);
        assert_eq!(file.architecture(), Architecture::Bpf);
        assert_eq!(file.kind(), ObjectKind::Relocatable);
        assert_eq!(file.endianness(), Endianness::Little);
        assert!(file.is_64());
        assert!(file.section_by_name("license").is_some(), "{name}: license");
    }

    // The hand-written fixture, entry by entry.
    let elf = ours("handwritten");
    let file = object::File::parse(&*elf).expect("parses");
    let sym = |n: &str| {
        file.symbols()
            .find(|s| s.name() == Ok(n))
            .unwrap_or_else(|| panic!("no symbol {n}"))
    };
    let section_of = |n: &str| {
        file.section_by_index(sym(n).section_index().expect("defined"))
            .and_then(|s| s.name().map(str::to_string))
            .expect("section")
    };
    let ingress = sym("ingress");
    assert_eq!((ingress.kind(), ingress.size()), (SymbolKind::Text, 168));
    assert!(ingress.is_global());
    assert_eq!(section_of("ingress"), "classifier/ingress");
    let helper = sym("helper");
    assert!(helper.is_local() && helper.kind() == SymbolKind::Text && helper.size() == 24);
    assert_eq!(sym("twice").address(), 24);
    assert_eq!(
        (sym("table").kind(), sym("table").size()),
        (SymbolKind::Data, 20)
    );
    assert_eq!(section_of("scratch"), ".bss");
    let loop_label = sym("loop");
    assert_eq!(
        (loop_label.kind(), loop_label.address()),
        (SymbolKind::Unknown, 0x80)
    );
    let hook = sym("ext_hook");
    assert!(hook.is_undefined() && hook.is_weak());
    assert!(
        matches!(hook.flags(), SymbolFlags::Elf { st_other, .. } if st_other.0 == object::elf::STV_HIDDEN.0)
    );
    assert!(
        file.symbols()
            .all(|s| !s.name().unwrap_or("").starts_with(".L")),
        "temporary labels stay out of the symbol table"
    );
    let file_sym = file
        .symbols()
        .find(|s| s.kind() == SymbolKind::File)
        .expect("FILE symbol");
    assert_eq!(file_sym.name(), Ok("handwritten.s"));

    let text = file
        .section_by_name("classifier/ingress")
        .expect("program section");
    assert_eq!(text.kind(), SectionKind::Text);
    let bss = file.section_by_name(".bss").expect(".bss");
    assert_eq!(
        (bss.kind(), bss.size(), bss.align()),
        (SectionKind::UninitializedData, 16, 8)
    );
    let strings = file.section_by_name(".rodata.str1.1").expect("strings");
    assert_eq!(strings.data().expect("data"), b"hi\t\"\\AB\0rawbytes");
    let data = file.section_by_name(".data").expect(".data");
    let d = data.data().expect("data");
    // `.quad table + 12` holds its addend (12) for the ABS64 relocation;
    // `.long .Lingress_end - ingress` is the function's size, 168.
    assert_eq!(&d[8..16], &12u64.to_le_bytes());
    assert_eq!(&d[24..28], &168u32.to_le_bytes());
    assert_eq!(&d[32..36], &[0xaa; 4]);
    let relocs: Vec<(u64, u32)> = text
        .relocations()
        .map(|(off, r)| match r.flags() {
            RelocationFlags::Elf { r_type } => (off, r_type.0),
            other => panic!("{other:?}"),
        })
        .collect();
    let (call, lddw) = (object::elf::R_BPF_64_32.0, object::elf::R_BPF_64_64.0);
    assert_eq!(
        relocs,
        [
            (0x10, call),
            (0x20, call),
            (0x30, lddw),
            (0x50, lddw),
            (0x70, call)
        ]
    );
    // `call twice` goes through the .text section symbol: imm = 24 / 8 - 1.
    let code = text.data().expect("code");
    assert_eq!(&code[0x14..0x18], &2i32.to_le_bytes());
    // `r1 = table + 8 ll`: the addend is in the lddw immediate.
    assert_eq!(&code[0x34..0x38], &8i32.to_le_bytes());
}
