//! CO-RE relocation on hand-built BTF: the value per kind, instruction
//! patching, candidate pruning and module BTF, and every failure a
//! relocation can have (ambiguity, missing target, bad access string, an
//! instruction that does not hold the local value, ...), plus the JSON
//! report and a no-panic sweep over arbitrary records.

mod co_re_common;

use bpfkit_isa::Insn;
use bpfkit_object::btf::int_encoding::SIGNED;
use bpfkit_object::btf::{Btf, BtfBuilder, CoreRelo, CoreReloKind, Endian};
use bpfkit_object::co_re::{
    find_candidates, patch_insn, CoreErrorKind, CoreOutcome, CoreTarget, Patch, ReloValue,
    Relocator, POISON_IMM,
};
use co_re_common::{local, parsed, relo, target, LDDW, LDX_B, LDX_W, MOV64_K};

#[test]
fn values_and_patches_per_kind() {
    let (lb, ids) = local();
    let tb = target();
    let mut r = Relocator::new(&lb, CoreTarget::new(&tb));
    use CoreReloKind::*;
    let mut insns = vec![
        Insn::new(LDX_W, 0, 1, 0, 0),    // pid at 0 -> 32
        Insn::new(LDX_W, 0, 1, 4, 0),    // u32 flags at 4 -> u64 at 8: load grows
        Insn::new(LDX_W, 0, 1, 28, 0),   // in.y at 28 -> 16 (anonymous union)
        Insn::new(MOV64_K, 0, 0, 0, 1),  // field_exists(in.x) = 1
        Insn::new(MOV64_K, 0, 0, 0, 16), // byte_sz(comm) 16 -> 8
        Insn::new(LDX_B, 0, 1, 18, 0),   // comm[10]: out of bounds -> poison
        Insn::new(LDDW, 0, 0, 0, 2),     // enumval_value(B) 2 -> 20
        Insn::new(0, 0, 0, 0, 0),
        Insn::new(MOV64_K, 0, 0, 0, 1), // enumval_value(A) 1 -> -5
        Insn::new(LDDW, 0, 0, 0, 3),    // enumval_value(GONE): poison both slots
        Insn::new(0, 0, 0, 0, 0),
        Insn::new(MOV64_K, 0, 0, 0, 40), // type_size(task) 40 -> 48
        Insn::new(MOV64_K, 0, 0, 0, ids.task as i32), // local type id stays
    ];
    let relos = [
        relo(FieldByteOffset, ids.task, "0:0", 0),
        relo(FieldByteOffset, ids.task, "0:1", 8),
        relo(FieldByteOffset, ids.task, "0:3:1", 16),
        relo(FieldExists, ids.task, "0:3:0", 24),
        relo(FieldByteSize, ids.task, "0:2", 32),
        relo(FieldByteOffset, ids.task, "0:2:10", 40),
        relo(EnumvalValue, ids.st, "1", 48),
        relo(EnumvalValue, ids.st, "0", 64),
        relo(EnumvalValue, ids.st, "2", 72),
        relo(TypeSize, ids.task, "0", 88),
        relo(TypeIdLocal, ids.task, "0", 96),
    ];
    let res: Vec<_> = relos
        .iter()
        .enumerate()
        .map(|(i, x)| r.relocate("test", i, x, &mut insns).unwrap())
        .collect();
    assert_eq!(insns[0], Insn::new(LDX_W, 0, 1, 32, 0));
    assert_eq!(insns[1], Insn::new(0x79, 0, 1, 8, 0), "LDX W became DW");
    assert_eq!(
        res[1].outcome,
        CoreOutcome::Patched {
            patch: Patch::Mem {
                old: 4,
                new: 8,
                size: Some((4, 8))
            }
        }
    );
    assert_eq!(
        insns[2].off, 16,
        "in.y: the anonymous union at byte 16, y first"
    );
    assert_eq!(
        res[2].target().unwrap().spec,
        "[8] struct task.in.y (0:2:0:0 @ offset 16)"
    );
    assert_eq!(
        res[2].local,
        format!("[{}] struct task.in.y (0:3:1 @ offset 28)", ids.task)
    );
    assert_eq!(insns[3].imm, 1);
    assert_eq!(insns[4].imm, 8);
    assert_eq!(insns[5], Insn::new(0x85, 0, 0, 0, POISON_IMM));
    assert!(res[5].is_poisoned() && res[5].target.is_none());
    assert_eq!((insns[6].imm, insns[7].imm), (20, 0));
    assert_eq!(
        insns[8].imm, -5,
        "negative enumerator through a 32-bit immediate"
    );
    assert_eq!(insns[9], Insn::new(0x85, 0, 0, 0, POISON_IMM));
    assert_eq!(
        insns[10],
        Insn::new(0x85, 0, 0, 0, POISON_IMM),
        "second lddw slot poisoned too"
    );
    assert_eq!(insns[11].imm, 48);
    assert_eq!(insns[12].imm, ids.task as i32);
    assert!(!res[10].value.unwrap().validate);
}

