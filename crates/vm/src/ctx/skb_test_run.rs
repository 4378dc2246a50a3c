//! An skb program's input and output as `BPF_PROG_TEST_RUN` makes them
//! (`bpf_prog_test_run_skb`, net/bpf/test_run.c), so that a run in the
//! runtime can be compared with the kernel's one to one.
//!
//! The kernel builds the skb on the loopback device with `eth_type_trans`:
//! `protocol` from the EtherType (an IPv4 or IPv6 frame must hold the whole
//! network header), `pkt_type` from the destination MAC
//! against lo's all-zero address, the Ethernet header pulled. TC programs
//! get it pushed back (`skb->data` at the MAC header); socket filter and
//! cgroup skb programs start at the network header (LD_ABS offset 0 is the
//! IP header, `len` leaves out the Ethernet header), and their `data_out`
//! has a zeroed 14-byte header pushed in front. `ctx_in` may set only
//! the fields `convert___skb_to_skb` accepts, `ctx_out` carries back what
//! `convert_skb_to___skb` writes.
//!
//! This differs from a packet socket's filter (what `bpfkit run --pcap`
//! models), which sees the frame from its Ethernet header.

use std::fmt;

use super::{SkBuff, SkbKind};
use crate::Packet;

const ETH_HLEN: usize = 14;
/// `sizeof(struct __sk_buff)`.
pub const SKB_CTX_SIZE: usize = 192;
/// `NET_SKB_PAD + NET_IP_ALIGN` and `SKB_DATA_ALIGN(sizeof(struct
/// skb_shared_info))` on x86-64: the room `bpf_test_init` leaves, which
/// bounds the data at a page.
const KERNEL_HEADROOM: usize = 64;
const KERNEL_TAILROOM: usize = 320;
/// The room the runtime's packet has around the data (more headroom than
/// the kernel's, where `bpf_skb_change_head` would reallocate).
const HEADROOM: usize = 256;
/// `GSO_LEGACY_MAX_SIZE`, `GSO_MAX_SEGS`.
const GSO_LEGACY_MAX_SIZE: u32 = 65536;
const GSO_MAX_SEGS: u32 = 65535;

/// The `__sk_buff` bytes `convert___skb_to_skb` accepts nonzero:
/// mark, priority to ifindex, cb, tstamp to gso_segs, gso_size, hwtstamp.
const ALLOWED: &[(usize, usize)] = &[
    (8, 12),
    (32, 44),
    (48, 68),
    (152, 168),
    (176, 180),
    (184, 192),
];

/// Why `BPF_PROG_TEST_RUN` would refuse the input, with its errno.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestRunError {
    /// The errno's name (`EINVAL`, `E2BIG`, `ENODEV`).
    pub errno: &'static str,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for TestRunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.errno, self.message)
    }
}

impl std::error::Error for TestRunError {}

fn err(errno: &'static str, message: impl Into<String>) -> TestRunError {
    TestRunError {
        errno,
        message: message.into(),
    }
}

fn le32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn le64(b: &[u8], at: usize) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(w)
}

/// One skb test run's packet and context, and the `ctx` it came with.
#[derive(Debug, Clone)]
pub struct SkbTestRun {
    /// The packet; its `data` is `skb->data`.
    pub packet: Packet,
    /// The `__sk_buff` the program sees.
    pub skb: SkBuff,
    /// The context buffer (`ctx_in` zero-extended), if one was given.
    ctx: Option<[u8; SKB_CTX_SIZE]>,
}

