//! Packet programs with their contexts: `struct xdp_md` and `struct
//! __sk_buff` read and written as the kernel's rewritten accesses do, the
//! packet window (headroom and tailroom out of reach), LD_ABS relative to
//! `data`, and helpers that move the window.

use bpfkit_isa::asm::assemble;
use bpfkit_isa::{check, Syntax};
use bpfkit_vm::ctx::{SkBuff, SkbKind, XdpMd};
use bpfkit_vm::{
    Access, Packet, PacketWindow, Vm, VmError, CONTEXT_BASE, INPUT_BASE, XDP_HEADROOM,
};

fn vm(src: &str) -> Vm {
    let slots = assemble(src, Syntax::Llvm).unwrap_or_else(|e| panic!("{e}\n{src}"));
    Vm::new(&check(&slots).unwrap()).unwrap()
}

/// An Ethernet frame with the given EtherType.
fn frame(ethertype: u16, len: usize) -> Vec<u8> {
    let mut f = vec![0u8; len];
    f[12..14].copy_from_slice(&ethertype.to_be_bytes());
    f
}

/// Returns the EtherType when the Ethernet header fits, else XDP_PASS (2).
const ETHERTYPE: &str = "
    r2 = *(u32 *)(r1 + 0)
    r3 = *(u32 *)(r1 + 4)
    r4 = r2
    r4 += 14
    r0 = 2
    if r4 > r3 goto out
    r0 = *(u16 *)(r2 + 12)
    r0 = be16 r0
out:
    exit
";

#[test]
fn xdp_reads_the_packet_through_32_bit_pointer_fields() {
    let mut v = vm(ETHERTYPE);
    let mut pkt = Packet::xdp(&frame(0x86dd, 60));
    let out = v
        .run_packet(&mut pkt, &mut XdpMd::default(), &mut [])
        .unwrap();
    assert_eq!(out.r0, 0x86dd);
    let mut short = Packet::xdp(&[0u8; 10]);
    let out = v
        .run_packet(&mut short, &mut XdpMd::default(), &mut [])
        .unwrap();
    assert_eq!(out.r0, 2);
    assert_eq!(pkt.window().data, XDP_HEADROOM);
    assert_eq!(pkt.buffer_len(), 4096);
}

#[test]
fn the_packet_window_bounds_every_access() {
    // One byte past data_end, and one byte of headroom before data.
    for (off, what) in [("+ 60", "past data_end"), ("- 1", "in the headroom")] {
        let src = format!("r2 = *(u32 *)(r1 + 0)\nr0 = *(u8 *)(r2 {off})\nexit");
        let mut pkt = Packet::xdp(&frame(0x0800, 60));
        let e = vm(&src)
            .run_packet(&mut pkt, &mut XdpMd::default(), &mut [])
            .unwrap_err();
        match e {
            VmError::MemoryFault {
                pc: 1,
                access: Access::Read,
                ref region,
                ..
            } => {
                let r = region.as_ref().expect("names the packet");
                assert_eq!((r.name.as_str(), r.len), ("packet", 60), "{what}");
                assert_eq!(r.start, INPUT_BASE + XDP_HEADROOM as u64);
            }
            other => panic!("{what}: {other}"),
        }
    }
}

#[test]
fn refused_context_accesses_name_offset_and_size() {
    let mut pkt = Packet::xdp(&frame(0x0800, 60));
    let cases = [
        ("r0 = *(u16 *)(r1 + 0)\nexit", 0, 2, Access::Read),
        ("r0 = *(u32 *)(r1 + 20)\nexit", 20, 4, Access::Read),
        ("*(u32 *)(r1 + 12) = 1\nexit", 12, 4, Access::Write),
        ("r0 = *(u32 *)(r1 + 24)\nexit", 24, 4, Access::Read),
    ];
    for (src, off, size, access) in cases {
        let e = vm(src)
            .run_packet(&mut pkt, &mut XdpMd::default(), &mut [])
            .unwrap_err();
        assert!(
            matches!(e, VmError::ContextAccess { pc: 0, off: o, size: s, access: a, context: "struct xdp_md", .. } if o == off && s == size && a == access),
            "{src}: {e}"
        );
        assert!(
            e.to_string().starts_with(&format!(
                "instruction 0: invalid struct xdp_md access off={off} size={size}"
            )),
            "{e}"
        );
    }
}