fn relocate_err(lb: &Btf, tb: &Btf, rec: CoreRelo, insns: &mut [Insn]) -> CoreErrorKind {
    let mut r = Relocator::new(lb, CoreTarget::new(tb));
    let e = r.relocate("sec/x", 3, &rec, insns).unwrap_err();
    let text = e.to_string();
    assert!(
        text.starts_with("section 'sec/x' relo #3 (insn #"),
        "error names the relocation: {text}"
    );
    e.reason
}

#[test]
fn error_paths_name_the_relocation() {
    let (lb, ids) = local();
    let tb = target();
    use CoreReloKind::*;
    let ldx = |off| vec![Insn::new(LDX_W, 0, 1, off, 0), Insn::new(0x95, 0, 0, 0, 0)];

    // Bad access string.
    let e = relocate_err(
        &lb,
        &tb,
        relo(FieldByteOffset, ids.task, "0:x", 0),
        &mut ldx(0),
    );
    assert!(matches!(e, CoreErrorKind::BadAccessSpec { .. }), "{e}");
    // The instruction does not hold the local value (offset 4 expected 0).
    let e = relocate_err(
        &lb,
        &tb,
        relo(FieldByteOffset, ids.task, "0:0", 0),
        &mut ldx(4),
    );
    assert_eq!(
        e,
        CoreErrorKind::InsnValueMismatch {
            insn_index: 0,
            class: "LDX/ST/STX",
            got: 4,
            expected: 0,
            new: 32
        }
    );
    // ALU immediate mismatch.
    let mut alu = vec![Insn::new(MOV64_K, 0, 0, 0, 7)];
    let e = relocate_err(&lb, &tb, relo(FieldByteSize, ids.task, "0:2", 0), &mut alu);
    assert!(
        matches!(
            e,
            CoreErrorKind::InsnValueMismatch {
                class: "ALU/ALU64",
                got: 7,
                expected: 16,
                ..
            }
        ),
        "{e}"
    );
    // An instruction that cannot carry a value.
    let e = relocate_err(
        &lb,
        &tb,
        relo(FieldByteOffset, ids.task, "0:0", 8),
        &mut ldx(0),
    );
    assert!(
        matches!(
            e,
            CoreErrorKind::UnsupportedInsn {
                insn_index: 1,
                code: 0x95,
                ..
            }
        ),
        "{e}"
    );
    let mut alu_x = vec![Insn::new(0xbf, 0, 1, 0, 0)];
    let e = relocate_err(
        &lb,
        &tb,
        relo(FieldByteSize, ids.task, "0:2", 0),
        &mut alu_x,
    );
    assert!(matches!(e, CoreErrorKind::UnsupportedInsn { .. }), "{e}");
    // Past the section, and misaligned.
    let e = relocate_err(
        &lb,
        &tb,
        relo(FieldByteOffset, ids.task, "0:0", 800),
        &mut ldx(0),
    );
    assert_eq!(
        e,
        CoreErrorKind::InsnOutOfRange {
            insn_index: 100,
            len: 2
        }
    );
    let e = relocate_err(
        &lb,
        &tb,
        relo(FieldByteOffset, ids.task, "0:0", 4),
        &mut ldx(0),
    );
    assert_eq!(e, CoreErrorKind::MisalignedInsnOff(4));
    // A local type id that does not exist; an anonymous local type.
    let e = relocate_err(&lb, &tb, relo(FieldByteOffset, 999, "0:0", 0), &mut ldx(0));
    assert_eq!(e, CoreErrorKind::NoLocalType(999));
    let e = relocate_err(&lb, &tb, relo(TypeSize, ids.task + 1, "0", 0), &mut ldx(0));
    assert_eq!(e, CoreErrorKind::AnonymousType(ids.task + 1));
    // The load size is not the local field's size (flags grows 4 -> 8, but
    // the instruction loads a byte).
    let mut ldxb = vec![Insn::new(LDX_B, 0, 1, 4, 0)];
    let e = relocate_err(
        &lb,
        &tb,
        relo(FieldByteOffset, ids.task, "0:1", 0),
        &mut ldxb,
    );
    assert!(matches!(e, CoreErrorKind::MemSize { .. }), "{e}");
    // lddw of the wrong form.
    let mut bad_lddw = vec![Insn::new(LDDW, 0, 1, 0, 2), Insn::new(0, 0, 0, 0, 0)];
    let e = relocate_err(&lb, &tb, relo(EnumvalValue, ids.st, "1", 0), &mut bad_lddw);
    assert!(matches!(e, CoreErrorKind::UnsupportedInsn { .. }), "{e}");
    // A bitfield kind on an array element.
    let mut alu = vec![Insn::new(MOV64_K, 0, 0, 0, 0)];
    let e = relocate_err(&lb, &tb, relo(FieldSigned, ids.task, "0:2:1", 0), &mut alu);
    assert!(
        matches!(e, CoreErrorKind::Calc { kind: "signed", .. }),
        "{e}"
    );
}

