//! Unit tests of assembly files: directives, layout, symbol resolution and
//! the errors for what is not supported.

use super::*;
use crate::{Insn, Instruction};

fn file(src: &str) -> AssembledFile {
    assemble_file(src).unwrap_or_else(|e| panic!("{}", e.render(src, "test.s")))
}

/// The error for `src`: (line, column, len, message).
fn error(src: &str) -> (usize, usize, usize, String) {
    match assemble_file(src) {
        Ok(f) => panic!("{src:?} assembled: {f:?}"),
        Err(e) => (e.line, e.column, e.len, e.message),
    }
}

fn section<'a>(f: &'a AssembledFile, name: &str) -> &'a AssembledSection {
    f.sections
        .iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no section {name}"))
}

fn symbol<'a>(f: &'a AssembledFile, name: &str) -> &'a AssembledSymbol {
    f.symbols
        .iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no symbol {name}"))
}

fn slot(data: &[u8], pc: usize) -> Insn {
    let bytes: [u8; 8] = data[pc * 8..pc * 8 + 8].try_into().expect("8 bytes");
    Insn::from_bytes(&bytes)
}

#[test]
fn text_always_exists_first_and_is_aligned_to_four() {
    let f = file("\t.section xdp,\"ax\",@progbits\n\texit\n");
    assert_eq!(f.sections[0].name, ".text");
    assert_eq!((f.sections[0].size, f.sections[0].align), (0, 4));
    let xdp = section(&f, "xdp");
    assert!(xdp.flags.alloc && xdp.flags.exec && !xdp.flags.write);
    assert_eq!((xdp.size, xdp.align), (8, 1));
}

#[test]
fn local_labels_resolve_and_local_calls_in_the_section_are_pc_relative() {
    let src =
        "f:\n\tcall g\n\tif r1 > 2 goto .Lout\n\tgoto f\n.Lout:\n\texit\ng:\n\tr0 = 1\n\texit\n";
    let f = file(src);
    let text = &f.sections[0];
    assert!(text.refs.is_empty(), "{:?}", text.refs);
    assert_eq!(slot(&text.data, 0), Insn::new(0x85, 0, 1, 0, 3));
    assert_eq!(slot(&text.data, 1).off, 1);
    assert_eq!(slot(&text.data, 2).off, -3);
    assert!(symbol(&f, ".Lout").temporary && !symbol(&f, "g").temporary);
}

#[test]
fn global_and_foreign_call_targets_and_externs_become_references() {
    let src = "\t.globl g\n\tcall g\n\tcall ext\n\tcall other\ng:\n\texit\n\t.section s,\"ax\",@progbits\nother:\n\texit\n";
    let f = file(src);
    let text = &f.sections[0];
    let kinds: Vec<(u64, RefKind, &str)> = text
        .refs
        .iter()
        .map(|r| (r.offset, r.kind, f.symbols[r.symbol].name.as_str()))
        .collect();
    assert_eq!(
        kinds,
        [
            (0, RefKind::Call, "g"),
            (8, RefKind::Call, "ext"),
            (16, RefKind::Call, "other")
        ]
    );
    assert_eq!(symbol(&f, "ext").binding, Binding::Global);
    assert_eq!(symbol(&f, "ext").definition, None);
    assert!(symbol(&f, "other").is_local_definition());
}

#[test]
fn helper_names_call_helpers_unless_defined_or_declared() {
    let f = file("\tcall bpf_map_lookup_elem\n\texit\n");
    assert_eq!(slot(&f.sections[0].data, 0), Insn::new(0x85, 0, 0, 0, 1));
    assert!(f.sections[0].refs.is_empty());
    let f = file("\t.extern bpf_map_lookup_elem\n\t.globl bpf_map_lookup_elem\n\tcall bpf_map_lookup_elem\n\texit\n");
    assert_eq!(f.sections[0].refs.len(), 1);
}

#[test]
fn lddw_of_a_symbol_with_an_offset() {
    let f = file("\tr1 = table + 8 ll\n\tr2 = table - 4 ll\n\tr3 = 5 ll\n\texit\n");
    let text = &f.sections[0];
    assert_eq!(text.refs.len(), 2);
    assert_eq!(
        (text.refs[0].kind, text.refs[0].addend),
        (RefKind::LoadImm64, 8)
    );
    assert_eq!(text.refs[1].addend, -4);
    assert_eq!(text.refs[1].offset, 16);
    assert_eq!(text.size, 56);
}

