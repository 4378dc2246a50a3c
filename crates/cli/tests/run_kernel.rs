//! `bpfkit run --kernel` against `bpfkit run`: the same object and pcap
//! through BPF_PROG_TEST_RUN and through the userspace VM give the same
//! per-packet lines (verdicts, lengths, summaries), the same output pcap
//! and the same maps; the text outputs differ only in the throughput line.
//!
//! Needs root and bpf(2): skipped visibly without them, failed when
//! `BPFKIT_REQUIRE_KERNEL=1`. Each run is one `bpfkit` process, which
//! closes everything it loaded when it exits; no test pins anything, and
//! one checks that `--kernel` leaves no pin behind.

mod kernel_support;

use kernel_support::kernel_or_skip;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

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

/// A directory for one test's files, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let d =
            std::env::temp_dir().join(format!("bpfkit_run_kernel_{}_{tag}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        TempDir(d)
    }
    fn file(&self, name: &str) -> String {
        self.0.join(name).to_str().unwrap().to_string()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `args` in userspace and with `--kernel`, with `--json` and
/// `--out`; returns both (per-packet lines, summary, output pcap bytes).
fn both(args: &[&str], dir: &TempDir) -> [(Vec<Value>, Value, Vec<u8>); 2] {
    [false, true].map(|kernel| {
        let out = dir.file(if kernel { "kernel.pcap" } else { "user.pcap" });
        let mut a = args.to_vec();
        a.extend(["--json", "--out", &out]);
        if kernel {
            a.push("--kernel");
        }
        let (ok, stdout, stderr) = bpfkit(&a);
        assert!(ok, "{a:?}: {stderr}");
        let mut lines: Vec<Value> = stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let summary = lines.pop().unwrap();
        (lines, summary, std::fs::read(&out).unwrap())
    })
}

/// Compares the two runs: the per-packet lines but the userspace
/// VM's instruction count, the verdict table, the output pcaps.
fn assert_same(case: &str, runs: &[(Vec<Value>, Value, Vec<u8>); 2], packets: usize) {
    let [(user, user_sum, user_pcap), (kernel, kernel_sum, kernel_pcap)] = runs;
    assert_eq!(user.len(), packets, "{case}: {user:?}");
    for (u, k) in user.iter().zip(kernel) {
        assert!(u["insn_count"].is_u64(), "{case}: {u}");
        assert!(k.get("insn_count").is_none(), "{case}: {k}");
        let mut u = u.clone();
        u.as_object_mut().unwrap().remove("insn_count");
        assert_eq!(&u, k, "{case}");
    }
    assert_eq!(kernel.len(), user.len(), "{case}");
    assert_eq!(
        user_sum["summary"]["verdicts"], kernel_sum["summary"]["verdicts"],
        "{case}"
    );
    assert_eq!(user_sum["summary"]["engine"], "userspace");
    assert_eq!(kernel_sum["summary"]["engine"], "kernel");
    assert!(!user_pcap.is_empty());
    assert_eq!(user_pcap, kernel_pcap, "{case}: --out pcaps differ");
}

#[test]
fn mplex_demo_gives_the_same_lines_pcap_and_maps_in_the_kernel() {
    if !kernel_or_skip("mplex_demo_gives_the_same_lines_pcap_and_maps_in_the_kernel") {
        return;
    }
    let dir = TempDir::new("mplex");
    let demo = [
        "run",
        "examples/mplex/mplex.o",
        "--pcap",
        "examples/mplex/sample.pcap",
        "--map",
        "tags=@examples/mplex/tags.json",
    ];
    let mut args = demo.to_vec();
    args.push("--dump-maps");
    let runs = both(&args, &dir);
    assert_same("mplex", &runs, 20);
    let verdicts = &runs[1].1["summary"]["verdicts"];
    assert_eq!(verdicts["XDP_PASS"], 15, "{verdicts}");
    assert_eq!(verdicts["XDP_DROP"], 5, "{verdicts}");
    // The tags went into the kernel map through BTF and come back the same.
    let maps = &runs[1].1["summary"]["maps"];
    assert_eq!(maps, &runs[0].1["summary"]["maps"]);
    assert!(
        maps.as_array()
            .unwrap()
            .iter()
            .any(|m| m["name"] == "tags" && !m["entries"].as_array().unwrap().is_empty()),
        "{maps}"
    );

    // The text output: every line the same but the throughput line.
    let (ok, user, err) = bpfkit(&demo);
    assert!(ok, "{err}");
    let mut k = demo.to_vec();
    k.push("--kernel");
    let (ok, kernel, err) = bpfkit(&k);
    assert!(ok, "{err}");
    let differing: Vec<(&str, &str)> = user
        .lines()
        .zip(kernel.lines())
        .filter(|(u, k)| u != k)
        .collect();
    assert_eq!(user.lines().count(), kernel.lines().count());
    assert_eq!(differing.len(), 1, "{differing:?}");
    assert!(differing[0].0.starts_with("throughput: "), "{differing:?}");
    assert!(
        differing[0]
            .1
            .contains("packets/s in the kernel, by BPF_PROG_TEST_RUN's duration"),
        "{differing:?}"
    );
}

/// Ethernet + IPv4 (`src` -> 192.0.2.2, checksummed) + TCP 40000 -> 5000,
/// with `pad` bytes of payload.
fn ipv4_tcp(src: [u8; 4], pad: usize) -> Vec<u8> {
    let total = (20 + 20 + pad) as u16;
    let mut ip = vec![0x45, 0, 0, 0, 0, 1, 0, 0, 64, 6, 0, 0];
    ip[2..4].copy_from_slice(&total.to_be_bytes());
    ip.extend(src);
    ip.extend([192, 0, 2, 2]);
    let mut sum: u32 = ip
        .chunks(2)
        .map(|c| u16::from_be_bytes([c[0], c[1]]) as u32)
        .sum();
    while sum >> 16 != 0 {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    ip[10..12].copy_from_slice(&(!(sum as u16)).to_be_bytes());
    let tcp = [
        0x9c, 0x40, 0x13, 0x88, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x18, 0xff, 0xff, 0, 0, 0, 0,
    ];
    let mut f = vec![2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00];
    f.extend(ip);
    f.extend(tcp);
    f.extend((0..pad).map(|i| i as u8));
    f
}

/// Ethernet + IPv6 (next header `next`) with 8 bytes of payload.
fn ipv6(next: u8) -> Vec<u8> {
    let mut f = vec![2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x86, 0xdd];
    f.extend([0x60, 0, 0, 0, 0, 8, next, 64]);
    f.extend(
        [0x20, 0x01, 0x0d, 0xb8]
            .iter()
            .chain(&[0u8; 11])
            .chain(&[1]),
    );
    f.extend(
        [0x20, 0x01, 0x0d, 0xb8]
            .iter()
            .chain(&[0u8; 11])
            .chain(&[2]),
    );
    f.extend([0u8; 8]);
    f
}

/// A little-endian pcap (microseconds, Ethernet) of `frames`.
fn write_pcap(path: &Path, frames: &[Vec<u8>]) {
    let mut b = Vec::new();
    b.extend(0xa1b2c3d4u32.to_le_bytes());
    b.extend(2u16.to_le_bytes());
    b.extend(4u16.to_le_bytes());
    b.extend([0u8; 8]);
    b.extend(65535u32.to_le_bytes());
    b.extend(1u32.to_le_bytes());
    for (i, f) in frames.iter().enumerate() {
        b.extend(1_700_000_000u32.to_le_bytes());
        b.extend((i as u32 * 10).to_le_bytes());
        b.extend((f.len() as u32).to_le_bytes());
        b.extend((f.len() as u32).to_le_bytes());
        b.extend(f);
    }
    std::fs::write(path, b).unwrap();
}

/// Frames for the fixtures (none under ETH_HLEN, which the kernel's test
/// run refuses): IPv4 from three sources, IPv6, ARP, an Ethernet header
/// alone, and for XDP an IPv4 header cut short (which the kernel's skb
/// test run refuses with EINVAL).
fn fixture_frames(xdp: bool) -> Vec<Vec<u8>> {
    let mut arp = vec![0xff; 6];
    arp.extend([2, 0, 0, 0, 0, 1, 0x08, 0x06]);
    arp.extend([0, 1, 8, 0, 6, 4, 0, 1]);
    arp.extend([0u8; 20]);
    let mut frames = vec![
        ipv4_tcp([192, 0, 2, 1], 0),
        ipv4_tcp([192, 0, 2, 1], 100),
        ipv4_tcp([10, 0, 2, 1], 30),
        ipv6(6),
        ipv6(17),
        arp,
        vec![0u8; 14],
        ipv4_tcp([192, 0, 2, 7], 0),
    ];
    if xdp {
        frames.push(ipv4_tcp([192, 0, 2, 1], 0)[..20].to_vec());
    }
    frames
}

#[test]
fn xdp_parse_and_tc_classify_give_the_same_lines_in_the_kernel() {
    if !kernel_or_skip("xdp_parse_and_tc_classify_give_the_same_lines_in_the_kernel") {
        return;
    }
    let dir = TempDir::new("fixtures");
    let (xdp_pcap, tc_pcap) = (dir.file("xdp.pcap"), dir.file("tc.pcap"));
    write_pcap(Path::new(&xdp_pcap), &fixture_frames(true));
    write_pcap(Path::new(&tc_pcap), &fixture_frames(false));
    let fixtures = "crates/object/tests/fixtures";
    let xdp = format!("{fixtures}/xdp_parse.o");
    let tc = format!("{fixtures}/tc_classify.o");
    // fx_tc_flows asks for LIBBPF_PIN_BY_NAME; --kernel must not pin it.
    let pin = Path::new("/sys/fs/bpf/fx_tc_flows");
    let pinned_before = pin.exists();
    for (obj, prog) in [
        (&xdp, "xdp_count_ipv4"),
        (&xdp, "xdp_ipv6_exthdrs"),
        (&xdp, "xdp_drop_by_config"),
        (&tc, "tc_track_flows"),
        (&tc, "tc_drop_marked"),
        (&tc, "cls_by_priority"),
    ] {
        let is_xdp = prog.starts_with("xdp");
        let pcap = if is_xdp { &xdp_pcap } else { &tc_pcap };
        let args = [
            "run",
            obj.as_str(),
            "--program",
            prog,
            "--pcap",
            pcap,
            "--dump-maps",
        ];
        let runs = both(&args, &dir);
        assert_same(prog, &runs, fixture_frames(is_xdp).len());
        let maps = |i: usize| runs[i].1["summary"]["maps"].clone();
        if prog == "tc_track_flows" {
            // Flow counts agree; first_seen_ns is each clock's own.
            let flows = |i: usize| {
                let m = maps(i);
                let m = m
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|m| m["name"] == "fx_tc_flows")
                    .cloned();
                let mut e: Vec<(String, Value)> = m.unwrap()["entries"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|e| (e["key"].to_string(), e["value"]["packets"].clone()))
                    .collect();
                e.sort_by(|a, b| a.0.cmp(&b.0));
                e
            };
            assert_eq!(flows(0), flows(1));
            assert_eq!(flows(1).len(), 3, "{:?}", flows(1));
        } else {
            assert_eq!(maps(0), maps(1), "{prog}");
        }
    }
    // --set in .rodata (frozen once loaded) and .data reaches the kernel's
    // program: every packet dropped, sample_tick (.bss) counted.
    let gd = format!("{fixtures}/global_data.o");
    let args = [
        "run",
        gd.as_str(),
        "--program",
        "xdp_global_counters",
        "--pcap",
        &xdp_pcap,
        "--set",
        "cfg_verbose=1",
        "--set",
        "cfg_sample_rate=1000",
        "--set",
        "last_verdict=1",
        "--dump-maps",
    ];
    let runs = both(&args, &dir);
    assert_same("global_data", &runs, fixture_frames(true).len());
    assert!(runs[1].0.iter().all(|l| l["verdict"] == "XDP_DROP"));
    let bss = |i: usize| {
        runs[i].1["summary"]["maps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["name"].as_str().unwrap().ends_with(".bss"))
            .cloned()
            .unwrap()
    };
    assert_eq!(bss(0), bss(1));
    // .bss's variables, decoded through its DATASEC: sample_tick counts
    // every packet only when cfg_verbose (.rodata) is set.
    let value = &bss(1)["entries"][0]["value"];
    assert_eq!(
        value["sample_tick"].as_u64(),
        Some(fixture_frames(true).len() as u64),
        "{value}"
    );
    assert_eq!(
        pin.exists(),
        pinned_before,
        "--kernel left a pin at {}",
        pin.display()
    );
}

/// The one JSON line of `bpfkit ARGS`, in userspace and with `--kernel`.
fn json_in_both(args: &[&str]) -> [Value; 2] {
    let mut k = args.to_vec();
    k.push("--kernel");
    [args, &k[..]].map(|args| {
        let (ok, out, err) = bpfkit(args);
        assert!(ok, "{args:?}: {err}");
        serde_json::from_str(out.trim()).unwrap()
    })
}

#[test]
fn data_with_kernel_runs_one_test_run_like_the_userspace_one() {
    if !kernel_or_skip("data_with_kernel_runs_one_test_run_like_the_userspace_one") {
        return;
    }
    let data: String = (0u8..100).map(|b| format!("{b:02x}")).collect();
    let args = [
        "run",
        "crates/vm/tests/fixtures/rt_helpers.o",
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
    ];
    let [user, kernel] = json_in_both(&args);
    // The globals (in .rodata, frozen once loaded) reached the kernel's
    // program: the same adjusted buffer and context come back.
    assert_eq!(kernel["verdict"], "XDP_TX", "{kernel}");
    for field in ["retval", "data_out", "ctx_out"] {
        assert_eq!(user[field], kernel[field], "{field}");
    }
    assert!(kernel["duration"].is_u64());
    assert_eq!(kernel["data_out"].as_str().unwrap().len(), 134 * 3 - 1);
}

#[test]
fn data_mode_dumps_the_same_maps_in_the_kernel() {
    if !kernel_or_skip("data_mode_dumps_the_same_maps_in_the_kernel") {
        return;
    }
    // The GCC-built fixture, loaded into the kernel by bpfkit's loader
    // (GCC's BTF included); its .bss counter, filled by variable name,
    // after three runs.
    let dir = TempDir::new("gcc_bss");
    let fill = dir.file("bss.json");
    std::fs::write(&fill, r#"[{"key": 0, "value": {"packets": 1000}}]"#).unwrap();
    let map = format!("gcc_xdp_.bss=@{fill}");
    let data = "00".repeat(64);
    let args = [
        "run",
        "crates/object/tests/fixtures/gcc_xdp_count.o",
        "--data",
        &data,
        "--repeat",
        "3",
        "--map",
        &map,
        "--dump-maps",
        "--json",
    ];
    let [user, kernel] = json_in_both(&args);
    assert_eq!(kernel["verdict"], "XDP_DROP", "{kernel}");
    assert_eq!(user["maps"], kernel["maps"]);
    let bss = kernel["maps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "gcc_xdp_.bss")
        .unwrap();
    assert_eq!(
        bss["entries"][0]["value"]["packets"],
        1000 + 3 * 2058,
        "{kernel}"
    );
}

#[test]
fn kernel_mode_refuses_trace() {
    let (ok, _, err) = bpfkit(&[
        "run",
        "examples/mplex/mplex.o",
        "--pcap",
        "examples/mplex/sample.pcap",
        "--trace",
        "--kernel",
    ]);
    assert!(!ok);
    assert!(
        err.contains("--trace is not available with --kernel"),
        "{err}"
    );
}
