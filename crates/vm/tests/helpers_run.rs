//! The runtime's helpers driven by a clang-compiled object
//! (tests/fixtures/src/rt_helpers.c), each result compared with the
//! kernel's documented behaviour (bpf-helpers(7), net/core/filter.c,
//! kernel/bpf/helpers.c, kernel/trace/bpf_trace.c).

use bpfkit_object::read::Object;
use bpfkit_vm::ctx::{SkBuff, XdpMd};
use bpfkit_vm::runtime::{Clock, LoadOptions, Prandom, Runtime, Task};
use bpfkit_vm::Packet;

const OBJ: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/rt_helpers.o");
const REFUSED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/rt_refused.o");
const EINVAL: i64 = -22;
const EFAULT: i64 = -14;
const EACCES: i64 = -13;

fn load(program: &str) -> (Runtime, usize) {
    let obj = Object::open(OBJ).unwrap();
    let opts = LoadOptions {
        only: Some(program.into()),
        ..LoadOptions::default()
    };
    let rt = Runtime::load_with(&obj, &opts).unwrap();
    let i = rt.program_index(program).unwrap();
    (rt, i)
}

fn results(rt: &Runtime) -> [i64; 8] {
    let b = rt.global("results").unwrap();
    std::array::from_fn(|i| i64::from_le_bytes(b[i * 8..i * 8 + 8].try_into().unwrap()))
}

fn set_i32(rt: &mut Runtime, name: &str, v: i32) {
    rt.set_global(name, &v.to_le_bytes()).unwrap();
}

/// Runs xdp_adjust on a 100-byte frame with the three deltas.
fn adjust(head: i32, tail: i32, meta: i32) -> ([i64; 8], Packet) {
    let (mut rt, prog) = load("xdp_adjust");
    set_i32(&mut rt, "head_delta", head);
    set_i32(&mut rt, "tail_delta", tail);
    set_i32(&mut rt, "meta_delta", meta);
    let frame: Vec<u8> = (0..100u8).collect();
    let mut p = Packet::xdp(&frame);
    let out = rt.run_xdp(prog, &mut p, &mut XdpMd::default()).unwrap();
    assert_eq!(out.retval, 3, "XDP_TX");
    (results(&rt), p)
}

#[test]
fn xdp_adjust_head_tail_meta_move_the_frame() {
    let (r, p) = adjust(-16, 10, -8);
    assert_eq!(r[..4], [0, 0, 0, 126]);
    let frame: Vec<u8> = (0..100u8).collect();
    let want = [vec![0; 16], frame, vec![0; 10]].concat();
    assert_eq!(
        p.data(),
        &want[..],
        "16 bytes of headroom then the frame, 10 zeroed bytes at the end"
    );
    assert_eq!(p.meta(), [0xaa, 0xbb, 0xcc, 0xdd, 0, 0, 0, 0]);
    let (r, p) = adjust(14, -20, 0);
    assert_eq!(r[..4], [0, 0, 0, 66]);
    assert_eq!(p.data()[0], 14);
}

#[test]
fn xdp_adjust_limits_are_the_kernels() {
    // Headroom 256 minus sizeof(struct xdp_frame) 40.
    assert_eq!(adjust(-216, 0, 0).0[0], 0);
    assert_eq!(adjust(-217, 0, 0).0[0], EINVAL);
    // At least ETH_HLEN bytes stay.
    assert_eq!(adjust(86, 0, 0).0[0], 0);
    assert_eq!(adjust(87, 0, 0).0[0], EINVAL);
    // The tail grows up to the page minus skb_shared_info (4096 - 320).
    assert_eq!(adjust(0, 4096 - 320 - 256 - 100, 0).0[1], 0);
    assert_eq!(adjust(0, 4096 - 320 - 256 - 100 + 1, 0).0[1], EINVAL);
    assert_eq!(adjust(0, -86, 0).0[1], 0);
    assert_eq!(adjust(0, -87, 0).0[1], EINVAL);
    // Metadata: 4-byte multiples up to 255 bytes, not into the xdp_frame.
    assert_eq!(adjust(0, 0, -216).0[2], 0);
    assert_eq!(adjust(0, 0, -220).0[2], EINVAL);
    assert_eq!(adjust(0, 0, -6).0[2], EACCES);
    assert_eq!(adjust(0, 0, 4).0[2], EINVAL, "meta past data");
    // After a head move the metadata room shrinks with it.
    assert_eq!(adjust(-200, 0, -20).0[2], EINVAL);
}