#[test]
fn missing_target_resolves_existence_to_zero_and_poisons_the_rest() {
    let (lb, ids) = local();
    let empty = parsed(&BtfBuilder::new());
    let mut r = Relocator::new(&lb, CoreTarget::new(&empty));
    use CoreReloKind::*;
    let mut insns = vec![
        Insn::new(MOV64_K, 0, 0, 0, 1),
        Insn::new(MOV64_K, 0, 0, 0, 1),
        Insn::new(MOV64_K, 0, 0, 0, 40),
        Insn::new(MOV64_K, 0, 0, 0, 1),
        Insn::new(LDX_W, 0, 1, 4, 0),
        Insn::new(MOV64_K, 0, 0, 0, 2),
        Insn::new(MOV64_K, 0, 0, 0, 1),
    ];
    let relos = [
        relo(FieldExists, ids.task, "0:1", 0),
        relo(TypeExists, ids.task, "0", 8),
        relo(TypeSize, ids.task, "0", 16),
        relo(TypeMatches, ids.task, "0", 24),
        relo(FieldByteOffset, ids.task, "0:1", 32),
        relo(EnumvalValue, ids.st, "1", 40),
        relo(EnumvalExists, ids.st, "1", 48),
    ];
    for (i, x) in relos.iter().enumerate() {
        let res = r.relocate("s", i, x, &mut insns).unwrap();
        assert!(res.candidates.is_empty() && res.target.is_none());
        assert!(res
            .libbpf_log(0)
            .iter()
            .any(|l| l.ends_with("no matching targets found")));
    }
    let imms: Vec<i32> = insns.iter().map(|i| i.imm).collect();
    assert_eq!(&imms[..4], &[0, 0, 0, 0]);
    assert_eq!(insns[4], Insn::new(0x85, 0, 0, 0, POISON_IMM));
    assert_eq!(insns[5], Insn::new(0x85, 0, 0, 0, POISON_IMM));
    assert_eq!(insns[6].imm, 0);
}

