//! `bpfkit inspect` and `bpfkit disasm` on the object fixtures.

use std::path::PathBuf;
use std::process::Command;

fn bpfkit() -> Command {
    Command::new(env!("CARGO_BIN_EXE_bpfkit"))
}

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("../object/tests/fixtures/{name}"))
}

fn run(args: &[&str]) -> (bool, String, String) {
    let o = bpfkit().args(args).output().unwrap();
    (
        o.status.success(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn disasm_of_every_fixture_object_is_llvm_objdump_text() {
    let dir = fixture("");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| n.ends_with(".o"))
        .collect();
    names.sort();
    assert!(names.len() >= 3);
    for name in &names {
        let obj = fixture(name);
        let path = obj.to_str().unwrap();
        let (ok, out, err) = run(&["disasm", "--raw-insn", "--no-annotate", path]);
        assert!(ok, "{name}: {err}");
        let stem = name.trim_end_matches(".o");
        let golden = std::fs::read_to_string(fixture(&format!("golden/{stem}.objdump"))).unwrap();
        assert_eq!(out.replacen(path, "NAME.o", 1), golden, "{name}");
    }
    eprintln!(
        "bpfkit disasm equals llvm-objdump-19 -d on {} fixture objects",
        names.len()
    );
}

#[test]
fn annotated_disasm_names_relocation_targets_and_source_lines() {
    let obj = fixture("rd_full.o");
    let (ok, out, err) = run(&[
        "disasm",
        "--section",
        "kprobe/do_sys_open",
        "--source",
        obj.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    assert!(out.contains("Disassembly of section kprobe/do_sys_open:"));
    assert!(!out.contains("section xdp"));
    assert!(out.contains("r2 = 0x60 ll # &loop_cb"), "{out}");
    assert!(out.contains("# map events"), "{out}");
    assert!(out.contains("# .data.extra+0x0 (extra_counter)"), "{out}");
    assert!(out.contains("call 0xb5 # bpf_loop"), "{out}");
    assert!(
        out.contains("; bpf_loop(4, loop_cb, &sum, 0); [file:./src/rd_full.c line_num:"),
        "{out}"
    );
    let (ok, _, err) = run(&["disasm", "--section", "nope", obj.to_str().unwrap()]);
    assert!(!ok);
    assert!(err.contains("no executable section 'nope'"), "{err}");
}

#[test]
fn inspect_text_and_json() {
    let obj = fixture("rd_full.o");
    let (ok, out, err) = run(&["inspect", obj.to_str().unwrap()]);
    assert!(ok, "{err}");
    for want in [
        "license: Dual BSD/GPL",
        "tail_a (section xdp)",
        "type kprobe, expected attach type -",
        "attach target do_sys_open",
        "35 instructions; subprograms: middle @21, leaf @28",
        "reloc insn    1: R_BPF_64_32    kfunc bpf_rcu_read_lock",
        "[2] = program tail_a",
        "normalised max_entries: 0 -> the number of possible CPUs",
        "limit            rd_full.rodata+0x0 size 4 : const volatile __u32",
        "LINUX_KERNEL_VERSION     kconfig : int at .kconfig+0x0",
        "bpf_rcu_read_lock        kfunc : void (void)",
    ] {
        assert!(out.contains(want), "missing {want:?} in:\n{out}");
    }
    let (ok, out, err) = run(&["inspect", "--json", obj.to_str().unwrap()]);
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let progs = v["programs"].as_array().unwrap();
    assert_eq!(progs.len(), 5);
    assert_eq!(progs[1]["name"], "xdp_first");
    assert_eq!(progs[1]["prog_type"], "xdp");
    assert_eq!(progs[1]["subprograms"][1], "leaf");
    assert_eq!(v["maps"][2]["initial_slots"][0]["target"]["name"], "tail_a");
    assert!(v["btf_types_by_kind"]["STRUCT"].as_u64().unwrap() > 0);
}

#[test]
fn bad_objects_are_errors_naming_the_file() {
    let d = std::env::temp_dir().join(format!("bpfkit-obj-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    let bytes = std::fs::read(fixture("rd_full.o")).unwrap();
    let cut = d.join("cut.o");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let (ok, _, err) = run(&["inspect", cut.to_str().unwrap()]);
    assert!(!ok);
    assert!(
        err.starts_with(&format!("error: {}: ", cut.display())),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&d);
}
