//! The object fixtures' XDP, TC and socket filter programs
//! (crates/object/tests/fixtures/src) run in the runtime on frames built
//! here, with the verdicts, map contents, context fields and bytes their C
//! sources define.

use bpfkit_object::map::Map;
use bpfkit_object::read::Object;
use bpfkit_vm::ctx::{SkBuff, XdpMd};
use bpfkit_vm::runtime::{Clock, LoadOptions, Runtime};
use bpfkit_vm::Packet;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../object/tests/fixtures");

fn load(name: &str, program: &str) -> (Runtime, usize) {
    let obj = Object::open(format!("{FIXTURES}/{name}.o")).unwrap();
    let opts = LoadOptions {
        only: Some(program.to_string()),
        ..LoadOptions::default()
    };
    let rt = Runtime::load_with(&obj, &opts).unwrap();
    let prog = rt.program_index(program).unwrap();
    (rt, prog)
}

/// An Ethernet frame around `body`.
fn eth(ethertype: u16, body: &[u8]) -> Vec<u8> {
    let mut f = vec![2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1];
    f.extend_from_slice(&ethertype.to_be_bytes());
    f.extend_from_slice(body);
    f
}

/// An IPv4 header (no options, checksum left 0) and `l4`.
fn ipv4(proto: u8, src: [u8; 4], dst: [u8; 4], l4: &[u8]) -> Vec<u8> {
    let mut h = vec![0x45, 0];
    h.extend_from_slice(&((20 + l4.len()) as u16).to_be_bytes());
    h.extend_from_slice(&[0, 1, 0, 0, 64, proto, 0, 0]);
    h.extend_from_slice(&src);
    h.extend_from_slice(&dst);
    h.extend_from_slice(l4);
    h
}

/// An IPv6 header and `l4` after `next`.
fn ipv6(next: u8, l4: &[u8]) -> Vec<u8> {
    let mut h = vec![0x60, 0, 0, 0];
    h.extend_from_slice(&(l4.len() as u16).to_be_bytes());
    h.extend_from_slice(&[next, 64]);
    h.extend_from_slice(&[0x20, 1, 0xd, 0xb8]);
    h.extend_from_slice(&[0; 12]);
    h.extend_from_slice(&[0x20, 1, 0xd, 0xb8]);
    h.extend_from_slice(&[0; 11]);
    h.push(2);
    h.extend_from_slice(l4);
    h
}

/// TCP or UDP ports and padding to `len` bytes.
fn ports(sport: u16, dport: u16, len: usize) -> Vec<u8> {
    let mut l4 = sport.to_be_bytes().to_vec();
    l4.extend_from_slice(&dport.to_be_bytes());
    l4.resize(len, 0);
    l4
}

fn xdp(rt: &mut Runtime, prog: usize, frame: &[u8]) -> (u64, Vec<u8>) {
    let mut p = Packet::xdp(frame);
    let out = rt.run_xdp(prog, &mut p, &mut XdpMd::default()).unwrap();
    (out.retval, p.data().to_vec())
}

#[test]
fn xdp_count_ipv4_counts_bytes_per_source_in_place() {
    let (mut rt, prog) = load("xdp_parse", "xdp_count_ipv4");
    let a = eth(
        0x0800,
        &ipv4(6, [10, 0, 0, 1], [10, 0, 0, 2], &ports(1, 2, 20)),
    );
    let b = eth(
        0x0800,
        &ipv4(17, [10, 0, 0, 9], [10, 0, 0, 2], &ports(1, 2, 8)),
    );
    for f in [&a, &a, &b, &a] {
        assert_eq!(
            xdp(&mut rt, prog, f),
            (2, f.clone()),
            "XDP_PASS, bytes untouched"
        );
    }
    let stats = |src: [u8; 4]| {
        let v = rt.map_lookup("src_counters", &src).unwrap().unwrap();
        (
            u64::from_le_bytes(v[..8].try_into().unwrap()),
            u64::from_le_bytes(v[8..].try_into().unwrap()),
        )
    };
    // The first packet inserts {1, len}; the next ones add through the
    // lookup's pointer, in the map's storage.
    assert_eq!(stats([10, 0, 0, 1]), (3, 3 * a.len() as u64));
    assert_eq!(stats([10, 0, 0, 9]), (1, b.len() as u64));
    assert_eq!(
        xdp(&mut rt, prog, &eth(0x86dd, &[0; 40])).0,
        2,
        "not IPv4: XDP_PASS"
    );
    assert_eq!(
        xdp(&mut rt, prog, &[0; 10]).0,
        1,
        "no Ethernet header: XDP_DROP"
    );
    assert_eq!(
        xdp(&mut rt, prog, &eth(0x0800, &[0x45; 10])).0,
        1,
        "short IPv4: XDP_DROP"
    );
}