#[test]
fn data_directives_strings_and_expressions() {
    let src = "\t.data\na:\n\t.byte 1, -1, 0xff\n\t.short 0x1234\n\t.long -1, 4294967295\n\t.quad 0x1122334455667788\nb:\n\t.long b - a, b-a+2\n\t.ascii \"x#y;z\", \"\\101\\x42\\n\"\n\t.asciz \"\"\n\t.p2align 3, 0x5\n\t.zero 2, 7\n";
    let f = file(src);
    let d = &section(&f, ".data").data;
    let mut want = vec![1u8, 0xff, 0xff, 0x34, 0x12];
    want.extend_from_slice(&[0xff; 8]);
    want.extend_from_slice(&0x1122334455667788u64.to_le_bytes());
    want.extend_from_slice(&21u32.to_le_bytes());
    want.extend_from_slice(&23u32.to_le_bytes());
    want.extend_from_slice(b"x#y;zAB\n\0");
    want.extend_from_slice(&[5, 5]);
    want.extend_from_slice(&[7, 7]);
    assert_eq!(d, &want);
    assert_eq!(section(&f, ".data").align, 8);
}

#[test]
fn quad_and_long_of_symbols_are_references() {
    let f = file("\t.data\np:\n\t.quad p + 16\n\t.long ext\n");
    let data = section(&f, ".data");
    let refs: Vec<(u64, RefKind, i64)> = data
        .refs
        .iter()
        .map(|r| (r.offset, r.kind, r.addend))
        .collect();
    assert_eq!(refs, [(0, RefKind::Abs64, 16), (8, RefKind::Abs32, 0)]);
    assert_eq!(data.data, vec![0; 12]);
}

#[test]
fn symbol_directives() {
    let src = "\t.globl f\n\t.type f,@function\n\t.weak w\n\t.hidden w\n\t.type o, %object\nf:\n\texit\n.Lend:\n\t.size f, .Lend-f\n\t.section .rodata,\"a\",@progbits\no:\n\t.long 1\n\t.size o, 4\n";
    let f = file(src);
    let func = symbol(&f, "f");
    assert_eq!(
        (func.binding, func.kind, func.size),
        (Binding::Global, SymbolKind::Func, 8)
    );
    let w = symbol(&f, "w");
    assert_eq!(
        (w.binding, w.visibility, w.definition),
        (Binding::Weak, Visibility::Hidden, None)
    );
    let o = symbol(&f, "o");
    assert_eq!(
        (o.binding, o.kind, o.size),
        (Binding::Local, SymbolKind::Object, 4)
    );
}

#[test]
fn local_common_symbols_go_to_bss() {
    let f = file("\t.local z\n\t.comm z,4,4\n\t.lcomm y,8,8\n\texit\n");
    let bss = section(&f, ".bss");
    assert_eq!((bss.ty, bss.size, bss.align), (SectionType::NoBits, 16, 8));
    assert!(bss.data.is_empty());
    assert_eq!(symbol(&f, "y").definition, Some((1, 8)));
    assert_eq!(symbol(&f, "z").kind, SymbolKind::Object);
    assert_eq!(f.sections[0].size, 8, "the instruction stays in .text");
}

#[test]
fn bss_takes_zeros() {
    let f = file("\t.bss\nc:\n\t.long 0\n\t.zero 4\n");
    assert_eq!(section(&f, ".bss").size, 8);
}

#[test]
fn debug_information_is_skipped() {
    let src = "\t.text\n\t.file \"a.c\"\n\t.file 0 \"/dir\" \"a.c\" md5 0x00\nf:\n\t.loc 0 6 0\n\t.cfi_startproc\n\t#DEBUG_VALUE: f:x <- $r1\n\texit\n\t.cfi_endproc\n\t.section .debug_abbrev,\"\",@progbits\n\t.byte 1\n\t.uleb128 .Ltmp1-.Lfunc_begin0\nweird stuff the DWARF emitter writes:\n\t.section license,\"aw\",@progbits\n\t.asciz \"GPL\"\n\t.addrsig\n\t.addrsig_sym f\n\t.ident \"clang\"\n";
    let f = file(src);
    assert_eq!(f.source_name.as_deref(), Some("a.c"));
    assert!(f.sections.iter().all(|s| !s.name.starts_with(".debug")));
    assert_eq!(section(&f, "license").data, b"GPL\0");
    assert_eq!(f.sections[0].size, 8);
}

