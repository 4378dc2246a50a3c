//! The skb helpers of TC, socket filter and cgroup skb programs
//! (net/core/filter.c): loading and storing packet bytes, checksum
//! replacement, redirect, the flow hash, `bpf_skb_event_output`.
//!
//! `skb->data` is the packet's `data`: the MAC header for TC and for the
//! frames a packet socket's filter sees, the network header (the Ethernet
//! header just before it) for socket filter and cgroup skb programs under
//! `BPF_PROG_TEST_RUN` ([`SkBuff::l2_pulled`](crate::ctx::SkBuff::l2_pulled)).

use super::csum;
use super::{env_of, errno_of, map_of, neg, HelperResult, EACCES, EFAULT, EINVAL, ENOTSUPP};
use crate::helpers::HelperContext;
use crate::maps::jhash::jhash;
use crate::memory::PacketWindow;
use crate::runtime::env::Redirect;

const ETH_HLEN: usize = 14;
/// `BPF_F_HDR_FIELD_MASK`, and the flags of `bpf_l4_csum_replace`.
const HDR_FIELD_MASK: u64 = 0xf;
const F_PSEUDO_HDR: u64 = 1 << 4;
const F_MARK_MANGLED_0: u64 = 1 << 5;
const F_MARK_ENFORCE: u64 = 1 << 6;
const F_IPV6: u64 = 1 << 7;
/// `BPF_F_RECOMPUTE_CSUM`, `BPF_F_INVALIDATE_HASH`.
const F_RECOMPUTE_CSUM: u64 = 1;
const F_INVALIDATE_HASH: u64 = 2;
/// `BPF_F_INGRESS`.
const F_INGRESS: u64 = 1;
/// `TC_ACT_SHOT`, `TC_ACT_REDIRECT`.
const TC_ACT_SHOT: u64 = 2;
const TC_ACT_REDIRECT: u64 = 7;
/// `CSUM_MANGLED_0`.
const CSUM_MANGLED_0: u16 = 0xffff;

/// The packet bytes `skb->data .. skb->data + skb->len`.
fn packet(ctx: &mut HelperContext<'_, '_, '_>) -> Vec<u8> {
    let w = ctx.packet_window();
    ctx.packet_buffer_mut()[w.data..w.end].to_vec()
}

/// The `len` packet bytes at `off` from `skb->data`, if inside the packet.
fn packet_range<'c>(
    ctx: &'c mut HelperContext<'_, '_, '_>,
    off: u64,
    len: usize,
) -> Option<&'c mut [u8]> {
    let w = ctx.packet_window();
    let start = w.data.checked_add(usize::try_from(off).ok()?)?;
    let end = start.checked_add(len).filter(|&e| e <= w.end)?;
    ctx.packet_buffer_mut().get_mut(start..end)
}

/// `long bpf_skb_load_bytes(skb, offset, to, len)`: `-EFAULT` (and `to`
/// zeroed) when the bytes are not all in the packet.
pub(crate) fn load_bytes(ctx: &mut HelperContext<'_, '_, '_>, a: [u64; 5]) -> HelperResult {
    let len = a[3] as u32 as usize;
    let off = a[1] as u32 as u64;
    let bytes = if off > i32::MAX as u64 {
        None
    } else {
        packet_range(ctx, off, len).map(|b| b.to_vec())
    };
    match bytes {
        Some(b) => {
            ctx.write(a[2], &b)?;
            Ok(0)
        }
        None => {
            ctx.write(a[2], &vec![0; len])?;
            Ok(neg(EFAULT))
        }
    }
}

/// `long bpf_skb_load_bytes_relative(skb, offset, to, len, start_header)`:
/// from the MAC header (`BPF_HDR_START_MAC`, 0) or the network header
/// (`BPF_HDR_START_NET`, 1), up to the packet's end; `-EFAULT` and `to`
/// zeroed otherwise. Where the headers are depends on where `skb->data`
/// is ([`SkBuff::l2_pulled`](crate::ctx::SkBuff::l2_pulled)): the MAC
/// header may lie before it.
pub(crate) fn load_bytes_relative(
    ctx: &mut HelperContext<'_, '_, '_>,
    a: [u64; 5],
) -> HelperResult {
    let len = a[3] as u32 as usize;
    let pulled = ctx
        .context_mut()
        .and_then(|c| c.as_skb_mut())
        .is_some_and(|s| s.l2_pulled);
    let (mac, net) = if pulled {
        (-(ETH_HLEN as i64), 0)
    } else {
        (0, ETH_HLEN as i64)
    };
    let base = match a[4] {
        0 => Some(mac),
        1 => Some(net),
        _ => None,
    };
    let off = a[1] as u32 as i64;
    let w = ctx.packet_window();
    let range = base.filter(|_| off <= 0xffff).and_then(|b| {
        let start = usize::try_from(w.data as i64 + b + off).ok()?;
        let end = start.checked_add(len).filter(|&e| e <= w.end)?;
        Some(start..end)
    });
    let bytes = range.and_then(|r| ctx.packet_buffer_mut().get(r).map(|b| b.to_vec()));
    match bytes {
        Some(b) => {
            ctx.write(a[2], &b)?;
            Ok(0)
        }
        None => {
            ctx.write(a[2], &vec![0; len])?;
            Ok(neg(EFAULT))
        }
    }
}

