//! The reader's model of the fixture objects, field by field, against what
//! the C sources say and what libbpf would make of them.

use bpfkit_isa::{CallTarget, Instruction, LddwKind};
use bpfkit_object::kinds::{AttachType, MapType, ProgType};
use bpfkit_object::read::{
    ExternKind, InitialTarget, MapSource, NormalisedValue, Object, ObjectError, Pinning,
    RelocTarget, RelocType, TypeSource,
};
use std::path::PathBuf;

fn open(name: &str) -> Object {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("tests/fixtures/{name}.o"));
    Object::open(&p).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn programs_are_split_typed_and_linked() {
    let o = open("rd_full");
    let names: Vec<&str> = o.programs.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["tail_a", "xdp_first", "kp", "tpb", "conn"]);
    assert_eq!(o.license.as_deref(), Some("Dual BSD/GPL"));
    let text: Vec<&str> = o
        .functions
        .iter()
        .filter(|f| f.is_subprogram())
        .map(|f| f.name.as_str())
        .collect();
    assert_eq!(text, ["global_helper", "middle", "loop_cb", "leaf"]);

    let p = o.program("xdp_first").unwrap();
    assert_eq!(p.section_type.prog_type, ProgType::Xdp);
    assert_eq!(p.section_type.expected_attach_type, Some(AttachType::Xdp));
    // middle is called by the program, leaf only by middle: both appended,
    // in the order libbpf meets the calls.
    let subs: Vec<(&str, usize, usize)> = p
        .subprograms()
        .iter()
        .map(|f| (f.name.as_str(), f.start, f.len))
        .collect();
    assert_eq!(subs, [("middle", 21, 7), ("leaf", 28, 7)]);
    assert_eq!(p.insns.len(), 35);
    // Every local call now lands on the first slot of its callee.
    let starts: Vec<usize> = p.functions.iter().map(|f| f.start).collect();
    for &(pc, insn) in p.insns.instructions() {
        if let Instruction::Call(CallTarget::Local(off)) = insn {
            let target = (pc as i64 + 1 + off as i64) as usize;
            assert!(starts.contains(&target), "call at {pc} lands on {target}");
        }
    }
    // func_info: one per linked function, at its first slot.
    let fi: Vec<u32> = p.func_info.iter().map(|f| f.insn_off).collect();
    assert_eq!(fi, [0, 21, 28]);
    assert!(p
        .line_info
        .iter()
        .all(|l| (l.insn_off as usize) < p.insns.len()));
    assert!(p
        .line_info
        .windows(2)
        .any(|w| w[0].insn_off < 21 && w[1].insn_off >= 21));

    let kp = o.program("kp").unwrap();
    assert_eq!(
        kp.section_type.attach_target.as_deref(),
        Some("do_sys_open")
    );
    assert_eq!(kp.subprograms()[0].name, "loop_cb");
    // The callback's address: src = BPF_PSEUDO_FUNC, relative to the next slot.
    let r = kp
        .relocations
        .iter()
        .find(|r| matches!(r.target, RelocTarget::FuncPointer { .. }))
        .unwrap();
    assert_eq!(
        r.target,
        RelocTarget::FuncPointer {
            function: "loop_cb".into(),
            target: 37
        }
    );
    let (_, ld) = kp
        .insns
        .instructions()
        .iter()
        .find(|(pc, _)| *pc == r.insn)
        .unwrap();
    assert!(
        matches!(
            ld,
            Instruction::LoadImm64 {
                kind: LddwKind::Func,
                ..
            }
        ),
        "{ld:?}"
    );
    assert_eq!(kp.slots()[r.insn].imm as usize, 37 - r.insn - 1);

    let tpb = o.program("tpb").unwrap();
    assert_eq!(tpb.section_type.prog_type, ProgType::Tracing);
    assert_eq!(
        tpb.section_type.expected_attach_type,
        Some(AttachType::TraceRawTp)
    );
    assert!(tpb.section_type.attach_btf);
    let kfunc = &tpb.relocations[0];
    assert_eq!(kfunc.r_type, RelocType::Bpf64_32);
    assert!(
        matches!(&kfunc.target, RelocTarget::KfuncCall { name, .. } if name == "bpf_rcu_read_lock")
    );
    assert_eq!(tpb.slots()[kfunc.insn].src, 2, "BPF_PSEUDO_KFUNC_CALL");
    assert_eq!(
        o.program("conn").unwrap().section_type.expected_attach_type,
        Some(AttachType::CgroupInet4Connect)
    );
}

