//! Differential tests: the same object, input and map contents run in the
//! Linux kernel (loaded and run with bpftool, BPF_PROG_TEST_RUN) and in the
//! runtime must give the same return value, the same output bytes and the
//! same results in the maps.
//!
//! Needs root, bpffs and bpftool: skipped with a message otherwise, and a
//! failure when BPFKIT_REQUIRE_KERNEL=1. Every program and map a test
//! loads is pinned under one directory that a guard removes (unpinning
//! frees them), even when the test fails.

use std::path::{Path, PathBuf};
use std::process::Command;

use bpfkit_object::read::Object;
use bpfkit_vm::ctx::{SkBuff, XdpMd};
use bpfkit_vm::runtime::{LoadOptions, Runtime};
use bpfkit_vm::Packet;

const MANIFEST: &str = env!("CARGO_MANIFEST_DIR");

/// Whether the kernel can be used; prints why not, and panics instead
/// when BPFKIT_REQUIRE_KERNEL=1.
fn kernel_available() -> bool {
    let root = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .map(|l| l.split_whitespace().nth(2) == Some("0"))
        })
        .unwrap_or(false);
    let bpftool = Command::new("bpftool")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success());
    let bpffs = Path::new("/sys/fs/bpf").is_dir();
    let why = match (root, bpftool, bpffs) {
        (false, _, _) => "not root",
        (_, false, _) => "no bpftool",
        (_, _, false) => "no /sys/fs/bpf",
        _ => return true,
    };
    if std::env::var("BPFKIT_REQUIRE_KERNEL").as_deref() == Ok("1") {
        panic!("BPFKIT_REQUIRE_KERNEL=1 but the kernel cannot be used: {why}");
    }
    eprintln!("skipped: kernel differential test: {why}");
    false
}

/// An object loaded into the kernel with its programs and maps pinned;
/// dropping it unpins (and so frees) them.
struct Loaded {
    dir: PathBuf,
    /// Pins libbpf makes itself (`LIBBPF_PIN_BY_NAME` maps).
    by_name: Vec<PathBuf>,
}

impl Loaded {
    fn new(obj: &str, tag: &str) -> Loaded {
        Loaded::with_pins(obj, tag, &[])
    }