/// `long bpf_skb_store_bytes(skb, offset, from, len, flags)`.
/// `BPF_F_RECOMPUTE_CSUM` updates `skb->csum`, which only exists for
/// `CHECKSUM_COMPLETE` packets (never a userspace run's); `BPF_F_INVALIDATE_HASH`
/// clears the hash.
pub(crate) fn store_bytes(ctx: &mut HelperContext<'_, '_, '_>, a: [u64; 5]) -> HelperResult {
    let (off, len, flags) = (a[1] as u32 as u64, a[3] as u32 as usize, a[4]);
    if flags & !(F_RECOMPUTE_CSUM | F_INVALIDATE_HASH) != 0 {
        return Ok(neg(EINVAL));
    }
    if off > i32::MAX as u64 {
        return Ok(neg(EFAULT));
    }
    let from = ctx.read(a[2], len)?.to_vec();
    let Some(dst) = packet_range(ctx, off, len) else {
        return Ok(neg(EFAULT));
    };
    dst.copy_from_slice(&from);
    if flags & F_INVALIDATE_HASH != 0 {
        if let Some(skb) = ctx.context_mut().and_then(|c| c.as_skb_mut()) {
            skb.hash = 0;
        }
    }
    Ok(0)
}

/// The checksum field at `off`, replaced by `f` when `f` returns one.
fn with_sum(
    ctx: &mut HelperContext<'_, '_, '_>,
    off: u64,
    f: impl FnOnce(u16) -> Result<Option<u16>, i32>,
) -> HelperResult {
    if off > 0xffff {
        return Ok(neg(EFAULT));
    }
    let Some(field) = packet_range(ctx, off, 2) else {
        return Ok(neg(EFAULT));
    };
    let sum = u16::from_le_bytes([field[0], field[1]]);
    match f(sum) {
        Ok(Some(new)) => {
            field.copy_from_slice(&new.to_le_bytes());
            Ok(0)
        }
        Ok(None) => Ok(0),
        Err(e) => Ok(neg(e)),
    }
}

/// The replacement proper, by field size (0: `to` is a `bpf_csum_diff`).
fn replace(sum: u16, from: u64, to: u64, size: u64) -> Result<u16, i32> {
    match size {
        0 if from != 0 => Err(EINVAL),
        0 => Ok(csum::replace_by_diff(sum, to as u32)),
        2 => Ok(csum::replace2(sum, from as u16, to as u16)),
        4 => Ok(csum::replace4(sum, from as u32, to as u32)),
        _ => Err(EINVAL),
    }
}

/// `long bpf_l3_csum_replace(skb, offset, from, to, flags)`.
pub(crate) fn l3_csum_replace(ctx: &mut HelperContext<'_, '_, '_>, a: [u64; 5]) -> HelperResult {
    let (from, to, flags) = (a[2], a[3], a[4]);
    if flags & !HDR_FIELD_MASK != 0 {
        return Ok(neg(EINVAL));
    }
    with_sum(ctx, a[1] as u32 as u64, |sum| {
        replace(sum, from, to, flags & HDR_FIELD_MASK).map(Some)
    })
}

/// `long bpf_l4_csum_replace(skb, offset, from, to, flags)`: as
/// `inet_proto_csum_replace*` on a packet whose checksum is not partial
/// (a pseudo-header change updates the field like any other);
/// `BPF_F_MARK_MANGLED_0` leaves a zero (absent UDP) checksum alone and
/// never writes one.
pub(crate) fn l4_csum_replace(ctx: &mut HelperContext<'_, '_, '_>, a: [u64; 5]) -> HelperResult {
    let (from, to, flags) = (a[2], a[3], a[4]);
    let known = F_MARK_MANGLED_0 | F_MARK_ENFORCE | F_PSEUDO_HDR | HDR_FIELD_MASK | F_IPV6;
    if flags & !known != 0 {
        return Ok(neg(EINVAL));
    }
    let mmzero = flags & F_MARK_MANGLED_0 != 0;
    let mforce = flags & F_MARK_ENFORCE != 0;
    with_sum(ctx, a[1] as u32 as u64, |sum| {
        if mmzero && !mforce && sum == 0 {
            return Ok(None);
        }
        let new = replace(sum, from, to, flags & HDR_FIELD_MASK)?;
        Ok(Some(if mmzero && new == 0 {
            CSUM_MANGLED_0
        } else {
            new
        }))
    })
}

