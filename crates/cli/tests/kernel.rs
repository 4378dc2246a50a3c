//! `bpfkit feature|link|btf`, pins and errors on the real kernel, compared
//! with bpftool.
//!
//! Needs root and bpf(2): skipped visibly without them, failed when
//! `BPFKIT_REQUIRE_KERNEL=1`. The bpftool comparisons skip visibly when
//! bpftool is absent. Every object is held by this process (closed on drop)
//! and every pin and cgroup is removed by a guard, even on failure.

mod kernel_support;
use kernel_support::*;

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
    // Pinned, the link outlives this process's descriptor; detached, it
    // stays but shows no cgroup.
    let pin = PinGuard::new("link");
    bpfkit(&["link", "pin", "id", &lid, pin.s()]);
    let pinned = json(&bpfkit(&["link", "show", "pinned", pin.s(), "-j"]));
    assert_eq!(pinned["id"], ours["id"]);
    same_fields(
        &json(&bpfkit(&["link", "show", "id", &lid, "-j", "-f"])),
        &json(&bpftool(&["-j", "-f", "link", "show", "id", &lid])),
        "link show -f",
    );
    assert_eq!(
        normalise(&bpfkit(&["link", "show", "id", &lid, "-f"])),
        normalise(&bpftool(&["-f", "link", "show", "id", &lid]))
    );
    bpfkit(&["link", "detach", "pinned", pin.s()]);
    let detached = json(&bpfkit(&["link", "show", "id", &lid, "-j"]));
    assert_eq!(detached["cgroup_id"], 0);
    same_fields(
        &detached,
        &json(&bpftool(&["-j", "link", "show", "id", &lid])),
        "detached link",
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

#[test]
fn pinning_mounts_bpffs_where_it_is_absent() {
    if !kernel_or_skip("pinning_mounts_bpffs_where_it_is_absent") {
        return;
    }
    let have_unshare = Command::new("unshare")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !have_unshare {
        eprintln!("skipped: pinning_mounts_bpffs_where_it_is_absent: no unshare(1)");
        return;
    }
    // Whether the host has bpffs on /sys/fs/bpf (a fresh machine may not):
    // the test must leave that as it is.
    let host_bpffs = || bpfkit_kernel::pin::is_bpffs(std::path::Path::new("/sys/fs/bpf")).unwrap();
    let host_before = host_bpffs();
    // In a private mount namespace (nothing propagates back, and it all
    // goes away with the shell): take bpffs off /sys/fs/bpf, then pin.
    let b = env!("CARGO_BIN_EXE_bpfkit");
    let script = format!(
        "umount /sys/fs/bpf 2>/dev/null; \
         if [ \"$(stat -f -c %T /sys/fs/bpf)\" = bpf_fs ]; then echo STILL; exit 0; fi; \
         {b} map create /sys/fs/bpf/bpfkit_ns type array key 4 value 4 entries 1 name ns && \
         stat -f -c %T /sys/fs/bpf && {b} map show pinned /sys/fs/bpf/bpfkit_ns -j"
    );
    let o = Command::new("unshare")
        .args(["--mount", "--propagation", "private", "sh", "-c", &script])
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{out}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    if out.trim() == "STILL" {
        eprintln!(
            "skipped: pinning_mounts_bpffs_where_it_is_absent: bpffs is stacked on /sys/fs/bpf"
        );
        return;
    }
    let mut lines = out.lines();
    assert_eq!(lines.next(), Some("bpf_fs"), "{out}");
    assert_eq!(json(lines.next().unwrap())["name"], "ns");
    // The host's /sys/fs/bpf is untouched.
    assert_eq!(host_bpffs(), host_before);
    assert!(!std::path::Path::new("/sys/fs/bpf/bpfkit_ns").exists());
}

#[test]
fn errors_name_the_object_command_and_errno() {
    if !kernel_or_skip("errors_name_the_object_command_and_errno") {
        return;
    }
    let fails = |args: &[&str]| {
        let (ok, _, err) = run(env!("CARGO_BIN_EXE_bpfkit"), args);
        assert!(!ok, "bpfkit {args:?} succeeded");
        err
    };
    let e = fails(&["map", "show", "id", "4000000000"]);
    assert!(
        e.contains("map id 4000000000: BPF_MAP_GET_FD_BY_ID: No such file or directory (ENOENT)"),
        "{e}"
    );
    let e = fails(&["prog", "dump", "xlated", "id", "4000000000"]);
    assert!(e.contains("BPF_PROG_GET_FD_BY_ID"), "{e}");
    let m = KernelMap::create(&spec(MapType::Hash, 4, 4, 1)).unwrap();
    let id = m.id().to_string();
    let e = fails(&[
        "map", "update", "id", &id, "key", "1", "value", "1", "0", "0", "0",
    ]);
    assert!(
        e.contains("key is 1 bytes;") && e.contains("takes 4"),
        "{e}"
    );
    let e = fails(&["map", "lookup", "id", &id, "key", "0x100", "0", "0", "0"]);
    assert!(e.contains("\"0x100\" is not a byte"), "{e}");
    let e = fails(&[
        "map",
        "update",
        "id",
        &id,
        "key",
        "1",
        "0",
        "0",
        "0",
        "value",
        "1",
        "0",
        "0",
        "0",
        "sometimes",
    ]);
    // Value bytes run until a flag word, so a misspelt flag is a bad byte.
    assert!(e.contains("value: \"sometimes\" is not a byte"), "{e}");
    let e = fails(&["prog", "show", "tag", "xyz"]);
    assert!(e.contains("tag \"xyz\""), "{e}");
    let e = fails(&["map", "show", "pinned", "/tmp"]);
    assert!(e.contains("/tmp"), "{e}");
    let e = fails(&[
        "map",
        "create",
        "/tmp/bpfkit_not_bpffs",
        "type",
        "hash",
        "key",
        "4",
        "value",
        "4",
        "entries",
        "1",
        "name",
        "x",
    ]);
    assert!(e.contains("not on a bpf filesystem"), "{e}");
    let e = fails(&["map", "create", "/sys/fs/bpf/x", "type", "nosuch"]);
    assert!(e.contains("unknown map type \"nosuch\""), "{e}");
}
