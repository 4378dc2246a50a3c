//! Objects no current clang writes, built byte by byte: `SHT_RELA`
//! relocations with explicit addends, symbols without `STT_FUNC` (objects
//! from before LLVM emitted them), `e_machine` 0 (old toolchains) and a
//! foreign machine.

use bpfkit_object::read::{MapSource, Object, ObjectError, RelocTarget};

const SHT_PROGBITS: u32 = 1;
const SHT_SYMTAB: u32 = 2;
const SHT_STRTAB: u32 = 3;
const SHT_RELA: u32 = 4;
const SHF_ALLOC_EXEC: u64 = 2 | 4;

fn insn(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> Vec<u8> {
    let mut v = vec![code, src << 4 | dst];
    v.extend(off.to_le_bytes());
    v.extend(imm.to_le_bytes());
    v
}

struct Sec {
    name: &'static str,
    sh_type: u32,
    flags: u64,
    data: Vec<u8>,
    link: u32,
    info: u32,
    entsize: u64,
}

/// A little-endian relocatable object: `.text` with `sub`, `xdp` with
/// `prog` loading map `m` and calling `sub` through RELA relocations.
fn build(machine: u16, sym_type: u8, call_addend: i64) -> Vec<u8> {
    build_with(machine, sym_type, call_addend, 16, 1 << 4, 20)
}

/// [`build`] with the call relocation's offset, the programs' binding
/// (`STB_* << 4`) and the size of the `maps` section as parameters.
fn build_with(
    machine: u16,
    sym_type: u8,
    call_addend: i64,
    call_off: u64,
    prog_bind: u8,
    maps_len: usize,
) -> Vec<u8> {
    let mut strtab = vec![0u8];
    let mut name = |s: &str| {
        let off = strtab.len() as u32;
        strtab.extend(s.as_bytes());
        strtab.push(0);
        off
    };
    let names: Vec<u32> = [
        "", ".strtab", ".text", "xdp", ".relaxdp", "maps", ".symtab", "license",
    ]
    .iter()
    .map(|s| if s.is_empty() { 0 } else { name(s) })
    .collect();
    let (n_sub, n_prog, n_m) = (name("sub"), name("prog"), name("m"));

    let text = [insn(0xb7, 0, 0, 0, 1), insn(0x95, 0, 0, 0, 0)].concat();
    let xdp = [
        insn(0x18, 1, 0, 0, 0),
        insn(0, 0, 0, 0, 0),
        insn(0x85, 0, 1, 0, -1),
        insn(0xb7, 0, 0, 0, 0),
        insn(0x95, 0, 0, 0, 0),
    ]
    .concat();
    let mut maps: Vec<u8> = [1u32, 4, 8, 16, 0]
        .iter()
        .flat_map(|w| w.to_le_bytes())
        .collect();
    maps.resize(maps_len, 0);
    let sym = |name: u32, info: u8, shndx: u16, value: u64, size: u64| {
        let mut v = name.to_le_bytes().to_vec();
        v.push(info);
        v.push(0);
        v.extend(shndx.to_le_bytes());
        v.extend(value.to_le_bytes());
        v.extend(size.to_le_bytes());
        v
    };
    let global = 1 << 4;
    let symtab = [
        sym(0, 0, 0, 0, 0),
        sym(n_sub, global | sym_type, 2, 0, 16),
        sym(n_prog, prog_bind | sym_type, 3, 0, 40),
        sym(n_m, global | 1, 5, 0, 20),
    ]
    .concat();
    let rela = |off: u64, sym: u64, ty: u64, addend: i64| {
        let mut v = off.to_le_bytes().to_vec();
        v.extend((sym << 32 | ty).to_le_bytes());
        v.extend(addend.to_le_bytes());
        v
    };
    let relas = [rela(0, 3, 1, 0), rela(call_off, 1, 10, call_addend)].concat();
    let secs = vec![
        Sec {
            name: "",
            sh_type: 0,
            flags: 0,
            data: vec![],
            link: 0,
            info: 0,
            entsize: 0,
        },
        Sec {
            name: ".strtab",
            sh_type: SHT_STRTAB,
            flags: 0,
            data: strtab.clone(),
            link: 0,
            info: 0,
            entsize: 0,
        },
        Sec {
            name: ".text",
            sh_type: SHT_PROGBITS,
            flags: SHF_ALLOC_EXEC,
            data: text,
            link: 0,
            info: 0,
            entsize: 0,
        },
        Sec {
            name: "xdp",
            sh_type: SHT_PROGBITS,
            flags: SHF_ALLOC_EXEC,
            data: xdp,
            link: 0,
            info: 0,
            entsize: 0,
        },
        Sec {
            name: ".relaxdp",
            sh_type: SHT_RELA,
            flags: 0,
            data: relas,
            link: 6,
            info: 3,
            entsize: 24,
        },
        Sec {
            name: "maps",
            sh_type: SHT_PROGBITS,
            flags: 3,
            data: maps,
            link: 0,
            info: 0,
            entsize: 0,
        },
        Sec {
            name: ".symtab",
            sh_type: SHT_SYMTAB,
            flags: 0,
            data: symtab,
            link: 1,
            info: 1,
            entsize: 24,
        },
        Sec {
            name: "license",
            sh_type: SHT_PROGBITS,
            flags: 3,
            data: b"GPL\0".to_vec(),
            link: 0,
            info: 0,
            entsize: 0,
        },
    ];
    let mut out = vec![0u8; 64];
    let mut offsets = Vec::new();
    for s in &secs {
        while out.len() % 8 != 0 {
            out.push(0);
        }
        offsets.push(out.len() as u64);
        out.extend(&s.data);
    }
    while out.len() % 8 != 0 {
        out.push(0);
    }
    let shoff = out.len() as u64;
    for (i, s) in secs.iter().enumerate() {
        let _ = s.name;
        out.extend(names[i].to_le_bytes());
        out.extend(s.sh_type.to_le_bytes());
        out.extend(s.flags.to_le_bytes());
        out.extend(0u64.to_le_bytes());
        out.extend(if i == 0 { 0 } else { offsets[i] }.to_le_bytes());
        out.extend((s.data.len() as u64).to_le_bytes());
        out.extend(s.link.to_le_bytes());
        out.extend(s.info.to_le_bytes());
        out.extend(8u64.to_le_bytes());
        out.extend(s.entsize.to_le_bytes());
    }
    let mut h = b"\x7fELF\x02\x01\x01".to_vec();
    h.resize(16, 0);
    h.extend(1u16.to_le_bytes()); // ET_REL
    h.extend(machine.to_le_bytes());
    h.extend(1u32.to_le_bytes());
    h.extend(0u64.to_le_bytes()); // entry
    h.extend(0u64.to_le_bytes()); // phoff
    h.extend(shoff.to_le_bytes());
    h.extend(0u32.to_le_bytes()); // flags
    h.extend(64u16.to_le_bytes());
    h.extend(0u16.to_le_bytes());
    h.extend(0u16.to_le_bytes());
    h.extend(64u16.to_le_bytes());
    h.extend((secs.len() as u16).to_le_bytes());
    h.extend(1u16.to_le_bytes()); // shstrndx
    out[..64].copy_from_slice(&h);
    out
}

const STT_NOTYPE: u8 = 0;
const STT_FUNC: u8 = 2;

#[test]
fn rela_relocations_use_their_explicit_addends() {
    let o = Object::parse(&build(247, STT_FUNC, 0)).unwrap();
    assert_eq!(o.license.as_deref(), Some("GPL"));
    let m = o.map("m").unwrap();
    assert_eq!(
        (m.source, m.def_size, m.max_entries),
        (MapSource::Legacy, 20, 16)
    );
    let p = o.program("prog").unwrap();
    assert_eq!(p.subprograms()[0].name, "sub");
    assert_eq!(p.insns.len(), 7);
    // call at slot 2 -> sub at slot 5: imm = 5 - 3.
    assert_eq!(p.slots()[2].imm, 2);
    assert_eq!(
        p.relocations[1].target,
        RelocTarget::Call {
            function: "sub".into(),
            target: 5
        }
    );
    assert!(matches!(&p.relocations[0].target, RelocTarget::Map { name, .. } if name == "m"));
    // With RELA the instruction's own imm (-1) means nothing: an addend
    // of 8 names sub's second slot, (S + A) / 8 = 1.
    let o = Object::parse(&build(247, STT_FUNC, 8)).unwrap();
    assert_eq!(o.program("prog").unwrap().slots()[2].imm, 3);
}

#[test]
fn objects_without_func_symbols_give_one_program_per_section() {
    let o = Object::parse(&build(247, STT_NOTYPE, 0)).unwrap();
    let names: Vec<&str> = o.functions.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["sub", "prog"]);
    let p = o.program("prog").unwrap();
    assert_eq!((p.insns.len(), p.subprograms().len()), (7, 1));
}