/// `s64 bpf_csum_update(skb, csum)`: folds `csum` into `skb->csum`, which
/// only a `CHECKSUM_COMPLETE` packet has; a test-run skb's `ip_summed` is
/// `CHECKSUM_NONE` (and so is every userspace packet's), so `-ENOTSUPP`,
/// as the kernel answers then.
pub(crate) fn csum_update(_: &mut HelperContext<'_, '_, '_>, _: [u64; 5]) -> HelperResult {
    Ok(neg(ENOTSUPP))
}

/// `SKB_MAX_CSUM_LEVEL`.
const MAX_CSUM_LEVEL: u8 = 3;

/// `long bpf_csum_level(skb, level)`: `BPF_CSUM_LEVEL_QUERY` (0) gives
/// the level of a `CHECKSUM_UNNECESSARY` skb, else `-EACCES`; `_INC` (1)
/// makes a `CHECKSUM_NONE` skb `CHECKSUM_UNNECESSARY` at level 0 or
/// raises the level up to 3; `_DEC` (2) lowers it, from 0 back to
/// `CHECKSUM_NONE`; `_RESET` (3) goes back to `CHECKSUM_NONE`; other
/// levels are `-EINVAL`.
pub(crate) fn csum_level(ctx: &mut HelperContext<'_, '_, '_>, a: [u64; 5]) -> HelperResult {
    let Some(skb) = ctx.context_mut().and_then(|c| c.as_skb_mut()) else {
        return Err(crate::HelperError("bpf_csum_level needs an skb".into()));
    };
    let state = &mut skb.csum_unnecessary;
    match a[1] {
        0 => return Ok(state.map_or(neg(EACCES), u64::from)),
        1 => *state = Some(state.map_or(0, |l| (l + 1).min(MAX_CSUM_LEVEL))),
        2 => *state = state.and_then(|l| l.checked_sub(1)),
        3 => *state = None,
        _ => return Ok(neg(EINVAL)),
    }
    Ok(0)
}

/// `void bpf_set_hash_invalid(skb)`: clears `skb->hash` (`skb_clear_hash`).
pub(crate) fn set_hash_invalid(ctx: &mut HelperContext<'_, '_, '_>, _: [u64; 5]) -> HelperResult {
    if let Some(skb) = ctx.context_mut().and_then(|c| c.as_skb_mut()) {
        skb.hash = 0;
    }
    Ok(0)
}

/// `long bpf_redirect(ifindex, flags)` for TC: `TC_ACT_REDIRECT` with the
/// target recorded; `TC_ACT_SHOT` for a flag other than `BPF_F_INGRESS`.
pub(crate) fn redirect(ctx: &mut HelperContext<'_, '_, '_>, a: [u64; 5]) -> HelperResult {
    if a[1] & !F_INGRESS != 0 {
        return Ok(TC_ACT_SHOT);
    }
    env_of(ctx)?.redirect = Some(Redirect {
        ifindex: a[0] as u32,
        flags: a[1],
        map: None,
    });
    Ok(TC_ACT_REDIRECT)
}

/// The flow hash of an Ethernet frame: jhash (seed 0) of the protocol,
/// addresses and ports of IPv4/IPv6 TCP/UDP/SCTP, else of the EtherType.
/// The kernel hashes the same fields with a boot-random seed, so its
/// value cannot be reproduced; like it, the hash is never 0.
fn flow_hash(p: &[u8]) -> u32 {
    let mut key = Vec::new();
    let proto = p
        .get(12..14)
        .map_or(0, |b| u16::from_be_bytes([b[0], b[1]]));
    key.extend_from_slice(&proto.to_be_bytes());
    let l4 = match proto {
        0x0800 if p.len() >= ETH_HLEN + 20 => {
            let ihl = (p[ETH_HLEN] & 0xf) as usize * 4;
            key.push(p[ETH_HLEN + 9]);
            key.extend_from_slice(&p[ETH_HLEN + 12..ETH_HLEN + 20]);
            Some((p[ETH_HLEN + 9], ETH_HLEN + ihl))
        }
        0x86dd if p.len() >= ETH_HLEN + 40 => {
            key.push(p[ETH_HLEN + 6]);
            key.extend_from_slice(&p[ETH_HLEN + 8..ETH_HLEN + 40]);
            Some((p[ETH_HLEN + 6], ETH_HLEN + 40))
        }
        _ => None,
    };
    if let Some((6 | 17 | 132, at)) = l4 {
        if let Some(ports) = p.get(at..at + 4) {
            key.extend_from_slice(ports);
        }
    }
    jhash(&key, 0).max(1)
}