#[test]
fn ambiguity_and_candidate_pruning() {
    // Local s { int a; int b; }; target flavors s___1 { int a; int b; } and
    // s___2 { int pad; int a; }.
    let mut b = BtfBuilder::new();
    let int = b.int("int", 4, SIGNED);
    let s = b.struct_type("s", 8, &[("a", int, 0, 0), ("b", int, 32, 0)]);
    let lb = parsed(&b);
    let mut t = BtfBuilder::new();
    let tint = t.int("int", 4, SIGNED);
    let s1 = t.struct_type("s___1", 8, &[("a", tint, 0, 0), ("b", tint, 32, 0)]);
    let s2 = t.struct_type("s___2", 8, &[("pad", tint, 0, 0), ("a", tint, 32, 0)]);
    let tb = parsed(&t);
    assert_eq!(
        find_candidates(&lb, s, &CoreTarget::new(&tb))
            .iter()
            .map(|c| c.id)
            .collect::<Vec<_>>(),
        vec![s1, s2]
    );
    use CoreReloKind::*;
    // Field 'a' first: both flavors match at different offsets.
    let mut insns = vec![Insn::new(LDX_W, 0, 1, 0, 0)];
    let mut r = Relocator::new(&lb, CoreTarget::new(&tb));
    let e = r
        .relocate("s", 0, &relo(FieldByteOffset, s, "0:0", 0), &mut insns)
        .unwrap_err();
    assert_eq!(
        e.reason,
        CoreErrorKind::AmbiguousOffset {
            first_id: s1,
            first_bits: 0,
            cand_id: s2,
            cand_bits: 32
        }
    );
    let rep = Relocator::new(&lb, CoreTarget::new(&tb)).report(
        "s",
        0,
        &relo(FieldByteOffset, s, "0:0", 0),
        &mut insns,
    );
    let log = rep.libbpf_log(0);
    assert_eq!(
        &log[log.len() - 2..],
        [
            "relo #0: field offset ambiguity: 32 != 0",
            "relo #0: failed to relocate: -22"
        ]
    );
    // Field 'b' first: only s___1 has it, so the type's candidates are
    // pruned to s___1, and 'a' then resolves without ambiguity.
    let mut r = Relocator::new(&lb, CoreTarget::new(&tb));
    let mut insns = vec![Insn::new(LDX_W, 0, 1, 4, 0), Insn::new(LDX_W, 0, 1, 0, 0)];
    let first = r
        .relocate("s", 0, &relo(FieldByteOffset, s, "0:1", 0), &mut insns)
        .unwrap();
    assert_eq!(first.found.len(), 2);
    assert_eq!(
        first
            .candidates
            .iter()
            .map(|c| c.matched)
            .collect::<Vec<_>>(),
        vec![true, false]
    );
    let second = r
        .relocate("s", 1, &relo(FieldByteOffset, s, "0:0", 8), &mut insns)
        .unwrap();
    assert!(second.found.is_empty(), "no second search");
    assert_eq!(second.candidates.len(), 1);
    assert_eq!(insns[1].off, 0);
    // Type size: the two flavors agree (8), so no ambiguity.
    let mut alu = vec![Insn::new(MOV64_K, 0, 0, 0, 8)];
    let mut r = Relocator::new(&lb, CoreTarget::new(&tb));
    r.relocate("s", 0, &relo(TypeSize, s, "0", 0), &mut alu)
        .unwrap();
    // The lenient report keeps the candidates tried before the failure.
    let mut r = Relocator::new(&lb, CoreTarget::new(&tb));
    let rep = r.report("s", 0, &relo(FieldByteOffset, s, "0:0", 0), &mut insns);
    assert_eq!(rep.candidates.len(), 2);
    assert!(matches!(rep.outcome, CoreOutcome::Failed { .. }));
}

