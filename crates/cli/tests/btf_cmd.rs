//! `bpfkit btf dump` end to end: the kernel's vmlinux BTF against bpftool's
//! own dumps (where the machine has both), and bad input.

use std::process::Command;

const VMLINUX: &str = "/sys/kernel/btf/vmlinux";

fn bpfkit(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_bpfkit"))
        .args(args)
        .output()
        .expect("runs bpfkit")
}

fn bpftool(args: &[&str]) -> Option<Vec<u8>> {
    let out = Command::new("bpftool").args(args).output().ok()?;
    out.status.success().then_some(out.stdout)
}

#[test]
fn vmlinux_dumps_equal_bpftool_in_every_format() {
    if !std::path::Path::new(VMLINUX).exists() {
        eprintln!("skipped: {VMLINUX} not present");
        return;
    }
    let cases: [(&[&str], &[&str]); 3] = [
        (&["btf", "dump", VMLINUX], &["btf", "dump", "file", VMLINUX]),
        (
            &["btf", "dump", VMLINUX, "--format", "c"],
            &["btf", "dump", "file", VMLINUX, "format", "c"],
        ),
        (
            &["btf", "dump", VMLINUX, "--json"],
            &["-j", "btf", "dump", "file", VMLINUX],
        ),
    ];
    for (ours, theirs) in cases {
        let out = bpfkit(ours);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let Some(expected) = bpftool(theirs) else {
            eprintln!("skipped: bpftool not available, {ours:?} not compared");
            return;
        };
        assert!(
            out.stdout == expected,
            "bpfkit {ours:?} differs from bpftool {theirs:?}"
        );
    }
}

fn fixture(name: &str) -> String {
    format!(
        "{}/../object/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

#[test]
fn object_btf_dumps_equal_the_bpftool_goldens() {
    let out = bpfkit(&["btf", "dump", &fixture("xdp_parse.o"), "--format", "c"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let golden = std::fs::read(fixture("golden/xdp_parse.btf.c")).unwrap();
    assert!(out.stdout == golden);
}

#[test]
fn btf_core_reports_every_relocation_against_a_target() {
    let (local, target) = (fixture("core_local.o"), fixture("core_target.o"));
    let out = bpfkit(&["btf", "core", &local, "--target", &target]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("59 CO-RE relocations in 6 programs"),
        "{text}"
    );
    assert!(text.contains(
        "kprobe/core_fields relo #1 insn #1 <byte_off> [5] struct core_task.pid (0:0 @ offset 0) \
         => [10] struct core_task.pid (0:5 @ offset 56): off 0 -> 56"
    ), "{text}");
    assert!(
        text.contains("no target: poisoned (call 0xbad2310)"),
        "{text}"
    );

    let out = bpfkit(&["btf", "core", &local, "--target", &target, "--json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let programs = json.as_array().unwrap();
    assert_eq!(programs.len(), 6);
    let total: usize = programs
        .iter()
        .map(|p| p["relocations"].as_array().unwrap().len())
        .sum();
    assert_eq!(total, 59);
    assert_eq!(programs[0]["program"], "core_fields");

    let no_btf = bpfkit(&["btf", "core", &fixture("asm/calls.clang.o")]);
    assert!(!no_btf.status.success());
    assert!(String::from_utf8_lossy(&no_btf.stderr).contains("no .BTF"));
}

#[test]
fn a_file_that_is_not_btf_fails_naming_it() {
    let dir = std::env::temp_dir().join(format!("bpfkit-btf-cmd-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("not-btf.bin");
    std::fs::write(&bad, b"\x9f\xeb\x01\x00 this is not BTF").unwrap();
    let out = bpfkit(&["btf", "dump", bad.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.starts_with("error: ") && err.contains("not-btf.bin"),
        "{err}"
    );
    let missing = bpfkit(&["btf", "dump", "/nonexistent/vmlinux"]);
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("/nonexistent/vmlinux"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn inspect_of_raw_btf_summarises_its_types() {
    if !std::path::Path::new(VMLINUX).exists() {
        eprintln!("skipped: {VMLINUX} not present");
        return;
    }
    let out = bpfkit(&["inspect", VMLINUX, "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let by_kind = json["btf_types_by_kind"].as_object().unwrap();
    let sum: u64 = by_kind.values().map(|v| v.as_u64().unwrap()).sum();
    assert_eq!(json["types"].as_u64(), Some(sum));
    assert!(by_kind["STRUCT"].as_u64().unwrap() > 1000);
}