#[test]
fn xdp_drop_by_config_reads_a_read_only_map_userspace_wrote() {
    let (mut rt, prog) = load("xdp_parse", "xdp_drop_by_config");
    let f = eth(0x0800, &[0; 20]);
    assert_eq!(xdp(&mut rt, prog, &f).0, 2);
    rt.map_update("xdp_config", &0u32.to_le_bytes(), &1u32.to_le_bytes())
        .unwrap();
    assert_eq!(xdp(&mut rt, prog, &f).0, 1, "mode 1: XDP_DROP");
}

#[test]
fn xdp_ipv6_exthdrs_walks_extension_headers() {
    let (mut rt, prog) = load("xdp_parse", "xdp_ipv6_exthdrs");
    let tcp = eth(0x86dd, &ipv6(6, &ports(1, 2, 20)));
    assert_eq!(xdp(&mut rt, prog, &tcp).0, 2, "TCP: XDP_PASS");
    let mut hbh = vec![6, 0, 1, 4, 0, 0, 0, 0];
    hbh.extend_from_slice(&ports(1, 2, 20));
    assert_eq!(
        xdp(&mut rt, prog, &eth(0x86dd, &ipv6(0, &hbh))).0,
        2,
        "hop-by-hop then TCP"
    );
    let mut hbh_udp = vec![17, 0, 1, 4, 0, 0, 0, 0];
    hbh_udp.extend_from_slice(&ports(1, 2, 8));
    assert_eq!(
        xdp(&mut rt, prog, &eth(0x86dd, &ipv6(0, &hbh_udp))).0,
        1,
        "then UDP: XDP_DROP"
    );
    assert_eq!(
        xdp(&mut rt, prog, &eth(0x86dd, &[0x60; 20])).0,
        1,
        "short IPv6: XDP_DROP"
    );
}

#[test]
fn xdp_frags_len_adds_the_buffer_length_to_a_per_cpu_value() {
    let (mut rt, prog) = load("xdp_parse", "xdp_frags_len");
    let mut p = Packet::xdp(&[0; 100]);
    let mut md = XdpMd {
        rx_queue_index: 3,
        ..XdpMd::default()
    };
    assert_eq!(rt.run_xdp(prog, &mut p, &mut md).unwrap().retval, 2);
    let v = rt
        .map_lookup("proto_stats", &3u32.to_le_bytes())
        .unwrap()
        .unwrap();
    assert_eq!(
        &v[..16],
        [1u64.to_le_bytes(), 100u64.to_le_bytes()].concat()
    );
}

fn tc(rt: &mut Runtime, prog: usize, frame: &[u8], skb: &mut SkBuff) -> u64 {
    skb.protocol = u16::from_le_bytes([frame[12], frame[13]]) as u32;
    let mut p = Packet::new(frame, 64, 64);
    let out = rt.run_skb(prog, &mut p, skb).unwrap();
    assert_eq!(p.data(), frame, "TC fixtures leave the bytes alone");
    out.retval
}

