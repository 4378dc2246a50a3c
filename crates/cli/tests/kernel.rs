//! The kernel nouns end to end: `bpfkit prog|map|link|btf|feature` on real
//! kernel objects, compared with bpftool's output on the same objects.
//!
//! Needs root and bpf(2): skipped visibly without them, failed when
//! `BPFKIT_REQUIRE_KERNEL=1`. The bpftool comparisons skip visibly when
//! bpftool is absent. Every object is held by this process (closed on drop)
//! and every pin and cgroup is removed by a guard, even on failure.

use std::os::fd::{AsFd, AsRawFd};
use std::path::PathBuf;
use std::process::Command;

use bpfkit_isa::Insn;
use bpfkit_kernel::link::{Link, LinkAttach};
use bpfkit_kernel::map::KernelMap;
use bpfkit_kernel::prog::{ProgLoad, Program};
use bpfkit_object::kinds::{AttachType, MapType, ProgType};
use bpfkit_object::map::MapSpec;
use serde_json::Value;

fn kernel_or_skip(test: &str) -> bool {
    let required = std::env::var("BPFKIT_REQUIRE_KERNEL").as_deref() == Ok("1");
    let works = KernelMap::create(&spec(MapType::Array, 4, 4, 1)).is_ok();
    if works {
        return true;
    }
    if required {
        panic!("{test}: BPFKIT_REQUIRE_KERNEL=1 but bpf(2) is not usable (not root?)");
    }
    eprintln!("skipped: {test}: bpf(2) not usable (not root?)");
    false
}

fn have_bpftool(test: &str) -> bool {
    let ok = Command::new("bpftool")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("skipped: {test}: bpftool comparison (bpftool not installed)");
    }
    ok
}

fn spec(map_type: MapType, key: u32, value: u32, n: u32) -> MapSpec {
    MapSpec {
        name: "bpfkit_cli".into(),
        map_type,
        key_size: key,
        value_size: value,
        max_entries: n,
        map_flags: 0,
    }
}

struct PinGuard(PathBuf);