    /// Loads an object whose maps in `by_name` libbpf pins by name under
    /// /sys/fs/bpf (its maps are then not pinned again, and not read).
    fn with_pins(obj: &str, tag: &str, by_name: &[&str]) -> Loaded {
        let dir = PathBuf::from(format!(
            "/sys/fs/bpf/bpfkit_test_{tag}_{}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let by_name: Vec<PathBuf> = by_name
            .iter()
            .map(|n| Path::new("/sys/fs/bpf").join(n))
            .collect();
        for p in &by_name {
            assert!(
                !p.exists(),
                "{} is pinned already: another loader uses it",
                p.display()
            );
        }
        let guard = Loaded { dir, by_name };
        let mut c = Command::new("bpftool");
        c.args(["prog", "loadall", obj]).arg(guard.dir.join("p"));
        if guard.by_name.is_empty() {
            c.arg("pinmaps").arg(guard.dir.join("m"));
        }
        let out = c.output().unwrap();
        assert!(
            out.status.success(),
            "bpftool prog loadall {obj}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        guard
    }

    fn hex(bytes: &[u8]) -> Vec<String> {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    fn map_update(&self, map: &str, key: &[u8], value: &[u8]) {
        let mut c = Command::new("bpftool");
        c.args(["map", "update", "pinned"])
            .arg(self.dir.join("m").join(map));
        c.arg("key")
            .arg("hex")
            .args(Self::hex(key))
            .arg("value")
            .arg("hex")
            .args(Self::hex(value));
        let out = c.output().unwrap();
        assert!(
            out.status.success(),
            "map update {map}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn map_lookup(&self, map: &str, key: &[u8]) -> Vec<u8> {
        let mut c = Command::new("bpftool");
        c.args(["-j", "map", "lookup", "pinned"])
            .arg(self.dir.join("m").join(map));
        c.arg("key").arg("hex").args(Self::hex(key));
        let out = c.output().unwrap();
        assert!(
            out.status.success(),
            "map lookup {map}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout);
        let values = &text[text.find("\"value\":[").unwrap() + 9..];
        values[..values.find(']').unwrap()]
            .split(',')
            .map(|s| {
                u8::from_str_radix(s.trim().trim_matches('"').trim_start_matches("0x"), 16).unwrap()
            })
            .collect()
    }

    /// `bpftool prog run`: the return value and data_out.
    fn run(&self, prog: &str, data: &[u8]) -> (u64, Vec<u8>) {
        let (rv, out, _) = self.run_ctx(prog, data, None);
        (rv, out)
    }

    /// `bpftool prog run` with a `ctx_in`: also ctx_out.
    fn run_ctx(&self, prog: &str, data: &[u8], ctx: Option<&[u8]>) -> (u64, Vec<u8>, Vec<u8>) {
        self.try_run_ctx(prog, data, ctx)
            .unwrap_or_else(|e| panic!("prog run {prog}: {e}"))
    }

    /// `bpftool prog run`, or its error when the kernel refuses the input.
    fn try_run_ctx(
        &self,
        prog: &str,
        data: &[u8],
        ctx: Option<&[u8]>,
    ) -> Result<(u64, Vec<u8>, Vec<u8>), String> {
        let base = std::env::temp_dir().join(self.dir.file_name().unwrap());
        let input = base.with_extension("in");
        let output = base.with_extension("out");
        let ctx_in = base.with_extension("ctx_in");
        let ctx_out = base.with_extension("ctx_out");
        std::fs::write(&input, data).unwrap();
        let mut c = Command::new("bpftool");
        c.args(["prog", "run", "pinned"])
            .arg(self.dir.join("p").join(prog))
            .arg("data_in")
            .arg(&input)
            .arg("data_out")
            .arg(&output);
        if let Some(ctx) = ctx {
            std::fs::write(&ctx_in, ctx).unwrap();
            c.arg("ctx_in").arg(&ctx_in).arg("ctx_out").arg(&ctx_out);
        }
        let out = c.output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        if !out.status.success() {
            for f in [&input, &output, &ctx_in, &ctx_out] {
                let _ = std::fs::remove_file(f);
            }
            return Err(format!("{text} {}", String::from_utf8_lossy(&out.stderr)));
        }
        let rv = text
            .split("Return value: ")
            .nth(1)
            .unwrap()
            .split(',')
            .next()
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        let data_out = std::fs::read(&output).unwrap();
        let ctx_bytes = std::fs::read(&ctx_out).unwrap_or_default();
        for f in [&input, &output, &ctx_in, &ctx_out] {
            let _ = std::fs::remove_file(f);
        }
        Ok((rv, data_out, ctx_bytes))
    }
}

impl Drop for Loaded {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
        for p in &self.by_name {
            let _ = std::fs::remove_file(p);
        }
    }
}

fn runtime(obj: &str, program: &str) -> (Runtime, usize) {
    let o = Object::open(obj).unwrap();
    let opts = LoadOptions {
        only: Some(program.into()),
        ..LoadOptions::default()
    };
    let rt = Runtime::load_with(&o, &opts).unwrap();
    let i = rt.program_index(program).unwrap();
    (rt, i)
}

fn read_pcap(bytes: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut at = 24;
    while at + 16 <= bytes.len() {
        let caplen = u32::from_le_bytes(bytes[at + 8..at + 12].try_into().unwrap()) as usize;
        out.push(bytes[at + 16..at + 16 + caplen].to_vec());
        at += 16 + caplen;
    }
    out
}

#[test]
fn mplex_sample_matches_the_kernel_packet_for_packet() {
    if !kernel_available() {
        return;
    }
    let obj = format!("{MANIFEST}/../../examples/mplex/mplex.o");
    let k = Loaded::new(&obj, "mplex");
    let (mut rt, prog) = runtime(&obj, "mplex");
    for (tag, port) in [(b"600", 5001u16), (b"601", 5002), (b"602", 5003)] {
        k.map_update("tags", tag, &port.to_le_bytes());
        rt.map_update("tags", tag, &port.to_le_bytes()).unwrap();
    }
    let frames =
        read_pcap(&std::fs::read(format!("{MANIFEST}/../../examples/mplex/sample.pcap")).unwrap());
    for (i, f) in frames.iter().enumerate() {
        let (kr, kout) = k.run("mplex", f);
        let mut p = Packet::xdp(f);
        let out = rt.run_xdp(prog, &mut p, &mut XdpMd::default()).unwrap();
        assert_eq!(out.retval, kr, "packet {i}: return value");
        assert_eq!(p.data(), &kout[..], "packet {i}: data_out");
    }
}

const RT_HELPERS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/rt_helpers.o");

fn data_value(head: i32, tail: i32, meta: i32, daddr: u32, dport: u16) -> Vec<u8> {
    let mut v = Vec::new();
    for x in [head, tail, meta] {
        v.extend_from_slice(&x.to_le_bytes());
    }
    v.extend_from_slice(&daddr.to_le_bytes());
    v.extend_from_slice(&dport.to_le_bytes());
    v
}

#[test]
fn xdp_adjust_helpers_match_the_kernel() {
    if !kernel_available() {
        return;
    }
    let k = Loaded::new(RT_HELPERS, "adjust");
    let frame: Vec<u8> = (0..100u8).collect();
    let cases = [
        (-16, 10, -8),
        (14, -20, 0),
        (-216, 0, 0),
        (-217, 0, 0),
        (86, 0, 0),
        (87, 0, 0),
        (0, 3420, 0),
        (0, 3421, 0),
        (0, -86, 0),
        (0, -87, 0),
        (0, 0, -216),
        (0, 0, -220),
        (0, 0, -6),
        (0, 0, 4),
        (-200, 0, -20),
        (-100, 0, -100),
    ];
    for (head, tail, meta) in cases {
        let value = data_value(head, tail, meta, 0, 0);
        k.map_update("rt_helpe_data", &0u32.to_le_bytes(), &value);
        let (kr, kout) = k.run("xdp_adjust", &frame);
        let kres = k.map_lookup("rt_helpe_bss", &0u32.to_le_bytes());

        let (mut rt, prog) = runtime(RT_HELPERS, "xdp_adjust");
        rt.map_update("rt_helpe.data", &0u32.to_le_bytes(), &value)
            .unwrap();
        let mut p = Packet::xdp(&frame);
        let out = rt.run_xdp(prog, &mut p, &mut XdpMd::default()).unwrap();
        let rres = rt
            .map_lookup("rt_helpe.bss", &0u32.to_le_bytes())
            .unwrap()
            .unwrap();
        let case = format!("deltas head {head} tail {tail} meta {meta}");
        assert_eq!(out.retval, kr, "{case}: return value");
        assert_eq!(&rres[..32], &kres[..32], "{case}: helper results");
        assert_eq!(
            [p.meta(), p.data()].concat(),
            kout,
            "{case}: data_out (from data_meta)"
        );
    }
}

#[test]
fn tc_checksum_and_format_helpers_match_the_kernel() {
    if !kernel_available() {
        return;
    }
    let k = Loaded::new(RT_HELPERS, "tc");
    // An IPv4/TCP frame with valid checksums (the same as helpers_run.rs).
    let mut f = hex_frame();
    let value = data_value(0, 0, 0, 0x0a00_0005, 8080);
    k.map_update("rt_helpe_data", &0u32.to_le_bytes(), &value);
    let (kr, kout) = k.run("tc_rewrite", &f);
    let kres = k.map_lookup("rt_helpe_bss", &0u32.to_le_bytes());
    let (mut rt, prog) = runtime(RT_HELPERS, "tc_rewrite");
    rt.map_update("rt_helpe.data", &0u32.to_le_bytes(), &value)
        .unwrap();
    let mut p = Packet::new(&f, 64, 64);
    let out = rt.run_skb(prog, &mut p, &mut SkBuff::default()).unwrap();
    let rres = rt
        .map_lookup("rt_helpe.bss", &0u32.to_le_bytes())
        .unwrap()
        .unwrap();
    assert_eq!(out.retval, kr);
    assert_eq!(
        &rres[..64],
        &kres[..64],
        "l3/l4_csum_replace, store_bytes, csum_diff, load_bytes results"
    );
    assert_eq!(p.data(), &kout[..], "the rewritten frame");

    f.truncate(60);
    let (kr, _) = k.run("xdp_format", &f);
    let kres = k.map_lookup("rt_helpe_bss", &0u32.to_le_bytes());
    let (mut rt, prog) = runtime(RT_HELPERS, "xdp_format");
    let mut p = Packet::xdp(&f);
    let out = rt.run_xdp(prog, &mut p, &mut XdpMd::default()).unwrap();
    let rres = rt
        .map_lookup("rt_helpe.bss", &0u32.to_le_bytes())
        .unwrap()
        .unwrap();
    assert_eq!(out.retval, kr);
    assert_eq!(
        &rres[..64],
        &kres[..64],
        "trace_printk/vprintk/snprintf/strtol results"
    );
    assert_eq!(&rres[64..80], &kres[64..80], "snprintf text");
}

#[test]
fn tail_call_limit_matches_the_kernel() {
    if !kernel_available() {
        return;
    }
    let k = Loaded::new(RT_HELPERS, "chain");
    let frame = [0u8; 60];
    let (kr, _) = k.run("xdp_chain", &frame);
    let kbss = k.map_lookup("rt_helpe_bss", &0u32.to_le_bytes());
    let (mut rt, prog) = runtime(RT_HELPERS, "xdp_chain");
    let out = rt
        .run_xdp(prog, &mut Packet::xdp(&frame), &mut XdpMd::default())
        .unwrap();
    let bss = rt
        .map_lookup("rt_helpe.bss", &0u32.to_le_bytes())
        .unwrap()
        .unwrap();
    assert_eq!(out.retval, kr);
    assert_eq!(
        bss, kbss,
        "chain_runs (1 + 33) and the failed calls' return values"
    );
}

#[test]
fn spin_lock_and_skb_change_match_the_kernel() {
    if !kernel_available() {
        return;
    }
    let k = Loaded::new(RT_HELPERS, "grow");
    let frame: Vec<u8> = (0..60u8).collect();
    let (kr, kout) = k.run("tc_grow", &frame);
    let kbss = k.map_lookup("rt_helpe_bss", &0u32.to_le_bytes());
    let kcount = k.map_lookup("counters", &0u32.to_le_bytes());
    let (mut rt, prog) = runtime(RT_HELPERS, "tc_grow");
    let mut p = Packet::new(&frame, 64, 64);
    let out = rt.run_skb(prog, &mut p, &mut SkBuff::default()).unwrap();
    assert_eq!(out.retval, kr);
    assert_eq!(p.data(), &kout[..], "data_out");
    let bss = rt
        .map_lookup("rt_helpe.bss", &0u32.to_le_bytes())
        .unwrap()
        .unwrap();
    assert_eq!(
        &bss[..48],
        &kbss[..48],
        "change_tail/change_head results and skb->len"
    );
    assert_eq!(
        rt.map_lookup("counters", &0u32.to_le_bytes())
            .unwrap()
            .unwrap(),
        kcount
    );
}

#[test]
fn redirect_map_matches_the_kernel() {
    if !kernel_available() {
        return;
    }
    let k = Loaded::new(RT_HELPERS, "redirect");
    // ifindex 1 is lo, which every kernel has.
    k.map_update("ports", &1u32.to_le_bytes(), &1u32.to_le_bytes());
    let (mut rt, prog) = runtime(RT_HELPERS, "xdp_redirect_port");
    rt.map_update("ports", &1u32.to_le_bytes(), &1u32.to_le_bytes())
        .unwrap();
    for len in [60usize, 61] {
        let frame = vec![0u8; len];
        let (kr, _) = k.run("xdp_redirect_port", &frame);
        let kbss = k.map_lookup("rt_helpe_bss", &0u32.to_le_bytes());
        let out = rt
            .run_xdp(prog, &mut Packet::xdp(&frame), &mut XdpMd::default())
            .unwrap();
        let bss = rt
            .map_lookup("rt_helpe.bss", &0u32.to_le_bytes())
            .unwrap()
            .unwrap();
        assert_eq!(out.retval, kr, "{len}-byte frame");
        assert_eq!(&bss[..16], &kbss[..16], "{len}-byte frame: results");
    }
}

#[test]
fn vlan_push_and_pop_match_the_kernel() {
    if !kernel_available() {
        return;
    }
    let k = Loaded::new(RT_HELPERS, "vlan");
    let f = hex_frame();
    let (kr, kout) = k.run("tc_vlan", &f);
    let kbss = k.map_lookup("rt_helpe_bss", &0u32.to_le_bytes());
    let (mut rt, prog) = runtime(RT_HELPERS, "tc_vlan");
    let mut p = Packet::new(&f, 64, 64);
    let mut skb = SkBuff {
        protocol: 0x0008,
        ..SkBuff::default()
    };
    let out = rt.run_skb(prog, &mut p, &mut skb).unwrap();
    let bss = rt
        .map_lookup("rt_helpe.bss", &0u32.to_le_bytes())
        .unwrap()
        .unwrap();
    assert_eq!(out.retval, kr);
    let words = |b: &[u8]| {
        b[..64]
            .chunks(8)
            .map(|c| format!("{:016x}", u64::from_le_bytes(c.try_into().unwrap())))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        words(&bss),
        words(&kbss),
        "return values and (len, vlan_present, vlan_proto, vlan_tci, protocol) after each step"
    );
    assert_eq!(p.data(), &kout[..], "the frame: one 802.1Q tag in it");
}

#[test]
fn bpf_loop_matches_the_kernel() {
    if !kernel_available() {
        return;
    }
    let k = Loaded::new(RT_HELPERS, "loop");
    let (kr, _) = k.run("xdp_loop", &[0; 60]);
    let kbss = k.map_lookup("rt_helpe_bss", &0u32.to_le_bytes());
    let (mut rt, prog) = runtime(RT_HELPERS, "xdp_loop");
    let out = rt
        .run_xdp(prog, &mut Packet::xdp(&[0; 60]), &mut XdpMd::default())
        .unwrap();
    let bss = rt
        .map_lookup("rt_helpe.bss", &0u32.to_le_bytes())
        .unwrap()
        .unwrap();
    assert_eq!(out.retval, kr);
    assert_eq!(&bss[..48], &kbss[..48]);
}

#[test]
fn for_each_map_elem_matches_the_kernel() {
    if !kernel_available() {
        return;
    }
    let k = Loaded::new(RT_HELPERS, "walk");
    let (mut rt, prog) = runtime(RT_HELPERS, "xdp_walk");
    for (key, v) in [(3u32, 30u64), (5, 50), (9, 90)] {
        k.map_update("seen", &key.to_le_bytes(), &v.to_le_bytes());
        rt.map_update("seen", &key.to_le_bytes(), &v.to_le_bytes())
            .unwrap();
    }
    for (key, v) in [(0u32, 1u64), (1, 2), (2, 4), (3, 8), (4, 16)] {
        k.map_update("slots", &key.to_le_bytes(), &v.to_le_bytes());
        rt.map_update("slots", &key.to_le_bytes(), &v.to_le_bytes())
            .unwrap();
    }
    let (kr, _) = k.run("xdp_walk", &[0; 60]);
    let kbss = k.map_lookup("rt_helpe_bss", &0u32.to_le_bytes());
    let out = rt
        .run_xdp(prog, &mut Packet::xdp(&[0; 60]), &mut XdpMd::default())
        .unwrap();
    let bss = rt
        .map_lookup("rt_helpe.bss", &0u32.to_le_bytes())
        .unwrap()
        .unwrap();
    assert_eq!(out.retval, kr);
    assert_eq!(&bss[..56], &kbss[..56]);
    for key in [3u32, 5, 9] {
        assert_eq!(
            rt.map_lookup("seen", &key.to_le_bytes()).unwrap().unwrap(),
            k.map_lookup("seen", &key.to_le_bytes()),
            "key {key} doubled"
        );
    }
}

#[test]
fn xdp_parse_and_tc_classify_fixtures_match_the_kernel() {
    if !kernel_available() {
        return;
    }
    let fixtures = format!("{MANIFEST}/../object/tests/fixtures");
    // xdp_count_ipv4: verdicts and the per-source counters.
    let obj = format!("{fixtures}/xdp_parse.o");
    let k = Loaded::new(&obj, "xdp_parse");
    let (mut rt, prog) = runtime(&obj, "xdp_count_ipv4");
    let mut ipv4 = hex_frame();
    // (The kernel's test run refuses frames under ETH_HLEN, so none here.)
    let frames = [
        ipv4.clone(),
        ipv4.clone(),
        vec![0u8; 14],
        {
            ipv4[26] = 10;
            ipv4.clone()
        },
        hex_frame()[..20].to_vec(),
    ];
    for (i, f) in frames.iter().enumerate() {
        let (kr, kout) = k.run("xdp_count_ipv4", f);
        let mut p = Packet::xdp(f);
        let out = rt.run_xdp(prog, &mut p, &mut XdpMd::default()).unwrap();
        assert_eq!((out.retval, p.data()), (kr, &kout[..]), "frame {i}");
    }
    for src in [[192u8, 0, 2, 1], [10, 0, 2, 1]] {
        assert_eq!(
            rt.map_lookup("src_counters", &src).unwrap().unwrap(),
            k.map_lookup("src_counters", &src),
            "{src:?}"
        );
    }
    drop(k);
    // tc_classify: skb fields in and out through ctx_in/ctx_out.
    let obj = format!("{fixtures}/tc_classify.o");
    let k = Loaded::with_pins(&obj, "tc_classify", &["fx_tc_flows"]);
    let f = hex_frame();
    for (prog_name, mark, priority) in [
        ("cls_by_priority", 0u32, 7u32),
        ("cls_by_priority", 0, 2),
        ("tc_drop_marked", 0x13, 0),
        ("tc_drop_marked", 0, 0),
    ] {
        let mut ctx = vec![0u8; 192];
        ctx[8..12].copy_from_slice(&mark.to_le_bytes());
        ctx[32..36].copy_from_slice(&priority.to_le_bytes());
        let (kr, kout, kctx) = k.run_ctx(prog_name, &f, Some(&ctx));
        let (mut rt, prog) = runtime(&obj, prog_name);
        let mut skb = SkBuff {
            mark,
            priority,
            ..SkBuff::default()
        };
        let mut p = Packet::new(&f, 64, 64);
        let out = rt.run_skb(prog, &mut p, &mut skb).unwrap();
        let case = format!("{prog_name} mark {mark:#x} priority {priority}");
        assert_eq!(out.retval, kr, "{case}");
        assert_eq!(p.data(), &kout[..], "{case}");
        assert_eq!(
            skb.mark,
            u32::from_le_bytes(kctx[8..12].try_into().unwrap()),
            "{case}: mark out"
        );
    }
}

fn hex_frame() -> Vec<u8> {
    // Ethernet, IPv4 192.0.2.1 -> 192.0.2.2 (checksum 0xb8f3), TCP 40000 -> 5000.
    let mut ip = vec![
        0x45, 0, 0, 56, 0, 1, 0, 0, 64, 6, 0, 0, 192, 0, 2, 1, 192, 0, 2, 2,
    ];
    let sum = |d: &[u8]| {
        let mut s: u32 = d
            .chunks(2)
            .map(|c| u16::from_be_bytes([c[0], c[1]]) as u32)
            .sum();
        while s >> 16 != 0 {
            s = (s & 0xffff) + (s >> 16);
        }
        !(s as u16)
    };
    let c = sum(&ip);
    ip[10..12].copy_from_slice(&c.to_be_bytes());
    let mut tcp = vec![
        0x9c, 0x40, 0x13, 0x88, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x18, 0xff, 0xff, 0, 0, 0, 0,
    ];
    tcp.extend_from_slice(b"hello, checksums");
    let mut pseudo = ip[12..20].to_vec();
    pseudo.extend_from_slice(&[0, 6, 0, tcp.len() as u8]);
    pseudo.extend_from_slice(&tcp);
    let c = sum(&pseudo);
    tcp[16..18].copy_from_slice(&c.to_be_bytes());
    let mut f = vec![2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 8, 0];
    f.extend(ip);
    f.extend(tcp);
    f
}

const RT_TESTRUN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/rt_testrun.o");

/// A `__sk_buff` ctx_in with every field BPF_PROG_TEST_RUN accepts set.
fn full_ctx(mark: u32) -> Vec<u8> {
    let mut c = vec![0u8; 192];
    let mut put = |at: usize, v: &[u8]| c[at..at + v.len()].copy_from_slice(v);
    put(8, &mark.to_le_bytes());
    put(32, &5u32.to_le_bytes()); // priority
    put(36, &7u32.to_le_bytes()); // ingress_ifindex
    put(40, &1u32.to_le_bytes()); // ifindex: lo
    put(48, &0xaau32.to_le_bytes()); // cb[0]
    put(64, &0xbbu32.to_le_bytes()); // cb[4]
    put(152, &12345u64.to_le_bytes()); // tstamp
    put(160, &200u32.to_le_bytes()); // wire_len
    put(164, &3u32.to_le_bytes()); // gso_segs
    put(176, &1400u32.to_le_bytes()); // gso_size
    put(184, &999u64.to_le_bytes()); // hwtstamp
    c
}

/// The `.bss` words of rt_testrun.o, for messages that say which differ.
fn words(b: &[u8]) -> Vec<String> {
    b.chunks(8)
        .enumerate()
        .map(|(i, c)| {
            let mut w = [0u8; 8];
            w[..c.len()].copy_from_slice(c);
            format!("{i}:{:#x}", u64::from_le_bytes(w))
        })
        .collect()
}

#[test]
fn skb_test_runs_match_the_kernel_field_for_field() {
    if !kernel_available() {
        return;
    }
    let k = Loaded::new(RT_TESTRUN, "testrun");
    let o = Object::open(RT_TESTRUN).unwrap();
    let mut rt = Runtime::load(&o).unwrap();
    let ipv4 = hex_frame();
    let mut to_lo = ipv4.clone();
    to_lo[..6].fill(0);
    let mut broadcast = ipv4.clone();
    broadcast[..6].fill(0xff);
    let mut ipv6 = vec![
        0x33, 0x33, 0, 0, 0, 1, 2, 0, 0, 0, 0, 1, 0x86, 0xdd, 0x60, 0, 0, 0, 0, 8,
    ];
    ipv6.extend_from_slice(&[17, 64]);
    ipv6.extend((0..32u8).map(|i| i * 7));
    ipv6.extend_from_slice(&[0x1f, 0x90, 0x00, 0x35, 0, 8, 0, 0]);
    let frames = [
        ("ipv4", ipv4.clone()),
        ("ipv4 to lo", to_lo),
        ("broadcast", broadcast),
        ("ipv6 multicast", ipv6),
        ("ethernet header only", ipv4[..14].to_vec()),
        ("802.3 length", {
            let mut f = ipv4.clone();
            f[12..14].copy_from_slice(&[0, 56]);
            f
        }),
    ];
    let (mut compared, mut refused) = (0, 0);
    for prog_name in ["sf_fields", "tc_fields", "cg_fields"] {
        let prog = rt.program_index(prog_name).unwrap();
        for (what, f) in &frames {
            for ctx in [None, Some(full_ctx(0x11)), Some(full_ctx(0x99))] {
                let case = format!("{prog_name}, {what}, ctx {:?}", ctx.as_ref().map(|c| c[8]));
                let kernel = k.try_run_ctx(prog_name, f, ctx.as_deref());
                let ours = rt.test_run_skb(prog, f, ctx.as_deref());
                let ((kr, kout, kctx), (r, t)) = match (kernel, ours) {
                    (Ok(k), Ok(o)) => (k, o),
                    (Err(_), Err(_)) => {
                        refused += 1;
                        continue;
                    }
                    (k, o) => panic!("{case}: kernel {k:?}, runtime {o:?}"),
                };
                let kbss = k.map_lookup("rt_testr_bss", &0u32.to_le_bytes());
                let bss = rt
                    .map_lookup("rt_testr.bss", &0u32.to_le_bytes())
                    .unwrap()
                    .unwrap();
                assert_eq!(r.retval, kr, "{case}: return value");
                assert_eq!(t.data_out(), kout, "{case}: data_out");
                assert_eq!(t.ctx_out().unwrap_or_default(), kctx, "{case}: ctx_out");
                assert_eq!(
                    words(&bss),
                    words(&kbss),
                    "{case}: fields and helper results"
                );
                compared += 1;
            }
        }
    }
    // The IPv4 frame cut after its Ethernet header is refused (EINVAL).
    assert_eq!((compared, refused), (45, 9));
}

#[test]
fn socket_ldabs_filters_match_the_kernel_test_run() {
    if !kernel_available() {
        return;
    }
    let obj = format!("{MANIFEST}/../object/tests/fixtures/socket_ldabs.o");
    let k = Loaded::new(&obj, "socket_ldabs");
    let o = Object::open(&obj).unwrap();
    let mut rt = Runtime::load(&o).unwrap();
    // Written for a packet socket (offsets from the Ethernet header): under
    // the test run the same offsets read the IP header, in both.
    let mut private = hex_frame();
    private[26] = 10;
    let mut ip_at_12 = hex_frame();
    ip_at_12[26..28].copy_from_slice(&[8, 0]);
    ip_at_12[14 + 9 + 14] = 6;
    for prog_name in [
        "sock_count_proto",
        "sock_tcp_dport",
        "sock_drop_private_src",
    ] {
        let prog = rt.program_index(prog_name).unwrap();
        for f in [hex_frame(), private.clone(), ip_at_12.clone()] {
            let (kr, kout) = k.run(prog_name, &f);
            let (r, t) = rt.test_run_skb(prog, &f, None).unwrap();
            assert_eq!(r.retval, kr, "{prog_name}: return value");
            assert_eq!(t.data_out(), kout, "{prog_name}: data_out");
        }
    }
    for proto in [0u32, 6, 8] {
        assert_eq!(
            rt.map_lookup("proto_count", &proto.to_le_bytes())
                .unwrap()
                .unwrap(),
            k.map_lookup("proto_count", &proto.to_le_bytes()),
            "proto_count[{proto}]"
        );
    }
}

#[test]
fn tracing_helpers_are_refused_in_packet_programs_as_by_the_kernel() {
    if !kernel_available() {
        return;
    }
    for (file, helper) in [
        ("rt_refused_funcip.o", "bpf_get_func_ip#173"),
        ("rt_refused_cookie.o", "bpf_get_attach_cookie#174"),
    ] {
        let obj = format!("{MANIFEST}/tests/fixtures/{file}");
        let guard = Loaded {
            dir: PathBuf::from(format!(
                "/sys/fs/bpf/bpfkit_test_refused_{}",
                std::process::id()
            )),
            by_name: Vec::new(),
        };
        let out = Command::new("bpftool")
            .args(["prog", "loadall", &obj])
            .arg(guard.dir.join("p"))
            .output()
            .unwrap();
        let log = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{file}: the kernel loaded it");
        assert!(log.contains(helper), "{file}: the kernel's reason: {log}");
        drop(guard);
        let e = Runtime::load(&Object::open(&obj).unwrap()).unwrap_err();
        let name = helper.split('#').next().unwrap();
        assert!(e.to_string().contains(name), "{file}: {e}");
    }
    // Tracing programs get them, in the kernel and in the runtime.
    let obj = format!("{MANIFEST}/tests/fixtures/rt_tracing.o");
    drop(Loaded::new(&obj, "tracing"));
    Runtime::load(&Object::open(&obj).unwrap()).unwrap();
}
