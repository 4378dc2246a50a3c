//! `bpfkit run` of a socket filter fixture over a pcap written here: the
//! verdicts (drop, or the length to keep) and the packets that leave.

use std::path::PathBuf;
use std::process::Command;

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../object/tests/fixtures/socket_ldabs.o"
);

fn csum(data: &[u8]) -> u16 {
    let mut s: u32 = data
        .chunks(2)
        .map(|c| u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]) as u32)
        .sum();
    while s >> 16 != 0 {
        s = (s & 0xffff) + (s >> 16);
    }
    !(s as u16)
}

fn ipv4(proto: u8, src: [u8; 4], l4: &[u8]) -> Vec<u8> {
    let mut h = vec![0x45, 0, 0, 0, 0, 1, 0, 0, 64, proto, 0, 0];
    h[2..4].copy_from_slice(&(20 + l4.len() as u16).to_be_bytes());
    h.extend_from_slice(&src);
    h.extend_from_slice(&[8, 8, 8, 8]);
    let c = csum(&h);
    h[10..12].copy_from_slice(&c.to_be_bytes());
    h.extend_from_slice(l4);
    h
}

fn eth(ethertype: u16, body: &[u8]) -> Vec<u8> {
    let mut f = vec![2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1];
    f.extend_from_slice(&ethertype.to_be_bytes());
    f.extend_from_slice(body);
    f
}

/// A TCP header with ports and a valid data offset.
fn tcp(sport: u16, dport: u16) -> Vec<u8> {
    let mut t = vec![0u8; 20];
    t[0..2].copy_from_slice(&sport.to_be_bytes());
    t[2..4].copy_from_slice(&dport.to_be_bytes());
    t[12] = 5 << 4;
    t
}

fn write_pcap(path: &PathBuf, frames: &[Vec<u8>]) {
    let mut out = Vec::new();
    for v in [0xa1b2c3d4u32, 0x0004_0002, 0, 0, 65535, 1] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    for f in frames {
        for v in [0u32, 0, f.len() as u32, f.len() as u32] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out.extend_from_slice(f);
    }
    std::fs::write(path, out).unwrap();
}

fn read_pcap(path: &PathBuf) -> Vec<Vec<u8>> {
    let b = std::fs::read(path).unwrap();
    let mut at = 24;
    let mut frames = Vec::new();
    while at + 16 <= b.len() {
        let n = u32::from_le_bytes(b[at + 8..at + 12].try_into().unwrap()) as usize;
        frames.push(b[at + 16..at + 16 + n].to_vec());
        at += 16 + n;
    }
    frames
}

#[test]
fn a_socket_filter_on_a_pcap_keeps_and_drops_as_its_source_says() {
    let dir = std::env::temp_dir().join(format!("bpfkit-run-socket-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (input, output) = (dir.join("in.pcap"), dir.join("out.pcap"));
    let frames = vec![
        // 10.0.0.0/8 and 192.168.0.0/16 sources are dropped (return 0),
        // others kept whole (return -1, the whole packet).
        eth(0x0800, &ipv4(6, [10, 1, 2, 3], &tcp(999, 443))),
        eth(
            0x0800,
            &ipv4(17, [8, 8, 4, 4], &[0, 53, 3, 231, 0, 8, 0, 0]),
        ),
        eth(0x0800, &ipv4(6, [192, 168, 1, 1], &tcp(1, 2))),
        eth(0x0800, &ipv4(6, [1, 1, 1, 1], &tcp(1234, 80))),
    ];
    write_pcap(&input, &frames);
    let out = Command::new(env!("CARGO_BIN_EXE_bpfkit"))
        .args([
            "run",
            FIXTURE,
            "--program",
            "sock_drop_private_src",
            "--json",
        ])
        .arg("--pcap")
        .arg(&input)
        .arg("--out")
        .arg(&output)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let verdicts: Vec<&str> = lines[..4]
        .iter()
        .map(|l| l["verdict"].as_str().unwrap())
        .collect();
    assert_eq!(
        verdicts,
        ["drop", "keep 4294967295", "drop", "keep 4294967295"]
    );
    for (l, f) in lines[..4].iter().zip(&frames) {
        assert_eq!(l["len_in"].as_u64(), Some(f.len() as u64));
    }
    assert_eq!(
        read_pcap(&output),
        vec![frames[1].clone(), frames[3].clone()]
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
