//! Malformed objects: every fixture truncated, bit-flipped and partly
//! randomised must give `Ok` or a typed `Err`, never a panic; the listing
//! and every program of what still parses must be usable.

use bpfkit_isa::disasm::DisasmOptions;
use bpfkit_object::read::{ListingOptions, MapSource, Object};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;

fn fixtures() -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut out: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "o"))
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    out.sort();
    assert!(out.len() >= 3);
    out
}

/// xorshift64*: deterministic, so a failure reproduces.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Parses, and uses what parsed; returns whether it parsed.
fn exercise(what: &str, bytes: &[u8]) -> bool {
    let r = catch_unwind(AssertUnwindSafe(|| match Object::parse(bytes) {
        Ok(obj) => {
            let opts = ListingOptions {
                disasm: DisasmOptions {
                    annotate: true,
                    ..DisasmOptions::default()
                },
                source: true,
                ..ListingOptions::default()
            };
            let _ = obj.listing("x.o", &opts);
            for p in &obj.programs {
                assert_eq!(
                    p.functions.iter().map(|f| f.len).sum::<usize>(),
                    p.insns.len()
                );
                for r in &p.relocations {
                    assert!(r.insn < p.insns.len());
                }
            }
            true
        }
        Err(e) => {
            assert!(!e.to_string().is_empty());
            false
        }
    }));
    match r {
        Ok(parsed) => parsed,
        Err(_) => panic!("{what}: the reader panicked"),
    }
}

#[test]
fn truncated_objects_never_panic() {
    for (name, bytes) in fixtures() {
        assert!(exercise(&name, &bytes), "{name} itself must parse");
        let step = (bytes.len() / 300).max(1);
        let mut len = 0;
        while len < bytes.len() {
            exercise(&format!("{name} cut to {len}"), &bytes[..len]);
            len += if len < 256 { 1 } else { step };
        }
    }
}

#[test]
fn bit_flipped_objects_never_panic() {
    let mut rng = Rng(0x5eed_0b1e_c7ed);
    let mut parsed = 0;
    let mut total = 0;
    for (name, bytes) in fixtures() {
        for _ in 0..1500 {
            let mut b = bytes.clone();
            // Flip a header or section-table byte half the time: that is
            // where a flip changes most.
            let i = if rng.next() & 1 == 0 {
                rng.below(64.min(b.len()))
            } else {
                rng.below(b.len())
            };
            b[i] ^= 1 << rng.below(8);
            parsed += exercise(&format!("{name} bit flip at {i}"), &b) as usize;
            total += 1;
        }
    }
    eprintln!("bit flips: {parsed} of {total} still parse");
}

#[test]
fn randomised_objects_never_panic() {
    let mut rng = Rng(0xdead_beef_1234);
    for (name, bytes) in fixtures() {
        for round in 0..300 {
            let mut b = bytes.clone();
            let start = rng.below(b.len());
            let len = 1 + rng.below(64);
            for x in b.iter_mut().skip(start).take(len) {
                *x = rng.next() as u8;
            }
            // Sometimes a field that matters: a random u32 at a 4-aligned spot.
            if round % 3 == 0 {
                let at = rng.below(b.len() / 4) * 4;
                let v = rng.next() as u32;
                b[at..at + 4].copy_from_slice(&v.to_le_bytes());
            }
            exercise(
                &format!("{name} random bytes at {start}+{len} (round {round})"),
                &b,
            );
        }
    }
    for n in [0usize, 1, 4, 16, 64, 1000] {
        let mut rng = Rng(n as u64 + 7);
        let junk: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
        assert!(!exercise("junk", &junk));
    }
}

/// `bytes` with section `name`'s `sh_size` set to `size` (a 64-bit
/// little-endian ELF, as every fixture is).
fn with_section_size(bytes: &[u8], name: &str, size: u64) -> Vec<u8> {
    let u16_at = |at: usize| u16::from_le_bytes(bytes[at..at + 2].try_into().unwrap()) as usize;
    let u32_at = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
    let u64_at = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap()) as usize;
    let (shoff, shnum, shstrndx) = (u64_at(0x28), u16_at(0x3c), u16_at(0x3e));
    let header = |i: usize| shoff + i * 64;
    let strtab = u64_at(header(shstrndx) + 0x18);
    let index = (0..shnum)
        .find(|&i| {
            let at = strtab + u32_at(header(i));
            bytes[at..].split(|&b| b == 0).next() == Some(name.as_bytes())
        })
        .unwrap();
    let mut out = bytes.to_vec();
    out[header(index) + 0x20..header(index) + 0x28].copy_from_slice(&size.to_le_bytes());
    out
}

#[test]
fn a_bss_that_claims_gigabytes_is_not_allocated() {
    // Found by fuzzing object_parse (fuzz/regressions/object_parse/
    // bss_claims_4gib): a `.bss` header claiming 4 GiB made the reader
    // allocate its zeros. They are now left to whoever creates the map.
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/gcc_xdp_count.o");
    let bytes = with_section_size(&std::fs::read(path).unwrap(), ".bss", 0xf000_0000);
    let obj = Object::parse_named(&bytes, "gcc_xdp_count").unwrap();
    let bss = obj.maps.iter().find(|m| m.name.ends_with(".bss")).unwrap();
    assert_eq!((bss.value_size, bss.data.is_none()), (0xf000_0000, true));
    // A size past u32 is refused, naming the section.
    let bytes = with_section_size(&bytes, ".bss", 1 << 33);
    let err = Object::parse_named(&bytes, "gcc_xdp_count").unwrap_err();
    assert!(err.to_string().contains(".bss"), "{err}");
    // The fuzzer's own input parses, or fails, without the allocation.
    let found = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/regressions/object_parse/bss_claims_4gib");
    exercise("bss_claims_4gib", &std::fs::read(found).unwrap());
}

#[test]
fn a_kconfig_extern_that_claims_gigabytes_is_refused_without_the_allocation() {
    // Found by fuzzing object_parse (fuzz/regressions/object_parse/
    // kconfig_claims_2gib): a `.kconfig` extern whose BTF type claims
    // 2 GiB made the reader allocate the map's zeros before it found the
    // object's other fault (the unit test of `globals::kconfig_map` pins
    // that the zeros are no longer allocated). The input is refused, naming
    // the relocation.
    let found = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/regressions/object_parse/kconfig_claims_2gib");
    let bytes = std::fs::read(found).unwrap();
    let err = Object::parse_named(&bytes, "fuzzed").unwrap_err();
    assert!(err.to_string().contains("sys_enter_getpid"), "{err}");
    assert!(!exercise("kconfig_claims_2gib", &bytes));
    // The real fixture's .kconfig has no bytes as read either.
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/ksyms_kconfig.o");
    let obj = Object::open(path).unwrap();
    let kconfig = obj
        .maps
        .iter()
        .find(|m| m.source == MapSource::Kconfig)
        .unwrap();
    assert_eq!(
        (kconfig.value_size > 0, kconfig.data.is_none()),
        (true, true)
    );
}