#[test]
fn tc_track_flows_records_new_flows_and_marks_known_ones() {
    let (mut rt, prog) = load("tc_classify", "tc_track_flows");
    rt.env_mut().clock = Clock::Fixed(123_456_789);
    let f = eth(
        0x0800,
        &ipv4(17, [10, 0, 0, 1], [10, 0, 0, 2], &ports(1000, 53, 8)),
    );
    let mut skb = SkBuff::default();
    assert_eq!(tc(&mut rt, prog, &f, &mut skb), 0, "TC_ACT_OK");
    let mut key = vec![10, 0, 0, 1, 10, 0, 0, 2];
    key.extend_from_slice(&1000u16.to_be_bytes());
    key.extend_from_slice(&53u16.to_be_bytes());
    key.extend_from_slice(&[17, 0, 0, 0]);
    let v = rt
        .map_lookup("fx_tc_flows", &key)
        .unwrap()
        .expect("the flow was recorded");
    assert_eq!(
        &v[..16],
        [123_456_789u64.to_le_bytes(), 1u64.to_le_bytes()].concat()
    );
    // Userspace sets the flow's mark; the next packet gets it in skb->mark.
    let mut v2 = v.clone();
    v2[16..20].copy_from_slice(&7u32.to_le_bytes());
    rt.map_mut("fx_tc_flows")
        .unwrap()
        .update(&key, &v2, 0)
        .unwrap();
    let mut skb = SkBuff::default();
    assert_eq!(tc(&mut rt, prog, &f, &mut skb), 0);
    assert_eq!(skb.mark, 7);
    let v = rt.map_lookup("fx_tc_flows", &key).unwrap().unwrap();
    assert_eq!(&v[8..16], 2u64.to_le_bytes());
}

#[test]
fn tc_drop_marked_and_classifier_and_redirect() {
    let f = eth(
        0x0800,
        &ipv4(6, [1, 1, 1, 1], [2, 2, 2, 2], &ports(1, 2, 20)),
    );
    let (mut rt, prog) = load("tc_classify", "tc_drop_marked");
    assert_eq!(
        tc(&mut rt, prog, &f, &mut SkBuff::default()),
        0,
        "mark 0: TC_ACT_OK"
    );
    let mut skb = SkBuff {
        mark: 0x13,
        ..SkBuff::default()
    };
    assert_eq!(tc(&mut rt, prog, &f, &mut skb), 2, "marked: TC_ACT_SHOT");
    let n = rt
        .map_lookup("tc_drops", &3u32.to_le_bytes())
        .unwrap()
        .unwrap();
    assert_eq!(n, 1u64.to_le_bytes());

    let (mut rt, prog) = load("tc_classify", "cls_by_priority");
    let mut skb = SkBuff {
        priority: 7,
        ..SkBuff::default()
    };
    assert_eq!(tc(&mut rt, prog, &f, &mut skb), 0);
    assert_eq!(skb.tc_classid, 0x1_0001);
    let mut skb = SkBuff {
        priority: 1,
        ..SkBuff::default()
    };
    tc(&mut rt, prog, &f, &mut skb);
    assert_eq!(skb.tc_classid, 0x1_0002);

    let (mut rt, prog) = load("tc_classify", "act_redirect_lo");
    assert_eq!(
        tc(&mut rt, prog, &f, &mut SkBuff::default()),
        3,
        "not ARP: TC_ACT_PIPE"
    );
    let arp = eth(0x0806, &[0; 28]);
    let mut p = Packet::new(&arp, 64, 64);
    let mut skb = SkBuff {
        protocol: 0x0608,
        ..SkBuff::default()
    };
    let out = rt.run_skb(prog, &mut p, &mut skb).unwrap();
    assert_eq!(out.retval, 7, "TC_ACT_REDIRECT");
    assert_eq!(out.redirect.map(|r| (r.ifindex, r.flags)), Some((1, 0)));
}

fn sock(rt: &mut Runtime, prog: usize, frame: &[u8]) -> u32 {
    let mut p = Packet::new(frame, 0, 0);
    rt.run_skb(prog, &mut p, &mut SkBuff::default())
        .unwrap()
        .retval as u32
}

