//! What the kernel-noun tests share: the kernel and bpftool checks, the
//! pin guard, running bpfkit and bpftool, comparing their JSON field by
//! field, a small XDP program over a map, and a BTF value type.
#![allow(dead_code, unused_imports)]

pub use std::os::fd::{AsFd, AsRawFd};
pub use std::path::PathBuf;
pub use std::process::Command;

pub use bpfkit_isa::Insn;
pub use bpfkit_kernel::link::{Link, LinkAttach};
pub use bpfkit_kernel::map::KernelMap;
pub use bpfkit_kernel::prog::{ProgLoad, Program};
pub use bpfkit_object::btf::int_encoding::SIGNED;
pub use bpfkit_object::btf::{BtfBuilder, Endian};
pub use bpfkit_object::kinds::{AttachType, MapType, ProgType};
pub use bpfkit_object::map::MapSpec;
pub use serde_json::Value;

pub fn kernel_or_skip(test: &str) -> bool {
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

pub fn have_bpftool(test: &str) -> bool {
    let ok = Command::new("bpftool")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        // `.ci/run` installs bpftool; a required kernel run must compare.
        if std::env::var("BPFKIT_REQUIRE_KERNEL").as_deref() == Ok("1") {
            panic!("{test}: BPFKIT_REQUIRE_KERNEL=1 but bpftool is not installed");
        }
        eprintln!("skipped: {test}: bpftool comparison (bpftool not installed)");
    }
    ok
}

pub fn spec(map_type: MapType, key: u32, value: u32, n: u32) -> MapSpec {
    MapSpec {
        name: "bpfkit_cli".into(),
        map_type,
        key_size: key,
        value_size: value,
        max_entries: n,
        map_flags: 0,
    }
}

pub struct PinGuard(pub PathBuf);

impl PinGuard {
    pub fn new(name: &str) -> PinGuard {
        bpfkit_kernel::pin::ensure_bpffs().unwrap();
        PinGuard(PathBuf::from(format!(
            "/sys/fs/bpf/bpfkit_cli_{}_{name}",
            std::process::id()
        )))
    }
    pub fn s(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for PinGuard {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

pub fn run(cmd: &str, args: &[&str]) -> (bool, String, String) {
    let o = Command::new(cmd).args(args).output().unwrap();
    (
        o.status.success(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

pub fn bpfkit(args: &[&str]) -> String {
    let (ok, out, err) = run(env!("CARGO_BIN_EXE_bpfkit"), args);
    assert!(ok, "bpfkit {args:?}: {err}");
    out
}

pub fn bpftool(args: &[&str]) -> String {
    let (ok, out, err) = run("bpftool", args);
    assert!(ok, "bpftool {args:?}: {err}");
    out
}

pub fn json(s: &str) -> Value {
    serde_json::from_str(s).unwrap_or_else(|e| panic!("{e}: {s}"))
}

/// Every field bpftool prints must be ours, equal; `loaded_at` within a
/// second (each tool reads the clocks itself) and `pids` (bpftool's view
/// of which processes hold the object) left out.
pub fn same_fields(ours: &Value, theirs: &Value, what: &str) -> usize {
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
            let d = ov.as_i64().unwrap_or(0) - tv.as_i64().unwrap_or(0);
            assert!(d.abs() <= 1, "{what}: loaded_at {ov} vs {tv}");
        } else {
            assert_eq!(ov, tv, "{what}: field {k}");
        }
        n += 1;
    }
    n
}

/// Drops bpftool's `pids` lines and the `loaded_at` time from text output.
pub fn normalise(text: &str) -> String {
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
pub fn xdp_with_map(map: &KernelMap, name: &str) -> Program {
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

/// A BTF blob of `int`, `char`, `unsigned int`, `char[8]`, `enum color`,
/// `int *`, `struct val` [7] (with bit fields, so kind_flag) and
/// `typedef unsigned int u32_t` [8]; with the key and value type ids.
pub fn value_btf() -> (Vec<u8>, u32, u32) {
    let mut b = BtfBuilder::new();
    let int = b.int("int", 4, SIGNED);
    let char_ = b.int("char", 1, SIGNED);
    let uint = b.int("unsigned int", 4, 0);
    let name = b.array(char_, uint, 8);
    let color = b.enum32("color", false, &[("RED", 0), ("BLUE", 5)]);
    let p = b.ptr(int);
    let val = b.struct_type(
        "val",
        32,
        &[
            ("a", int, 0, 0),
            ("name", name, 32, 0),
            ("flags", uint, 96, 3),
            ("more", uint, 99, 5),
            ("color", color, 128, 0),
            ("p", p, 192, 0),
        ],
    );
    let key = b.typedef("u32_t", uint);
    (b.encode(Endian::HOST), key, val)
}
