//! Round trip: disassembling and assembling again gives the same slots, in
//! both syntaxes.
//!
//! - A property test over random valid typed instructions: encode, print
//!   as an annotated listing line, assemble, compare slots.
//! - The golden fixtures as whole listings (LLVM with objdump's addresses,
//!   raw bytes and `<sym+0x..>` annotations; uBPF as bare lines).
//! - Every bpf_conformance program (when ../shared/bpf_conformance is
//!   there): assemble its uBPF source, print it, assemble again.
//!
//! A few instructions have no exact spelling in a syntax, because objdump's
//! text drops a field (see `representable`); they are left out of the
//! property test and must be the only differences in the listings.

use bpfkit_isa::asm::assemble;
use bpfkit_isa::disasm::{listing, listing_with, DisasmOptions, ListingContext};
use bpfkit_isa::{
    decode_slots, AluOp, AtomicOp, ByteOrder, CallTarget, Cond, Insn, Instruction, LddwKind,
    Operand, Reg, Size, Syntax, Width,
};
use proptest::prelude::*;
use std::path::{Path, PathBuf};

/// Writes a summary line straight to stderr, past the test harness's output
/// capture, so `cargo test` shows how many vectors ran (or that they were skipped).
macro_rules! report {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

/// Whether `syntax` can spell `insn` exactly in annotated listings (the
/// CLI's default). LLVM's text drops the high half of a pseudo `lddw`
/// (`ld_pseudo r1, src, imm`) and cannot name a kfunc's call kind (`call 0x3`
/// reads back as a helper); uBPF syntax has no pseudo `lddw` and no kfunc
/// BTF-fd index. Local calls and `LD_IND` offsets, which objdump's text also
/// loses, are spelled the verifier log's way when annotated.
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
        // Negative helper numbers do not exist; bpfkit reads `call -0x3`
        // as a local call, as objdump shows clang's BPF-to-BPF calls.
        (Syntax::Llvm, Instruction::Call(CallTarget::Helper(id))) => *id >= 0,
        (Syntax::Llvm, Instruction::Call(CallTarget::Kfunc { .. })) => false,
        (Syntax::Ubpf, Instruction::LoadImm64 { kind, .. }) => *kind == LddwKind::Imm64,
        (Syntax::Ubpf, Instruction::Call(CallTarget::Kfunc { off, .. })) => *off == 0,
        _ => true,
    }
}

fn reg() -> impl Strategy<Value = Reg> {
    (0u8..=10).prop_map(|n| Reg::new(n).unwrap())
}

/// A register an instruction may write (not r10).
fn wreg() -> impl Strategy<Value = Reg> {
    (0u8..=9).prop_map(|n| Reg::new(n).unwrap())
}

fn imm() -> impl Strategy<Value = i32> {
    prop_oneof![
        Just(0),
        Just(-1),
        Just(i32::MIN),
        Just(i32::MAX),
        -20i32..20,
        any::<i32>()
    ]
}

fn off() -> impl Strategy<Value = i16> {
    prop_oneof![
        Just(0),
        Just(i16::MIN),
        Just(i16::MAX),
        -20i16..20,
        any::<i16>()
    ]
}

fn width() -> impl Strategy<Value = Width> {
    prop_oneof![Just(Width::W32), Just(Width::W64)]
}

fn size() -> impl Strategy<Value = Size> {
    prop_oneof![Just(Size::B), Just(Size::H), Just(Size::W), Just(Size::DW)]
}

fn operand() -> impl Strategy<Value = Operand> {
    prop_oneof![reg().prop_map(Operand::Reg), imm().prop_map(Operand::Imm)]
}

fn alu_op() -> impl Strategy<Value = AluOp> {
    prop_oneof![
        Just(AluOp::Add),
        Just(AluOp::Sub),
        Just(AluOp::Mul),
        Just(AluOp::Div),
        Just(AluOp::SDiv),
        Just(AluOp::Or),
        Just(AluOp::And),
        Just(AluOp::Lsh),
        Just(AluOp::Rsh),
        Just(AluOp::Mod),
        Just(AluOp::SMod),
        Just(AluOp::Xor),
        Just(AluOp::Mov),
        Just(AluOp::Arsh),
        prop_oneof![Just(8u8), Just(16), Just(32)].prop_map(AluOp::MovSx),
    ]
}

