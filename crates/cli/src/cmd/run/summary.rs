//! One-line summaries of Ethernet frames (etherparse), for the lines
//! `bpfkit run` prints before and after each packet.

use etherparse::{NetSlice, SlicedPacket, TransportSlice};

/// `IPv4 192.0.2.1:40000 > 192.0.2.2:5000 TCP` and the like; frames
/// etherparse cannot slice say why.
pub fn summarize(frame: &[u8]) -> String {
    let p = match SlicedPacket::from_ethernet(frame) {
        Ok(p) => p,
        Err(e) => {
            let ethertype = frame
                .get(12..14)
                .map(|b| format!("ethertype {:#06x}, ", u16::from_be_bytes([b[0], b[1]])))
                .unwrap_or_default();
            return format!("{ethertype}{}", malformed(&e));
        }
    };
    let mut out = String::new();
    if let Some(vlan) = &p.vlan {
        let id = match vlan {
            etherparse::VlanSlice::SingleVlan(v) => v.vlan_identifier().value().to_string(),
            etherparse::VlanSlice::DoubleVlan(v) => format!(
                "{}/{}",
                v.outer().vlan_identifier().value(),
                v.inner().vlan_identifier().value()
            ),
        };
        out.push_str(&format!("VLAN {id} "));
    }
    let (src, dst, proto) = match &p.net {
        Some(NetSlice::Ipv4(ip)) => {
            let h = ip.header();
            out.push_str("IPv4 ");
            (
                h.source_addr().to_string(),
                h.destination_addr().to_string(),
                h.protocol().0,
            )
        }
        Some(NetSlice::Ipv6(ip)) => {
            let h = ip.header();
            out.push_str("IPv6 ");
            (
                h.source_addr().to_string(),
                h.destination_addr().to_string(),
                h.next_header().0,
            )
        }
        Some(NetSlice::Arp(_)) => return out + "ARP",
        None => {
            let t = frame
                .get(12..14)
                .map_or(0, |b| u16::from_be_bytes([b[0], b[1]]));
            return format!("{out}ethertype {t:#06x}");
        }
    };
    match &p.transport {
        Some(TransportSlice::Tcp(t)) => out.push_str(&format!(
            "{src}:{} > {dst}:{} TCP",
            t.source_port(),
            t.destination_port()
        )),
        Some(TransportSlice::Udp(u)) => out.push_str(&format!(
            "{src}:{} > {dst}:{} UDP",
            u.source_port(),
            u.destination_port()
        )),
        Some(TransportSlice::Icmpv4(_)) => out.push_str(&format!("{src} > {dst} ICMP")),
        Some(TransportSlice::Icmpv6(_)) => out.push_str(&format!("{src} > {dst} ICMPv6")),
        None => out.push_str(&format!("{src} > {dst} protocol {proto}")),
    }
    out
}

/// A short reason a frame could not be sliced.
fn malformed(e: &etherparse::err::packet::SliceError) -> String {
    use etherparse::err::packet::SliceError;
    match e {
        SliceError::Len(l) => format!(
            "truncated {:?} ({} bytes needed at {}, {} there)",
            l.layer, l.required_len, l.layer_start_offset, l.len
        ),
        SliceError::Ipv4(h) => format!("bad IPv4 header: {h:?}"),
        SliceError::Ipv6(h) => format!("bad IPv6 header: {h:?}"),
        SliceError::Tcp(h) => format!("bad TCP header: {h:?}"),
        other => format!("malformed: {other:?}"),
    }
}