/// The one's-complement sum of big-endian 16-bit words.
fn sum16(data: &[u8]) -> u32 {
    let mut s: u32 = data
        .chunks(2)
        .map(|c| u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]) as u32)
        .sum();
    while s >> 16 != 0 {
        s = (s & 0xffff) + (s >> 16);
    }
    s
}

/// An Ethernet + IPv4 + TCP frame with valid checksums.
fn tcp_frame() -> Vec<u8> {
    let payload = b"hello, checksums";
    let mut ip = vec![
        0x45, 0, 0, 0, 0, 1, 0, 0, 64, 6, 0, 0, 192, 0, 2, 1, 192, 0, 2, 2,
    ];
    let tot = (20 + 20 + payload.len()) as u16;
    ip[2..4].copy_from_slice(&tot.to_be_bytes());
    let c = !(sum16(&ip) as u16);
    ip[10..12].copy_from_slice(&c.to_be_bytes());
    let mut tcp = vec![
        0x9c, 0x40, 0x13, 0x88, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x18, 0xff, 0xff, 0, 0, 0, 0,
    ];
    tcp.extend_from_slice(payload);
    let c = !(tcp_sum(&ip, &tcp) as u16);
    tcp[16..18].copy_from_slice(&c.to_be_bytes());
    let mut f = vec![2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 8, 0];
    f.extend(ip);
    f.extend(tcp);
    f
}

fn tcp_sum(ip: &[u8], tcp: &[u8]) -> u32 {
    let mut pseudo = ip[12..20].to_vec();
    pseudo.extend_from_slice(&[0, 6]);
    pseudo.extend_from_slice(&(tcp.len() as u16).to_be_bytes());
    pseudo.extend_from_slice(tcp);
    sum16(&pseudo)
}

#[test]
fn tc_checksum_helpers_keep_both_checksums_valid() {
    let (mut rt, prog) = load("tc_rewrite");
    rt.set_global("new_daddr", &0x0a00_0005u32.to_le_bytes())
        .unwrap();
    rt.set_global("new_dport", &8080u16.to_le_bytes()).unwrap();
    let frame = tcp_frame();
    let mut p = Packet::new(&frame, 64, 64);
    let out = rt.run_skb(prog, &mut p, &mut SkBuff::default()).unwrap();
    assert_eq!(out.retval, 0, "TC_ACT_OK");
    let r = results(&rt);
    assert_eq!(r[..5], [0, 0, 0, 0, 0]);
    assert_eq!(r[5], EFAULT, "l3_csum_replace past the packet");
    assert_eq!(r[6], EINVAL, "field size 3");
    assert_eq!(r[7], EFAULT, "skb_load_bytes past the packet");
    let d = p.data();
    assert_eq!(&d[30..34], [10, 0, 0, 5], "daddr rewritten");
    assert_eq!(&d[36..38], 8080u16.to_be_bytes(), "dport rewritten");
    assert_eq!(sum16(&d[14..34]), 0xffff, "IPv4 header checksum verifies");
    assert_eq!(
        tcp_sum(&d[14..34], &d[34..]),
        0xffff,
        "TCP checksum verifies"
    );
}

#[test]
fn printk_snprintf_and_strtol_format_as_the_kernel() {
    let (mut rt, prog) = load("xdp_format");
    let mut p = Packet::xdp(&[0; 60]);
    rt.run_xdp(prog, &mut p, &mut XdpMd::default()).unwrap();
    let r = results(&rt);
    let trace = rt.take_trace();
    assert_eq!(
        trace,
        ["len=60 hex=beef neg=-7", "mplex:00042|7   |z", "1 2 3 4"]
    );
    // trace_printk returns the length it wrote; four conversions for
    // three arguments are EINVAL and print nothing.
    assert_eq!(r[0], "len=60 hex=beef neg=-7".len() as i64);
    assert_eq!(r[1], "mplex:00042|7   |z".len() as i64);
    assert_eq!(r[2], 7);
    assert_eq!(r[7], EINVAL);
    // snprintf: the length plus the NUL.
    assert_eq!(r[3], "60/-5/mplex".len() as i64 + 1);
    let text = rt.global("text").unwrap();
    assert_eq!(&text[..12], b"60/-5/mplex\0");
    // strtol("  -1234xyz", base 0): 7 characters, -1234; strtoul refuses '-'.
    assert_eq!((r[4], r[5]), (7, -1234));
    assert_eq!(r[6], EINVAL);
}