fn cond() -> impl Strategy<Value = Cond> {
    prop_oneof![
        Just(Cond::Eq),
        Just(Cond::Gt),
        Just(Cond::Ge),
        Just(Cond::Set),
        Just(Cond::Ne),
        Just(Cond::Sgt),
        Just(Cond::Sge),
        Just(Cond::Lt),
        Just(Cond::Le),
        Just(Cond::Slt),
        Just(Cond::Sle),
    ]
}

fn lddw_kind() -> impl Strategy<Value = LddwKind> {
    prop_oneof![
        4 => Just(LddwKind::Imm64),
        1 => Just(LddwKind::MapFd),
        1 => Just(LddwKind::MapValue),
        1 => Just(LddwKind::BtfId),
        1 => Just(LddwKind::Func),
        1 => Just(LddwKind::MapIdx),
        1 => Just(LddwKind::MapIdxValue),
    ]
}

fn atomic() -> impl Strategy<Value = Instruction> {
    let op = prop_oneof![
        Just(AtomicOp::Add),
        Just(AtomicOp::Or),
        Just(AtomicOp::And),
        Just(AtomicOp::Xor),
        Just(AtomicOp::Xchg),
        Just(AtomicOp::CmpXchg),
    ];
    let size = prop_oneof![Just(Size::W), Just(Size::DW)];
    (size, op, any::<bool>(), reg(), wreg(), off()).prop_map(|(size, op, fetch, dst, src, off)| {
        let fetch = fetch || matches!(op, AtomicOp::Xchg | AtomicOp::CmpXchg);
        Instruction::Atomic {
            size,
            op,
            fetch,
            dst,
            src,
            off,
        }
    })
}

fn call() -> impl Strategy<Value = Instruction> {
    prop_oneof![
        imm().prop_map(|i| Instruction::Call(CallTarget::Helper(i))),
        imm().prop_map(|i| Instruction::Call(CallTarget::Local(i))),
        (imm(), off())
            .prop_map(|(btf_id, off)| Instruction::Call(CallTarget::Kfunc { btf_id, off })),
        reg().prop_map(|reg| Instruction::CallX { reg }),
        Just(Instruction::Exit),
    ]
}

/// Any instruction; invalid combinations (movsx from an immediate,
/// `ldxsdw`, ...) are filtered out by requiring a strict decode round trip.
fn instruction() -> impl Strategy<Value = Instruction> {
    let any_insn = prop_oneof![
        (width(), alu_op(), wreg(), operand()).prop_map(|(width, op, dst, src)| Instruction::Alu {
            width,
            op,
            dst,
            src
        }),
        (width(), wreg()).prop_map(|(width, dst)| Instruction::Neg { width, dst }),
        (
            prop_oneof![
                Just(ByteOrder::Le),
                Just(ByteOrder::Be),
                Just(ByteOrder::Swap)
            ],
            prop_oneof![Just(16u8), Just(32), Just(64)],
            wreg()
        )
            .prop_map(|(order, bits, dst)| Instruction::Endian { order, bits, dst }),
        (wreg(), lddw_kind(), imm(), imm())
            .prop_map(|(dst, kind, lo, hi)| Instruction::LoadImm64 { dst, kind, lo, hi }),
        (size(), any::<bool>(), wreg(), reg(), off()).prop_map(|(size, signed, dst, src, off)| {
            Instruction::Load {
                size,
                signed,
                dst,
                src,
                off,
            }
        }),
        (size(), reg(), off(), operand()).prop_map(|(size, dst, off, src)| Instruction::Store {
            size,
            dst,
            off,
            src
        }),
        atomic(),
        (
            prop_oneof![Just(Size::B), Just(Size::H), Just(Size::W)],
            proptest::option::of(reg()),
            imm()
        )
            .prop_map(|(size, src, imm)| Instruction::LoadPacket { size, src, imm }),
        (any::<bool>(), imm(), off()).prop_map(|(long, imm, off)| Instruction::Ja {
            off: if long { imm } else { off as i32 },
            long
        }),
        (width(), cond(), reg(), operand(), off()).prop_map(|(width, cond, dst, src, off)| {
            Instruction::Jump {
                width,
                cond,
                dst,
                src,
                off,
            }
        }),
        call(),
    ];
    any_insn.prop_filter("must be a valid encoding", |i| {
        Instruction::decode(i.encode().as_slice()).map(|(d, _)| d) == Ok(*i)
    })
}

