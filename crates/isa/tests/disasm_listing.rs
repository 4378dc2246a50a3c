//! Properties of whole listings on arbitrary input: no slot content makes the
//! disassembler panic, every byte is shown exactly once and in order, and a
//! line is `<unknown>` exactly where the strict decoder refuses the slot.

use bpfkit_isa::disasm::{lines, listing, DisasmOptions, Flavor, ListingContext};
use bpfkit_isa::{encode_slots, helpers, Insn, Instruction, Syntax};
use proptest::prelude::*;

fn slot() -> impl Strategy<Value = Insn> {
    // Real opcodes most of the time, so that decodable instructions, lddw
    // pairs and near-misses are all common.
    let code = prop_oneof![
        any::<u8>(),
        prop::sample::select(vec![
            0x18u8, 0x00, 0x07, 0x0c, 0x34, 0xbc, 0xbf, 0xd4, 0xdc, 0xd7, 0x61, 0x81, 0x62, 0x63,
            0xc3, 0xdb, 0x20, 0x48, 0x05, 0x06, 0x15, 0x5e, 0x85, 0x8d, 0x95,
        ]),
    ];
    let reg = prop_oneof![0u8..=10, 0u8..=15];
    let small = prop_oneof![
        Just(0i16),
        Just(1),
        Just(8),
        Just(16),
        Just(32),
        any::<i16>()
    ];
    let imm = prop_oneof![
        Just(0i32),
        Just(1),
        Just(16),
        Just(0xe1),
        Just(0xf1),
        any::<i32>()
    ];
    (code, reg.clone(), reg, small, imm).prop_map(|(c, d, s, o, i)| Insn::new(c, d, s, o, i))
}

fn all_options() -> Vec<(DisasmOptions, ListingContext)> {
    let mut out = Vec::new();
    for syntax in [Syntax::Llvm, Syntax::Ubpf] {
        for raw_insn in [false, true] {
            for flavor in [Flavor::Alu32, Flavor::NoAlu32] {
                out.push((
                    DisasmOptions {
                        syntax,
                        raw_insn,
                        annotate: true,
                    },
                    ListingContext {
                        flavor,
                        ..ListingContext::default()
                    },
                ));
            }
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn listing_covers_every_byte_and_never_panics(prog in prop::collection::vec(slot(), 0..12)) {
        let bytes = encode_slots(&prog);
        for (opts, ctx) in all_options() {
            let ls = lines(&prog, &opts, &ctx);
            let shown: Vec<u8> = ls.iter().flat_map(|l| l.bytes.iter().copied()).collect();
            prop_assert_eq!(&shown, &bytes);
            for pair in ls.windows(2) {
                prop_assert!(pair[0].pc <= pair[1].pc);
            }
            for l in &ls {
                let strict = Instruction::decode(&prog[l.pc..]).ok().map(|(i, _)| i);
                if l.instruction.is_some() {
                    prop_assert_eq!(l.instruction, strict);
                    prop_assert!(!l.text.is_empty() && l.text != "<unknown>");
                } else {
                    prop_assert_eq!(&l.text, "<unknown>");
                }
            }
            let text = listing(&prog, &opts);
            prop_assert_eq!(text.lines().count(), lines(&prog, &opts, &ListingContext::default()).len());
        }
    }
}

/// Each known helper is named after the objdump text, in both syntaxes;
/// unknown numbers are left alone.
#[test]
fn every_helper_call_is_annotated_with_its_name() {
    for id in [-1i32, 0, 1, 5, 12, 211, 212, i32::MAX] {
        let prog = [Insn::new(0x85, 0, 0, 0, id)];
        for syntax in [Syntax::Llvm, Syntax::Ubpf] {
            let opts = DisasmOptions {
                syntax,
                raw_insn: false,
                annotate: true,
            };
            let text = listing(&prog, &opts);
            match helpers::helper_name(id) {
                Some(name) => assert!(text.ends_with(&format!(" # {name}\n")), "{text:?}"),
                None => assert!(!text.contains('#'), "{text:?}"),
            }
        }
    }
}
