//! The loader against the kernel: every fixture object of the object crate
//! loaded by bpfkit and by `bpftool prog loadall` (libbpf 1.1), program by
//! program; what the loader sets up (global data, kconfig, slots, pins);
//! rejections; sanitised BTF.
//!
//! Root and BPF needed (skipped visibly otherwise, failing under
//! `BPFKIT_REQUIRE_KERNEL=1`); every pin and directory a test makes is
//! removed by a guard, even when it fails.

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use bpfkit_kernel::btf::KernelBtf;
use bpfkit_kernel::info::{ProgInfo, ProgInfoArrays};
use bpfkit_kernel::loader::{btf_image, btf_sanitise, load, BtfFeatures, LoadError, LoadOptions};
use bpfkit_object::btf::Endian;
use bpfkit_object::read::{MapSource, Object, Pinning};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../object/tests/fixtures");

/// The object crate's fixtures of its README (the `core_*` and `rd_*`
/// objects are the CO-RE and reader tests' own).
const OBJECTS: &[&str] = &[
    "xdp_parse",
    "tc_classify",
    "tcx_ingress",
    "socket_ldabs",
    "kprobe_events",
    "tracepoints",
    "fentry_fexit",
    "cgroup_lpm",
    "sock_redirect",
    "perf_sample",
    "lsm_iter",
    "tail_calls",
    "map_in_map",
    "global_data",
    "ksyms_kconfig",
    "ksym_percpu",
    "subprog_calls",
    "legacy_maps",
    "legacy_maps_wide",
    "iproute2_tc",
    "cpu_v4",
    "btf_shapes",
    "btf_corners",
    "btf_scopes",
];

/// A directory on bpffs, removed with everything in it on drop.
struct BpffsDir(PathBuf);