impl PinGuard {
    fn new(name: &str) -> PinGuard {
        bpfkit_kernel::pin::ensure_bpffs().unwrap();
        PinGuard(PathBuf::from(format!(
            "/sys/fs/bpf/bpfkit_cli_{}_{name}",
            std::process::id()
        )))
    }
    fn s(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for PinGuard {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn run(cmd: &str, args: &[&str]) -> (bool, String, String) {
    let o = Command::new(cmd).args(args).output().unwrap();
    (
        o.status.success(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn bpfkit(args: &[&str]) -> String {
    let (ok, out, err) = run(env!("CARGO_BIN_EXE_bpfkit"), args);
    assert!(ok, "bpfkit {args:?}: {err}");
    out
}

fn bpftool(args: &[&str]) -> String {
    let (ok, out, err) = run("bpftool", args);
    assert!(ok, "bpftool {args:?}: {err}");
    out
}

fn json(s: &str) -> Value {
    serde_json::from_str(s).unwrap_or_else(|e| panic!("{e}: {s}"))
}

/// Every field bpftool prints must be ours, equal; `loaded_at` within a
/// second (each tool reads the clocks itself) and `pids` (bpftool's view
/// of which processes hold the object) left out.
fn same_fields(ours: &Value, theirs: &Value, what: &str) -> usize {
    let (o, t) = (ours.as_object().unwrap(), theirs.as_object().unwrap());
    let mut n = 0;
    for (k, tv) in t {
        if k == "pids" {
            continue;
        }
        let ov = o
            .get(k)
            .unwrap_or_else(|| panic!("{what}: no field {k:?} (bpftool: {tv})"));
        if k == "loaded_at" {
            let d = ov.as_i64().unwrap() - tv.as_i64().unwrap();
            assert!(d.abs() <= 1, "{what}: loaded_at {ov} vs {tv}");
        } else {
            assert_eq!(ov, tv, "{what}: field {k}");
        }
        n += 1;
    }
    n
}

/// Drops bpftool's `pids` lines and the `loaded_at` time from text output.
fn normalise(text: &str) -> String {
    text.lines()
        .filter(|l| !l.trim_start().starts_with("pids "))
        .map(|l| match l.find("loaded_at ") {
            Some(i) => {
                let rest = &l[i + 10..];
                let end = rest.find(' ').unwrap_or(rest.len());
                format!("{}loaded_at <time>{}", &l[..i], &rest[end..])
            }
            None => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// `r1 = map ll; r2 = *(u32 *)(r1 + 0)...`: an XDP program that uses
/// `map` (so it has map ids) and bumps the first packet byte.
fn xdp_with_map(map: &KernelMap, name: &str) -> Program {
    let fd = map.fd().as_raw_fd();
    let src = "
        r2 = *(u32 *)(r1 + 0)
        r3 = *(u32 *)(r1 + 4)
        r0 = 1
        r4 = r2
        r4 += 1
        if r4 > r3 goto out
        r5 = *(u8 *)(r2 + 0)
        r5 += 1
        *(u8 *)(r2 + 0) = r5
        r0 = 2
    out:
        exit
    ";
    let body = bpfkit_isa::asm::assemble(src, bpfkit_isa::Syntax::Llvm).unwrap();
    // BPF_PSEUDO_MAP_FD in src of an lddw: the kernel swaps in the map.
    let mut all = vec![Insn::new(0x18, 6, 1, 0, fd), Insn::new(0, 0, 0, 0, 0)];
    all.extend(body);
    let mut l = ProgLoad::new(ProgType::Xdp, &all);
    l.name = name;
    l.load().unwrap()
}

#[test]
fn prog_show_and_list_match_bpftool() {
    if !kernel_or_skip("prog_show_and_list_match_bpftool") {
        return;
    }
    let m = KernelMap::create(&spec(MapType::Array, 4, 4, 1)).unwrap();
    let p = xdp_with_map(&m, "bpfkit_cli_p");
    let id = p.id().unwrap().to_string();
    let ours = json(&bpfkit(&["prog", "show", "id", &id, "--json"]));
    assert_eq!(ours["map_ids"], serde_json::json!([m.id()]));
    assert_eq!(ours["name"], "bpfkit_cli_p");
    // The list holds the same object.
    let list = json(&bpfkit(&["prog", "list", "--json"]));
    let listed = list
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["id"].as_u64() == id.parse().ok())
        .expect("prog list shows the program");
    assert_eq!(listed["tag"], ours["tag"]);
    // Selectors: name and tag find it, pinned finds it.
    let tag = ours["tag"].as_str().unwrap().to_string();
    let by_tag = json(&bpfkit(&["prog", "show", "tag", &tag, "-j"]));
    let by_tag: Vec<Value> = match by_tag {
        Value::Array(a) => a,
        v => vec![v],
    };
    assert!(by_tag.iter().any(|v| v["id"].as_u64() == id.parse().ok()));
    let pin = PinGuard::new("prog");
    bpfkit(&["prog", "pin", "id", &id, pin.s()]);
    let pinned = json(&bpfkit(&["prog", "show", "pinned", pin.s(), "-j"]));
    assert_eq!(pinned["id"].to_string(), id);

    if !have_bpftool("prog_show_and_list_match_bpftool") {
        return;
    }
    let theirs = json(&bpftool(&["-j", "prog", "show", "id", &id]));
    let n = same_fields(&ours, &theirs, "prog show");
    assert!(n >= 12, "compared {n} fields");
    let their_list = json(&bpftool(&["-j", "prog", "list"]));
    let their_entry = their_list
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["id"].as_u64() == id.parse().ok())
        .unwrap();
    same_fields(listed, their_entry, "prog list");
    assert_eq!(
        normalise(&bpfkit(&["prog", "show", "id", &id])),
        normalise(&bpftool(&["prog", "show", "id", &id]))
    );
    eprintln!("prog show: {n} fields equal to bpftool's");

    // With run-time statistics on, both show run_time_ns and run_cnt.
    let stats = bpfkit_kernel::stats::enable_run_time_stats().unwrap();
    bpfkit_kernel::test_run::TestRun {
        data_in: &[0u8; 64],
        repeat: 4,
        ..Default::default()
    }
    .run(p.fd())
    .unwrap();
    let ours = json(&bpfkit(&["prog", "show", "id", &id, "--json"]));
    let theirs = json(&bpftool(&["-j", "prog", "show", "id", &id]));
    drop(stats);
    assert!(ours["run_cnt"].as_u64().unwrap() >= 4, "{ours}");
    same_fields(&ours, &theirs, "prog show with stats");
}

#[test]
fn prog_run_and_dump() {
    if !kernel_or_skip("prog_run_and_dump") {
        return;
    }
    let m = KernelMap::create(&spec(MapType::Array, 4, 4, 1)).unwrap();
    let p = xdp_with_map(&m, "bpfkit_cli_r");
    let id = p.id().unwrap().to_string();
    struct TmpDir(PathBuf);
    impl Drop for TmpDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
    let tmp =
        TmpDir(std::env::temp_dir().join(format!("bpfkit-kernel-cli-{}", std::process::id())));
    let dir = tmp.0.clone();
    std::fs::create_dir_all(&dir).unwrap();
    let pkt = dir.join("pkt");
    std::fs::write(&pkt, (0u8..40).collect::<Vec<_>>()).unwrap();
    let pkt = pkt.to_str().unwrap();
    let out = bpfkit(&[
        "prog", "run", "id", &id, "data_in", pkt, "data_out", "-", "repeat", "1",
    ]);
    let mut lines = out.lines();
    assert_eq!(
        lines.next().unwrap(),
        "0000000\t0101 0203 0405 0607 0809 0a0b 0c0d 0e0f | ........ ........"
    );
    let last = out.lines().last().unwrap();
    assert!(last.starts_with("Return value: 2, duration: "), "{out}");
    let j = json(&bpfkit(&[
        "prog", "run", "id", &id, "data_in", pkt, "data_out", "-", "-j",
    ]));
    assert_eq!(j["retval"], 2);
    assert_eq!(j["data_out"][0], 1);
    let dump = bpfkit(&["prog", "dump", "xlated", "id", &id]);
    assert_eq!(
        dump.lines().next().unwrap(),
        format!("   0: (18) r6 = map[id:{}]", m.id()),
        "{dump}"
    );
    assert!(
        dump.lines().last().unwrap().ends_with(": (95) exit"),
        "{dump}"
    );
    let with_op = bpfkit(&["prog", "dump", "xlated", "id", &id, "opcodes"]);
    let second = with_op.lines().nth(1).unwrap();
    assert!(second.starts_with("       18 16 00 00 "), "{with_op}");
    assert_eq!(second.len(), 7 + 16 * 3 - 1, "{with_op}");
    let jited = bpfkit(&["prog", "dump", "jited", "id", &id]);
    assert!(jited.starts_with("func 0:\n"), "{jited}");
    let out_file = dir.join("xlated.bin");
    bpfkit(&[
        "prog",
        "dump",
        "xlated",
        "id",
        &id,
        "file",
        out_file.to_str().unwrap(),
    ]);
    assert_eq!(std::fs::read(&out_file).unwrap().len() % 8, 0);

    if have_bpftool("prog_run_and_dump") {
        let theirs = bpftool(&["prog", "run", "id", &id, "data_in", pkt, "data_out", "-"]);
        let body = |s: &str| {
            s.lines()
                .filter(|l| !l.starts_with("Return"))
                .collect::<Vec<_>>()
                .join("\n")
        };
        assert_eq!(body(&out), body(&theirs));
        assert!(theirs.contains("Return value: 2, duration"), "{theirs}");
        // JSON, with a context too: the same members, equal but the time.
        let ctx = dir.join("ctx");
        std::fs::write(&ctx, [0u8; 24]).unwrap();
        let ctx = ctx.to_str().unwrap();
        let args = [
            "prog", "run", "id", &id, "data_in", pkt, "data_out", "-", "ctx_in", ctx, "ctx_out",
            "-",
        ];
        let mut ours = json(&bpfkit(&[&args[..], &["-j"]].concat()));
        let mut theirs = json(&bpftool(&[&["-j"], &args[..]].concat()));
        ours["duration"] = Value::Null;
        theirs["duration"] = Value::Null;
        assert_eq!(ours, theirs);
    }
}

#[test]
fn map_commands_and_dump_match_bpftool() {
    if !kernel_or_skip("map_commands_and_dump_match_bpftool") {
        return;
    }
    let pin = PinGuard::new("map");
    bpfkit(&[
        "map",
        "create",
        pin.s(),
        "type",
        "hash",
        "key",
        "4",
        "value",
        "8",
        "entries",
        "8",
        "name",
        "bpfkit_cli_m",
    ]);
    let sel = ["pinned", pin.s()];
    for (k, v) in [("1", "0x11"), ("2", "0x22"), ("3", "0x33")] {
        let mut args = vec!["map", "update"];
        args.extend(sel);
        args.extend([
            "key", k, "0", "0", "0", "value", v, "0", "0", "0", "0", "0", "0", "1",
        ]);
        bpfkit(&args);
    }
    let (ok, _, err) = run(
        env!("CARGO_BIN_EXE_bpfkit"),
        &[
            "map",
            "update",
            "pinned",
            pin.s(),
            "key",
            "1",
            "0",
            "0",
            "0",
            "value",
            "hex",
            "0000000000000000",
            "noexist",
        ],
    );
    assert!(!ok && err.contains("EEXIST"), "{err}");
    let look = bpfkit(&["map", "lookup", "pinned", pin.s(), "key", "hex", "02000000"]);
    assert_eq!(look, "key: 02 00 00 00  value: 22 00 00 00 00 00 00 01\n");
    bpfkit(&[
        "map",
        "delete",
        "pinned",
        pin.s(),
        "key",
        "3",
        "0",
        "0",
        "0",
    ]);
    let (ok, _, err) = run(
        env!("CARGO_BIN_EXE_bpfkit"),
        &[
            "map",
            "lookup",
            "pinned",
            pin.s(),
            "key",
            "3",
            "0",
            "0",
            "0",
        ],
    );
    assert!(!ok && err.contains("not found"), "{err}");
    let dump = bpfkit(&["map", "dump", "pinned", pin.s()]);
    assert!(dump.ends_with("Found 2 elements\n"), "{dump}");

    // A per-CPU map too, for the per-CPU dump shape.
    let pcpu = KernelMap::create(&spec(MapType::PercpuArray, 4, 4, 2)).unwrap();
    let ncpu = bpfkit_kernel::possible_cpus().unwrap();
    pcpu.update_elem(&1u32.to_ne_bytes(), &vec![7u8; 8 * ncpu], 0)
        .unwrap();
    let pid = pcpu.id().to_string();

    bpfkit(&["map", "freeze", "pinned", pin.s()]);
    let shown = json(&bpfkit(&["map", "show", "pinned", pin.s(), "--json"]));
    assert_eq!(shown["frozen"], 1);
    assert_eq!(shown["bytes_key"], 4);

    if !have_bpftool("map_commands_and_dump_match_bpftool") {
        return;
    }
    let n = same_fields(
        &shown,
        &json(&bpftool(&["-j", "map", "show", "pinned", pin.s()])),
        "map show",
    );
    assert!(n >= 9, "compared {n} fields");
    assert_eq!(
        json(&bpfkit(&["map", "dump", "pinned", pin.s(), "-j"])),
        json(&bpftool(&["-j", "map", "dump", "pinned", pin.s()]))
    );
    assert_eq!(dump, bpftool(&["map", "dump", "pinned", pin.s()]));
    assert_eq!(
        json(&bpfkit(&["map", "dump", "id", &pid, "-j"])),
        json(&bpftool(&["-j", "map", "dump", "id", &pid]))
    );
    assert_eq!(
        bpfkit(&["map", "dump", "id", &pid]),
        bpftool(&["map", "dump", "id", &pid])
    );
    assert_eq!(
        normalise(&bpfkit(&["map", "show", "pinned", pin.s()])),
        normalise(&bpftool(&["map", "show", "pinned", pin.s()]))
    );
    let all_ours = json(&bpfkit(&["map", "list", "-j"]));
    let all_theirs = json(&bpftool(&["-j", "map", "list"]));
    let find = |v: &Value| {
        v.as_array()
            .unwrap()
            .iter()
            .find(|m| m["id"].as_u64() == pid.parse().ok())
            .cloned()
            .unwrap()
    };
    same_fields(&find(&all_ours), &find(&all_theirs), "map list");
}

#[test]
fn feature_probe_matches_bpftool() {
    if !kernel_or_skip("feature_probe_matches_bpftool") {
        return;
    }
    let ours = json(&bpfkit(&["feature", "probe", "--json"]));
    let text = bpfkit(&["feature", "probe", "kernel"]);
    assert!(
        text.contains("eBPF program_type xdp is available"),
        "{text}"
    );
    assert!(text.contains("\t- bpf_xdp_adjust_head"), "{text}");
    if !have_bpftool("feature_probe_matches_bpftool") {
        return;
    }
    let theirs = json(&bpftool(&["-j", "feature", "probe"]));
    let mut n = 0;
    for section in ["program_types", "map_types", "misc", "syscall_config"] {
        n += same_fields(&ours[section], &theirs[section], section);
    }
    n += same_fields(
        &ours["system_config"],
        &theirs["system_config"],
        "system_config",
    );
    // The text's sections up to the helpers are bpftool's, line for line.
    let upto = |s: &str| {
        s.lines()
            .take_while(|l| !l.starts_with("Scanning eBPF helper"))
            .filter(|l| {
                // bpftool 7.1 does not know the newest types.
                !["netfilter", "cgrp_storage", "arena"]
                    .iter()
                    .any(|t| l.contains(&format!("_type {t} ")))
            })
            .map(String::from)
            .collect::<Vec<_>>()
    };
    assert_eq!(upto(&text), upto(&bpftool(&["feature", "probe", "kernel"])));
    // bpftool 7.1 counts every helper as available wherever the verifier
    // says "program of this type cannot use helper" (it only knows the
    // older "unknown func"): ours must be among its, empty where its are.
    for (k, tv) in theirs["helpers"].as_object().unwrap() {
        let t: Vec<&str> = tv
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        let o: Vec<&str> = ours["helpers"][k]
            .as_array()
            .unwrap_or_else(|| panic!("no {k}"))
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        let known: Vec<&&str> = o
            .iter()
            .filter(|h| bpfkit_isa::helpers::helper_id(h).unwrap_or(0) <= 209)
            .collect();
        assert!(known.iter().all(|h| t.contains(h)), "{k}");
        assert_eq!(o.is_empty(), t.is_empty(), "{k}");
        n += 1;
    }
    eprintln!("feature probe: {n} fields compared with bpftool");
}

#[test]
fn link_and_btf_lists_match_bpftool() {
    if !kernel_or_skip("link_and_btf_lists_match_bpftool") {
        return;
    }
    let mounts = std::fs::read_to_string("/proc/self/mounts").unwrap();
    let Some(root) = mounts
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .find(|f| f.len() > 2 && f[2] == "cgroup2")
        .map(|f| PathBuf::from(f[1]))
    else {
        eprintln!("skipped: link_and_btf_lists_match_bpftool: no cgroup2");
        return;
    };
    struct Cg(PathBuf);
    impl Drop for Cg {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir(&self.0);
        }
    }
    let cg = Cg(root.join(format!("bpfkit_cli_{}", std::process::id())));
    std::fs::create_dir(&cg.0).unwrap();
    let dir = std::fs::File::open(&cg.0).unwrap();
    let insns = bpfkit_isa::asm::assemble("r0 = 1\nexit", bpfkit_isa::Syntax::Llvm).unwrap();
    let mut l = ProgLoad::new(ProgType::CgroupSkb, &insns);
    l.expected_attach_type = Some(AttachType::CgroupInetEgress);
    let p = l.load().unwrap();
    let link = Link::create(
        p.fd(),
        LinkAttach::Fd(dir.as_fd()),
        AttachType::CgroupInetEgress,
        0,
        0,
    )
    .unwrap();
    let lid = link.info().unwrap().id.to_string();
    let ours = json(&bpfkit(&["link", "show", "id", &lid, "-j"]));
    assert_eq!(ours["type"], "cgroup");
    assert_eq!(ours["attach_type"], "cgroup_inet_egress");
    let list = json(&bpfkit(&["link", "list", "-j"]));
    assert!(list
        .as_array()
        .unwrap()
        .iter()
        .any(|v| v["id"].as_u64() == lid.parse().ok()));
    let btfs = json(&bpfkit(&["btf", "list", "-j"]));
    let vmlinux = btfs
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["name"] == "vmlinux")
        .cloned()
        .expect("vmlinux BTF listed");
    assert_eq!(vmlinux["kernel"], true);
    if !have_bpftool("link_and_btf_lists_match_bpftool") {
        return;
    }
    let n = same_fields(
        &ours,
        &json(&bpftool(&["-j", "link", "show", "id", &lid])),
        "link show",
    );
    assert!(n >= 5, "compared {n}");
    assert_eq!(
        normalise(&bpfkit(&["link", "show", "id", &lid])),
        normalise(&bpftool(&["link", "show", "id", &lid]))
    );
    let vid = vmlinux["id"].to_string();
    same_fields(
        &json(&bpfkit(&["btf", "show", "id", &vid, "-j"])),
        &json(&bpftool(&["-j", "btf", "show", "id", &vid])),
        "btf show",
    );
    assert_eq!(
        bpfkit(&["btf", "show", "id", &vid]),
        bpftool(&["btf", "show", "id", &vid])
    );
}

/// A BTF blob built type by type: `int`, `char`, `unsigned int`,
/// `char[8]`, `enum color`, `int *`, `struct val` (with bit fields, so
/// kind_flag), `typedef unsigned int u32_t`.
fn value_btf() -> (Vec<u8>, u32, u32) {
    let mut strings = vec![0u8];
    let mut s = |name: &str| {
        let off = strings.len() as u32;
        strings.extend_from_slice(name.as_bytes());
        strings.push(0);
        off
    };
    let (int, char_, uint, color, red, blue, val, a, name, flags, more, cl, p, u32_t) = (
        s("int"),
        s("char"),
        s("unsigned int"),
        s("color"),
        s("RED"),
        s("BLUE"),
        s("val"),
        s("a"),
        s("name"),
        s("flags"),
        s("more"),
        s("color"),
        s("p"),
        s("u32_t"),
    );
    let words: Vec<u32> = vec![
        int,
        1 << 24,
        4,
        (1 << 24) | 32, // [1] int
        char_,
        1 << 24,
        1,
        (1 << 24) | 8, // [2] char
        uint,
        1 << 24,
        4,
        32, // [3] unsigned int
        0,
        3 << 24,
        0,
        2,
        3,
        8, // [4] char[8]
        color,
        (6 << 24) | 2,
        4,
        red,
        0,
        blue,
        5, // [5] enum color
        0,
        2 << 24,
        1, // [6] int *
        val,
        (1 << 31) | (4 << 24) | 6,
        32, // [7] struct val, kind_flag
        a,
        1,
        0,
        name,
        4,
        32,
        flags,
        3,
        (3 << 24) | 96,
        more,
        3,
        (5 << 24) | 99,
        cl,
        5,
        128,
        p,
        6,
        192,
        u32_t,
        8 << 24,
        3, // [8] typedef u32_t
    ];
    let types: Vec<u8> = words.iter().flat_map(|w| w.to_ne_bytes()).collect();
    let mut b = Vec::new();
    b.extend_from_slice(&0xeb9fu16.to_ne_bytes());
    b.extend_from_slice(&[1, 0]);
    for w in [
        24u32,
        0,
        types.len() as u32,
        types.len() as u32,
        strings.len() as u32,
    ] {
        b.extend_from_slice(&w.to_ne_bytes());
    }
    b.extend_from_slice(&types);
    b.extend_from_slice(&strings);
    (b, 8, 7)
}

#[test]
fn btf_formatted_map_dump_matches_bpftool() {
    if !kernel_or_skip("btf_formatted_map_dump_matches_bpftool") {
        return;
    }
    let (blob, key_id, value_id) = value_btf();
    let btf = bpfkit_kernel::btf::KernelBtf::load(&blob, 1).unwrap_or_else(|e| panic!("{e}"));
    let extra = bpfkit_kernel::map::MapCreateExtra {
        btf_fd: Some(btf.fd()),
        btf_key_type_id: key_id,
        btf_value_type_id: value_id,
        ..Default::default()
    };
    let m = KernelMap::create_with(&spec(MapType::Hash, 4, 32, 4), &extra).unwrap();
    let mut v = vec![0u8; 32];
    v[..4].copy_from_slice(&(-2i32).to_ne_bytes());
    v[4..8].copy_from_slice(b"bpf\0");
    v[12] = 5 | (17 << 3);
    v[16] = 5;
    v[24..32].copy_from_slice(&0x1000u64.to_ne_bytes());
    m.update_elem(&7u32.to_ne_bytes(), &v, 0).unwrap();
    let mut w = vec![0u8; 32];
    w[4..12].copy_from_slice(b"\x01notstr\0");
    w[16] = 9;
    m.update_elem(&8u32.to_ne_bytes(), &w, 0).unwrap();
    let id = m.id().to_string();
    let text = bpfkit(&["map", "dump", "id", &id]);
    assert!(text.contains("\"name\": \"bpf\""), "{text}");
    assert!(text.contains("\"flags\": 0x5"), "{text}");
    assert!(text.contains("\"color\": \"BLUE\""), "{text}");
    if !have_bpftool("btf_formatted_map_dump_matches_bpftool") {
        return;
    }
    assert_eq!(text, bpftool(&["map", "dump", "id", &id]));
    assert_eq!(
        json(&bpfkit(&["map", "dump", "id", &id, "-j"])),
        json(&bpftool(&["-j", "map", "dump", "id", &id]))
    );
    let key = ["key", "7", "0", "0", "0"];
    let mut ours = vec!["map", "lookup", "id", &id];
    ours.extend(key);
    let mut theirs = vec!["map", "lookup", "id", &id];
    theirs.extend(key);
    assert_eq!(bpfkit(&ours), bpftool(&theirs));
    ours.push("-j");
    theirs.insert(0, "-j");
    assert_eq!(json(&bpfkit(&ours)), json(&bpftool(&theirs)));
}

#[test]
fn map_values_that_are_programs_and_maps() {
    if !kernel_or_skip("map_values_that_are_programs_and_maps") {
        return;
    }
    let m = KernelMap::create(&spec(MapType::Array, 4, 4, 1)).unwrap();
    let p = xdp_with_map(&m, "bpfkit_cli_t");
    let pid = p.id().unwrap().to_string();
    let progs = PinGuard::new("progs");
    bpfkit(&[
        "map",
        "create",
        progs.s(),
        "type",
        "prog_array",
        "key",
        "4",
        "value",
        "4",
        "entries",
        "2",
        "name",
        "jmp",
    ]);
    bpfkit(&[
        "map",
        "update",
        "pinned",
        progs.s(),
        "key",
        "1",
        "0",
        "0",
        "0",
        "value",
        "id",
        &pid,
    ]);
    // The kernel reads back the program's id.
    let got = json(&bpfkit(&[
        "map",
        "lookup",
        "pinned",
        progs.s(),
        "key",
        "1",
        "0",
        "0",
        "0",
        "-j",
    ]));
    let id_bytes: Vec<Value> = p
        .id()
        .unwrap()
        .to_ne_bytes()
        .iter()
        .map(|b| Value::String(format!("0x{b:02x}")))
        .collect();
    assert_eq!(got["value"], Value::Array(id_bytes));

    let outer = PinGuard::new("outer");
    let inner_id = m.id().to_string();
    bpfkit(&[
        "map",
        "create",
        outer.s(),
        "type",
        "array_of_maps",
        "key",
        "4",
        "value",
        "4",
        "entries",
        "2",
        "name",
        "outer",
        "inner_map",
        "id",
        &inner_id,
    ]);
    bpfkit(&[
        "map",
        "update",
        "pinned",
        outer.s(),
        "key",
        "0",
        "0",
        "0",
        "0",
        "value",
        "id",
        &inner_id,
    ]);
    let text = bpfkit(&["map", "dump", "pinned", outer.s()]);
    assert!(text.contains("Found 1 element"), "{text}");
    if have_bpftool("map_values_that_are_programs_and_maps") {
        assert_eq!(text, bpftool(&["map", "dump", "pinned", outer.s()]));
        assert_eq!(
            bpfkit(&["map", "dump", "pinned", progs.s()]),
            bpftool(&["map", "dump", "pinned", progs.s()])
        );
        let ours = json(&bpfkit(&["map", "show", "pinned", progs.s(), "-j"]));
        assert_eq!(ours["owner_prog_type"], "xdp");
        same_fields(
            &ours,
            &json(&bpftool(&["-j", "map", "show", "pinned", progs.s()])),
            "prog_array show",
        );
        assert_eq!(
            normalise(&bpfkit(&["map", "show", "pinned", progs.s()])),
            normalise(&bpftool(&["map", "show", "pinned", progs.s()]))
        );
    }
}

#[test]
fn dump_shows_failed_lookups_as_bpftool() {
    if !kernel_or_skip("dump_shows_failed_lookups_as_bpftool") {
        return;
    }
    // A perf event array cannot be read from userspace: each key's lookup
    // fails, and both tools say so in place of the value.
    let m = KernelMap::create(&spec(MapType::PerfEventArray, 4, 4, 2)).unwrap();
    let id = m.id().to_string();
    let text = bpfkit(&["map", "dump", "id", &id]);
    assert!(text.ends_with("Found 0 elements\n"), "{text}");
    assert!(text.contains("value:"), "{text}");
    if have_bpftool("dump_shows_failed_lookups_as_bpftool") {
        assert_eq!(text, bpftool(&["map", "dump", "id", &id]));
        assert_eq!(
            json(&bpfkit(&["map", "dump", "id", &id, "-j"])),
            json(&bpftool(&["-j", "map", "dump", "id", &id]))
        );
    }
}

#[test]
fn queue_verbs_and_getnext_match_bpftool() {
    if !kernel_or_skip("queue_verbs_and_getnext_match_bpftool") {
        return;
    }
    let q = PinGuard::new("queue");
    bpfkit(&[
        "map",
        "create",
        q.s(),
        "type",
        "queue",
        "key",
        "0",
        "value",
        "4",
        "entries",
        "4",
        "name",
        "q",
    ]);
    for v in ["1", "2", "3"] {
        bpfkit(&["map", "push", "pinned", q.s(), "value", v, "0", "0", "0"]);
    }
    bpfkit(&[
        "map",
        "enqueue",
        "pinned",
        q.s(),
        "value",
        "hex",
        "04000000",
    ]);
    let peek = bpfkit(&["map", "peek", "pinned", q.s()]);
    assert_eq!(peek, "value: 01 00 00 00\n");
    let pop = bpfkit(&["map", "pop", "pinned", q.s(), "-j"]);
    assert_eq!(json(&pop)["value"][0], "0x01");

    let h = KernelMap::create(&spec(MapType::Array, 4, 4, 3)).unwrap();
    let hid = h.id().to_string();
    let first = bpfkit(&["map", "getnext", "id", &hid]);
    assert_eq!(first, "key: None\nnext key:\n00 00 00 00\n");
    if !have_bpftool("queue_verbs_and_getnext_match_bpftool") {
        return;
    }
    assert_eq!(
        bpfkit(&["map", "peek", "pinned", q.s()]).trim_end(),
        bpftool(&["map", "peek", "pinned", q.s()]).trim_end()
    );
    assert_eq!(
        json(&bpfkit(&["map", "peek", "pinned", q.s(), "-j"])),
        json(&bpftool(&["-j", "map", "peek", "pinned", q.s()]))
    );
    assert_eq!(
        bpfkit(&["map", "dequeue", "pinned", q.s()]),
        "value: 02 00 00 00\n"
    );
    assert_eq!(
        bpftool(&["map", "pop", "pinned", q.s()]).trim_end(),
        "value: 03 00 00 00"
    );
    assert_eq!(first, bpftool(&["map", "getnext", "id", &hid]));
    let args = ["map", "getnext", "id", &hid, "key", "1", "0", "0", "0"];
    assert_eq!(bpfkit(&args), bpftool(&args));
    assert_eq!(
        json(&bpfkit(&[&args[..], &["-j"]].concat())),
        json(&bpftool(&[&["-j"], &args[..]].concat()))
    );
}
