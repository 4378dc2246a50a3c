//! The mplex demo through the library: load examples/mplex/mplex.o, fill
//! its `tags` map, run every frame of a pcap through the XDP program, and
//! print each verdict and the destination port the packet leaves with.
//!
//! `cargo run --release -p bpfkit-vm --example mplex [-- PCAP]`

use std::error::Error;

use bpfkit_object::read::Object;
use bpfkit_vm::ctx::XdpMd;
use bpfkit_vm::runtime::{verdict_name, Runtime};
use bpfkit_vm::Packet;
use pcap_file::pcap::PcapReader;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/mplex");

/// The TCP destination port of an Ethernet/IPv4 or IPv6 frame, if it has one.
fn tcp_dport(f: &[u8]) -> Option<u16> {
    let l4 = match u16::from_be_bytes([*f.get(12)?, *f.get(13)?]) {
        0x0800 if f.get(23) == Some(&6) => 14 + (*f.get(14)? as usize & 0xf) * 4,
        0x86dd if f.get(20) == Some(&6) => 54,
        _ => return None,
    };
    Some(u16::from_be_bytes([*f.get(l4 + 2)?, *f.get(l4 + 3)?]))
}

fn main() -> Result<(), Box<dyn Error>> {
    let pcap = std::env::args()
        .nth(1)
        .unwrap_or(format!("{DIR}/sample.pcap"));
    let obj = Object::open(format!("{DIR}/mplex.o"))?;
    let mut rt = Runtime::load(&obj)?;
    // struct tag { char id[3]; } -> __u16 port, as tags.json has them.
    for (tag, port) in [(b"600", 5001u16), (b"601", 5002), (b"602", 5003)] {
        rt.map_update("tags", tag, &port.to_le_bytes())?;
    }
    let prog = rt.program_index("mplex").ok_or("no program mplex")?;
    let prog_type = rt.programs()[prog].prog_type;
    let mut reader = PcapReader::new(std::fs::File::open(&pcap)?)?;
    let mut index = 0;
    while let Some(frame) = reader.next_packet() {
        let frame = frame?;
        let mut packet = Packet::xdp(&frame.data);
        let out = rt.run_xdp(prog, &mut packet, &mut XdpMd::default())?;
        let port = |f: &[u8]| tcp_dport(f).map_or("-".to_string(), |p| p.to_string());
        println!(
            "{index:>3} {:<9} dport {:>5} -> {:>5}",
            verdict_name(prog_type, out.retval),
            port(&frame.data),
            port(packet.data())
        );
        index += 1;
    }
    Ok(())
}
