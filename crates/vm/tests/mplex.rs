//! The mplex demo (examples/mplex): every packet of sample.pcap through the
//! clang-compiled XDP program, with the verdict the kernel gave each one
//! (sample.expect.jsonl was checked against Linux with `bpftool prog run`)
//! and the bytes that leave: the destination port rewritten and the TCP
//! checksum still valid, or the frame untouched.

use bpfkit_object::read::Object;
use bpfkit_vm::ctx::XdpMd;
use bpfkit_vm::runtime::{verdict_name, Runtime};
use bpfkit_vm::Packet;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/mplex");

/// The frames of a classic little-endian pcap file.
fn read_pcap(bytes: &[u8]) -> Vec<Vec<u8>> {
    assert_eq!(
        &bytes[..4],
        &0xa1b2c3d4u32.to_le_bytes(),
        "little-endian pcap"
    );
    let mut out = Vec::new();
    let mut at = 24;
    while at + 16 <= bytes.len() {
        let caplen = u32::from_le_bytes(bytes[at + 8..at + 12].try_into().unwrap()) as usize;
        out.push(bytes[at + 16..at + 16 + caplen].to_vec());
        at += 16 + caplen;
    }
    out
}

/// A field of a flat JSON object line, as text.
fn field<'a>(line: &'a str, name: &str) -> &'a str {
    let key = format!("\"{name}\": ");
    let start = line.find(&key).unwrap() + key.len();
    let rest = &line[start..];
    let end = rest.find([',', '}']).unwrap();
    rest[..end].trim_matches('"')
}

/// The one's-complement sum of 16-bit big-endian words.
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

/// The TCP segment's offset and whether its checksum (with the IPv4 or
/// IPv6 pseudo-header) verifies.
fn tcp_checksum_ok(frame: &[u8]) -> (usize, bool) {
    let ethertype = u16::from_be_bytes([frame[12], frame[13]]);
    let (l4, pseudo) = if ethertype == 0x0800 {
        let ihl = (frame[14] & 0xf) as usize * 4;
        let tot = u16::from_be_bytes([frame[16], frame[17]]) as usize;
        let seg_len = tot - ihl;
        let mut p = frame[26..34].to_vec();
        p.extend_from_slice(&[0, 6]);
        p.extend_from_slice(&(seg_len as u16).to_be_bytes());
        (14 + ihl, p)
    } else {
        let plen = u16::from_be_bytes([frame[18], frame[19]]) as usize;
        let mut p = frame[22..54].to_vec();
        p.extend_from_slice(&(plen as u32).to_be_bytes());
        p.extend_from_slice(&[0, 0, 0, 6]);
        (54, p)
    };
    let seg_len = u16::from_be_bytes([pseudo[pseudo.len() - 2], pseudo[pseudo.len() - 1]]) as usize;
    let seg_len = if ethertype == 0x0800 {
        seg_len
    } else {
        frame.len() - 54
    };
    let mut all = pseudo;
    all.extend_from_slice(&frame[l4..l4 + seg_len]);
    (l4, sum16(&all) == 0xffff)
}

fn load() -> (Runtime, usize) {
    let obj = Object::open(format!("{DIR}/mplex.o")).unwrap();
    let mut rt = Runtime::load(&obj).unwrap();
    for (tag, port) in [(b"600", 5001u16), (b"601", 5002), (b"602", 5003)] {
        rt.map_update("tags", tag, &port.to_le_bytes()).unwrap();
    }
    let prog = rt.program_index("mplex").unwrap();
    (rt, prog)
}

#[test]
fn every_sample_packet_gets_the_kernels_verdict_and_bytes() {
    let (mut rt, prog) = load();
    let frames = read_pcap(&std::fs::read(format!("{DIR}/sample.pcap")).unwrap());
    let expect = std::fs::read_to_string(format!("{DIR}/sample.expect.jsonl")).unwrap();
    let expect: Vec<&str> = expect.lines().collect();
    assert_eq!(frames.len(), 20);
    assert_eq!(expect.len(), frames.len());
    let mut rewritten = 0;
    for (i, (frame, line)) in frames.iter().zip(&expect).enumerate() {
        let mut packet = Packet::xdp(frame);
        let out = rt
            .run_xdp(prog, &mut packet, &mut XdpMd::default())
            .unwrap();
        let verdict = verdict_name(rt.programs()[prog].prog_type, out.retval);
        assert_eq!(
            verdict,
            field(line, "verdict"),
            "packet {i}: {}",
            field(line, "case")
        );
        let after = packet.data();
        assert_eq!(after.len(), frame.len(), "packet {i}: length unchanged");
        let dport: Option<u16> = field(line, "dport_after").parse().ok();
        let changed: Vec<usize> = (0..frame.len()).filter(|&j| frame[j] != after[j]).collect();
        match dport {
            // The frames go to 5000 (80 in one case); any other port after
            // the run means the program steered the packet.
            Some(port) if port != 5000 && port != 80 => {
                assert_eq!(verdict, "XDP_PASS");
                let (l4, ok) = tcp_checksum_ok(after);
                assert!(ok, "packet {i}: TCP checksum verifies after the rewrite");
                assert_eq!(
                    u16::from_be_bytes([after[l4 + 2], after[l4 + 3]]),
                    port,
                    "packet {i}"
                );
                assert!(
                    changed
                        .iter()
                        .all(|&j| (l4 + 2..l4 + 4).contains(&j) || (l4 + 16..l4 + 18).contains(&j)),
                    "packet {i}: only the port and the checksum change: {changed:?}"
                );
                rewritten += 1;
            }
            _ => assert!(
                changed.is_empty(),
                "packet {i} ({}) left untouched",
                field(line, "case")
            ),
        }
    }
    assert_eq!(rewritten, 5, "five packets are steered");
}

#[test]
fn the_map_holds_what_userspace_put_and_lookups_read_it_in_place() {
    let (mut rt, _) = load();
    assert_eq!(
        rt.map_lookup("tags", b"601").unwrap(),
        Some(5002u16.to_le_bytes().to_vec())
    );
    assert_eq!(rt.map_lookup("tags", b"999").unwrap(), None);
    // A value of the wrong size is the kernel's EINVAL, named.
    let err = rt.map_update("tags", b"603", &[1, 2, 3]).unwrap_err();
    assert!(err.to_string().contains("map tags: update"), "{err}");
}
