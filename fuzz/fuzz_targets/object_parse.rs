//! Any bytes as a BPF ELF object: `Object::parse` returns an object or a
//! typed error, never panics or hangs; what parses is listed (annotated,
//! with source lines) and its linked programs are consistent.
#![no_main]

use bpfkit_isa::disasm::DisasmOptions;
use bpfkit_object::read::{ListingOptions, Object};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(obj) = Object::parse_named(data, "fuzz") else {
        return;
    };
    for annotate in [false, true] {
        let opts = ListingOptions {
            disasm: DisasmOptions {
                annotate,
                ..DisasmOptions::default()
            },
            source: annotate,
            section: None,
        };
        let _ = obj.listing("fuzz.o", &opts);
    }
    for p in &obj.programs {
        let total: usize = p.functions.iter().map(|f| f.len).sum();
        assert_eq!(total, p.insns.len());
        for r in &p.relocations {
            assert!(r.insn < p.insns.len());
        }
        for l in &p.line_info {
            assert!((l.insn_off as usize) < p.insns.len());
        }
    }
});