fn round_trip(insn: &Instruction, syntax: Syntax) -> Result<(), TestCaseError> {
    let expected = insn.encode();
    let opts = DisasmOptions {
        syntax,
        raw_insn: false,
        annotate: true,
    };
    let text = listing(expected.as_slice(), &opts);
    let slots = assemble(&text, syntax)
        .map_err(|e| TestCaseError::fail(format!("{syntax:?} `{text}` does not assemble: {e}")))?;
    prop_assert_eq!(
        slots.as_slice(),
        expected.as_slice(),
        "{:?} `{}` ({:?})",
        syntax,
        text,
        insn
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn every_instruction_round_trips_in_llvm_syntax(insn in instruction()) {
        prop_assume!(representable(&insn, Syntax::Llvm));
        round_trip(&insn, Syntax::Llvm)?;
    }

    #[test]
    fn every_instruction_round_trips_in_ubpf_syntax(insn in instruction()) {
        prop_assume!(representable(&insn, Syntax::Ubpf));
        round_trip(&insn, Syntax::Ubpf)?;
    }
}

fn fixture_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/disasm")
}

/// Lists `slots` in `syntax`, assembles the listing and compares slot by
/// slot; a difference is allowed only where the syntax cannot spell the
/// original instruction. Returns how many instructions matched.
fn listing_round_trip(name: &str, slots: &[Insn], syntax: Syntax, raw_insn: bool) -> usize {
    let opts = DisasmOptions {
        syntax,
        raw_insn,
        annotate: true,
    };
    let text = listing_with(slots, &opts, &ListingContext::default());
    let back = assemble(&text, syntax)
        .unwrap_or_else(|e| panic!("{name} {syntax:?} listing does not assemble: {e}"));
    assert_eq!(back.len(), slots.len(), "{name} {syntax:?}: slot count");
    let mut pc = 0;
    let mut matched = 0;
    while pc < slots.len() {
        let (insn, n) = Instruction::decode(&slots[pc..]).unwrap();
        if back[pc..pc + n] == slots[pc..pc + n] {
            matched += 1;
        } else {
            assert!(
                !representable(&insn, syntax),
                "{name} {syntax:?} slot {pc}: {insn:?} came back as {:?}",
                &back[pc..pc + n]
            );
        }
        pc += n;
    }
    matched
}

#[test]
fn golden_fixture_listings_round_trip() {
    for name in ["all_forms", "random_valid", "loops", "parse"] {
        let bytes = std::fs::read(fixture_dir().join(format!("{name}.bin"))).unwrap();
        let slots = decode_slots(&bytes).unwrap();
        for (syntax, raw) in [
            (Syntax::Llvm, true),
            (Syntax::Llvm, false),
            (Syntax::Ubpf, false),
        ] {
            let matched = listing_round_trip(name, &slots, syntax, raw);
            assert!(
                matched * 10 >= slots.len() * 8,
                "{name} {syntax:?}: only {matched} matched"
            );
        }
    }
}

fn conformance_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/bpf_conformance/tests")
}

/// The `-- asm` section of a conformance test file.
fn asm_section(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let mut out = String::new();
    let mut inside = false;
    for line in text.lines() {
        if let Some(section) = line.strip_prefix("-- ") {
            inside = section.trim() == "asm";
            continue;
        }
        if inside {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

#[test]
fn conformance_programs_round_trip_in_both_syntaxes() {
    let dir = conformance_dir();
    let Ok(entries) = std::fs::read_dir(&dir) else {
        report!("skipped: no conformance vectors at {}", dir.display());
        return;
    };
    let mut programs = 0;
    for entry in entries {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "data") {
            continue;
        }
        let Ok(slots) = assemble(&asm_section(&path), Syntax::Ubpf) else {
            continue; // not every vector is meant to assemble; the assembler's tests cover that
        };
        if slots.iter().any(|s| s.dst > 10 || s.src > 10) {
            continue; // negative tests with fake registers
        }
        let valid = {
            let mut pc = 0;
            let mut ok = true;
            while pc < slots.len() && ok {
                match Instruction::decode(&slots[pc..]) {
                    Ok((_, n)) => pc += n,
                    Err(_) => ok = false,
                }
            }
            ok
        };
        if !valid {
            continue;
        }
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        for syntax in [Syntax::Llvm, Syntax::Ubpf] {
            listing_round_trip(&name, &slots, syntax, false);
        }
        programs += 1;
    }
    assert!(
        programs > 150,
        "only {programs} conformance programs round-tripped"
    );
}