#[test]
fn ringbuf_records_and_the_queue() {
    let (mut rt, prog) = load("xdp_events");
    let mut p = Packet::xdp(&[0; 77]);
    assert_eq!(
        rt.run_xdp(prog, &mut p, &mut XdpMd::default())
            .unwrap()
            .retval,
        2
    );
    let r = results(&rt);
    assert_eq!(r[0], 0, "ringbuf_output");
    // Available data: the submitted 16-byte record, the discarded 4-byte
    // one and the 4-byte output, each with its 8-byte header, 8-aligned.
    assert_eq!(r[1], 24 + 16 + 16);
    assert_eq!(r[2], 0, "a record larger than the ring: NULL");
    assert_eq!((r[3], r[4], r[5]), (0, 0, 77), "push, then peek sees it");
    let rb = rt.map_mut("events").unwrap().as_ringbuf_mut().unwrap();
    let records = rb.drain();
    assert_eq!(records.len(), 2, "the discarded record is skipped");
    assert_eq!(
        records[0],
        [77u64.to_le_bytes(), 0x1122334455667788u64.to_le_bytes()].concat()
    );
    assert_eq!(records[1], 77u32.to_le_bytes());
}

#[test]
fn task_probe_read_clock_and_random() {
    let (mut rt, prog) = load("kp_task");
    let mut regs = [0u8; 168];
    // Without a task: the kernel's answers for a NULL `current`.
    rt.run_with_memory(prog, &mut regs).unwrap();
    let r = results(&rt);
    assert_eq!((r[0], r[1], r[2]), (EINVAL, EINVAL, EINVAL));
    rt.env_mut().task = Some(Task {
        pid: 42,
        tgid: 40,
        uid: 1000,
        gid: 100,
        comm: "a-very-long-process-name".into(),
    });
    rt.env_mut().clock = Clock::Fixed(5_000_000_000);
    rt.env_mut().prandom = Prandom::seeded(1);
    rt.run_with_memory(prog, &mut regs).unwrap();
    let r = results(&rt);
    assert_eq!(r[0], (40 << 32) | 42);
    assert_eq!(r[1], (100 << 32) | 1000);
    assert_eq!(r[2], 0);
    let text = rt.global("text").unwrap();
    assert_eq!(
        &text[..16],
        b"a-very-long-pro\0",
        "comm is TASK_COMM_LEN with the NUL"
    );
    assert_eq!(r[3], 0, "probe_read of the stack");
    assert_eq!(r[4], EFAULT, "probe_read of an unmapped address");
    let words = rt.global("words").unwrap();
    assert_eq!(&words[..8], 0x0102030405060708u64.to_le_bytes());
    assert_eq!(
        &words[8..16],
        [0; 8],
        "a faulting read zeroes the destination"
    );
    assert_eq!(r[5], 8, "probe_read_str: 7 bytes and the NUL");
    assert_eq!(&text[16..24], b"a-very-\0");
    assert_eq!(r[6], 5_000_000_000);
    // INITIAL_JIFFIES for HZ=250, plus 5 s of ticks.
    assert_eq!(r[7] as u64, (-300i64 * 250) as u32 as u64 + 1250);
    let mut expect = Prandom::seeded(1);
    assert_eq!(
        u64::from_le_bytes(words[16..24].try_into().unwrap()),
        expect.next_u32() as u64
    );
    assert_eq!(
        u64::from_le_bytes(words[24..32].try_into().unwrap()),
        expect.next_u32() as u64
    );
}

#[test]
fn a_helper_the_program_type_does_not_get_is_refused_at_load_with_its_name() {
    let obj = Object::open(REFUSED).unwrap();
    let opts = LoadOptions {
        only: Some("xdp_wrong_helper".into()),
        ..LoadOptions::default()
    };
    let err = Runtime::load_with(&obj, &opts).unwrap_err().to_string();
    assert!(
        err.contains("xdp_wrong_helper") && err.contains("bpf_skb_load_bytes"),
        "{err}"
    );
    // Loading the whole object fails the same way, as libbpf's does.
    assert!(Runtime::load(&obj)
        .unwrap_err()
        .to_string()
        .contains("bpf_skb_load_bytes"));
}