#[test]
fn modules_are_searched_only_without_a_vmlinux_candidate() {
    let mut b = BtfBuilder::new();
    let int = b.int("int", 4, SIGNED);
    let s = b.struct_type("in_mod", 4, &[("a", int, 0, 0)]);
    let v = b.struct_type("in_vmlinux", 4, &[("a", int, 0, 0)]);
    let lb = parsed(&b);
    let mut base = BtfBuilder::new();
    let bint = base.int("int", 4, SIGNED);
    let bv = base.struct_type("in_vmlinux", 4, &[("a", bint, 0, 0)]);
    let base_btf = parsed(&base);
    // Split BTF: ids continue from the base's; types refer to base ids.
    let mut m = BtfBuilder::split(&base_btf);
    let ms = m.struct_type("in_mod", 8, &[("pad", bint, 0, 0), ("a", bint, 32, 0)]);
    let mv = m.struct_type(
        "in_vmlinux___mod",
        8,
        &[("pad", bint, 0, 0), ("a", bint, 32, 0)],
    );
    let split_bytes = m.encode(Endian::Little);
    let module = Btf::parse_split(&split_bytes, &base_btf).unwrap();
    let modules = vec![("mymod".to_string(), module)];
    let target = CoreTarget::new(&base_btf).with_modules(&modules);
    let c = find_candidates(&lb, s, &target);
    assert_eq!(
        c.iter().map(|c| (c.id, c.btf_name)).collect::<Vec<_>>(),
        vec![(ms, "mymod")]
    );
    let c = find_candidates(&lb, v, &target);
    assert_eq!(
        c.iter().map(|c| c.id).collect::<Vec<_>>(),
        vec![bv],
        "vmlinux wins; {mv} not searched"
    );
    let mut insns = vec![Insn::new(LDX_W, 0, 1, 0, 0)];
    let res = Relocator::new(&lb, target)
        .relocate(
            "s",
            0,
            &relo(CoreReloKind::FieldByteOffset, s, "0:0", 0),
            &mut insns,
        )
        .unwrap();
    assert_eq!(insns[0].off, 4);
    assert_eq!(res.target().unwrap().btf, "mymod");
}

#[test]
fn patch_insn_forms() {
    let v = |orig, new| ReloValue {
        orig_val: orig,
        new_val: new,
        validate: true,
        ..ReloValue::default()
    };
    // lddw: both halves.
    let mut i = vec![Insn::new(LDDW, 1, 0, 0, 5), Insn::new(0, 0, 0, 0, 1)];
    let p = patch_insn(&mut i, 0, &v(0x1_0000_0005, 0x7_0000_0009)).unwrap();
    assert_eq!(
        p,
        Patch::Ldimm64 {
            old: 0x1_0000_0005,
            new: 0x7_0000_0009
        }
    );
    assert_eq!((i[0].imm, i[1].imm), (9, 7));
    // lddw cut short by the end of the section.
    let mut i = vec![Insn::new(LDDW, 1, 0, 0, 5)];
    assert!(patch_insn(&mut i, 0, &v(5, 6)).is_err());
    // A negative ALU immediate compares sign-extended, as in C.
    let mut i = vec![Insn::new(MOV64_K, 1, 0, 0, -1)];
    patch_insn(&mut i, 0, &v(u64::MAX, 3)).unwrap();
    assert_eq!(i[0].imm, 3);
    // Without validation any value is replaced.
    let mut i = vec![Insn::new(MOV64_K, 1, 0, 0, 77)];
    let nv = ReloValue {
        validate: false,
        ..v(5, 6)
    };
    patch_insn(&mut i, 0, &nv).unwrap();
    assert_eq!(i[0].imm, 6);
    // Offsets past i16::MAX do not fit.
    let mut i = vec![Insn::new(LDX_W, 1, 2, 0, 0)];
    assert_eq!(
        patch_insn(&mut i, 0, &v(0, 40000)).unwrap_err(),
        CoreErrorKind::OffsetTooBig {
            insn_index: 0,
            value: 40000
        }
    );
    // An unsafe size change poisons a load.
    let mut i = vec![Insn::new(LDX_W, 1, 2, 0, 0)];
    let bad = ReloValue {
        fail_memsz_adjust: true,
        orig_sz: 4,
        new_sz: 8,
        ..v(0, 8)
    };
    assert_eq!(
        patch_insn(&mut i, 0, &bad).unwrap(),
        Patch::Poisoned {
            unsafe_size_change: true,
            lddw: false
        }
    );
    assert_eq!(i[0], Insn::new(0x85, 0, 0, 0, POISON_IMM));
    // A size the ISA has no load for.
    let mut i = vec![Insn::new(LDX_W, 1, 2, 0, 0)];
    let odd = ReloValue {
        orig_sz: 4,
        new_sz: 3,
        ..v(0, 8)
    };
    assert!(matches!(
        patch_insn(&mut i, 0, &odd).unwrap_err(),
        CoreErrorKind::MemSize { .. }
    ));
    // A sign-extending load keeps its mode when it grows.
    let mut i = vec![Insn::new(0x81, 1, 2, 0, 0)];
    let grow = ReloValue {
        orig_sz: 4,
        new_sz: 8,
        ..v(0, 8)
    };
    patch_insn(&mut i, 0, &grow).unwrap();
    assert_eq!(i[0].code, 0x99);
}

