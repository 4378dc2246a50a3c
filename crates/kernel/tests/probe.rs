//! Feature probes, against what is known of this kernel and against
//! `bpftool feature probe` on the same machine.

mod support;

use std::collections::BTreeSet;
use std::time::Instant;

use bpfkit_isa::helpers::{helper_id, helper_name};
use bpfkit_kernel::probe;
use bpfkit_object::kinds::{MapType, ProgType};
use support::kernel_or_skip;

#[test]
fn probes_answer_and_cache() {
    if !kernel_or_skip("probes_answer_and_cache") {
        return;
    }
    assert!(probe::prog_type(ProgType::Xdp));
    assert!(probe::prog_type(ProgType::SocketFilter));
    assert!(!probe::prog_type(ProgType::Unspec));
    assert!(probe::map_type(MapType::Hash));
    assert!(probe::map_type(MapType::Ringbuf));
    assert!(!probe::map_type(MapType::Unspec));
    let adjust_head = helper_id("bpf_xdp_adjust_head").unwrap() as u32;
    let sys_bpf = helper_id("bpf_sys_bpf").unwrap() as u32;
    assert_eq!(probe::helper(ProgType::Xdp, 1), Some(true));
    assert_eq!(probe::helper(ProgType::Xdp, adjust_head), Some(true));
    assert_eq!(probe::helper(ProgType::Xdp, sys_bpf), Some(false));
    assert_eq!(
        probe::helper(ProgType::SocketFilter, adjust_head),
        Some(false)
    );
    assert_eq!(probe::helper(ProgType::Xdp, 100_000), Some(false));
    assert_eq!(probe::helper(ProgType::Tracing, 1), None);
    let t = Instant::now();
    for _ in 0..1000 {
        assert!(probe::prog_type(ProgType::Xdp));
    }
    assert!(t.elapsed().as_millis() < 50, "cached: {:?}", t.elapsed());
    let m = probe::misc();
    assert!(m.bounded_loops && m.v3_isa_extension);
    assert!(probe::bpf_syscall());
}

fn bpftool_json(args: &[&str]) -> Option<serde_json::Value> {
    let out = std::process::Command::new("bpftool")
        .args(args)
        .output()
        .ok()?;
    if !out.status.success() {
        panic!(
            "bpftool {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Some(serde_json::from_slice(&out.stdout).expect("bpftool JSON"))
}

#[test]
fn feature_probe_matches_bpftool() {
    if !kernel_or_skip("feature_probe_matches_bpftool") {
        return;
    }
    let Some(b) = bpftool_json(&["-j", "feature", "probe"]) else {
        eprintln!("skipped: feature_probe_matches_bpftool: bpftool not installed");
        return;
    };
    let mut compared = 0;
    for (key, v) in b["program_types"].as_object().unwrap() {
        let name = key
            .strip_prefix("have_")
            .and_then(|k| k.strip_suffix("_prog_type"))
            .unwrap();
        let t = *ProgType::ALL.iter().find(|t| t.name() == name).unwrap();
        assert_eq!(probe::prog_type(t), v.as_bool().unwrap(), "{key}");
        compared += 1;
    }
    for (key, v) in b["map_types"].as_object().unwrap() {
        let name = key
            .strip_prefix("have_")
            .and_then(|k| k.strip_suffix("_map_type"))
            .unwrap();
        let t = *MapType::ALL.iter().find(|t| t.name() == name).unwrap();
        assert_eq!(probe::map_type(t), v.as_bool().unwrap(), "{key}");
        compared += 1;
    }
    // bpftool 7.1 (libbpf 1.1) reads only "invalid func"/"unknown func" from
    // the log, so on kernels that say "program of this type cannot use
    // helper" it lists every helper it knows for every loadable type. What
    // we list must be among those, the lists must be empty where bpftool's
    // are, and the helpers the verifier named as refused must be missing.
    for (key, v) in b["helpers"].as_object().unwrap() {
        let name = key.strip_suffix("_available_helpers").unwrap();
        let t = *ProgType::ALL.iter().find(|t| t.name() == name).unwrap();
        let theirs: BTreeSet<&str> = v
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n.as_str().unwrap())
            .collect();
        let max_known = theirs
            .iter()
            .filter_map(|n| helper_id(n))
            .max()
            .unwrap_or(0) as u32;
        let ours: BTreeSet<&str> = probe::available_helpers(t, false)
            .into_iter()
            .filter(|&id| id <= max_known)
            .filter_map(|id| helper_name(id as i32))
            .collect();
        assert!(
            ours.is_subset(&theirs),
            "{key}: {:?}",
            ours.difference(&theirs)
        );
        assert_eq!(ours.is_empty(), theirs.is_empty(), "{key}");
        compared += 1;
    }
    let sys = probe::system_config();
    let bs = &b["system_config"];
    assert_eq!(
        sys.unprivileged_bpf_disabled,
        bs["unprivileged_bpf_disabled"].as_i64()
    );
    assert_eq!(sys.bpf_jit_enable, bs["bpf_jit_enable"].as_i64());
    assert_eq!(sys.bpf_jit_harden, bs["bpf_jit_harden"].as_i64());
    assert_eq!(sys.bpf_jit_kallsyms, bs["bpf_jit_kallsyms"].as_i64());
    assert_eq!(sys.bpf_jit_limit, bs["bpf_jit_limit"].as_i64());
    let m = probe::misc();
    let bm = &b["misc"];
    assert_eq!(
        Some(m.large_insn_limit),
        bm["have_large_insn_limit"].as_bool()
    );
    assert_eq!(Some(m.bounded_loops), bm["have_bounded_loops"].as_bool());
    assert_eq!(
        Some(m.v2_isa_extension),
        bm["have_v2_isa_extension"].as_bool()
    );
    assert_eq!(
        Some(m.v3_isa_extension),
        bm["have_v3_isa_extension"].as_bool()
    );
    eprintln!("feature probe: {compared} program/map/helper fields compared with bpftool");
}
