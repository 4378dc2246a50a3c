//! `bpf_skb_vlan_push` and `bpf_skb_vlan_pop` (net/core/filter.c over
//! `skb_vlan_push`/`skb_vlan_pop` of net/core/skbuff.c), on the packet and
//! the `__sk_buff`'s accelerated tag (`vlan_present`, `vlan_tci`,
//! `vlan_proto`):
//! - push: a tag already accelerated is first written into the frame
//!   after the MAC addresses (`protocol` becomes its TPID); the new tag
//!   becomes the accelerated one (a TPID other than 802.1Q or 802.1ad is
//!   taken as 802.1Q);
//! - pop: the accelerated tag is dropped, or else the frame's outer tag
//!   (nothing for an untagged frame); then a tag left in the frame moves
//!   into the accelerated one.
//!
//! TPIDs and `protocol` are network-order values as the program sees
//! them (`bpf_htons(ETH_P_8021Q)`); the TCI is in host order.

use super::{neg, HelperResult, EINVAL};
use crate::helpers::{HelperContext, HelperError};
use crate::memory::PacketWindow;

/// `ETH_P_8021Q` and `ETH_P_8021AD` as `__be16` read on a little-endian host.
const TPID_8021Q: u32 = 0x0081;
const TPID_8021AD: u32 = 0xa888;
/// `VLAN_HLEN`, `2 * ETH_ALEN`, `VLAN_ETH_HLEN`.
const VLAN_HLEN: usize = 4;
const MACS: usize = 12;
const VLAN_ETH_HLEN: usize = 18;

fn is_vlan(proto: u32) -> bool {
    proto == TPID_8021Q || proto == TPID_8021AD
}

fn skb_of<'a>(
    ctx: &'a mut HelperContext<'_, '_, '_>,
) -> Result<&'a mut crate::ctx::SkBuff, HelperError> {
    ctx.context_mut()
        .and_then(|c| c.as_skb_mut())
        .ok_or_else(|| HelperError("the vlan helpers need a struct __sk_buff context".into()))
}

/// `long bpf_skb_vlan_push(skb, vlan_proto, vlan_tci)`.
pub(crate) fn vlan_push(ctx: &mut HelperContext<'_, '_, '_>, a: [u64; 5]) -> HelperResult {
    let mut proto = a[1] as u16 as u32;
    if !is_vlan(proto) {
        proto = TPID_8021Q;
    }
    let tci = a[2] as u16 as u32;
    let (present, old_proto, old_tci) = {
        let skb = skb_of(ctx)?;
        (skb.vlan_present != 0, skb.vlan_proto, skb.vlan_tci)
    };
    if present {
        let w = ctx.packet_window();
        if w.end - w.data < MACS || w.data < VLAN_HLEN || w.meta < w.data {
            return Ok(neg(EINVAL));
        }
        let data = w.data - VLAN_HLEN;
        let buf = ctx.packet_buffer_mut();
        buf.copy_within(w.data..w.data + MACS, data);
        buf[data + MACS..data + MACS + 2].copy_from_slice(&(old_proto as u16).to_le_bytes());
        buf[data + MACS + 2..data + MACS + 4].copy_from_slice(&(old_tci as u16).to_be_bytes());
        ctx.set_packet_window(PacketWindow {
            meta: data,
            data,
            end: w.end,
        });
        skb_of(ctx)?.protocol = old_proto;
    }
    let skb = skb_of(ctx)?;
    skb.vlan_present = 1;
    skb.vlan_proto = proto;
    skb.vlan_tci = tci;
    Ok(0)
}

/// Removes the frame's outer tag (`__skb_vlan_pop`): its TCI, and
/// `protocol` set to the EtherType behind it.
fn pop_from_frame(ctx: &mut HelperContext<'_, '_, '_>) -> Result<Result<u32, i32>, HelperError> {
    let w = ctx.packet_window();
    if w.end - w.data < VLAN_ETH_HLEN {
        return Ok(Err(14));
    }
    let buf = ctx.packet_buffer_mut();
    let tci = u16::from_be_bytes([buf[w.data + 14], buf[w.data + 15]]) as u32;
    let inner = u16::from_le_bytes([buf[w.data + 16], buf[w.data + 17]]) as u32;
    buf.copy_within(w.data..w.data + MACS, w.data + VLAN_HLEN);
    let data = w.data + VLAN_HLEN;
    ctx.set_packet_window(PacketWindow {
        meta: data,
        data,
        end: w.end,
    });
    skb_of(ctx)?.protocol = inner;
    Ok(Ok(tci))
}

/// `long bpf_skb_vlan_pop(skb)`.
pub(crate) fn vlan_pop(ctx: &mut HelperContext<'_, '_, '_>, _: [u64; 5]) -> HelperResult {
    let skb = skb_of(ctx)?;
    if skb.vlan_present != 0 {
        skb.vlan_present = 0;
        skb.vlan_tci = 0;
    } else {
        if !is_vlan(skb.protocol) {
            return Ok(0);
        }
        if let Err(e) = pop_from_frame(ctx)? {
            return Ok(neg(e));
        }
    }
    let proto = skb_of(ctx)?.protocol;
    if !is_vlan(proto) {
        return Ok(0);
    }
    let tci = match pop_from_frame(ctx)? {
        Ok(t) => t,
        Err(e) => return Ok(neg(e)),
    };
    let skb = skb_of(ctx)?;
    skb.vlan_present = 1;
    skb.vlan_proto = proto;
    skb.vlan_tci = tci;
    Ok(0)
}