impl BpffsDir {
    fn new(name: &str) -> BpffsDir {
        bpfkit_kernel::pin::ensure_bpffs().expect("bpffs");
        let p = PathBuf::from(format!(
            "/sys/fs/bpf/bpfkit_ld_{}_{name}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&p);
        BpffsDir(p)
    }
}

impl Drop for BpffsDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Pins libbpf makes outside the directory it is given (by-name maps).
struct Pins(Vec<PathBuf>);

impl Drop for Pins {
    fn drop(&mut self) {
        for p in &self.0 {
            let _ = std::fs::remove_file(p);
        }
    }
}

fn fixture(name: &str) -> Object {
    Object::open(Path::new(FIXTURES).join(format!("{name}.o"))).expect("fixture parses")
}

fn bpftool_or_skip(test: &str) -> bool {
    if Command::new("bpftool").arg("version").output().is_ok() {
        return true;
    }
    if std::env::var("BPFKIT_REQUIRE_KERNEL").as_deref() == Ok("1") {
        panic!("{test}: BPFKIT_REQUIRE_KERNEL=1 but bpftool is not installed");
    }
    eprintln!("skipped: {test}: bpftool not installed");
    false
}

/// Program name -> tag of what `bpftool prog loadall` loaded, or the
/// reason it loaded nothing.
fn bpftool_loadall(name: &str, obj: &Object) -> Result<BTreeMap<String, String>, String> {
    let dir = BpffsDir::new(&format!("bt_{name}"));
    let _by_name = Pins(
        obj.maps
            .iter()
            .filter(|m| m.pinning == Pinning::ByName)
            .map(|m| Path::new("/sys/fs/bpf").join(&m.name))
            .collect(),
    );
    let out = Command::new("bpftool")
        .args(["prog", "loadall"])
        .arg(Path::new(FIXTURES).join(format!("{name}.o")))
        .arg(&dir.0)
        .output()
        .expect("bpftool runs");
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let last = err.lines().rev().find(|l| !l.trim().is_empty());
        return Err(last.unwrap_or("").trim().to_string());
    }
    let mut tags = BTreeMap::new();
    for p in obj.programs.iter() {
        let prog = bpfkit_kernel::prog::Program::from_pin(&dir.0.join(&p.name))
            .unwrap_or_else(|e| panic!("{name}: bpftool pinned no {}: {e}", p.name));
        tags.insert(p.name.clone(), prog.info().expect("info").tag_hex());
    }
    Ok(tags)
}

#[test]
fn every_fixture_loads_as_far_as_the_kernel_accepts_it() {
    if !support::kernel_or_skip("loader fixtures") || !bpftool_or_skip("loader fixtures") {
        return;
    }
    let mut table = Vec::new();
    let (mut ours, mut theirs, mut programs) = (0, 0, 0);
    for name in OBJECTS {
        let obj = fixture(name);
        let root = BpffsDir::new(&format!("bk_{name}"));
        let opts = LoadOptions {
            keep_going: true,
            pin_root: root.0.clone(),
            ..Default::default()
        };
        std::fs::create_dir_all(&root.0).expect("pin root");
        let loaded = load(&obj, &opts).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(
            loaded.btf_error.is_none(),
            "{name}: BTF refused: {:?}",
            loaded.btf_error
        );
        let libbpf = bpftool_loadall(name, &obj);
        for p in &loaded.programs {
            programs += 1;
            match (&p.result, &libbpf) {
                (Ok(prog), Ok(tags)) => {
                    // The kernel's tag hashes the instructions with map
                    // references blanked: the same tag is the same program.
                    let tag = prog.info().expect("info").tag_hex();
                    assert_eq!(
                        Some(&tag),
                        tags.get(&p.name),
                        "{name}: {}: tag differs from libbpf's",
                        p.name
                    );
                    ours += 1;
                    theirs += 1;
                }
                (Ok(_), Err(_)) => ours += 1,
                (Err(e), Ok(_)) => panic!("{name}: {}: libbpf loads it, bpfkit: {e}", p.name),
                (Err(LoadError::Rejected(r)), Err(_)) => {
                    // Refused by the kernel itself, for the reasons the
                    // fixtures README gives: no trampolines (EPERM), no
                    // data symbols in kallsyms (ENOENT).
                    assert!(
                        matches!(r.errno, libc::EPERM | libc::ENOENT),
                        "{name}: {}: {r}",
                        p.name
                    );
                }
                (Err(e), Err(_)) => panic!("{name}: {}: not a kernel refusal: {e}", p.name),
            }
        }
        table.push(format!(
            "{name}: bpfkit {}/{}, libbpf {}",
            loaded.programs.iter().filter(|p| p.result.is_ok()).count(),
            loaded.programs.len(),
            match &libbpf {
                Ok(t) => format!("{}", t.len()),
                Err(e) => format!("refused ({e})"),
            }
        ));
    }
    eprintln!("{}", table.join("\n"));
    eprintln!("{programs} programs: bpfkit loaded {ours}, libbpf {theirs} (same tags on every one both loaded)");
    // What libbpf 1.1 refuses and the kernel accepts: legacy and iproute2
    // maps, tcx sections, the iterators beside LSM programs.
    assert!(ours > theirs, "bpfkit should load what libbpf 1.1 refuses");
}

#[test]
fn a_rejection_names_the_instruction_and_its_source_line() {
    if !support::kernel_or_skip("loader rejection") {
        return;
    }
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/verifier_reject.o"
    );
    let obj = Object::open(path).expect("parses");
    let err = load(&obj, &LoadOptions::default()).expect_err("the verifier refuses xdp_unchecked");
    let LoadError::Rejected(r) = err else {
        panic!("not a rejection: {err}");
    };
    assert_eq!(r.program, "xdp_unchecked");
    assert_eq!(r.errno, libc::EACCES);
    let f = r.failing.as_ref().expect("the log names an instruction");
    assert_eq!(f.index, 2);
    assert_eq!(f.disasm, "w1 = *(u8 *)(r1 + 0x0)");
    let src = f.source.as_ref().expect("line info");
    assert!(src.file.ends_with("verifier_reject.c"), "{src:?}");
    assert_eq!(src.text, "return p[0] == 0xff ? XDP_DROP : verdict;");
    assert_eq!(r.last_log_line(), "R1 offset is outside of the packet");
    let text = r.render();
    assert!(text.contains("at insn 2: w1 = *(u8 *)(r1 + 0x0)"), "{text}");
    assert!(text.contains("invalid access to packet"), "{text}");

    // With keep_going the good program loads and the bad one is reported.
    let opts = LoadOptions {
        keep_going: true,
        ..Default::default()
    };
    let loaded = load(&obj, &opts).expect("loads what it can");
    assert!(loaded.program("xdp_checked").is_some());
    assert!(loaded.program("xdp_unchecked").is_none());
}

