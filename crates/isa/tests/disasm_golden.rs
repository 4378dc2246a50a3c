//! Golden test: our listing of each fixture's `.text` bytes equals, byte for
//! byte, the instruction lines `llvm-objdump-19 -d` printed for the object.
//!
//! The fixtures (tests/fixtures/disasm) are committed with the script that
//! rebuilds them (`rebuild.sh`), so this test needs no LLVM tool. Each is
//! checked four ways: objdump with and without the alu32 decoder
//! (`--mcpu=v4` or not), each with and without `--no-show-raw-insn`.

use bpfkit_isa::disasm::{listing_with, DisasmOptions, Flavor, ListingContext, Symbol};
use bpfkit_isa::{decode_slots, Insn, Syntax};
use std::path::PathBuf;

const FIXTURES: &[&str] = &["all_forms", "random_valid", "loops", "parse"];

fn fixture_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/disasm")
}

fn read(name: &str) -> String {
    let path = fixture_dir().join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn slots(name: &str) -> Vec<Insn> {
    let path = fixture_dir().join(format!("{name}.bin"));
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    decode_slots(&bytes).unwrap()
}

/// `NAME.syms`: one `hex-offset name` per line, as `llvm-nm` printed it.
fn symbols(name: &str) -> Vec<Symbol> {
    read(&format!("{name}.syms"))
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let (off, sym) = l.split_once(' ').expect("offset and name");
            Symbol {
                offset: u64::from_str_radix(off, 16).expect("hex offset"),
                name: sym.to_string(),
            }
        })
        .collect()
}

/// objdump's instruction lines: `<spaces><index>:\t...`; headers such as
/// `0000000000000000 <count>:` and blank lines are not instructions.
fn instruction_lines(objdump: &str) -> Vec<&str> {
    objdump
        .lines()
        .filter(|l| {
            let t = l.trim_start_matches(' ');
            let digits = t.bytes().take_while(u8::is_ascii_digit).count();
            digits > 0 && t[digits..].starts_with(":\t")
        })
        .collect()
}

fn check(name: &str, objdump_file: &str, flavor: Flavor, raw_insn: bool) -> usize {
    let expected_text = read(objdump_file);
    let expected = instruction_lines(&expected_text);
    let ctx = ListingContext {
        section: ".text".into(),
        symbols: symbols(name),
        flavor,
    };
    let opts = DisasmOptions {
        syntax: Syntax::Llvm,
        raw_insn,
        annotate: false,
    };
    let ours_text = listing_with(&slots(name), &opts, &ctx);
    let ours: Vec<&str> = ours_text.lines().collect();
    let mismatches: Vec<String> = expected
        .iter()
        .zip(&ours)
        .filter(|(e, o)| e != o)
        .take(10)
        .map(|(e, o)| format!("  objdump: {e:?}\n  bpfkit:  {o:?}"))
        .collect();
    assert!(
        mismatches.is_empty() && expected.len() == ours.len(),
        "{objdump_file}: {} objdump lines, {} ours; first differences:\n{}",
        expected.len(),
        ours.len(),
        mismatches.join("\n")
    );
    expected.len()
}

fn check_all(suffix: &str, flavor: Flavor, raw_insn: bool) {
    let mut total = 0;
    for name in FIXTURES {
        total += check(name, &format!("{name}{suffix}"), flavor, raw_insn);
    }
    assert!(total > 1000, "only {total} instruction lines compared");
}

#[test]
fn alu32_objdump_with_raw_bytes() {
    check_all(".v4.objdump", Flavor::Alu32, true);
}

#[test]
fn alu32_objdump_without_raw_bytes() {
    check_all(".v4.noraw.objdump", Flavor::Alu32, false);
}

#[test]
fn plain_objdump_with_raw_bytes() {
    check_all(".objdump", Flavor::NoAlu32, true);
}

#[test]
fn plain_objdump_without_raw_bytes() {
    check_all(".noraw.objdump", Flavor::NoAlu32, false);
}

/// The default listing is `llvm-objdump -d --mcpu=v4` of a symbol-less `.text`.
#[test]
fn default_listing_matches_objdump_of_symbolless_object() {
    let ours = bpfkit_isa::disasm::listing(&slots("random_valid"), &DisasmOptions::default());
    let expected_text = read("random_valid.v4.objdump");
    let expected = instruction_lines(&expected_text);
    assert_eq!(ours.lines().collect::<Vec<_>>(), expected);
}