#[test]
fn tail_calls_stop_after_the_kernels_33() {
    let (mut rt, prog) = load("xdp_chain");
    let mut p = Packet::xdp(&[0; 60]);
    let out = rt.run_xdp(prog, &mut p, &mut XdpMd::default()).unwrap();
    assert_eq!(out.retval, 2);
    let runs = rt.global("chain_runs").unwrap();
    assert_eq!(
        u64::from_le_bytes(runs.try_into().unwrap()),
        34,
        "1 + MAX_TAIL_CALL_CNT"
    );
    let r = results(&rt);
    assert_eq!(
        (r[0], r[1]),
        (1, 1),
        "the 34th call and an index past the array fall through"
    );
    // A second run starts counting again.
    rt.run_xdp(prog, &mut Packet::xdp(&[0; 60]), &mut XdpMd::default())
        .unwrap();
    assert_eq!(
        u64::from_le_bytes(rt.global("chain_runs").unwrap().try_into().unwrap()),
        68
    );
}

#[test]
fn spin_lock_and_the_skb_growing_helpers() {
    let (mut rt, prog) = load("tc_grow");
    let frame: Vec<u8> = (0..60u8).collect();
    let mut p = Packet::new(&frame, 64, 64);
    for _ in 0..3 {
        p = Packet::new(&frame, 64, 64);
        assert_eq!(
            rt.run_skb(prog, &mut p, &mut SkBuff::default())
                .unwrap()
                .retval,
            0
        );
    }
    let r = results(&rt);
    assert_eq!(
        r[..6],
        [0, EINVAL, EINVAL, 0, 72, EINVAL],
        "tail +8; bad flags; below ETH_HLEN; head +4"
    );
    assert_eq!(p.data(), [vec![0; 4], frame, vec![0; 8]].concat());
    let v = rt
        .map_lookup("counters", &0u32.to_le_bytes())
        .unwrap()
        .unwrap();
    assert_eq!(&v[8..16], 3u64.to_le_bytes(), "three locked increments");
    assert_eq!(
        &v[..4],
        [0; 4],
        "the lock is free, and userspace sees it zeroed"
    );
}

#[test]
fn redirect_map_records_the_devmap_target() {
    let (mut rt, prog) = load("xdp_redirect_port");
    rt.map_update("ports", &1u32.to_le_bytes(), &7u32.to_le_bytes())
        .unwrap();
    let out = rt
        .run_xdp(prog, &mut Packet::xdp(&[0; 61]), &mut XdpMd::default())
        .unwrap();
    assert_eq!(out.retval, 4, "XDP_REDIRECT");
    assert_eq!(out.redirect.map(|r| r.ifindex), Some(7));
    assert_eq!(results(&rt)[..2], [4, 0], "unknown flag: XDP_ABORTED");
    let out = rt
        .run_xdp(prog, &mut Packet::xdp(&[0; 60]), &mut XdpMd::default())
        .unwrap();
    assert_eq!(
        out.retval, 1,
        "empty slot: the action in the flags (XDP_DROP)"
    );
    assert_eq!(out.redirect, None);
}

#[test]
fn bpf_loop_calls_back_into_the_program() {
    let (mut rt, prog) = load("xdp_loop");
    let out = rt
        .run_xdp(prog, &mut Packet::xdp(&[0; 60]), &mut XdpMd::default())
        .unwrap();
    assert_eq!(out.retval, 2);
    let r = results(&rt);
    assert_eq!(
        r[..6],
        [10, 45, 5, 10, EINVAL, 0xffff_fff9],
        "10 loops sum 45; stop after index 4; flags; E2BIG as the inlined loop returns it"
    );
    assert!(
        out.insn_count > 100,
        "the callbacks' instructions count: {}",
        out.insn_count
    );
    // The callbacks share the run's budget.
    rt.program_mut(prog).unwrap().vm_mut().set_budget(60);
    let err = rt
        .run_xdp(prog, &mut Packet::xdp(&[0; 60]), &mut XdpMd::default())
        .unwrap_err();
    assert!(err.to_string().contains("budget"), "{err}");
}

