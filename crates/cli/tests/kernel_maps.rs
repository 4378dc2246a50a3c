//! `bpfkit map` on real kernel maps, compared with bpftool on the same maps.
//!
//! Needs root and bpf(2): skipped visibly without them, failed when
//! `BPFKIT_REQUIRE_KERNEL=1`. The bpftool comparisons skip visibly when
//! bpftool is absent. Every object is held by this process (closed on drop)
//! and every pin and cgroup is removed by a guard, even on failure.

mod kernel_support;
use kernel_support::*;

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
    same_fields(
        &json(&bpfkit(&["map", "show", "pinned", pin.s(), "-j", "-f"])),
        &json(&bpftool(&["-j", "-f", "map", "show", "pinned", pin.s()])),
        "map show -f",
    );
    assert_eq!(
        normalise(&bpfkit(&["map", "show", "pinned", pin.s(), "-f"])),
        normalise(&bpftool(&["-f", "map", "show", "pinned", pin.s()]))
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
    // The BTF object lists the map that uses it, as bpftool's does.
    let bid = btf.info(false).unwrap().id.to_string();
    let ours = json(&bpfkit(&["btf", "show", "id", &bid, "-j"]));
    assert_eq!(ours["map_ids"], serde_json::json!([m.id()]));
    same_fields(
        &ours,
        &json(&bpftool(&["-j", "btf", "show", "id", &bid])),
        "btf show",
    );
    assert_eq!(
        bpfkit(&["btf", "show", "id", &bid]),
        bpftool(&["btf", "show", "id", &bid])
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