#[test]
fn global_data_and_kconfig_hold_their_values() {
    if !support::kernel_or_skip("loader globals") {
        return;
    }
    let obj = fixture("global_data");
    let loaded = load(&obj, &LoadOptions::default()).expect("loads");
    let globals = obj
        .maps
        .iter()
        .filter(|m| m.data.is_some() || m.source == MapSource::Bss);
    for def in globals {
        let map = loaded.map(&def.name).expect("created");
        let value = map.lookup_elem(&0u32.to_ne_bytes(), 0).expect("lookup");
        // .bss as read has no bytes: the kernel's map holds its zeros.
        let zeros = vec![0; def.value_size as usize];
        assert_eq!(&value, def.data.as_ref().unwrap_or(&zeros), "{}", def.name);
        let info = map.info().expect("info");
        assert_eq!(info.frozen, def.frozen, "{}", def.name);
    }

    let obj = fixture("ksyms_kconfig");
    let loaded = load(&obj, &LoadOptions::default()).expect("loads");
    let kconfig = obj
        .maps
        .iter()
        .find(|m| m.name.ends_with(".kconfig"))
        .expect("kconfig map");
    let value = loaded
        .map(&kconfig.name)
        .expect("created")
        .lookup_elem(&0u32.to_ne_bytes(), 0)
        .expect("lookup");
    let at = |name: &str| {
        let e = obj.externs.iter().find(|e| e.name == name).expect("extern");
        let off = e.kconfig_offset.expect("offset") as usize;
        value[off..off + e.size.expect("size") as usize].to_vec()
    };
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").expect("release");
    let code =
        bpfkit_kernel::loader::externs::kernel_version_code(release.trim()).expect("version");
    assert_eq!(at("LINUX_KERNEL_VERSION"), code.to_ne_bytes());
    if let Ok(config) = bpfkit_kernel::probe::kernel_config::config_text() {
        let opts = bpfkit_kernel::loader::externs::parse_config(&config);
        let hz: u32 = opts["CONFIG_HZ"].parse().expect("CONFIG_HZ");
        assert_eq!(at("CONFIG_HZ"), hz.to_ne_bytes());
        // A tristate or bool: `y` is 1 in its first byte, zeros after.
        let syscall = at("CONFIG_BPF_SYSCALL");
        assert_eq!(syscall[0], 1);
        assert!(syscall[1..].iter().all(|&b| b == 0));
    }
    // The weak option this kernel lacks stays 0.
    assert_eq!(at("CONFIG_FX_NO_SUCH_OPTION"), [0]);
}

#[test]
fn prog_arrays_and_map_in_maps_get_their_slots() {
    if !support::kernel_or_skip("loader slots") {
        return;
    }
    for name in [
        "tail_calls",
        "map_in_map",
        "iproute2_tc",
        "legacy_maps_wide",
    ] {
        let obj = fixture(name);
        let root = BpffsDir::new(&format!("slots_{name}"));
        std::fs::create_dir_all(&root.0).expect("root");
        let opts = LoadOptions {
            pin_root: root.0.clone(),
            ..Default::default()
        };
        let loaded = load(&obj, &opts).unwrap_or_else(|e| panic!("{name}: {e}"));
        for def in &obj.maps {
            let map = loaded.map(&def.name).expect("created");
            for slot in &def.initial_slots {
                let id = map
                    .lookup_elem(&slot.index.to_ne_bytes(), 0)
                    .expect("slot set");
                let id = u32::from_ne_bytes(id[..4].try_into().expect("4 bytes"));
                let want = match &slot.target {
                    bpfkit_object::read::InitialTarget::Program(p) => {
                        loaded.program(p).expect("loaded").id().expect("id")
                    }
                    bpfkit_object::read::InitialTarget::Map(m) => {
                        loaded.map(m).expect("created").id()
                    }
                };
                assert_eq!(id, want, "{name}: {}[{}]", def.name, slot.index);
            }
        }
        if name == "iproute2_tc" {
            // PIN_GLOBAL_NS maps in tc/globals, the PIN_OBJECT_NS one in the
            // object's namespace (the object's name without object_ns).
            for def in &obj.maps {
                let dir = match def.pinning {
                    Pinning::GlobalNs => root.0.join("tc/globals"),
                    Pinning::ObjectNs => root.0.join("tc").join(&obj.name),
                    _ => continue,
                };
                assert!(
                    dir.join(&def.name).exists(),
                    "{} pinned in {}",
                    def.name,
                    dir.display()
                );
            }
            // tail sections "1/0" and "1/1" go into the prog array of id 1;
            // the inner map (id 42) into its outer map's slot 0.
            let jmp = obj
                .maps
                .iter()
                .find(|m| m.iproute2_ids.is_some_and(|i| i[0] == 1))
                .expect("prog array");
            let jmp = loaded.map(&jmp.name).expect("created");
            for key in [0u32, 1] {
                assert!(
                    jmp.lookup_elem(&key.to_ne_bytes(), 0).is_ok(),
                    "tail slot {key}"
                );
            }
            let outer = obj
                .maps
                .iter()
                .find(|m| m.iproute2_ids.is_some_and(|i| i[1] == 42))
                .expect("outer");
            let inner = obj
                .maps
                .iter()
                .find(|m| m.iproute2_ids.is_some_and(|i| i[0] == 42))
                .expect("inner");
            let got = loaded
                .map(&outer.name)
                .expect("outer")
                .lookup_elem(&0u32.to_ne_bytes(), 0)
                .expect("slot 0");
            assert_eq!(
                got,
                loaded.map(&inner.name).expect("inner").id().to_ne_bytes()
            );
        }
    }
}

