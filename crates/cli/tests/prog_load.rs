//! `bpfkit prog load` / `prog loadall` end to end, and what bpftool sees of
//! the objects bpfkit loaded: `prog show` and `map dump` of bpfkit-loaded
//! programs and maps compared with bpftool's, field by field.
//!
//! Needs root and bpf(2): skipped visibly without them, failed when
//! `BPFKIT_REQUIRE_KERNEL=1`; the bpftool comparisons need bpftool. Every
//! pin directory is removed by a guard, even on failure.

mod kernel_support;

use kernel_support::*;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../object/tests/fixtures");

fn fixture(name: &str) -> String {
    format!("{FIXTURES}/{name}.o")
}

/// A directory on bpffs, removed with its pins on drop.
struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Dir {
        bpfkit_kernel::pin::ensure_bpffs().expect("bpffs");
        let d = PathBuf::from(format!(
            "/sys/fs/bpf/bpfkit_cli_ld_{}_{name}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&d);
        Dir(d)
    }
    fn s(&self) -> &str {
        self.0.to_str().expect("utf-8 path")
    }
    fn join(&self, n: &str) -> String {
        self.0.join(n).to_string_lossy().into_owned()
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn programs_and_maps_bpfkit_loaded_look_the_same_to_bpftool() {
    if !kernel_or_skip("prog loadall vs bpftool") || !have_bpftool("prog loadall vs bpftool") {
        return;
    }
    let (mut progs, mut fields, mut maps) = (0, 0, 0);
    // Global data with BTF (DATASEC values), legacy maps libbpf refuses,
    // map-in-maps, iterators.
    for name in [
        "global_data",
        "legacy_maps",
        "map_in_map",
        "tail_calls",
        "cgroup_lpm",
    ] {
        let dir = Dir::new(name);
        bpfkit(&["prog", "loadall", &fixture(name), dir.s()]);
        let obj = bpfkit_object::read::Object::open(fixture(name)).expect("parses");
        // `prog list`: the entries of this object's programs, by id.
        let our_list = json(&bpfkit(&["prog", "list", "--json"]));
        let their_list = json(&bpftool(&["-j", "prog", "list"]));
        let entry = |list: &Value, id: &Value| {
            list.as_array()
                .and_then(|a| a.iter().find(|v| v["id"] == *id).cloned())
        };
        for p in &obj.programs {
            let pin = dir.join(&p.name);
            let ours = json(&bpfkit(&["prog", "show", "pinned", &pin, "--json"]));
            let theirs = json(&bpftool(&["-j", "prog", "show", "pinned", &pin]));
            fields += same_fields(&ours, &theirs, &format!("{name}: prog show {}", p.name));
            let (Some(ol), Some(tl)) = (
                entry(&our_list, &ours["id"]),
                entry(&their_list, &ours["id"]),
            ) else {
                panic!("{name}: {} missing from a prog list", p.name);
            };
            fields += same_fields(&ol, &tl, &format!("{name}: prog list {}", p.name));
            assert_eq!(ours["name"], p.name.as_str());
            assert!(
                theirs["btf_id"].as_u64().is_some_and(|i| i > 0),
                "{name}: {}: no BTF",
                p.name
            );
            progs += 1;
            for id in ours["map_ids"].as_array().cloned().unwrap_or_default() {
                let id = id.to_string();
                let ours = bpfkit(&["map", "dump", "id", &id, "--json"]);
                let theirs = bpftool(&["-j", "map", "dump", "id", &id]);
                assert_eq!(json(&ours), json(&theirs), "{name}: map dump id {id}");
                let ours = json(&bpfkit(&["map", "show", "id", &id, "--json"]));
                let theirs = json(&bpftool(&["-j", "map", "show", "id", &id]));
                fields += same_fields(&ours, &theirs, &format!("{name}: map show {id}"));
                maps += 1;
            }
        }
    }
    eprintln!("bpfkit-loaded: {progs} programs and {maps} map uses shown as bpftool shows them ({fields} fields)");
    assert!(progs >= 15 && maps >= 15, "{progs} programs, {maps} maps");
}

#[test]
fn loadall_keep_going_reports_each_verdict() {
    if !kernel_or_skip("prog loadall --keep-going") {
        return;
    }
    let dir = Dir::new("keep");
    let (ok, out, _) = run(
        env!("CARGO_BIN_EXE_bpfkit"),
        &[
            "prog",
            "loadall",
            &fixture("lsm_iter"),
            dir.s(),
            "--keep-going",
            "--json",
        ],
    );
    assert!(!ok, "a refused program makes the exit status non-zero");
    let v = json(&out);
    let v = v.as_array().expect("array");
    assert_eq!(v.len(), 4);
    for p in v {
        let name = p["name"].as_str().expect("name");
        let section = p["section"].as_str().expect("section");
        let pinned = dir.0.join(name).exists();
        if section.starts_with("lsm/") {
            assert_eq!(p["loaded"], false, "{p}");
            assert_eq!(p["errno"], 1, "{p}"); // EPERM
            assert!(
                p["error"].as_str().is_some_and(|e| e.contains("EPERM")),
                "{p}"
            );
            assert!(!pinned);
        } else {
            assert_eq!(p["loaded"], true, "{p}");
            assert_eq!(p["type"], "tracing");
            assert!(p["id"].as_u64().is_some());
            assert!(pinned, "{name} pinned");
        }
    }

    // Without --keep-going: all or nothing, nothing pinned.
    let none = Dir::new("none");
    let (ok, _, err) = run(
        env!("CARGO_BIN_EXE_bpfkit"),
        &["prog", "loadall", &fixture("lsm_iter"), none.s()],
    );
    assert!(!ok);
    assert!(err.contains("rejected by the kernel"), "{err}");
    assert!(!none.0.exists());

    // A verifier rejection shows the instruction, its source and the log.
    let bad = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../kernel/tests/fixtures/verifier_reject.o"
    );
    let rej = Dir::new("rej");
    let (ok, out, err) = run(
        env!("CARGO_BIN_EXE_bpfkit"),
        &["prog", "loadall", bad, rej.s(), "--keep-going", "--json"],
    );
    assert!(!ok);
    let v = json(&out);
    let failed = v
        .as_array()
        .and_then(|a| a.iter().find(|p| p["loaded"] == false))
        .expect("one refused");
    assert_eq!(
        failed["verifier_last_line"],
        "R1 offset is outside of the packet"
    );
    assert_eq!(failed["insn"], 2);
    assert!(err.is_empty() || !err.contains("panic"), "{err}");
    let (ok, _, err) = run(
        env!("CARGO_BIN_EXE_bpfkit"),
        &["prog", "loadall", bad, rej.s()],
    );
    assert!(!ok);
    assert!(err.contains("at insn 2: w1 = *(u8 *)(r1 + 0x0)"), "{err}");
    assert!(
        err.contains("return p[0] == 0xff ? XDP_DROP : verdict;"),
        "{err}"
    );
    assert!(err.contains("invalid access to packet"), "{err}");
}

#[test]
fn load_pins_the_first_program_and_reuses_named_maps() {
    if !kernel_or_skip("prog load") {
        return;
    }
    let dir = Dir::new("load");
    std::fs::create_dir_all(&dir.0).expect("dir");
    // The object's first map is replaced by one made beforehand.
    let obj = bpfkit_object::read::Object::open(fixture("socket_ldabs")).expect("parses");
    let def = &obj.maps[0];
    let map_pin = dir.join("premade");
    let ty = def.map_type.expect("known type").name();
    bpfkit(&[
        "map",
        "create",
        &map_pin,
        "type",
        ty,
        "key",
        &def.key_size.to_string(),
        "value",
        &def.value_size.to_string(),
        "entries",
        &def.max_entries.to_string(),
        "name",
        "premade",
    ]);
    let premade = json(&bpfkit(&["map", "show", "pinned", &map_pin, "--json"]));
    let prog_pin = dir.join("first");
    let maps_dir = dir.join("maps");
    bpfkit(&[
        "prog",
        "load",
        &fixture("socket_ldabs"),
        &prog_pin,
        "map",
        "name",
        &def.name,
        &map_pin,
        "pinmaps",
        &maps_dir,
    ]);
    let shown = json(&bpfkit(&["prog", "show", "pinned", &prog_pin, "--json"]));
    assert_eq!(shown["name"], obj.programs[0].name.as_str());
    let uses_premade = obj.programs[0].relocations.iter().any(|r| {
        matches!(&r.target, bpfkit_object::read::RelocTarget::Map { name, .. } if *name == def.name)
    });
    if uses_premade {
        assert!(
            shown["map_ids"]
                .as_array()
                .is_some_and(|a| a.contains(&premade["id"])),
            "{shown} uses {premade}"
        );
    }
    // pinmaps: every map of the object under the directory.
    for m in &obj.maps {
        assert!(
            PathBuf::from(&maps_dir).join(&m.name).exists(),
            "{} pinned",
            m.name
        );
    }
    let reused = json(&bpfkit(&[
        "map",
        "show",
        "pinned",
        &format!("{maps_dir}/{}", def.name),
        "--json",
    ]));
    assert_eq!(
        reused["id"], premade["id"],
        "the named map was reused, not created"
    );
}
