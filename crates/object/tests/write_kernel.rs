//! The kernel accepts the objects bpfkit writes: each map-free fixture is
//! written with `assemble_object`, loaded with bpftool (libbpf's loader):
//! `bpftool prog load OBJ PIN` for single-program objects, `bpftool prog
//! loadall OBJ DIR` (every program pinned under DIR) for the others, and
//! bpftool's JSON for the pinned programs is checked.
//!
//! Needs root, bpftool and BPF; without them the test prints
//! `skipped: ...`, unless `BPFKIT_REQUIRE_KERNEL=1`, which makes it fail.
//! Every pin, the pin directory, the temporary object and a bpffs mounted
//! here are removed when the test ends, whether it passes or not.

use bpfkit_object::write::assemble_object;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

/// (fixture, programs it holds: (name, bpftool's type name)). One program:
/// `prog load`; more: `prog loadall`.
const LOADABLE: &[(&str, &[(&str, &str)])] = &[
    (
        "calls",
        &[("xdp_calls", "xdp"), ("socket_len", "socket_filter")],
    ),
    ("alu32", &[("alu32", "socket_filter")]),
    ("v4", &[("v4_ops", "xdp")]),
];

const BPFFS: &str = "/sys/fs/bpf";

/// Skips (or fails under `BPFKIT_REQUIRE_KERNEL=1`) with `why`.
fn skip(why: &str) {
    if std::env::var("BPFKIT_REQUIRE_KERNEL").as_deref() == Ok("1") {
        panic!("BPFKIT_REQUIRE_KERNEL=1 but {why}");
    }
    eprintln!("skipped: kernel load of written objects: {why}");
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .map(|l| l.split_whitespace().nth(2) == Some("0"))
        })
        .unwrap_or(false)
}

fn bpffs_mounted() -> bool {
    std::fs::read_to_string("/proc/mounts")
        .map(|m| {
            m.lines().any(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                f.get(1) == Some(&BPFFS) && f.get(2) == Some(&"bpf")
            })
        })
        .unwrap_or(false)
}

/// Removes what the test created, in reverse order, even when it panics.
#[derive(Default)]
struct Cleanup {
    files: Vec<PathBuf>,
    pin_dirs: Vec<PathBuf>,
    mounted: bool,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        for dir in self.pin_dirs.iter().rev() {
            // Unlinking a pin drops the program's last reference.
            if let Ok(entries) = std::fs::read_dir(dir) {
                for e in entries.flatten() {
                    let _ = std::fs::remove_file(e.path());
                }
            }
            let _ = std::fs::remove_dir(dir);
        }
        for f in &self.files {
            let _ = std::fs::remove_file(f);
        }
        if self.mounted {
            let _ = Command::new("umount").arg(BPFFS).status();
        }
    }
}

fn bpftool(args: &[&str]) -> Result<String, String> {
    let out = Command::new("bpftool")
        .args(args)
        .output()
        .map_err(|e| format!("running bpftool: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "bpftool {}: {}\n{}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

fn fixture_source(name: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/fixtures/asm/{name}.s"));
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[test]
fn bpftool_loads_written_objects() {
    if !is_root() {
        return skip("not root");
    }
    if Command::new("bpftool").arg("version").output().is_err() {
        return skip("bpftool is not installed");
    }
    let mut cleanup = Cleanup::default();
    if !bpffs_mounted() {
        let status = Command::new("mount")
            .args(["-t", "bpf", "bpf", BPFFS])
            .status();
        if !status.is_ok_and(|s| s.success()) {
            return skip("no bpffs at /sys/fs/bpf and mounting one failed");
        }
        cleanup.mounted = true;
    }
    let pid = std::process::id();
    let mut loaded = 0;
    for (name, programs) in LOADABLE {
        let elf = assemble_object(&fixture_source(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        let obj = std::env::temp_dir().join(format!("bpfkit-writer-{pid}-{name}.o"));
        cleanup.files.push(obj.clone());
        std::fs::write(&obj, &elf).expect("writing the object");
        let dir = PathBuf::from(BPFFS).join(format!("bpfkit-writer-{pid}-{name}"));
        cleanup.pin_dirs.push(dir.clone());
        let (obj_s, dir_s) = (obj.to_string_lossy(), dir.to_string_lossy());
        let loaded_by = if programs.len() == 1 {
            std::fs::create_dir(&dir).expect("pin directory");
            let pin = dir.join(programs[0].0);
            bpftool(&["prog", "load", &obj_s, &pin.to_string_lossy()])
        } else {
            bpftool(&["prog", "loadall", &obj_s, &dir_s])
        };
        if let Err(e) = loaded_by {
            panic!("{name}: the kernel (through libbpf) rejected bpfkit's object: {e}");
        }
        for (prog, ty) in *programs {
            let pin = dir.join(prog);
            let json = bpftool(&["-j", "prog", "show", "pinned", &pin.to_string_lossy()])
                .unwrap_or_else(|e| panic!("{name}/{prog}: {e}"));
            let v: Value = serde_json::from_str(&json)
                .unwrap_or_else(|e| panic!("{name}/{prog}: bpftool JSON: {e}: {json}"));
            assert_eq!(v["name"], *prog, "{name}: {json}");
            assert_eq!(v["type"], *ty, "{name}/{prog}: {json}");
            assert_eq!(v["gpl_compatible"], true, "{name}/{prog}: {json}");
            assert!(
                v["bytes_xlated"].as_u64().is_some_and(|n| n >= 16),
                "{name}/{prog}: {json}"
            );
            loaded += 1;
        }
    }
    assert_eq!(loaded, 4);
    eprintln!("kernel: {loaded} programs from bpfkit-written objects loaded and pinned");
}