impl SkbTestRun {
    /// The skb `bpf_prog_test_run_skb` builds from `data` for a program
    /// of `kind`, with `ctx` as `ctx_in` (`None`: neither `ctx_in` nor
    /// `ctx_out` given). The kernel's refusals are returned as errors;
    /// an `ifindex` other than lo's (1) is refused as the kernel refuses
    /// a device it does not have (there are none in userspace).
    pub fn new(kind: SkbKind, data: &[u8], ctx: Option<&[u8]>) -> Result<SkbTestRun, TestRunError> {
        let max = 4096 - KERNEL_HEADROOM - KERNEL_TAILROOM;
        if data.len() < ETH_HLEN || data.len() > max {
            return Err(err(
                "EINVAL",
                format!(
                    "the data is {} bytes; it must be {ETH_HLEN} to {max}",
                    data.len()
                ),
            ));
        }
        // The network header must be whole for IPv4 and IPv6.
        let l3 = data.len() - ETH_HLEN;
        match u16::from_be_bytes([data[12], data[13]]) {
            0x0800 if l3 < 20 => {
                return Err(err("EINVAL", "an IPv4 frame without a whole IPv4 header"))
            }
            0x86dd if l3 < 40 => {
                return Err(err("EINVAL", "an IPv6 frame without a whole IPv6 header"))
            }
            _ => {}
        }
        let ctx = ctx.map(ctx_buffer).transpose()?;
        if let Some(c) = &ctx {
            if le32(c, 40) > 1 {
                return Err(err(
                    "ENODEV",
                    format!("ifindex {}: only lo (1) exists here", le32(c, 40)),
                ));
            }
        }
        let mut packet = Packet::new(data, HEADROOM, KERNEL_TAILROOM);
        let l2_pulled = kind != SkbKind::Tc;
        if l2_pulled {
            let mut w = packet.window();
            w.data += ETH_HLEN;
            w.meta = w.data;
            packet.set_window(w);
        }
        let mut skb = SkBuff {
            kind,
            l2_pulled,
            protocol: eth_protocol(data) as u32,
            pkt_type: pkt_type(data),
            ifindex: 1,
            ..SkBuff::default()
        };
        if kind == SkbKind::CgroupSkb {
            socket_addresses(&mut skb, data);
        }
        if let Some(c) = &ctx {
            let len = packet.data().len() as u32;
            from_ctx(&mut skb, c, len)?;
        }
        Ok(SkbTestRun { packet, skb, ctx })
    }

    /// `data_out`: from `skb->data` after the run, with a zeroed Ethernet
    /// header pushed in front for socket filter and cgroup skb programs.
    pub fn data_out(&self) -> Vec<u8> {
        if self.skb.l2_pulled {
            [&[0u8; ETH_HLEN][..], self.packet.data()].concat()
        } else {
            self.packet.data().to_vec()
        }
    }

    /// `ctx_out` (`convert_skb_to___skb` over the context buffer), or
    /// `None` when the run had no context.
    pub fn ctx_out(&self) -> Option<Vec<u8>> {
        let mut o = self.ctx?.to_vec();
        let s = &self.skb;
        let mut put = |at: usize, v: &[u8]| o[at..at + v.len()].copy_from_slice(v);
        put(8, &s.mark.to_le_bytes());
        put(32, &s.priority.to_le_bytes());
        put(36, &s.ingress_ifindex.to_le_bytes());
        put(40, &s.ifindex.to_le_bytes());
        put(48, &s.cb);
        put(152, &s.tstamp.to_le_bytes());
        put(160, &s.wire_len.to_le_bytes());
        put(164, &s.gso_segs.to_le_bytes());
        put(184, &s.hwtstamp.to_le_bytes());
        Some(o)
    }
}

/// `bpf_ctx_init`: `ctx_in` zero-extended to the struct, or `E2BIG` for
/// nonzero bytes past it (`bpf_check_uarg_tail_zero`); then the fields
/// `convert___skb_to_skb` refuses to see set.
fn ctx_buffer(ctx: &[u8]) -> Result<[u8; SKB_CTX_SIZE], TestRunError> {
    if let Some(at) = ctx.iter().skip(SKB_CTX_SIZE).position(|&b| b != 0) {
        return Err(err(
            "E2BIG",
            format!(
                "byte {} is past struct __sk_buff and not 0",
                SKB_CTX_SIZE + at
            ),
        ));
    }
    let mut c = [0u8; SKB_CTX_SIZE];
    let n = ctx.len().min(SKB_CTX_SIZE);
    c[..n].copy_from_slice(&ctx[..n]);
    let allowed = |i: usize| ALLOWED.iter().any(|&(s, e)| (s..e).contains(&i));
    if let Some(at) = (0..SKB_CTX_SIZE).find(|&i| c[i] != 0 && !allowed(i)) {
        return Err(err(
            "EINVAL",
            format!("byte {at} of __sk_buff is not a field BPF_PROG_TEST_RUN accepts"),
        ));
    }
    Ok(c)
}