#[test]
fn e_machine_zero_is_accepted_and_other_machines_refused() {
    assert!(Object::parse(&build(0, STT_FUNC, 0)).is_ok());
    let err = Object::parse(&build(62, STT_FUNC, 0)).unwrap_err();
    assert!(matches!(err, ObjectError::NotBpf(_)), "{err}");
}

#[test]
fn defects_are_errors_that_name_their_place() {
    // A relocation of `r0 = 0` (slot 3), which is neither ld_imm64 nor call.
    let err = Object::parse(&build_with(247, STT_FUNC, 0, 24, 1 << 4, 20)).unwrap_err();
    match &err {
        ObjectError::Relocation {
            section,
            index,
            offset,
            symbol,
            ..
        } => {
            assert_eq!(
                (section.as_str(), *index, *offset, symbol.as_str()),
                ("xdp", 1, 24, "sub")
            );
        }
        other => panic!("{other}"),
    }
    assert!(
        err.to_string().contains("neither ld_imm64 nor call"),
        "{err}"
    );
    // A static entry point outside .text: libbpf refuses it.
    let err = Object::parse(&build_with(247, STT_FUNC, 0, 16, 0, 20)).unwrap_err();
    assert!(
        matches!(&err, ObjectError::Symbol { symbol, .. } if symbol == "prog"),
        "{err}"
    );
    // One map symbol in 22 bytes: 22 is a whole definition, libbpf's rule,
    // but its last two bytes are past the 20 of bpf_map_def and zero: fine.
    assert!(Object::parse(&build_with(247, STT_FUNC, 0, 16, 1 << 4, 22)).is_ok());
    // A 0-byte maps section with a map symbol cannot hold its definition.
    let err = Object::parse(&build_with(247, STT_FUNC, 0, 16, 1 << 4, 0)).unwrap_err();
    assert!(
        matches!(&err, ObjectError::Section { section, .. } if section == "maps"),
        "{err}"
    );
}