#[test]
fn pinned_maps_are_reused_when_compatible_and_refused_otherwise() {
    if !support::kernel_or_skip("loader pins") {
        return;
    }
    let obj = fixture("tc_classify");
    let pinned: Vec<_> = obj
        .maps
        .iter()
        .filter(|m| m.pinning == Pinning::ByName)
        .collect();
    assert!(!pinned.is_empty());
    let root = BpffsDir::new("pins");
    std::fs::create_dir_all(&root.0).expect("root");
    let opts = LoadOptions {
        pin_root: root.0.clone(),
        ..Default::default()
    };
    let first = load(&obj, &opts).expect("loads");
    let path = root.0.join(&pinned[0].name);
    assert!(path.exists(), "pinned by name");
    let id = first.map(&pinned[0].name).expect("map").id();
    let second = load(&obj, &opts).expect("loads again");
    let m = second
        .maps
        .iter()
        .find(|m| m.name == pinned[0].name)
        .expect("map");
    assert!(m.reused);
    assert_eq!(m.map.id(), id, "the pinned map is reused");
    drop((first, second));

    // A different map at the pin: refused, naming what differs.
    std::fs::remove_file(&path).expect("unpin");
    let mut spec = pinned[0].spec().expect("spec");
    spec.max_entries += 1;
    spec.map_flags = 0;
    let other = bpfkit_kernel::map::KernelMap::create(&spec).expect("other map");
    other.pin(&path).expect("pin");
    let err = load(&obj, &opts).expect_err("incompatible pin");
    let text = err.to_string();
    assert!(matches!(err, LoadError::PinMismatch { .. }), "{text}");
    assert!(text.contains("max_entries: pinned"), "{text}");
}

#[test]
fn sanitised_btf_loads_on_a_kernel_without_newer_kinds() {
    if !support::kernel_or_skip("loader btf") {
        return;
    }
    let mut checked = 0;
    for name in OBJECTS {
        let obj = fixture(name);
        let Some(btf) = &obj.btf else { continue };
        let img = btf_image::fixed_up(&obj, btf);
        KernelBtf::load(&img.encode(Endian::HOST), 1)
            .unwrap_or_else(|e| panic!("{name}: fixed-up BTF: {e}"));
        let mut bare = img.clone();
        btf_sanitise::sanitise(&mut bare, &BtfFeatures::NONE);
        KernelBtf::load(&bare.encode(Endian::HOST), 1)
            .unwrap_or_else(|e| panic!("{name}: sanitised BTF: {e}"));
        checked += 1;
    }
    assert_eq!(checked, OBJECTS.len());
    // And this kernel has every kind the fixtures use.
    assert_eq!(bpfkit_kernel::loader::btf_features(), BtfFeatures::ALL);
}

#[test]
fn loaded_programs_carry_their_btf() {
    if !support::kernel_or_skip("loader func info") {
        return;
    }
    let obj = fixture("subprog_calls");
    let loaded = load(&obj, &LoadOptions::default()).expect("loads");
    let btf_id = loaded
        .btf
        .as_ref()
        .expect("btf")
        .info(false)
        .expect("info")
        .id;
    for p in &obj.programs {
        let prog = loaded.program(&p.name).expect("loaded");
        let info = ProgInfo::of_fd(prog.fd(), ProgInfoArrays::default()).expect("info");
        assert_eq!(info.btf_id, btf_id, "{}", p.name);
        assert_eq!(info.nr_func_info as usize, p.func_info.len(), "{}", p.name);
        assert_eq!(info.nr_line_info as usize, p.line_info.len(), "{}", p.name);
    }
}

