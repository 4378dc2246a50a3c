//! `bpfkit prog` on real kernel programs, compared with bpftool on the same objects.
//!
//! Needs root and bpf(2): skipped visibly without them, failed when
//! `BPFKIT_REQUIRE_KERNEL=1`. The bpftool comparisons skip visibly when
//! bpftool is absent. Every object is held by this process (closed on drop)
//! and every pin and cgroup is removed by a guard, even on failure.

mod kernel_support;
use kernel_support::*;

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
    let with_pins = json(&bpfkit(&["prog", "show", "id", &id, "-j", "-f"]));
    assert_eq!(with_pins["pinned"], serde_json::json!([pin.s()]));
    if have_bpftool("prog show -f") {
        same_fields(
            &with_pins,
            &json(&bpftool(&["-j", "-f", "prog", "show", "id", &id])),
            "prog show -f",
        );
        assert_eq!(
            normalise(&bpfkit(&["prog", "show", "id", &id, "-f"])),
            normalise(&bpftool(&["-f", "prog", "show", "id", &id]))
        );
    }

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
fn prog_with_btf_matches_bpftool() {
    if !kernel_or_skip("prog_with_btf_matches_bpftool") {
        return;
    }
    // BTF for `int prog(void)` and a func_info record for it.
    let mut b = BtfBuilder::new();
    let int = b.int("", 4, SIGNED);
    let proto = b.func_proto(int, &[]);
    let func = b.func("prog", proto, 1);
    let blob = b.encode(Endian::HOST);
    let btf = bpfkit_kernel::btf::KernelBtf::load(&blob, 0).unwrap();
    let insns = bpfkit_isa::asm::assemble("r0 = 2\nexit", bpfkit_isa::Syntax::Llvm).unwrap();
    let func_info: Vec<u8> = [0u32, func].iter().flat_map(|w| w.to_ne_bytes()).collect();
    let mut l = ProgLoad::new(ProgType::Xdp, &insns);
    l.name = "prog";
    l.prog_btf_fd = Some(btf.fd());
    l.func_info = &func_info;
    l.func_info_rec_size = 8;
    let p = l.load().unwrap();
    let id = p.id().unwrap().to_string();
    let ours = json(&bpfkit(&["prog", "show", "id", &id, "-j"]));
    assert_eq!(ours["btf_id"], btf.info(false).unwrap().id);
    let bid = ours["btf_id"].to_string();
    let b = json(&bpfkit(&["btf", "show", "id", &bid, "-j"]));
    assert_eq!(b["prog_ids"], serde_json::json!([p.id().unwrap()]));
    if !have_bpftool("prog_with_btf_matches_bpftool") {
        return;
    }
    same_fields(
        &ours,
        &json(&bpftool(&["-j", "prog", "show", "id", &id])),
        "prog with btf",
    );
    assert_eq!(
        normalise(&bpfkit(&["prog", "show", "id", &id])),
        normalise(&bpftool(&["prog", "show", "id", &id]))
    );
    assert_eq!(
        bpfkit(&["btf", "show", "id", &bid]),
        bpftool(&["btf", "show", "id", &bid])
    );
}
