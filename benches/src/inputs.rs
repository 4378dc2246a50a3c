//! The memory each benchmark program runs over: deterministic, so every run,
//! every VM and the Rust reference see the same bytes.

/// Size of the general-purpose input buffer (the programs read at most this).
pub const BUF_LEN: usize = 256;

/// `BUF_LEN` pseudo-random bytes from a fixed xorshift64 seed.
pub fn random_bytes() -> Vec<u8> {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut out = Vec::with_capacity(BUF_LEN);
    while out.len() < BUF_LEN {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(BUF_LEN);
    out
}

/// `BUF_LEN` bytes of text with digits, letters, whitespace and punctuation,
/// sprinkled with NULs and high bytes, so every arm of `switch_bytes` runs.
pub fn text_bytes() -> Vec<u8> {
    const TEXT: &[u8] = b"GET /index.html?id=42&page=7 HTTP/1.1\r\nHost: example.org\r\n\
User-Agent: bpfkit-bench/0.1\tAccept: */*;q=0.9, text/plain: 1984!\n\
Is 2048 a power of two? Yes. 3.14159; 2.71828, 1.41421.\n";
    let mut out: Vec<u8> = TEXT.iter().copied().cycle().take(BUF_LEN).collect();
    for (i, b) in out.iter_mut().enumerate() {
        if i % 37 == 5 {
            *b = 0;
        } else if i % 29 == 11 {
            *b = 0x80 | (i as u8);
        }
    }
    out
}

/// Input of the sieve: its first byte selects the limit (1024 + 4 * 255 = 2044).
pub fn sieve_input() -> Vec<u8> {
    vec![255, 0, 0, 0, 0, 0, 0, 0]
}

/// A realistic 64-byte Ethernet / IPv4 / TCP frame (a SYN-ACK with 10 bytes of
/// payload) whose IPv4 header checksum is valid.
pub fn tcp_frame() -> Vec<u8> {
    let mut f = Vec::with_capacity(64);
    // Ethernet: destination, source, EtherType IPv4.
    f.extend_from_slice(&[0x02, 0x42, 0xac, 0x11, 0x00, 0x02]);
    f.extend_from_slice(&[0x02, 0x42, 0x5e, 0x8a, 0x01, 0x7f]);
    f.extend_from_slice(&[0x08, 0x00]);
    // IPv4: version 4, IHL 5, DSCP 0, total length 50, id, DF, TTL 64, TCP.
    let ip_start = f.len();
    f.extend_from_slice(&[0x45, 0x00, 0x00, 50, 0x1c, 0x46, 0x40, 0x00, 64, 6, 0, 0]);
    f.extend_from_slice(&[192, 168, 1, 10]);
    f.extend_from_slice(&[93, 184, 216, 34]);
    let csum = ipv4_checksum(&f[ip_start..ip_start + 20]);
    f[ip_start + 10..ip_start + 12].copy_from_slice(&csum.to_be_bytes());
    // TCP: ports 51234 -> 443, seq, ack, data offset 5, SYN|ACK, window.
    f.extend_from_slice(&51234u16.to_be_bytes());
    f.extend_from_slice(&443u16.to_be_bytes());
    f.extend_from_slice(&0x1a2b_3c4du32.to_be_bytes());
    f.extend_from_slice(&0x0000_0001u32.to_be_bytes());
    f.extend_from_slice(&[0x50, 0x12, 0xfa, 0xf0, 0, 0, 0, 0]);
    f.extend_from_slice(b"bpfkit!\r\n\0");
    debug_assert_eq!(f.len(), 64);
    f
}

/// The one's complement of the one's complement sum of 16-bit words (RFC 1071).
fn ipv4_checksum(header: &[u8]) -> u16 {
    let mut sum: u32 = header
        .chunks(2)
        .map(|w| u32::from(u16::from_be_bytes([w[0], w[1]])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_is_64_bytes_with_a_valid_ip_checksum() {
        let f = tcp_frame();
        assert_eq!(f.len(), 64);
        assert_eq!(ipv4_checksum(&f[14..34]), 0);
    }

    #[test]
    fn buffers_have_the_advertised_size() {
        assert_eq!(random_bytes().len(), BUF_LEN);
        assert_eq!(text_bytes().len(), BUF_LEN);
        assert!(text_bytes().contains(&0));
        assert!(text_bytes().iter().any(|&b| b >= 0x80));
    }
}
