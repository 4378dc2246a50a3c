//! Any bytes that pass the structural check, listed and assembled again,
//! give the same slots, in both syntaxes: the disassembler writes what the
//! assembler reads. Instructions a syntax cannot spell exactly (the same
//! list as `crates/isa/tests/round_trip.rs`) are skipped.
#![no_main]

use bpfkit_isa::asm::assemble;
use bpfkit_isa::disasm::{listing, DisasmOptions};
use bpfkit_isa::{check, decode_slots, CallTarget, Instruction, LddwKind, Syntax};
use libfuzzer_sys::fuzz_target;

/// Whether `syntax` spells `insn` exactly in an annotated listing.
fn representable(insn: &Instruction, syntax: Syntax) -> bool {
    match (syntax, insn) {
        (
            Syntax::Llvm,
            Instruction::LoadImm64 {
                kind: LddwKind::Imm64,
                ..
            },
        ) => true,
        (Syntax::Llvm, Instruction::LoadImm64 { hi, .. }) => *hi == 0,
        (Syntax::Llvm, Instruction::Call(CallTarget::Helper(id))) => *id >= 0,
        (Syntax::Llvm, Instruction::Call(CallTarget::Kfunc { .. })) => false,
        (Syntax::Ubpf, Instruction::LoadImm64 { kind, .. }) => *kind == LddwKind::Imm64,
        (Syntax::Ubpf, Instruction::Call(CallTarget::Kfunc { off, .. })) => *off == 0,
        _ => true,
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(slots) = decode_slots(&data[..data.len() / 8 * 8]) else {
        return;
    };
    let Ok(program) = check(&slots) else {
        return;
    };
    for syntax in [Syntax::Llvm, Syntax::Ubpf] {
        if !program
            .instructions()
            .iter()
            .all(|(_, i)| representable(i, syntax))
        {
            continue;
        }
        let opts = DisasmOptions {
            syntax,
            raw_insn: syntax == Syntax::Llvm,
            annotate: true,
        };
        let text = listing(&slots, &opts);
        match assemble(&text, syntax) {
            Ok(again) => assert!(
                again == slots,
                "{syntax:?} listing reassembles differently:\n{text}"
            ),
            Err(e) => panic!("{syntax:?} listing does not reassemble: {e}\n{text}"),
        }
    }
});