#[test]
fn tc_programs_write_the_fields_the_kernel_lets_them() {
    let src = "
        r2 = *(u32 *)(r1 + 0)
        *(u32 *)(r1 + 8) = r2
        r3 = 0x1122334455667788 ll
        *(u64 *)(r1 + 48) = r3
        r0 = *(u16 *)(r1 + 16)
        exit";
    let mut skb = SkBuff {
        kind: SkbKind::Tc,
        protocol: 0x0008,
        ..SkBuff::default()
    };
    let mut pkt = Packet::new(&frame(0x0800, 42), 64, 0);
    let out = vm(src).run_packet(&mut pkt, &mut skb, &mut []).unwrap();
    assert_eq!(
        out.r0, 0x0008,
        "protocol, in network order as the kernel keeps it"
    );
    assert_eq!(skb.mark, 42, "mark = len");
    assert_eq!(skb.cb[..8], 0x1122334455667788u64.to_le_bytes());
    let e = vm("*(u32 *)(r1 + 0) = r1\nexit")
        .run_packet(&mut pkt, &mut skb, &mut [])
        .unwrap_err();
    assert!(
        matches!(
            e,
            VmError::ContextAccess {
                off: 0,
                access: Access::Write,
                ..
            }
        ),
        "{e}"
    );
}

#[test]
fn socket_filters_load_abs_from_data_and_see_no_packet_pointers() {
    // The kernel runs socket filters with data at the network header.
    let mut ip = vec![0x45u8, 0, 0, 20, 0, 0, 0, 0, 64, 6];
    ip.resize(20, 0);
    let mut pkt = Packet::new(&ip, 14, 0);
    let mut skb = SkBuff {
        kind: SkbKind::SocketFilter,
        ..SkBuff::default()
    };
    let out = vm("r6 = r1\nr0 = *(u8 *)skb[9]\nexit")
        .run_packet(&mut pkt, &mut skb, &mut [])
        .unwrap();
    assert_eq!(out.r0, 6, "IPPROTO_TCP at offset 9 of the IP header");
    let out = vm("r0 = *(u32 *)(r1 + 0)\nexit")
        .run_packet(&mut pkt, &mut skb, &mut [])
        .unwrap();
    assert_eq!(out.r0, 20, "skb->len");
    assert!(vm("r0 = *(u32 *)(r1 + 76)\nexit")
        .run_packet(&mut pkt, &mut skb, &mut [])
        .is_err());
}

#[test]
fn helpers_move_the_window_and_the_packet_keeps_it() {
    // A stand-in for bpf_xdp_adjust_head(ctx, -4): four bytes of headroom
    // become packet data.
    let mut v = vm("
        r6 = r1
        r2 = -4
        call 44
        r2 = *(u32 *)(r6 + 0)
        r3 = 0xaabbccdd
        *(u32 *)(r2 + 0) = r3
        r0 = *(u32 *)(r6 + 4)
        r0 -= r2
        exit");
    v.register_helper_with_context(44, |h, args| {
        let w = h.packet_window();
        let data = (w.data as i64 + args[1] as i64) as usize;
        let moved = h.set_packet_window(PacketWindow {
            meta: data,
            data,
            end: w.end,
        });
        Ok(if moved { 0 } else { u64::MAX })
    });
    let mut pkt = Packet::xdp(&frame(0x0800, 60));
    let out = v
        .run_packet(&mut pkt, &mut XdpMd::default(), &mut [])
        .unwrap();
    assert_eq!(out.r0, 64);
    assert_eq!(pkt.data().len(), 64);
    assert_eq!(pkt.data()[..4], 0xaabbccddu32.to_le_bytes());
    assert_eq!(pkt.headroom(), XDP_HEADROOM - 4);
    assert_eq!(CONTEXT_BASE >> 32, 0x1000);
}