/// `convert___skb_to_skb`; `len` is `skb->len` (the default `wire_len`).
fn from_ctx(skb: &mut SkBuff, c: &[u8; SKB_CTX_SIZE], len: u32) -> Result<(), TestRunError> {
    skb.mark = le32(c, 8);
    skb.priority = le32(c, 32);
    skb.ingress_ifindex = le32(c, 36);
    skb.tstamp = le64(c, 152);
    skb.cb.copy_from_slice(&c[48..68]);
    let wire_len = le32(c, 160);
    skb.wire_len = match wire_len {
        0 => len,
        w if w < len || w > GSO_LEGACY_MAX_SIZE => {
            return Err(err(
                "EINVAL",
                format!("wire_len {w} is under skb->len ({len}) or over {GSO_LEGACY_MAX_SIZE}"),
            ))
        }
        w => w,
    };
    skb.gso_segs = le32(c, 164);
    if skb.gso_segs > GSO_MAX_SEGS {
        return Err(err(
            "EINVAL",
            format!("gso_segs {} is over {GSO_MAX_SEGS}", skb.gso_segs),
        ));
    }
    skb.gso_size = le32(c, 176);
    skb.hwtstamp = le64(c, 184);
    Ok(())
}

/// `eth_type_trans`'s protocol, in network order as `skb->protocol` is
/// read: the EtherType, or for an 802.3 length `ETH_P_802_3` (raw IPX,
/// the payload starting 0xffff) or `ETH_P_802_2`.
fn eth_protocol(frame: &[u8]) -> u16 {
    let proto = u16::from_be_bytes([frame[12], frame[13]]);
    let host = if proto >= 0x0600 {
        proto
    } else if frame.get(14..16) == Some(&[0xff, 0xff]) {
        0x0001
    } else {
        0x0004
    };
    u16::from_le_bytes(host.to_be_bytes())
}

/// `eth_type_trans`'s packet type on lo, whose address and broadcast
/// address are both all-zero: `PACKET_HOST` (0) for a frame to it,
/// `PACKET_MULTICAST` (2) for a group address (ff:ff:ff:ff:ff:ff too, as
/// it is not lo's broadcast address), else `PACKET_OTHERHOST` (3).
fn pkt_type(frame: &[u8]) -> u32 {
    let dest = &frame[..6];
    if dest.iter().all(|&b| b == 0) {
        0
    } else if dest[0] & 1 != 0 {
        2
    } else {
        3
    }
}

