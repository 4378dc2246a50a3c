//! Differential tests of the skb test-run form and of the tracing-only
//! helpers: the same object and input in the kernel (bpftool prog run,
//! BPF_PROG_TEST_RUN) and in the runtime's `Runtime::test_run_skb` must
//! give the same return value, data_out, ctx_out and results in .bss.
//! Skipped without root, bpffs and bpftool (a failure when
//! BPFKIT_REQUIRE_KERNEL=1).

mod kernel;

use std::path::PathBuf;
use std::process::Command;

use bpfkit_object::read::Object;
use bpfkit_vm::runtime::Runtime;
use kernel::{hex_frame, kernel_available, Loaded, MANIFEST};

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
    for prog_name in ["sf_fields", "tc_fields", "tc_csum_level", "cg_fields"] {
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
    assert_eq!((compared, refused), (60, 12));
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
fn tracing_helpers_and_classic_loads_are_refused_where_the_kernel_refuses_them() {
    if !kernel_available() {
        return;
    }
    for (file, kernel_says, runtime_says) in [
        (
            "rt_refused_funcip.o",
            "bpf_get_func_ip#173",
            "bpf_get_func_ip",
        ),
        (
            "rt_refused_cookie.o",
            "bpf_get_attach_cookie#174",
            "bpf_get_attach_cookie",
        ),
        (
            "rt_refused_ldabs.o",
            "BPF_LD_[ABS|IND] instructions not allowed",
            "instruction 1: BPF_LD_[ABS|IND] instructions not allowed",
        ),
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
        assert!(
            log.contains(kernel_says),
            "{file}: the kernel's reason: {log}"
        );
        drop(guard);
        let e = Runtime::load(&Object::open(&obj).unwrap()).unwrap_err();
        assert!(e.to_string().contains(runtime_says), "{file}: {e}");
    }
    // Tracing programs get them, in the kernel and in the runtime.
    let obj = format!("{MANIFEST}/tests/fixtures/rt_tracing.o");
    drop(Loaded::new(&obj, "tracing"));
    Runtime::load(&Object::open(&obj).unwrap()).unwrap();
}