#[test]
fn report_serializes_for_json() {
    let (lb, ids) = local();
    let tb = target();
    let mut r = Relocator::new(&lb, CoreTarget::new(&tb));
    let mut insns = vec![Insn::new(LDX_W, 0, 1, 4, 0)];
    let res = r
        .relocate(
            "kprobe/x",
            0,
            &relo(CoreReloKind::FieldByteOffset, ids.task, "0:1", 0),
            &mut insns,
        )
        .unwrap();
    let j = serde_json::to_value(&res).unwrap();
    assert_eq!(j["section"], "kprobe/x");
    assert_eq!(j["kind"], "byte_off");
    assert_eq!(j["insn_index"], 0);
    assert_eq!(
        j["local"],
        format!("[{}] struct task.flags (0:1 @ offset 4)", ids.task)
    );
    assert_eq!(j["outcome"], "patched");
    assert_eq!(j["patch"]["insn"], "mem");
    assert_eq!(j["patch"]["old"], 4);
    assert_eq!(j["patch"]["new"], 8);
    assert_eq!(
        j["candidates"][0]["spec"],
        "[8] struct task.flags (0:1 @ offset 8)"
    );
    assert_eq!(j["value"]["new_sz"], 8);
    let mut r = Relocator::new(&lb, CoreTarget::new(&tb));
    let failed = r.report(
        "kprobe/x",
        1,
        &relo(CoreReloKind::FieldByteOffset, ids.task, "0:z", 0),
        &mut insns,
    );
    let j = serde_json::to_value(&failed).unwrap();
    assert_eq!(j["outcome"], "failed");
    assert!(j["error"].as_str().unwrap().contains("bad access spec"));
}

/// Every local type of the fixtures, every kind, assorted access strings
/// and random instructions: relocation answers (a patch or a typed error)
/// and never panics.
#[test]
fn arbitrary_records_never_panic() {
    let load = |name: &str| {
        let data = std::fs::read(format!(
            "{}/tests/fixtures/{name}.o",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap();
        let file = object::File::parse(&*data).unwrap();
        let sec = object::Object::section_by_name(&file, ".BTF").unwrap();
        Btf::parse(object::ObjectSection::data(&sec).unwrap()).unwrap()
    };
    let (lb, tb) = (load("core_local"), load("core_target"));
    let mut seed: u64 = 0x1234_5678;
    let mut rnd = move || {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) as u32
    };
    let accesses = [
        "0", "0:0", "0:1:2", "1:0", "0:4:10", "0:5:0:1", "3", "0:99", "65535", "0:3:0:0", "2:1",
    ];
    let (mut patched, mut failed) = (0, 0);
    for type_id in 0..lb.len() as u32 + 2 {
        for kind in 0..13 {
            let kind = CoreReloKind::from_raw(kind).unwrap();
            for access in accesses {
                let mut insns: Vec<Insn> = (0..4)
                    .map(|_| {
                        let code = [
                            0x61u8, 0x79, 0x71, 0x63, 0x62, 0xb7, 0x07, 0x18, 0x95, 0x04, 0x00,
                        ][rnd() as usize % 11];
                        Insn::new(code, 1, 2, (rnd() % 64) as i16, (rnd() % 64) as i32)
                    })
                    .collect();
                let insn_off = [0, 8, 16, 24, 40, 3][rnd() as usize % 6];
                let mut r = Relocator::new(&lb, CoreTarget::new(&tb));
                let res = r.report(
                    "fuzz",
                    0,
                    &relo(kind, type_id, access, insn_off),
                    &mut insns,
                );
                let _ = res.to_string();
                let _ = res.libbpf_log(0);
                match res.outcome {
                    CoreOutcome::Patched { .. } => patched += 1,
                    CoreOutcome::Failed { .. } => failed += 1,
                }
            }
        }
    }
    assert!(
        patched > 30 && failed > 1000,
        "patched {patched}, failed {failed}"
    );
}
