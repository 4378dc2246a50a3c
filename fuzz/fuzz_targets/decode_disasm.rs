//! Any bytes as bytecode into the disassembler, in both syntaxes and with
//! every option: invalid slots print as `<unknown>`, nothing panics.
#![no_main]

use bpfkit_isa::decode_slots;
use bpfkit_isa::disasm::{listing, DisasmOptions};
use bpfkit_isa::Syntax;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // decode_slots refuses a length that is not a multiple of 8; that error
    // path is covered too, then the whole slots are listed.
    let _ = decode_slots(data);
    let whole = &data[..data.len() / 8 * 8];
    let Ok(slots) = decode_slots(whole) else {
        return;
    };
    for syntax in [Syntax::Llvm, Syntax::Ubpf] {
        for raw_insn in [false, true] {
            for annotate in [false, true] {
                let opts = DisasmOptions {
                    syntax,
                    raw_insn,
                    annotate,
                };
                let _ = listing(&slots, &opts);
            }
        }
    }
});