#[test]
fn first_mentions_give_the_order() {
    let f = file(
        "\t.globl b\n\tcall a\n\t.section s,\"ax\",@progbits\nb:\n\texit\n\t.text\na:\n\texit\n",
    );
    let names: Vec<String> = f
        .order
        .iter()
        .map(|m| match *m {
            Mention::Section(i) => format!("section {}", f.sections[i].name),
            Mention::Symbol(i) => f.symbols[i].name.clone(),
        })
        .collect();
    assert_eq!(names, ["section .text", "b", "a", "section s"]);
}

#[test]
fn instructions_are_those_of_the_plain_assembler() {
    let f = file("\tw1 = *(u8 *)(r2 + 3)\n\tlock *(u64 *)(r10 - 8) += r1\n\tr0 = atomic_fetch_add((u64 *)(r1 + 0), r0)\n\tr1 = bswap16 r1\n\texit\n");
    let slots: Vec<Insn> = f.sections[0]
        .data
        .chunks(8)
        .map(|c| Insn::from_bytes(&c.try_into().expect("8 bytes")))
        .collect();
    let plain = crate::asm::assemble(
        "w1 = *(u8 *)(r2 + 3)\nlock *(u64 *)(r10 - 8) += r1\nr0 = atomic_fetch_add((u64 *)(r1 + 0), r0)\nr1 = bswap16 r1\nexit",
        crate::Syntax::Llvm,
    )
    .expect("assembles");
    assert_eq!(slots, plain);
    assert_eq!(
        Instruction::decode(&slots[4..]).expect("exit").0,
        Instruction::Exit
    );
}

