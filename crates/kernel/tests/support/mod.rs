//! Shared by the kernel tests: the root/BPF gate and RAII guards for what
//! a test leaves outside its own descriptors (pins, cgroup directories).
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// Whether this process can use bpf(2). Without it the test prints a visible
/// skip and returns, unless `BPFKIT_REQUIRE_KERNEL=1`, which makes it fail.
pub fn kernel_or_skip(test: &str) -> bool {
    let required = std::env::var("BPFKIT_REQUIRE_KERNEL").as_deref() == Ok("1");
    let euid_root = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|u| u == "0"))
        })
        .unwrap_or(false);
    let spec = bpfkit_object::map::MapSpec {
        name: String::new(),
        map_type: bpfkit_object::kinds::MapType::Array,
        key_size: 4,
        value_size: 4,
        max_entries: 1,
        map_flags: 0,
    };
    let works = euid_root && bpfkit_kernel::map::KernelMap::create(&spec).is_ok();
    if works {
        return true;
    }
    let why = if euid_root {
        "bpf(2) refused to create a map"
    } else {
        "not root"
    };
    if required {
        panic!("{test}: BPFKIT_REQUIRE_KERNEL=1 but {why}");
    }
    eprintln!("skipped: {test}: {why}");
    false
}

/// A pin path under /sys/fs/bpf, unique to this process and test; the pin
/// (if any) is removed on drop, even when the test fails.
pub struct PinGuard(pub PathBuf);

impl PinGuard {
    pub fn new(name: &str) -> PinGuard {
        bpfkit_kernel::pin::ensure_bpffs().expect("bpffs");
        PinGuard(PathBuf::from(format!(
            "/sys/fs/bpf/bpfkit_test_{}_{name}",
            std::process::id()
        )))
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for PinGuard {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// A fresh cgroup2 directory, removed on drop (after the links in it are
/// gone: declare it before them so it drops last).
pub struct CgroupGuard(pub PathBuf);

impl CgroupGuard {
    /// `None` when no cgroup2 hierarchy is mounted.
    pub fn new(name: &str) -> Option<CgroupGuard> {
        let mounts = std::fs::read_to_string("/proc/self/mounts").ok()?;
        let root = mounts
            .lines()
            .map(|l| l.split_whitespace().collect::<Vec<_>>())
            .find(|f| f.len() > 2 && f[2] == "cgroup2")
            .map(|f| PathBuf::from(f[1]))?;
        let dir = root.join(format!("bpfkit_test_{}_{name}", std::process::id()));
        std::fs::create_dir(&dir).ok()?;
        Some(CgroupGuard(dir))
    }
}

impl Drop for CgroupGuard {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir(&self.0);
    }
}

/// Assembles LLVM-syntax source.
pub fn asm(src: &str) -> Vec<bpfkit_isa::Insn> {
    bpfkit_isa::asm::assemble(src, bpfkit_isa::Syntax::Llvm).expect("assembles")
}
