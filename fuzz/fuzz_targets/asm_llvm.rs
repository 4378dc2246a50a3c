//! Any UTF-8 text into the LLVM-syntax assembler: it returns slots or a typed
//! error, never panics; what it assembles, the disassembler lists.
#![no_main]

use bpfkit_isa::asm::assemble;
use bpfkit_isa::disasm::{listing, DisasmOptions};
use bpfkit_isa::Syntax;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Ok(slots) = assemble(text, Syntax::Llvm) {
        for syntax in [Syntax::Llvm, Syntax::Ubpf] {
            let opts = DisasmOptions {
                syntax,
                raw_insn: true,
                annotate: true,
            };
            let _ = listing(&slots, &opts);
        }
    }
});