/// Where an error is expected and how its message starts: (line, column, len, message).
type Expected = (usize, usize, usize, &'static str);

#[test]
fn errors_name_the_place() {
    let cases: &[(&str, Expected)] = &[
        ("\t.set x, 1\n", (1, 2, 4, "unsupported directive `.set`")),
        ("\texit\n\t.macro m\n", (2, 2, 6, "unsupported directive `.macro`")),
        ("\t.section s,\"axG\",@progbits\n", (1, 13, 5, "unsupported section flag `G`")),
        ("\t.section s,\"a\",@note\n", (1, 18, 4, "unsupported section type `@note`")),
        ("\t.section .BTF,\"\",@progbits\n", (1, 11, 4, "section `.BTF`: BTF is not supported")),
        ("\t.section .rodata.cst8,\"aM\",@progbits\n", (1, 24, 4, "a mergeable section (`M`) needs an entry size")),
        ("\t.text\nf:\n\texit\n\t.section s,\"ax\",@progbits\n\tgoto f\n", (5, 7, 1, "`f` is in section `.text`: a jump stays within its own section")),
        ("\tgoto nowhere\n", (1, 7, 7, "unknown label `nowhere`")),
        ("\tr1 = .Lmissing ll\n\texit\n", (1, 7, 9, "unknown label `.Lmissing`")),
        ("\t.data\n\t.byte 256\n", (2, 8, 3, "256 does not fit in 1 byte (-128 to 255)")),
        ("\t.data\n\t.short x\n", (2, 9, 1, "the address of `x` needs `.quad` or `.long`")),
        ("\t.data\n\t.ascii \"abc\n", (2, 9, 1, "unterminated string")),
        ("\t.data\n\t.ascii \"a\\qb\"\n", (2, 11, 2, "unknown escape `\\q`")),
        ("a:\na:\n", (2, 1, 1, "duplicate label `a` (first defined on line 1)")),
        ("\t.bss\n\t.long 1\n", (2, 8, 1, "section `.bss` is @nobits")),
        ("\t.bss\n\texit\n", (2, 2, 4, "section `.bss` is @nobits (zero-filled, nothing stored): it cannot hold instructions")),
        ("\t.comm c,4,4\n", (1, 2, 5, "`c` is a common symbol")),
        ("\t.globl f\n\t.size f, g\n", (2, 11, 1, "`g` is an address, not a constant")),
        ("\t.data\na:\n\t.text\nb:\n\t.size b, b-a\n", (5, 11, 3, "`b - a`: the labels are in different sections")),
        ("\t.section s,\"ax\",@progbits\n\t.section s,\"aw\",@progbits\n", (2, 11, 1, "section `s` was first given other flags")),
        ("\t.type f,@gnu_indirect_function\n", (1, 10, 22, "unsupported symbol type `gnu_indirect_function`")),
        ("\t.p2align 40\n", (1, 11, 2, "the alignment power must be 0 to 31")),
        ("\t.globl\n", (1, 8, 1, "expected a symbol name, found end of line")),
        ("\t.text extra\n", (1, 8, 5, "unexpected `extra` after `.text`")),
        ("\tw1 = sym ll\n", (1, 2, 11, "a 64-bit load (`ll`) needs a 64-bit register `rN`")),
        ("\tr0 = 1 +\n", (1, 9, 1, "unexpected `+` after the instruction")),
        ("\t.local x\n\tcall x\n", (2, 7, 1, "unknown local symbol `x`")),
        ("\t.section \"a\\0b\",\"a\"\n", (1, 11, 6, "a section name must be non-empty UTF-8 text without NUL bytes")),
        ("\t.globl \"x\\000\"\n", (1, 9, 7, "a symbol name must be non-empty UTF-8 text without NUL bytes")),
        ("\t.file \"\\0\"\n", (1, 8, 4, "a file name must be")),
        ("\t.data\n\t.long -a\n", (2, 8, 2, "a symbol can only be subtracted from another symbol")),
    ];
    let mut wrong = Vec::new();
    for (src, (line, column, len, message)) in cases {
        let (l, c, n, m) = error(src);
        if !m.starts_with(message) || (l, c, n) != (*line, *column, *len) {
            wrong.push(format!("{src:?}: got ({l}, {c}, {n}, {m:?})"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn plain_assembler_rejects_symbol_loads() {
    let e = crate::asm::assemble("r1 = counter ll\nexit", crate::Syntax::Llvm).unwrap_err();
    assert_eq!((e.line, e.column, e.len), (1, 6, 7));
    assert!(e.message.contains("write an ELF object"), "{}", e.message);
}

#[test]
fn huge_sections_are_refused_not_allocated() {
    let (line, _, _, message) = error("\t.data\n\t.zero 4294967295\n\t.zero 4294967295\n");
    assert_eq!(line, 2);
    assert!(
        message.contains("would exceed 268435456 bytes"),
        "{message}"
    );
    let f = file("\t.bss\n\t.zero 4294967295\n");
    assert_eq!(section(&f, ".bss").size, 4294967295);
    let (_, _, _, message) = error("\t.data\n\t.p2align 31\n\t.byte 1\n\t.p2align 31\n");
    assert!(message.contains("would exceed"), "{message}");
}

#[test]
fn token_soup_never_panics() {
    // Random lines from the dialect's own tokens (a fixed-seed LCG, so the
    // test is deterministic): errors are fine, panics are not.
    const TOKENS: &[&str] = &[
        ".section",
        ".text",
        ".data",
        ".bss",
        ".globl",
        ".weak",
        ".local",
        ".type",
        ".size",
        ".p2align",
        ".balign",
        ".byte",
        ".short",
        ".long",
        ".quad",
        ".ascii",
        ".asciz",
        ".zero",
        ".comm",
        ".file",
        ".loc",
        ".cfi_startproc",
        "@function",
        "@object",
        "@progbits",
        "@nobits",
        "\"ax\"",
        "\"aw\"",
        "\"aMS\"",
        "\"a\\",
        "\"\\x\"",
        "\"\\777\"",
        "xdp",
        ".debug_info",
        ".BTF",
        "f",
        "g",
        ".Lend",
        "LBB0_1",
        "f:",
        ".Lend:",
        "g:",
        ",",
        "+",
        "-",
        "0",
        "1",
        "8",
        "-1",
        "0xffffffffffffffff",
        "99999999999999999999999999",
        "4294967296",
        "r0",
        "r1",
        "w1",
        "=",
        "ll",
        "call",
        "goto",
        "exit",
        "if",
        ">",
        "*",
        "(u64",
        "*)",
        "(r10",
        "-",
        "8)",
        "#",
        ";",
        "//",
    ];
    let mut seed: u64 = 0x5eed;
    let mut next = |n: usize| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) as usize % n
    };
    for _ in 0..3000 {
        let mut src = String::new();
        for _ in 0..1 + next(8) {
            for _ in 0..next(7) {
                src.push_str(TOKENS[next(TOKENS.len())]);
                src.push(if next(3) == 0 { '\t' } else { ' ' });
            }
            src.push('\n');
        }
        let _ = assemble_file(&src);
    }
}

#[test]
fn nul_bytes_in_names_are_errors() {
    // Found by the asm_object fuzz target: ELF string tables end names at NUL.
    let (_, _, _, m) = error("\t.section\u{0}\u{0}x,\"ax\",@progbits\n");
    assert!(m.contains("without NUL bytes"), "{m}");
}
