//! `bpfkit run`: the mplex demo end to end (verdicts, output pcap, JSON
//! lines, maps from tags.json through BTF), --data runs as
//! BPF_PROG_TEST_RUN, --set, and the errors.

use serde_json::json;
use std::process::Command;

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

fn bpfkit(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_bpfkit"))
        .current_dir(ROOT)
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const DEMO: &[&str] = &[
    "run",
    "examples/mplex/mplex.o",
    "--pcap",
    "examples/mplex/sample.pcap",
    "--map",
    "tags=@examples/mplex/tags.json",
];

#[test]
fn the_demo_prints_verdicts_summaries_and_the_table() {
    let (ok, out, err) = bpfkit(DEMO);
    assert!(ok, "{err}");
    assert!(out.contains("    0  XDP_PASS        344 B  IPv4 192.0.2.1:40000 > 192.0.2.2:5000 TCP  =>  IPv4 192.0.2.1:40000 > 192.0.2.2:5001 TCP"), "{out}");
    assert!(out.contains(
        "    5  XDP_DROP        344 B  IPv4 192.0.2.1:40000 > 192.0.2.2:5000 TCP  =>  (dropped)"
    ));
    assert!(out.contains("   13  XDP_PASS         42 B  ARP  =>  unchanged"));
    assert!(
        out.contains("  XDP_DROP                5\n  XDP_PASS               15\n"),
        "{out}"
    );
    assert!(out.contains("packets/s in the program"));
}

#[test]
fn json_lines_match_the_kernels_expectations_and_out_gets_the_passing_packets() {
    let dir = std::env::temp_dir().join(format!("bpfkit_run_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out_pcap = dir.join("out.pcap");
    let mut args = DEMO.to_vec();
    let out_arg = out_pcap.to_str().unwrap().to_string();
    args.extend(["--json", "--dump-maps", "--out", &out_arg]);
    let (ok, out, err) = bpfkit(&args);
    assert!(ok, "{err}");
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 21);
    let expect =
        std::fs::read_to_string(format!("{ROOT}/examples/mplex/sample.expect.jsonl")).unwrap();
    for (got, want) in lines.iter().zip(expect.lines()) {
        let want: serde_json::Value = serde_json::from_str(want).unwrap();
        assert_eq!(got["index"], want["index"]);
        assert_eq!(got["verdict"], want["verdict"], "{}", want["case"]);
        assert_eq!(got["len_in"], want["len"]);
    }
    assert_eq!(
        lines[5]["len_out"],
        serde_json::Value::Null,
        "a dropped packet does not leave"
    );
    let summary = &lines[20]["summary"];
    assert_eq!(summary["verdicts"]["XDP_PASS"], 15);
    let maps = summary["maps"].as_array().unwrap();
    let tags = maps.iter().find(|m| m["name"] == "tags").unwrap();
    let mut entries: Vec<String> = tags["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| format!("{}={}", e["key"], e["value"]))
        .collect();
    entries.sort();
    assert_eq!(entries, ["\"600\"=5001", "\"601\"=5002", "\"602\"=5003"]);
    // The output capture: the 15 passing packets, the steered ones rewritten.
    let pcap = std::fs::read(&out_pcap).unwrap();
    let mut frames = Vec::new();
    let mut at = 24;
    while at + 16 <= pcap.len() {
        let n = u32::from_le_bytes(pcap[at + 8..at + 12].try_into().unwrap()) as usize;
        frames.push(pcap[at + 16..at + 16 + n].to_vec());
        at += 16 + n;
    }
    assert_eq!(frames.len(), 15);
    assert_eq!(u16::from_be_bytes([frames[0][36], frames[0][37]]), 5001);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn data_runs_like_bpf_prog_test_run_and_set_writes_globals() {
    let obj = "crates/vm/tests/fixtures/rt_helpers.o";
    let data: String = (0..100).map(|i| format!("{i:02x}")).collect();
    let (ok, out, err) = bpfkit(&[
        "run",
        obj,
        "--program",
        "xdp_adjust",
        "--data",
        &data,
        "--set",
        "head_delta=-16",
        "--set",
        "tail_delta=10",
        "--set",
        "meta_delta=-8",
        "--json",
    ]);
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["retval"], 3);
    assert_eq!(v["verdict"], "XDP_TX");
    // data_out from data_meta (as the kernel's test run): 8 bytes of
    // metadata, 16 bytes of headroom, the frame, 10 zeroed bytes.
    let data_out = v["data_out"].as_str().unwrap();
    assert!(
        data_out.starts_with("aa bb cc dd 00 00 00 00 00"),
        "{data_out}"
    );
    assert_eq!(data_out.split(' ').count(), 8 + 16 + 100 + 10);
    // ctx_out: data = metadata length, data_end = its end.
    assert!(v["ctx_out"]
        .as_str()
        .unwrap()
        .starts_with("08 00 00 00 86 00 00 00"));
    // A ctx whose data_end is not the data's length is EINVAL, as in the kernel.
    let ctx = "00000000 05000000 00000000 00000000 00000000 00000000";
    let (ok, _, err) = bpfkit(&[
        "run",
        obj,
        "--program",
        "xdp_adjust",
        "--data",
        &data,
        "--ctx",
        ctx,
    ]);
    assert!(!ok);
    assert!(err.contains("EINVAL"), "{err}");
}

#[test]
fn data_mode_dumps_the_maps_and_runs_a_gcc_object() {
    // The GCC-built fixture: `packets` (.bss) grows by 4 * (len << 3) + 10.
    let obj = "crates/object/tests/fixtures/gcc_xdp_count.o";
    let data = "00".repeat(64);
    let (ok, out, err) = bpfkit(&["run", obj, "--data", &data, "--dump-maps"]);
    assert!(ok, "{err}");
    assert!(out.starts_with("retval: 1 (XDP_DROP)\n"), "{out}");
    assert!(
        out.contains(
            "\nmap gcc_xdp_.bss (array), 1 entries\n  \"00 00 00 00\" => {\"packets\":2058}\n"
        ),
        "{out}"
    );
    let (ok, out, err) = bpfkit(&[
        "run",
        obj,
        "--data",
        &data,
        "--dump-maps",
        "--json",
        "--repeat",
        "2",
    ]);
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    let bss = v["maps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "gcc_xdp_.bss")
        .unwrap();
    // Two runs: 2 * 2058; the section's variables decoded through BTF.
    assert_eq!(bss["entries"][0]["value"], json!({"packets": 4116}), "{v}");
    let data_map = v["maps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "gcc_xdp_.data")
        .unwrap();
    assert_eq!(
        data_map["entries"][0]["value"],
        json!({"weights": [1, 2, 3, 4]})
    );
    // A variable by name in --map's JSON; an unknown one is refused.
    let dir = std::env::temp_dir().join(format!("bpfkit_run_gcc_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let fill = dir.join("bss.json");
    let fill_arg = format!("gcc_xdp_.bss=@{}", fill.display());
    std::fs::write(&fill, r#"[{"key": 0, "value": {"packets": 1000}}]"#).unwrap();
    let (ok, out, err) = bpfkit(&[
        "run",
        obj,
        "--data",
        &data,
        "--map",
        &fill_arg,
        "--dump-maps",
    ]);
    assert!(ok, "{err}");
    assert!(out.contains("=> {\"packets\":3058}"), "{out}");
    std::fs::write(&fill, r#"[{"key": 0, "value": {"nope": 1}}]"#).unwrap();
    let (ok, _, err) = bpfkit(&["run", obj, "--data", &data, "--map", &fill_arg]);
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(!ok);
    assert!(
        err.contains("entry 0: value for map gcc_xdp_.bss: no variable nope"),
        "{err}"
    );
    // Without --dump-maps, no maps.
    let (ok, out, _) = bpfkit(&["run", obj, "--data", &data, "--json"]);
    assert!(ok);
    assert!(!out.contains("\"maps\""), "{out}");
}

#[test]
fn errors_name_the_place() {
    let (ok, _, err) = bpfkit(&[
        "run",
        "examples/mplex/mplex.o",
        "--pcap",
        "examples/mplex/sample.pcap",
        "--map",
        "nope=@examples/mplex/tags.json",
    ]);
    assert!(!ok);
    assert!(
        err.contains("no map named nope") && err.contains("tags"),
        "{err}"
    );
    let (ok, _, err) = bpfkit(&[
        "run",
        "crates/vm/tests/fixtures/rt_helpers.o",
        "--data",
        "00",
    ]);
    assert!(!ok);
    assert!(
        err.contains("--program or --section") && err.contains("xdp_adjust"),
        "{err}"
    );
    let (ok, _, err) = bpfkit(&[
        "run",
        "crates/vm/tests/fixtures/rt_refused.o",
        "--data",
        "00",
    ]);
    assert!(!ok);
    assert!(err.contains("bpf_skb_load_bytes"), "{err}");
    let (ok, _, err) = bpfkit(&[
        "run",
        "examples/mplex/mplex.o",
        "--pcap",
        "examples/mplex/mplex.c",
    ]);
    assert!(!ok);
    assert!(
        err.contains("mplex.c") && err.contains("not a pcap"),
        "{err}"
    );
}

#[test]
fn data_runs_socket_filters_from_the_network_header_as_the_kernel_does() {
    // Ethernet (to lo's all-zero address), IPv4 192.0.2.1 -> 192.0.2.2 TCP
    // 40000 -> 5000: 14 + 20 + 20 bytes.
    let mut frame = vec![0u8; 12];
    frame.extend_from_slice(&[0x08, 0x00, 0x45, 0, 0, 40, 0, 1, 0, 0, 64, 6, 0, 0]);
    frame.extend_from_slice(&[192, 0, 2, 1, 192, 0, 2, 2, 0x9c, 0x40, 0x13, 0x88]);
    frame.extend_from_slice(&[0; 16]);
    let data: String = frame.iter().map(|b| format!("{b:02x}")).collect();
    let (ok, out, err) = bpfkit(&[
        "run",
        "crates/vm/tests/fixtures/rt_testrun.o",
        "--program",
        "sf_fields",
        "--data",
        &data,
        "--json",
    ]);
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    // skb->len - 4, where len leaves out the Ethernet header.
    assert_eq!(v["retval"], 40 - 4);
    let data_out = v["data_out"].as_str().unwrap();
    assert!(
        data_out.starts_with(&format!("{} 45 00", ["00"; 14].join(" "))),
        "a zeroed Ethernet header, then the IP header: {data_out}"
    );
    let ctx_out: Vec<&str> = v["ctx_out"].as_str().unwrap().split(' ').collect();
    assert_eq!(ctx_out[40], "01", "ifindex: lo");
    assert_eq!(
        &ctx_out[52..56],
        ["ee", "ff", "c0", "00"],
        "cb[1] as written"
    );
    assert_eq!(ctx_out[160], "28", "wire_len: skb->len (40)");
    // ifindex 2 is no device the runtime has: ENODEV, as the kernel says
    // for a device it does not have.
    let mut ctx = ["00"; 192];
    ctx[40] = "02";
    let (ok, _, err) = bpfkit(&[
        "run",
        "crates/vm/tests/fixtures/rt_testrun.o",
        "--program",
        "sf_fields",
        "--data",
        &data,
        "--ctx",
        &ctx.concat(),
    ]);
    assert!(!ok);
    assert!(err.contains("ENODEV"), "{err}");
}

#[test]
fn data_repeats_run_over_one_skb_as_the_kernel_does() {
    // tc_fields adds 1 to the mark: with --repeat 3 the kernel's ctx_out
    // has mark 0x11 + 3 (bpftool prog run ... repeat 3 gives 0x14 too).
    let mut frame = vec![0u8; 12];
    frame.extend_from_slice(&[0x08, 0x00, 0x45]);
    frame.resize(60, 0);
    let data: String = frame.iter().map(|b| format!("{b:02x}")).collect();
    let mut ctx = ["00"; 192];
    ctx[8] = "11";
    let (ok, out, err) = bpfkit(&[
        "run",
        "crates/vm/tests/fixtures/rt_testrun.o",
        "--program",
        "tc_fields",
        "--data",
        &data,
        "--ctx",
        &ctx.concat(),
        "--repeat",
        "3",
        "--json",
    ]);
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    let ctx_out: Vec<&str> = v["ctx_out"].as_str().unwrap().split(' ').collect();
    assert_eq!(ctx_out[8], "14", "mark after three runs");
    assert_eq!(ctx_out[32], "06", "priority as written");
}