/// `u32 bpf_get_hash_recalc(skb)`: `skb->hash`, computed (and kept) when
/// it is 0.
pub(crate) fn get_hash_recalc(ctx: &mut HelperContext<'_, '_, '_>, _: [u64; 5]) -> HelperResult {
    let p = packet(ctx);
    let Some(skb) = ctx.context_mut().and_then(|c| c.as_skb_mut()) else {
        return Ok(0);
    };
    if skb.hash == 0 {
        skb.hash = flow_hash(&p);
    }
    Ok(skb.hash as u64)
}

/// `long bpf_set_hash(skb, hash)`: always 0.
pub(crate) fn set_hash(ctx: &mut HelperContext<'_, '_, '_>, a: [u64; 5]) -> HelperResult {
    if let Some(skb) = ctx.context_mut().and_then(|c| c.as_skb_mut()) {
        skb.hash = a[1] as u32;
    }
    Ok(0)
}

/// `long bpf_perf_event_output(ctx, map, flags, data, size)` for skb
/// programs (`bpf_skb_event_output`): `flags`' upper 32 bits ask for that
/// many packet bytes after the sample.
pub(crate) fn perf_event_output(ctx: &mut HelperContext<'_, '_, '_>, a: [u64; 5]) -> HelperResult {
    let id = map_of(a[1])?;
    let data = ctx.read(a[3], a[4] as usize)?.to_vec();
    let p = packet(ctx);
    let env = env_of(ctx)?;
    let cpu = env.cpu;
    Ok(match env.map_mut(id)?.as_perf_event_array_mut() {
        Some(pe) => errno_of(pe.output_with_packet(cpu, a[2], &data, &p)),
        None => neg(EINVAL),
    })
}

/// `__bpf_skb_max_len` for a packet on the loopback device of
/// `BPF_PROG_TEST_RUN` (MTU 65536 plus the 14-byte hard header).
const SKB_MAX_LEN: usize = 65536 + ETH_HLEN;

/// `long bpf_skb_change_tail(skb, len, flags)`: the packet becomes `len`
/// bytes long, grown bytes zeroed; `-EINVAL` for flags, or a length below
/// the network header (`__bpf_skb_min_len`) or above the device's
/// maximum. Growth past the buffer's tailroom (the kernel reallocates)
/// stops the run: give the `Packet` more tailroom.
pub(crate) fn change_tail(ctx: &mut HelperContext<'_, '_, '_>, a: [u64; 5]) -> HelperResult {
    let (len, flags) = (a[1] as u32 as usize, a[2]);
    if flags != 0 || !(ETH_HLEN..=SKB_MAX_LEN).contains(&len) {
        return Ok(neg(EINVAL));
    }
    let w = ctx.packet_window();
    let end = w.data + len;
    let buf_len = ctx.packet_buffer_mut().len();
    if end > buf_len {
        return Err(crate::HelperError(format!(
            "bpf_skb_change_tail to {len} bytes needs {} bytes of tailroom, the packet has {}",
            end - w.end,
            buf_len - w.end
        )));
    }
    if end > w.end {
        ctx.packet_buffer_mut()[w.end..end].fill(0);
    }
    ctx.set_packet_window(PacketWindow { end, ..w });
    Ok(0)
}

/// `long bpf_skb_change_head(skb, head_room, flags)`: `head_room` zeroed
/// bytes in front of the packet, the MAC header reset to them; `-EINVAL`
/// for flags or a packet that would pass the device's maximum. Growth past
/// the buffer's headroom stops the run, as for [`change_tail`].
pub(crate) fn change_head(ctx: &mut HelperContext<'_, '_, '_>, a: [u64; 5]) -> HelperResult {
    let (room, flags) = (a[1] as u32 as usize, a[2]);
    let w = ctx.packet_window();
    if flags != 0 || room > i32::MAX as usize || w.end - w.data + room > SKB_MAX_LEN {
        return Ok(neg(EINVAL));
    }
    if room > w.meta {
        return Err(crate::HelperError(format!(
            "bpf_skb_change_head by {room} bytes needs that much headroom, the packet has {}",
            w.meta
        )));
    }
    let data = w.data - room;
    ctx.packet_buffer_mut()[data..w.data].fill(0);
    ctx.set_packet_window(PacketWindow {
        meta: data,
        data,
        end: w.end,
    });
    Ok(0)
}