#[test]
fn map_and_data_relocations_are_marked_for_the_loader() {
    let o = open("rd_full");
    let p = o.program("xdp_first").unwrap();
    let targets: Vec<&RelocTarget> = p.relocations.iter().map(|r| &r.target).collect();
    assert!(matches!(targets[0], RelocTarget::Map { name, .. } if name == "counters"));
    assert!(
        matches!(targets[1], RelocTarget::Call { function, target: 21 } if function == "middle")
    );
    assert!(
        matches!(targets[2], RelocTarget::MapValue { name, offset: 0, variable: Some(v), .. } if name == "rd_full.data" && v == "hits")
    );
    for r in &p.relocations {
        let s = p.slots()[r.insn];
        match &r.target {
            RelocTarget::Map { map, .. } => {
                assert_eq!(s.src, 1);
                assert_eq!(o.maps[*map].name, "counters");
            }
            RelocTarget::MapValue { offset, .. } => {
                assert_eq!(s.src, 2);
                assert_eq!(p.slots()[r.insn + 1].imm as u32, *offset);
            }
            _ => {}
        }
    }
    let kp = o.program("kp").unwrap();
    let ext = kp.relocations.iter().find(|r| matches!(&r.target, RelocTarget::Extern { name, .. } if name == "CONFIG_BPF_SYSCALL")).unwrap();
    let e = o
        .externs
        .iter()
        .find(|e| e.name == "CONFIG_BPF_SYSCALL")
        .unwrap();
    assert_eq!(
        (e.kind, e.weak, e.kconfig_offset),
        (ExternKind::Kconfig, true, Some(4))
    );
    assert_eq!(kp.slots()[ext.insn].src, 2);
    assert_eq!(kp.slots()[ext.insn + 1].imm, 4);
    let ksym = o
        .externs
        .iter()
        .find(|e| e.name == "bpf_prog_active")
        .unwrap();
    assert_eq!(ksym.kind, ExternKind::KsymVar);
}

#[test]
fn btf_maps_carry_every_field() {
    let o = open("rd_full");
    let m = o.map("counters").unwrap();
    assert_eq!(m.source, MapSource::BtfDefined);
    assert_eq!(
        (
            m.map_type,
            m.key_size,
            m.value_size,
            m.max_entries,
            m.map_flags
        ),
        (Some(MapType::Hash), 4, 16, 128, 1)
    );
    assert_eq!(m.pinning, Pinning::ByName);
    assert!(m.key_type.is_some() && m.value_type.is_some());
    let outer = o.map("outer").unwrap();
    let inner = outer.inner.as_deref().unwrap();
    assert_eq!(
        (inner.map_type, inner.max_entries, inner.value_size),
        (Some(MapType::Array), 4, 8)
    );
    assert_eq!(outer.initial_slots[0].index, 1);
    assert_eq!(
        outer.initial_slots[0].target,
        InitialTarget::Map("inner_a".into())
    );
    let jumps = o.map("jumps").unwrap();
    assert_eq!(
        jumps.initial_slots[0].target,
        InitialTarget::Program("tail_a".into())
    );
    assert_eq!(jumps.initial_slots[0].index, 2);
    let perf = o.map("perf").unwrap();
    assert_eq!(perf.normalisations.len(), 1);
    assert_eq!(perf.normalisations[0].to, NormalisedValue::PossibleCpus);
    assert_eq!(o.map("bloom").unwrap().map_extra, 3);
    let ringbuf = o.map("events").unwrap();
    assert_eq!(
        (ringbuf.key_size, ringbuf.value_size, ringbuf.max_entries),
        (0, 0, 4096)
    );
}

