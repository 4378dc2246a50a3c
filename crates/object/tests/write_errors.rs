//! References the assembler accepts but a BPF relocation cannot express:
//! each is an error at the place it was written, never a wrong object.

use bpfkit_object::write::{assemble_object, WriteError};

fn error(src: &str) -> (usize, usize, String) {
    match assemble_object(src) {
        Ok(_) => panic!("{src:?} was written"),
        Err(WriteError::Asm(e)) => (e.line, e.column, e.message),
        Err(other) => panic!("{src:?}: {other}"),
    }
}

#[test]
fn a_call_into_the_middle_of_an_instruction_is_refused() {
    // `f` sits one byte into .text, so `.text + 1` is no instruction.
    let src = "\t.text\n\t.byte 1\nf:\n\texit\n\t.section s,\"ax\",@progbits\n\tcall f\n";
    let (line, column, message) = error(src);
    assert_eq!((line, column), (6, 7));
    assert!(
        message.contains("not on an instruction boundary"),
        "{message}"
    );
}

#[test]
fn addends_beyond_the_patched_field_are_refused() {
    let (line, column, message) = error("\tr1 = ext + 0x100000000 ll\n\texit\n");
    assert_eq!((line, column), (1, 7));
    assert!(
        message.contains("does not fit in the 32-bit field"),
        "{message}"
    );
    let (line, _, message) = error("\t.data\n\t.long ext + 0x100000000\n");
    assert_eq!(line, 2);
    assert!(
        message.contains("does not fit in the 32-bit field"),
        "{message}"
    );
    // A local data symbol far into its section: the section offset is the addend.
    let src = "\t.bss\n\t.zero 4294967296\nfar:\n\t.zero 8\n\t.text\n\tr1 = far ll\n\texit\n";
    let (line, column, message) = error(src);
    assert_eq!((line, column), (6, 7));
    assert!(message.contains("does not fit"), "{message}");
}

#[test]
fn errors_render_with_the_source_line() {
    let src = "\t.text\n\tcall .Lnowhere\n";
    let Err(WriteError::Asm(e)) = assemble_object(src) else {
        panic!("written");
    };
    assert_eq!(
        e.render(src, "p.s"),
        "p.s:2:7: error: unknown label `.Lnowhere`\n  |\n2 | \tcall .Lnowhere\n  | \t     ^^^^^^^^^\n"
    );
}

#[test]
fn addends_that_fit_are_stored_in_place() {
    let elf = assemble_object("\tr1 = ext - 8 ll\n\texit\n\t.data\n\t.long ext + 0xfffffff0\n")
        .expect("written");
    // Section bytes follow the ELF header: .text at 0x40 (aligned to 4).
    assert_eq!(&elf[0x44..0x48], &(-8i32).to_le_bytes());
    assert!(elf.windows(4).any(|w| w == 0xfffffff0u32.to_le_bytes()));
}

#[test]
fn a_huge_section_alignment_pads_no_file_offset() {
    // Found by fuzzing asm_object (fuzz/regressions/asm_object/
    // p2align_31_first): `.p2align 31` at the start of a section made the
    // writer align the section's file offset to 2 GiB, writing the
    // padding. The header keeps the alignment; the file stays small.
    use object::{Object, ObjectSection};
    let src = "\t.section s,\"ax\",@progbits\n\t.p2align 31\n\tr0 = 0\n\texit\n";
    let elf = assemble_object(src).unwrap();
    assert!(elf.len() < 8192, "{} bytes", elf.len());
    let file = object::File::parse(&*elf).unwrap();
    let s = file.section_by_name("s").unwrap();
    assert_eq!((s.align(), s.size()), (1 << 31, 16));
    assert_eq!(s.data().unwrap()[0], 0xb7);
    // The fuzzer's own input assembles, or fails, without the padding.
    let found = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fuzz/regressions/asm_object/p2align_31_first"
    );
    let text = String::from_utf8_lossy(&std::fs::read(found).unwrap()).into_owned();
    if let Ok(elf) = assemble_object(&text) {
        assert!(elf.len() < 1 << 20, "{} bytes", elf.len());
    }
}
