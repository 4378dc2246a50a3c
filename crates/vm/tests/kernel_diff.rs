//! Differential tests: the same object, input and map contents run in the
//! Linux kernel (loaded and run with bpftool, BPF_PROG_TEST_RUN) and in the
//! runtime must give the same return value, the same output bytes and the
//! same results in the maps.
//!
//! Needs root, bpffs and bpftool: skipped with a message otherwise, and a
//! failure when BPFKIT_REQUIRE_KERNEL=1. Every program and map a test
//! loads is pinned under one directory that a guard removes (unpinning
//! frees them), even when the test fails.

mod kernel;

use bpfkit_vm::ctx::{SkBuff, XdpMd};
use bpfkit_vm::Packet;
use kernel::{hex_frame, kernel_available, read_pcap, runtime, Loaded, MANIFEST};

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