#[test]
fn global_data_becomes_internal_maps() {
    let o = open("rd_full");
    let ro = o.map(".rodata").unwrap();
    assert_eq!(ro.name, "rd_full.rodata");
    assert!(ro.frozen);
    assert_eq!(ro.map_flags & 0x80, 0x80, "BPF_F_RDONLY_PROG");
    assert_eq!(ro.data.as_deref(), Some(&b"\x2a\0\0\0hello\0"[..]));
    let names: Vec<(&str, u32)> = ro
        .variables
        .iter()
        .map(|v| (v.name.as_str(), v.offset))
        .collect();
    assert_eq!(names, [("limit", 0), ("greeting", 4)]);
    // .bss: no bytes in the file, and none allocated (a new map is zeros).
    assert_eq!(o.map(".bss").unwrap().data, None);
    assert_eq!(o.map(".data.extra").unwrap().name, ".data.extra");
    let kc = o.map("rd_full.kconfig").unwrap();
    assert_eq!((kc.source, kc.value_size), (MapSource::Kconfig, 5));
    let unnamed = Object::parse(
        &std::fs::read(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/rd_full.o"))
            .unwrap(),
    )
    .unwrap();
    assert!(unnamed.maps.iter().any(|m| m.name == ".rodata"));
}

#[test]
fn legacy_and_iproute2_maps() {
    let o = open("rd_legacy");
    assert_eq!(o.kernel_version, Some(0x060c00));
    let flows = o.map("flows").unwrap();
    assert_eq!(flows.source, MapSource::Legacy);
    assert_eq!(
        (
            flows.map_type,
            flows.key_size,
            flows.value_size,
            flows.max_entries,
            flows.def_size
        ),
        (Some(MapType::LruHash), 8, 16, 1024, 24)
    );
    assert_eq!(
        o.program("sock_filter").unwrap().section_type.prog_type,
        ProgType::SocketFilter
    );
    assert_eq!(
        o.program("egress")
            .unwrap()
            .section_type
            .expected_attach_type,
        Some(AttachType::CgroupInetEgress)
    );

    let wide = open("legacy_maps_wide");
    assert!(wide
        .maps
        .iter()
        .any(|m| m.legacy_inner_idx == Some(1) && m.map_type == Some(MapType::ArrayOfMaps)));

    let tc = open("rd_tc");
    let outer = tc.map("outer_tbl").unwrap();
    assert_eq!(outer.source, MapSource::Iproute2);
    assert_eq!(outer.pinning, Pinning::GlobalNs);
    assert_eq!(outer.iproute2_ids, Some([0, 7, 0]));
    assert_eq!(tc.map("inner_tbl").unwrap().iproute2_ids, Some([7, 0, 1]));
    assert_eq!(outer.inner.as_ref().unwrap().name, "inner_tbl");
    let custom = tc.program("custom").unwrap();
    assert_eq!(custom.section_type.prog_type, ProgType::SchedCls);
    assert_eq!(custom.section_type.source, TypeSource::Iproute2);
    assert_eq!(
        tc.program("act_main").unwrap().section_type.prog_type,
        ProgType::SchedAct
    );
}

/// The order libbpf appends subprograms in is depth first: a callee's own
/// callees come right after it. These orders are what libbpf 1.1 loaded
/// into the kernel (`bpftool prog loadall` then `bpftool prog dump
/// xlated`, which names each function from its func_info).
#[test]
fn subprograms_are_appended_depth_first_as_libbpf_does() {
    let o = open("subprog_calls");
    let order = |name: &str| -> Vec<String> {
        o.program(name)
            .unwrap()
            .functions
            .iter()
            .map(|f| f.name.clone())
            .collect()
    };
    assert_eq!(
        order("tc_weighted"),
        ["tc_weighted", "scaled", "weight_of", "mix", "classify_len"]
    );
    assert_eq!(
        order("tc_loop_sum"),
        ["tc_loop_sum", "sum_step", "weight_of"]
    );
    assert_eq!(
        order("sock_hash_mix"),
        ["sock_hash_mix", "mix", "classify_len"]
    );
    assert_eq!(order("sock_scaled"), ["sock_scaled", "scaled", "weight_of"]);
}

#[test]
fn core_records_follow_their_functions() {
    let o = open("fentry_fexit");
    let ext = o.btf_ext.as_ref().unwrap();
    let total: usize = ext.core_relos.iter().map(|s| s.records.len()).sum();
    assert!(total > 0);
    let linked: usize = o.programs.iter().map(|p| p.core_relos.len()).sum();
    assert!(linked >= total, "{linked} linked of {total}");
    for p in &o.programs {
        for c in &p.core_relos {
            assert!((c.insn_off as usize) < p.insns.len());
        }
    }
}

#[test]
fn struct_ops_maps_name_their_programs() {
    let o = open("rd_struct_ops");
    let plain = o.map("rd_plain").unwrap();
    assert_eq!(
        (
            plain.source,
            plain.map_type,
            plain.value_size,
            plain.max_entries
        ),
        (MapSource::StructOps, Some(MapType::StructOps), 40, 1)
    );
    assert_eq!(plain.map_flags, 0);
    let members: Vec<(&str, u32, &str)> = plain
        .struct_ops
        .iter()
        .map(|m| (m.member.as_str(), m.index, m.program.as_str()))
        .collect();
    assert_eq!(
        members,
        [("init", 0, "rd_init"), ("release", 1, "rd_release")]
    );
    let data = plain.data.as_deref().unwrap();
    assert_eq!(&data[16..20], &3u32.to_le_bytes(), "flags = 3");
    assert_eq!(&data[20..28], b"rd_plain");
    let linked = o.map("rd_linked").unwrap();
    assert_eq!(linked.map_flags, 1 << 13, "BPF_F_LINK");
    assert_eq!(linked.struct_ops[0].program, "rd_sleepy_init");
    let sleepy = o.program("rd_sleepy_init").unwrap();
    assert_eq!(sleepy.section_type.prog_type, ProgType::StructOps);
    assert_eq!(sleepy.section_type.prog_flags, 1 << 4, "BPF_F_SLEEPABLE");
}

#[test]
fn an_object_from_gcc_links_as_clang_objects_do() {
    // gcc/gcc_xdp_count.c, by bpf-gcc 12: a REL section named `.relxdp`, a
    // call relocated against the `.text` section symbol (imm -1), data
    // loads against the variables' own symbols, GCC's BTF.
    let o = open("gcc_xdp_count");
    let rel = o.sections.iter().find(|s| s.name == ".relxdp").unwrap();
    assert_eq!(rel.type_name(), "REL");
    assert_eq!(o.license.as_deref(), Some("GPL"));
    let p = o.program("count").unwrap();
    assert_eq!(p.section_type.prog_type, ProgType::Xdp);
    // `count` (24 slots) with `score` appended after it.
    assert_eq!(p.slots().len(), 34);
    let targets: Vec<(usize, &RelocTarget)> =
        p.relocations.iter().map(|r| (r.insn, &r.target)).collect();
    assert!(
        matches!(targets[0], (8, RelocTarget::Call { function, target: 24 }) if function == "score"),
        "{targets:?}"
    );
    // The call's immediate is the offset to `score`, as libbpf links it.
    assert_eq!(p.slots()[8].imm, 24 - 8 - 1);
    assert!(
        matches!(targets[1], (14, RelocTarget::MapValue { name, offset: 0, variable: Some(v), .. }) if name == "gcc_xdp_.bss" && v == "packets"),
        "{targets:?}"
    );
    assert!(
        matches!(targets[2], (26, RelocTarget::MapValue { name, offset: 0, variable: Some(v), .. }) if name == "gcc_xdp_.data" && v == "weights"),
        "{targets:?}"
    );
    // libbpf names internal maps by the object name cut to 8 bytes.
    let maps: Vec<(&str, u32)> = o
        .maps
        .iter()
        .map(|m| (m.name.as_str(), m.value_size))
        .collect();
    assert_eq!(
        maps,
        [
            ("gcc_xdp_.data", 16),
            ("gcc_xdp_.bss", 8),
            ("gcc_xdp_.rodata", 4)
        ]
    );
    assert!(o.btf.is_some());
}

#[test]
fn every_fixture_parses_and_links() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut n = 0;
    for e in std::fs::read_dir(&dir).unwrap().flatten() {
        let p = e.path();
        if p.extension().is_some_and(|x| x == "o") {
            let o = Object::open(&p).unwrap_or_else(|e| panic!("{e}"));
            assert!(!o.programs.is_empty(), "{}", p.display());
            for prog in &o.programs {
                assert_eq!(
                    prog.functions.iter().map(|f| f.len).sum::<usize>(),
                    prog.insns.len()
                );
            }
            n += 1;
        }
    }
    assert!(n >= 3);
}

#[test]
fn open_names_the_file() {
    let err = Object::open("/nonexistent/x.o").unwrap_err();
    assert!(matches!(err, ObjectError::Io { .. }));
    assert!(err.to_string().starts_with("/nonexistent/x.o: "));
    let err = Object::parse(b"\x7fELF\x01").unwrap_err();
    assert!(err.to_string().contains("ELFCLASS64"), "{err}");
}