/// The test run's socket (`skb->sk`) as a cgroup skb program reads it:
/// the family from the protocol, and the packet's source as the local address and its destination as the
/// remote one (`sk_rcv_saddr = saddr`, `sk_daddr = daddr`); no ports.
fn socket_addresses(skb: &mut SkBuff, frame: &[u8]) {
    let l3 = &frame[ETH_HLEN..];
    let word = |at: usize| le32(l3, at);
    match u16::from_be_bytes([frame[12], frame[13]]) {
        0x0800 => {
            skb.family = 2;
            skb.local_ip4 = word(12);
            skb.remote_ip4 = word(16);
        }
        0x86dd => {
            skb.family = 10;
            for i in 0..4 {
                skb.local_ip6[i] = word(8 + 4 * i);
                skb.remote_ip6[i] = word(24 + 4 * i);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(dest: [u8; 6], proto: [u8; 2]) -> Vec<u8> {
        let mut f = dest.to_vec();
        f.extend_from_slice(&[2, 0, 0, 0, 0, 1]);
        f.extend_from_slice(&proto);
        f.extend((0..40u8).map(|i| i + 0x40));
        f
    }

    #[test]
    fn socket_filters_start_at_the_network_header() {
        let f = frame([2, 0, 0, 0, 0, 2], [8, 0]);
        let t = SkbTestRun::new(SkbKind::SocketFilter, &f, None).unwrap();
        assert_eq!(t.packet.data(), &f[14..]);
        assert_eq!(
            (t.skb.protocol, t.skb.pkt_type, t.skb.ifindex),
            (0x0008, 3, 1)
        );
        assert_eq!(t.skb.wire_len, 0, "no ctx: qdisc cb's pkt_len stays 0");
        assert_eq!(&t.data_out()[..14], &[0; 14]);
        assert_eq!(&t.data_out()[14..], &f[14..]);
        assert!(t.ctx_out().is_none());
        let tc = SkbTestRun::new(SkbKind::Tc, &f, Some(&[])).unwrap();
        assert_eq!(tc.packet.data(), &f[..]);
        assert_eq!(tc.skb.wire_len, f.len() as u32);
        assert_eq!(tc.data_out(), f);
    }

    #[test]
    fn packet_types_and_protocols_follow_eth_type_trans() {
        let pt = |d| pkt_type(&frame(d, [8, 0]));
        assert_eq!(pt([0; 6]), 0);
        assert_eq!(pt([0xff; 6]), 2);
        assert_eq!(pt([1, 0, 0x5e, 0, 0, 1]), 2);
        let mut raw = frame([0; 6], [0, 60]);
        assert_eq!(eth_protocol(&raw), 0x0400);
        raw[14..16].copy_from_slice(&[0xff, 0xff]);
        assert_eq!(eth_protocol(&raw), 0x0100);
        assert_eq!(eth_protocol(&frame([0; 6], [0x86, 0xdd])), 0xdd86);
    }

    #[test]
    fn ctx_in_is_checked_as_the_kernel_checks_it() {
        let f = frame([0; 6], [8, 0]);
        let mut c = vec![0u8; 200];
        c[0] = 1;
        let e = SkbTestRun::new(SkbKind::Tc, &f, Some(&c[..192])).unwrap_err();
        assert_eq!(e.errno, "EINVAL");
        c[0] = 0;
        c[195] = 1;
        assert_eq!(
            SkbTestRun::new(SkbKind::Tc, &f, Some(&c))
                .unwrap_err()
                .errno,
            "E2BIG"
        );
        c[195] = 0;
        c[40] = 2;
        assert_eq!(
            SkbTestRun::new(SkbKind::Tc, &f, Some(&c))
                .unwrap_err()
                .errno,
            "ENODEV"
        );
        c[40] = 0;
        c[160] = 10; // wire_len under skb->len
        assert_eq!(
            SkbTestRun::new(SkbKind::Tc, &f, Some(&c))
                .unwrap_err()
                .errno,
            "EINVAL"
        );
        c[160] = 0;
        c[8] = 7;
        c[48] = 9;
        let t = SkbTestRun::new(SkbKind::SocketFilter, &f, Some(&c)).unwrap();
        assert_eq!((t.skb.mark, t.skb.cb[0], t.skb.wire_len), (7, 9, 40));
        let out = t.ctx_out().unwrap();
        assert_eq!((out[8], out[40], out[48], out[160]), (7, 1, 9, 40));
        assert!(SkbTestRun::new(SkbKind::Tc, &f[..13], None).is_err());
        assert!(
            SkbTestRun::new(SkbKind::Tc, &f[..33], None).is_err(),
            "IPv4 header cut"
        );
        assert!(SkbTestRun::new(SkbKind::Tc, &f[..34], None).is_ok());
    }
}
