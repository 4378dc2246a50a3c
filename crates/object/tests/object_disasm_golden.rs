//! Golden test: the object listing (raw bytes, no annotations) equals
//! `llvm-objdump-19 -d` of every fixture object, byte for byte.

use bpfkit_isa::disasm::DisasmOptions;
use bpfkit_object::read::{ListingOptions, Object};
use std::path::PathBuf;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

#[test]
fn listing_equals_llvm_objdump_on_every_fixture() {
    let mut checked = 0;
    let mut entries: Vec<_> = std::fs::read_dir(fixtures())
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    entries.sort();
    for path in entries
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "o"))
    {
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let golden = fixtures().join("golden").join(format!("{name}.objdump"));
        let want = std::fs::read_to_string(&golden)
            .unwrap_or_else(|e| panic!("{}: {e}", golden.display()));
        let obj = Object::open(path).unwrap_or_else(|e| panic!("{e}"));
        let opts = ListingOptions {
            disasm: DisasmOptions {
                raw_insn: true,
                annotate: false,
                ..DisasmOptions::default()
            },
            ..ListingOptions::default()
        };
        let got = obj.listing("NAME.o", &opts);
        if got != want {
            let (g, w): (Vec<_>, Vec<_>) = (got.lines().collect(), want.lines().collect());
            let at = g
                .iter()
                .zip(&w)
                .position(|(a, b)| a != b)
                .unwrap_or(g.len().min(w.len()));
            panic!(
                "{name}: listing differs from llvm-objdump at line {}:\n  got:  {:?}\n  want: {:?}",
                at + 1,
                g.get(at),
                w.get(at)
            );
        }
        checked += 1;
    }
    assert!(checked >= 3, "only {checked} fixtures");
    eprintln!("object disasm golden: {checked} fixtures equal llvm-objdump-19 -d");
}