#[test]
fn for_each_map_elem_walks_hashes_and_arrays_in_place() {
    let (mut rt, prog) = load("xdp_walk");
    for (k, v) in [(3u32, 30u64), (5, 50), (9, 90)] {
        rt.map_update("seen", &k.to_le_bytes(), &v.to_le_bytes())
            .unwrap();
    }
    for (k, v) in [(0u32, 1u64), (1, 2), (2, 4), (3, 8), (4, 16)] {
        rt.map_update("slots", &k.to_le_bytes(), &v.to_le_bytes())
            .unwrap();
    }
    rt.run_xdp(prog, &mut Packet::xdp(&[0; 60]), &mut XdpMd::default())
        .unwrap();
    let r = results(&rt);
    assert_eq!(
        r[..7],
        [3, 17, 170, 3, 3, 7, EINVAL],
        "3 elements; indices 0..=2 then stop; flags"
    );
    let v = rt.map_lookup("seen", &5u32.to_le_bytes()).unwrap().unwrap();
    assert_eq!(
        v,
        100u64.to_le_bytes(),
        "values written through the callback's pointer"
    );
}

#[test]
fn tracing_programs_get_the_func_ip_and_cookie_the_caller_sets() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/rt_tracing.o");
    let mut rt = Runtime::load(&Object::open(path).unwrap()).unwrap();
    let seen = |rt: &Runtime| {
        let b = rt.global("seen").unwrap();
        [0, 1, 2].map(|i| u64::from_le_bytes(b[i * 8..i * 8 + 8].try_into().unwrap()))
    };
    let kprobe = rt.program_index("kprobe_attach_info").unwrap();
    let tp = rt.program_index("tp_attach_cookie").unwrap();
    // struct pt_regs on x86-64 is 168 bytes; the programs do not read it.
    let mut regs = [0u8; 168];
    rt.run_with_memory(kprobe, &mut regs).unwrap();
    assert_eq!(seen(&rt), [0, 0, 0], "nothing set: no address, no cookie");
    rt.env_mut().func_ip = 0xffff_ffff_8123_4560;
    rt.env_mut().attach_cookie = 42;
    rt.run_with_memory(kprobe, &mut regs).unwrap();
    rt.run_with_memory(tp, &mut regs).unwrap();
    assert_eq!(seen(&rt), [0xffff_ffff_8123_4560, 42, 42]);
}

#[test]
fn tracing_only_helpers_and_misplaced_classic_loads_are_refused() {
    for (file, name) in [
        ("rt_refused_funcip.o", "bpf_get_func_ip"),
        ("rt_refused_cookie.o", "bpf_get_attach_cookie"),
        (
            "rt_refused_ldabs.o",
            "BPF_LD_[ABS|IND] instructions not allowed for cgroup_skb",
        ),
    ] {
        let path = format!("{}/tests/fixtures/{file}", env!("CARGO_MANIFEST_DIR"));
        let e = Runtime::load(&Object::open(&path).unwrap()).unwrap_err();
        assert!(e.to_string().contains(name), "{file}: {e}");
    }
}

#[test]
fn csum_update_is_enotsupp_for_a_test_run_skb() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/rt_testrun.o");
    let mut rt = Runtime::load(&Object::open(path).unwrap()).unwrap();
    let prog = rt.program_index("tc_fields").unwrap();
    let mut frame = vec![0u8; 60];
    frame[12] = 0x08;
    frame[14] = 0x45;
    rt.test_run_skb(prog, &frame, None).unwrap();
    let b = rt.global("tc_out").unwrap();
    let word = |i: usize| i64::from_le_bytes(b[i * 8..i * 8 + 8].try_into().unwrap());
    assert_eq!(word(18), -524, "-ENOTSUPP: not CHECKSUM_COMPLETE");
    assert_eq!(word(0), 60, "TC sees the whole frame");
}

#[test]
fn csum_level_walks_the_checksum_unnecessary_states() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/rt_testrun.o");
    let mut rt = Runtime::load(&Object::open(path).unwrap()).unwrap();
    let prog = rt.program_index("tc_csum_level").unwrap();
    let mut frame = vec![0u8; 60];
    frame[12] = 0x08;
    frame[14] = 0x45;
    rt.test_run_skb(prog, &frame, None).unwrap();
    let b = rt.global("lvl_out").unwrap();
    let w: Vec<i64> = b
        .chunks(8)
        .map(|c| i64::from_le_bytes(c.try_into().unwrap()))
        .collect();
    // QUERY on CHECKSUM_NONE, INC, QUERY, INC (then 3 more: capped at 3),
    // QUERY, DEC, QUERY, DEC x3 (back to NONE), QUERY, RESET, QUERY, a
    // bad level, csum_update, the hash set then invalidated.
    assert_eq!(
        w[..15],
        [EACCES, 0, 0, 0, 3, 0, 2, 0, EACCES, 0, EACCES, EINVAL, -524, 5, 0]
    );
}
