//! Differential test against libbpf and the kernel: each fixture that
//! libbpf 1.1 loads (`bpftool prog loadall`) must give, for every map, the
//! type, key size, value size, max_entries and flags the reader computed,
//! and for every program the functions in the order the reader linked them
//! (`bpftool prog dump xlated` names them from func_info).
//!
//! Needs root, BPF and bpffs: without them the test says it skipped, or
//! fails when `BPFKIT_REQUIRE_KERNEL=1`. Needs bpftool (the machine's
//! tool, not bpfkit's): without it the test says it skipped. Everything it
//! loads is pinned under a directory of its own, removed by a guard even
//! when an assertion fails.

use bpfkit_object::read::{NormalisedValue, Object, Pinning};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Fixtures libbpf 1.1 loads on this kernel and that pin nothing by name
/// (a by-name pin is shared state other runs may hold).
const FIXTURES: &[&str] = &[
    "xdp_parse",
    "socket_ldabs",
    "kprobe_events",
    "tracepoints",
    "cgroup_lpm",
    "sock_redirect",
    "perf_sample",
    "tail_calls",
    "map_in_map",
    "global_data",
    "ksyms_kconfig",
    "subprog_calls",
    "cpu_v4",
    "btf_scopes",
];

/// Removes the pin directory (and so every program and map it holds).
struct PinDir(PathBuf);
impl Drop for PinDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn kernel_ready() -> Result<(), String> {
    let uid = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .map(|l| l.split_whitespace().nth(1).unwrap_or("").to_string())
        });
    if uid.as_deref() != Some("0") {
        return Err("not root".into());
    }
    if !Path::new("/sys/fs/bpf").is_dir() {
        return Err("no bpffs at /sys/fs/bpf".into());
    }
    Ok(())
}

fn json(args: &[&str]) -> serde_json::Value {
    let out = Command::new("bpftool")
        .args(args)
        .arg("-j")
        .output()
        .expect("bpftool runs");
    assert!(
        out.status.success(),
        "bpftool {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("bpftool prints JSON")
}

#[test]
fn maps_and_link_order_agree_with_libbpf_in_the_kernel() {
    if let Err(why) = kernel_ready() {
        if std::env::var("BPFKIT_REQUIRE_KERNEL").as_deref() == Ok("1") {
            panic!("kernel test needs root and BPF: {why}");
        }
        eprintln!("skipped: kernel_libbpf_agree: {why}");
        return;
    }
    if Command::new("bpftool").arg("version").output().is_err() {
        eprintln!("skipped: kernel_libbpf_agree: bpftool is not installed");
        return;
    }
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut maps_checked = 0;
    let mut progs_checked = 0;
    for name in FIXTURES {
        let path = dir.join(format!("{name}.o"));
        let obj = Object::open(&path).unwrap_or_else(|e| panic!("{e}"));
        assert!(
            obj.maps.iter().all(|m| m.pinning != Pinning::ByName),
            "{name} pins by name"
        );
        let pins = PinDir(PathBuf::from(format!(
            "/sys/fs/bpf/bpfkit_rd_{}_{name}",
            std::process::id()
        )));
        let out = Command::new("bpftool")
            .arg("prog")
            .arg("loadall")
            .arg(&path)
            .arg(&pins.0)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{name}: libbpf refuses it: {}",
            String::from_utf8_lossy(&out.stderr)
        );

        let mut map_ids = std::collections::BTreeSet::new();
        for p in &obj.programs {
            let pin = pins.0.join(&p.name);
            let pin = pin.to_str().unwrap();
            let info = json(&["prog", "show", "pinned", pin]);
            for id in info["map_ids"].as_array().into_iter().flatten() {
                map_ids.insert(id.as_u64().unwrap());
            }
            let xlated = Command::new("bpftool")
                .args(["prog", "dump", "xlated", "pinned", pin])
                .output()
                .unwrap();
            let text = String::from_utf8_lossy(&xlated.stdout);
            let kernel_funcs: Vec<String> = text
                .lines()
                .filter(|l| l.ends_with("):"))
                .filter_map(|l| {
                    l.split('(')
                        .next()?
                        .split_whitespace()
                        .last()
                        .map(|s| s.trim_start_matches('*').to_string())
                })
                .collect();
            let ours: Vec<String> = p.functions.iter().map(|f| f.name.clone()).collect();
            assert_eq!(kernel_funcs, ours, "{name}: program {} functions", p.name);
            progs_checked += 1;
        }
        for id in map_ids {
            let k = json(&["map", "show", "id", &id.to_string()]);
            let kname = k["name"].as_str().unwrap();
            let m = obj
                .maps
                .iter()
                .find(|m| m.name.chars().take(15).collect::<String>() == kname)
                .unwrap_or_else(|| {
                    panic!("{name}: the kernel has map {kname}, the reader has none")
                });
            let ty = m.map_type.map(|t| t.name()).unwrap_or("?");
            assert_eq!(k["type"].as_str().unwrap(), ty, "{name}: {kname} type");
            assert_eq!(
                k["bytes_key"].as_u64().unwrap(),
                u64::from(m.key_size),
                "{name}: {kname} key size"
            );
            assert_eq!(
                k["bytes_value"].as_u64().unwrap(),
                u64::from(m.value_size),
                "{name}: {kname} value size"
            );
            assert_eq!(
                k["flags"].as_u64().unwrap(),
                u64::from(m.map_flags),
                "{name}: {kname} flags"
            );
            let kmax = k["max_entries"].as_u64().unwrap();
            if m.normalisations
                .iter()
                .any(|n| n.field == "max_entries" && n.to == NormalisedValue::PossibleCpus)
            {
                assert!(kmax > 0, "{name}: {kname} max_entries");
            } else {
                assert_eq!(
                    kmax,
                    u64::from(m.max_entries),
                    "{name}: {kname} max_entries"
                );
            }
            maps_checked += 1;
        }
    }
    eprintln!("kernel_libbpf_agree: {maps_checked} maps and {progs_checked} programs of {} fixtures agree with libbpf", FIXTURES.len());
}