#[test]
fn socket_filters_with_ld_abs_and_ld_ind() {
    let tcp = eth(
        0x0800,
        &ipv4(6, [10, 1, 2, 3], [8, 8, 8, 8], &ports(999, 443, 20)),
    );
    let udp = eth(
        0x0800,
        &ipv4(17, [8, 8, 4, 4], [10, 1, 2, 3], &ports(53, 999, 8)),
    );

    let (mut rt, prog) = load("socket_ldabs", "sock_count_proto");
    assert_eq!(
        sock(&mut rt, prog, &tcp),
        tcp.len() as u32,
        "keeps skb->len bytes"
    );
    sock(&mut rt, prog, &tcp);
    sock(&mut rt, prog, &udp);
    assert_eq!(
        sock(&mut rt, prog, &eth(0x86dd, &[0; 40])),
        0,
        "not IPv4: dropped"
    );
    let count = |rt: &Runtime, p: u32| {
        rt.map_lookup("proto_count", &p.to_le_bytes())
            .unwrap()
            .unwrap()
    };
    assert_eq!(count(&rt, 6), 2u64.to_le_bytes());
    assert_eq!(count(&rt, 17), 1u64.to_le_bytes());

    let (mut rt, prog) = load("socket_ldabs", "sock_tcp_dport");
    assert_eq!(
        sock(&mut rt, prog, &tcp),
        u32::MAX,
        "returns -1: the whole packet"
    );
    sock(&mut rt, prog, &tcp);
    assert_eq!(sock(&mut rt, prog, &udp), 0);
    let n = rt
        .map_lookup("dport_count", &443u16.to_le_bytes())
        .unwrap()
        .unwrap();
    assert_eq!(&n[..8], 2u64.to_le_bytes());

    let (mut rt, prog) = load("socket_ldabs", "sock_drop_private_src");
    assert_eq!(sock(&mut rt, prog, &tcp), 0, "10.0.0.0/8 source: dropped");
    assert_eq!(sock(&mut rt, prog, &udp), u32::MAX, "public source: kept");
    let private = eth(
        0x0800,
        &ipv4(6, [192, 168, 1, 1], [8, 8, 8, 8], &ports(1, 2, 20)),
    );
    assert_eq!(sock(&mut rt, prog, &private), 0);
    // A frame too short for LD_ABS: the kernel's implicit `return 0`.
    assert_eq!(sock(&mut rt, prog, &eth(0x0800, &[0x45; 8])), 0);
}

#[test]
fn tail_calls_dispatch_through_the_prog_array_the_object_fills() {
    let obj = Object::open(format!("{FIXTURES}/tail_calls.o")).unwrap();
    let mut rt = Runtime::load(&obj).unwrap();
    let prog = rt.program_index("xdp_dispatch").unwrap();
    for (ethertype, verdict) in [(0x0800, 2), (0x86dd, 1), (0x0806, 3), (0x88cc, 2)] {
        assert_eq!(
            xdp(&mut rt, prog, &eth(ethertype, &[0; 46])).0,
            verdict,
            "ethertype {ethertype:#x}"
        );
    }
    // The chain's count is the dispatcher's instructions up to and with
    // the call (14: the IPv4 case of the switch, the map load, the call)
    // and the target's 2 (`r0 = 2; exit`).
    let count = |rt: &mut Runtime| {
        let mut packet = Packet::xdp(&eth(0x0800, &[0; 46]));
        rt.run_xdp(prog, &mut packet, &mut XdpMd::default())
            .unwrap()
            .insn_count
    };
    assert_eq!(count(&mut rt), 14 + 2);
    // Emptying the IPv4 slot makes its tail call fall through (XDP_PASS):
    // the same 14, then the dispatcher's own `r0 = 2; exit`.
    rt.map_mut("xdp_jump")
        .unwrap()
        .delete(&0u32.to_le_bytes())
        .unwrap();
    assert_eq!(xdp(&mut rt, prog, &eth(0x0800, &[0; 46])).0, 2);
    assert_eq!(count(&mut rt), 14 + 2);
    let prog = rt.program_index("sock_stage1").unwrap();
    assert_eq!(sock(&mut rt, prog, &[0; 100]), 64, "stage 2 answers");
    assert_eq!(sock(&mut rt, prog, &[0; 40]), 0);
}