#[test]
fn gcc_btf_loads_once_its_char_has_one_encoding() {
    if !support::kernel_or_skip("loader gcc btf") {
        return;
    }
    // GCC 12 writes `char` as SIGNED | CHAR, which the kernel refuses, so
    // libbpf loads such an object without BTF; the sanitiser keeps the
    // sign bit, and the global data maps get their BTF.
    let obj = fixture("gcc_xdp_count");
    let loaded = load(&obj, &LoadOptions::default()).expect("loads");
    let btf_id = loaded
        .btf
        .as_ref()
        .expect("the kernel took the BTF")
        .info(false)
        .expect("info")
        .id;
    for def in &obj.maps {
        let info = loaded
            .map(&def.name)
            .expect("created")
            .info()
            .expect("info");
        assert_eq!(info.btf_id, btf_id, "{}", def.name);
        assert_ne!(info.btf_value_type_id, 0, "{}", def.name);
    }
}

#[test]
fn objects_load_with_btf_sanitised_for_an_old_kernel() {
    if !support::kernel_or_skip("loader sanitised load") {
        return;
    }
    // Without FUNC kinds there is no func/line info and global data maps
    // get STRUCT value types: these objects must still load whole.
    let opts = LoadOptions {
        btf_features: Some(BtfFeatures::NONE),
        ..Default::default()
    };
    for name in ["xdp_parse", "global_data", "socket_ldabs", "cpu_v4"] {
        let obj = fixture(name);
        let loaded = load(&obj, &opts).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(
            loaded.btf.is_some(),
            "{name}: sanitised BTF refused: {:?}",
            loaded.btf_error
        );
        for p in &loaded.programs {
            let info = p.result.as_ref().expect("loaded").info().expect("info");
            assert_eq!(info.nr_func_info, 0, "{name}: {}", p.name);
        }
    }
}

/// The `map_id:` or `prog_id:` fdinfo says descriptor `fd` holds.
fn fd_holds(fd: i32) -> Option<(String, u32)> {
    let info = std::fs::read_to_string(format!("/proc/self/fdinfo/{fd}")).ok()?;
    info.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        if !matches!(k, "map_id" | "prog_id") {
            return None;
        }
        Some((k.to_string(), v.trim().parse().ok()?))
    })
}

#[test]
fn dropping_a_loaded_object_closes_everything_it_opened() {
    use std::os::fd::{AsFd, AsRawFd};
    if !support::kernel_or_skip("loader drop") {
        return;
    }
    for name in ["tail_calls", "map_in_map", "global_data", "tracepoints"] {
        let loaded = load(&fixture(name), &LoadOptions::default()).expect("loads");
        // Each descriptor and the object it held; other tests' threads may
        // reuse a number after the drop, but never for the same id.
        let mut held: Vec<(i32, (String, u32))> = Vec::new();
        for m in &loaded.maps {
            let fd = m.map.fd().as_raw_fd();
            held.push((fd, fd_holds(fd).expect("a map descriptor")));
        }
        for p in &loaded.programs {
            let fd = p.result.as_ref().expect("loaded").as_fd().as_raw_fd();
            held.push((fd, fd_holds(fd).expect("a program descriptor")));
        }
        assert!(held.len() >= 2, "{name}");
        drop(loaded);
        for (fd, what) in held {
            assert_ne!(
                fd_holds(fd),
                Some(what.clone()),
                "{name}: fd {fd} still holds {what:?}"
            );
        }
    }
}

#[test]
fn co_re_objects_relocate_against_the_running_kernel() {
    if !support::kernel_or_skip("loader co-re") {
        return;
    }
    // Written against vmlinux types: relocated, every program loads.
    for name in ["core_vmlinux", "core_vmlinux_wide"] {
        let obj = fixture(name);
        assert!(
            obj.programs.iter().any(|p| !p.core_relos.is_empty()),
            "{name}"
        );
        let loaded = load(&obj, &LoadOptions::default()).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(loaded.programs.len(), obj.programs.len());
    }
    // Written against types the kernel lacks: the relocation poisons its
    // instruction and the verifier's refusal points at it.
    let obj = fixture("core_local");
    let err = load(&obj, &LoadOptions::default()).expect_err("poisoned");
    let LoadError::Rejected(r) = err else {
        panic!("not a rejection: {err}");
    };
    let f = r.failing.as_ref().expect("an instruction");
    assert_eq!(f.disasm, "call 0xbad2310", "{r}");
    assert!(f.source.is_some(), "{r}");
}
