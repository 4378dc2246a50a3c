//! Internet checksum arithmetic as include/net/checksum.h has it, and
//! `bpf_csum_diff` (net/core/filter.c).
//!
//! Checksum fields are handled as the kernel handles them: a `__sum16`
//! loaded in host order (little-endian here) from its network-order
//! bytes, and `from`/`to` values as the program passes them (loaded the
//! same way). One's-complement sums do not depend on byte order, so the
//! result stored back is the right network-order checksum.

use super::{neg, HelperResult, EINVAL};
use crate::helpers::HelperContext;

/// `csum_add`: 32-bit one's-complement addition.
pub(crate) fn add(a: u32, b: u32) -> u32 {
    let (r, carry) = a.overflowing_add(b);
    r.wrapping_add(carry as u32)
}

/// `csum_sub`.
pub(crate) fn sub(a: u32, b: u32) -> u32 {
    add(a, !b)
}

/// `csum_fold`: the 16-bit checksum of a 32-bit sum, complemented.
pub(crate) fn fold(csum: u32) -> u16 {
    let s = (csum & 0xffff) + (csum >> 16);
    let s = (s & 0xffff) + (s >> 16);
    !(s as u16)
}

/// `csum16_add`.
fn add16(a: u16, b: u16) -> u16 {
    let (r, carry) = a.overflowing_add(b);
    r.wrapping_add(carry as u16)
}

/// `csum_replace4` (and `inet_proto_csum_replace4` on a packet without a
/// partial checksum): `sum` updated for a 32-bit field going from `from`
/// to `to`.
pub(crate) fn replace4(sum: u16, from: u32, to: u32) -> u16 {
    fold(add(sub(!(sum as u32), from), to))
}

/// `csum_replace2`: RFC 1624's `HC' = ~(~HC + ~m + m')` in 16 bits.
pub(crate) fn replace2(sum: u16, from: u16, to: u16) -> u16 {
    !add16(add16(!sum, !from), to)
}

/// `csum_replace_by_diff`: `sum` updated by a 32-bit difference (from
/// `bpf_csum_diff`).
pub(crate) fn replace_by_diff(sum: u16, diff: u32) -> u16 {
    fold(add(diff, !(sum as u32)))
}

/// `csum_partial` of 32-bit words on x86-64: the one's-complement sum of
/// the little-endian words and `seed`, folded to 32 bits with end-around
/// carry (a nonzero sum never folds to 0, so this equals the kernel's
/// 64-bit-at-a-time loop word for word).
pub(crate) fn partial(words: &[u8], seed: u32) -> u32 {
    let mut sum = seed as u64;
    for w in words.chunks_exact(4) {
        sum += u32::from_le_bytes([w[0], w[1], w[2], w[3]]) as u64;
    }
    while sum >> 32 != 0 {
        sum = (sum & 0xffff_ffff) + (sum >> 32);
    }
    sum as u32
}

/// `s64 bpf_csum_diff(from, from_size, to, to_size, seed)`: the sum of
/// the complemented `from` words and the `to` words, seeded; both sizes
/// multiples of 4 and together at most 512 bytes, else `-EINVAL`.
pub(crate) fn csum_diff(ctx: &mut HelperContext<'_, '_, '_>, a: [u64; 5]) -> HelperResult {
    let (from_size, to_size) = (a[1] as u32, a[3] as u32);
    let total = from_size as u64 + to_size as u64;
    if (from_size | to_size) % 4 != 0 || total > 512 {
        return Ok(neg(EINVAL));
    }
    let mut diff = Vec::with_capacity(total as usize);
    if from_size > 0 {
        diff.extend(ctx.read(a[0], from_size as usize)?.iter().map(|b| !b));
    }
    if to_size > 0 {
        diff.extend_from_slice(ctx.read(a[2], to_size as usize)?);
    }
    Ok(partial(&diff, a[4] as u32) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The IPv4 header checksum of RFC 1071's example header, and its
    /// incremental update when the TTL drops (RFC 1624).
    #[test]
    fn rfc1624_incremental_update_equals_recomputation() {
        let mut h: [u8; 20] = [
            0x45, 0, 0, 0x73, 0, 0, 0x40, 0, 0x40, 0x11, 0, 0, 0xc0, 0xa8, 0, 1, 0xc0, 0xa8, 0,
            0xc7,
        ];
        let full = |h: &[u8; 20]| fold(partial(h, 0));
        let sum = full(&h);
        assert_eq!(sum.to_le_bytes(), [0xb8, 0x61], "RFC 1071 example checksum");
        h[10..12].copy_from_slice(&sum.to_le_bytes());
        let old = u16::from_le_bytes([h[8], h[9]]);
        h[8] = 0x3f;
        let new = u16::from_le_bytes([h[8], h[9]]);
        let upd = replace2(sum, old, new);
        h[10..12].fill(0);
        assert_eq!(upd, full(&h));
        let upd4 = replace4(sum, old as u32, new as u32);
        assert_eq!(upd4, full(&h));
        let diff = partial(
            &[
                !old.to_le_bytes()[0],
                !old.to_le_bytes()[1],
                0xff,
                0xff,
                new.to_le_bytes()[0],
                new.to_le_bytes()[1],
                0,
                0,
            ],
            0,
        );
        assert_eq!(replace_by_diff(sum, diff), full(&h));
    }
}
