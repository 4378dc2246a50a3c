//! The XDP helpers (net/core/filter.c): moving the frame's head, tail and
//! metadata within the buffer with the kernel's limits, `bpf_redirect`,
//! and `bpf_xdp_event_output`.
//!
//! The buffer is the packet's whole `Packet` buffer: `data_hard_start` is
//! its first byte, and its last [`XDP_SHARED_INFO`] bytes are the room the
//! kernel keeps for `struct skb_shared_info`.

use super::{env_of, errno_of, map_of, neg, HelperResult, EINVAL, ENOTSUPP};
use crate::helpers::HelperContext;
use crate::memory::PacketWindow;
use crate::packet::XDP_SHARED_INFO;
use crate::runtime::env::Redirect;

/// `sizeof(struct xdp_frame)` on x86-64 Linux 6.18 (40 in
/// /sys/kernel/btf/vmlinux, as `skb_shared_info` is 320): the start of
/// the buffer the frame's metadata keeps for itself.
pub const XDP_FRAME_SIZE: usize = 40;
/// `ETH_HLEN`: the shortest frame the adjust helpers leave.
const ETH_HLEN: usize = 14;
/// `XDP_ABORTED` and `XDP_REDIRECT`.
const XDP_ABORTED: u64 = 0;
const XDP_REDIRECT: u64 = 4;

/// `long bpf_xdp_adjust_head(xdp, delta)`: `data` (and the metadata
/// with it) moves by `delta`; the frame keeps at least `ETH_HLEN` bytes and
/// cannot reach into the `xdp_frame` room.
pub(crate) fn adjust_head(ctx: &mut HelperContext<'_, '_, '_>, a: [u64; 5]) -> HelperResult {
    let delta = a[1] as i32 as i64;
    let w = ctx.packet_window();
    let metalen = w.data - w.meta;
    let data = w.data as i64 + delta;
    if data < (XDP_FRAME_SIZE + metalen) as i64 || data > w.end as i64 - ETH_HLEN as i64 {
        return Ok(neg(EINVAL));
    }
    let data = data as usize;
    let meta = data - metalen;
    if metalen > 0 {
        ctx.packet_buffer_mut().copy_within(w.meta..w.data, meta);
    }
    let moved = ctx.set_packet_window(PacketWindow {
        meta,
        data,
        end: w.end,
    });
    Ok(if moved { 0 } else { neg(EINVAL) })
}

/// `long bpf_xdp_adjust_tail(xdp, delta)`: `data_end` moves by `delta`,
/// at least `ETH_HLEN` bytes after `data` and not into the shared-info
/// room; grown bytes are zeroed.
pub(crate) fn adjust_tail(ctx: &mut HelperContext<'_, '_, '_>, a: [u64; 5]) -> HelperResult {
    let delta = a[1] as i32 as i64;
    let w = ctx.packet_window();
    let hard_end = ctx
        .packet_buffer_mut()
        .len()
        .saturating_sub(XDP_SHARED_INFO) as i64;
    let end = w.end as i64 + delta;
    if end > hard_end || end < (w.data + ETH_HLEN) as i64 {
        return Ok(neg(EINVAL));
    }
    let end = end as usize;
    if end > w.end {
        ctx.packet_buffer_mut()[w.end..end].fill(0);
    }
    let moved = ctx.set_packet_window(PacketWindow { end, ..w });
    Ok(if moved { 0 } else { neg(EINVAL) })
}

/// `long bpf_xdp_adjust_meta(xdp, delta)`: `data_meta` moves by `delta`,
/// between the `xdp_frame` room and `data`; the metadata must be a
/// multiple of 4 bytes and at most 255 (`xdp_metalen_invalid`), else
/// `-EACCES`.
pub(crate) fn adjust_meta(ctx: &mut HelperContext<'_, '_, '_>, a: [u64; 5]) -> HelperResult {
    let delta = a[1] as i32 as i64;
    let w = ctx.packet_window();
    if ctx.context_mut().is_none() {
        return Ok(neg(ENOTSUPP));
    }
    let meta = w.meta as i64 + delta;
    if meta < XDP_FRAME_SIZE as i64 || meta > w.data as i64 {
        return Ok(neg(EINVAL));
    }
    let metalen = w.data - meta as usize;
    if metalen % 4 != 0 || metalen > 255 {
        return Ok(neg(13));
    }
    let moved = ctx.set_packet_window(PacketWindow {
        meta: meta as usize,
        ..w
    });
    Ok(if moved { 0 } else { neg(EINVAL) })
}

/// `long bpf_redirect(ifindex, flags)` for XDP: `XDP_REDIRECT` with the
/// target recorded, or `XDP_ABORTED` for any flag.
pub(crate) fn redirect(ctx: &mut HelperContext<'_, '_, '_>, a: [u64; 5]) -> HelperResult {
    if a[1] != 0 {
        return Ok(XDP_ABORTED);
    }
    env_of(ctx)?.redirect = Some(Redirect {
        ifindex: a[0] as u32,
        flags: 0,
        map: None,
    });
    Ok(XDP_REDIRECT)
}

/// `long bpf_perf_event_output(ctx, map, flags, data, size)` for XDP
/// (`bpf_xdp_event_output`): `flags`' upper 32 bits ask for that many
/// packet bytes after the sample.
pub(crate) fn perf_event_output(ctx: &mut HelperContext<'_, '_, '_>, a: [u64; 5]) -> HelperResult {
    let id = map_of(a[1])?;
    let data = ctx.read(a[3], a[4] as usize)?.to_vec();
    let w = ctx.packet_window();
    let packet = ctx.packet_buffer_mut()[w.data..w.end].to_vec();
    let env = env_of(ctx)?;
    let cpu = env.cpu;
    Ok(match env.map_mut(id)?.as_perf_event_array_mut() {
        Some(p) => errno_of(p.output_with_packet(cpu, a[2], &data, &packet)),
        None => neg(EINVAL),
    })
}

/// `u64 bpf_xdp_get_buff_len(xdp)`: the linear frame's length (a userspace
/// frame has no fragments).
pub(crate) fn get_buff_len(ctx: &mut HelperContext<'_, '_, '_>, _: [u64; 5]) -> HelperResult {
    let w = ctx.packet_window();
    Ok((w.end - w.data) as u64)
}

/// `BPF_F_ACTION_MASK` (the XDP action a failed lookup returns),
/// `BPF_F_BROADCAST`, `BPF_F_EXCLUDE_INGRESS`.
const F_ACTION_MASK: u64 = 3;
const F_BROADCAST: u64 = 1 << 3;
const F_EXCLUDE_INGRESS: u64 = 1 << 4;

/// `long bpf_redirect_map(map, key, flags)` for XDP on a devmap
/// (`__bpf_xdp_redirect_map`): `XDP_REDIRECT` with the slot's interface
/// recorded; an empty slot returns the action in the low bits of `flags`;
/// unknown flags are `XDP_ABORTED`. With `BPF_F_BROADCAST` the target is
/// the whole map (recorded with ifindex 0).
pub(crate) fn redirect_map(ctx: &mut HelperContext<'_, '_, '_>, a: [u64; 5]) -> HelperResult {
    let (id, key, flags) = (map_of(a[0])?, a[1] as u32, a[2]);
    if flags & !(F_ACTION_MASK | F_BROADCAST | F_EXCLUDE_INGRESS) != 0 {
        return Ok(XDP_ABORTED);
    }
    let env = env_of(ctx)?;
    let map = env.map_mut(id)?;
    let Some(devmap) = map.as_devmap() else {
        return Err(crate::HelperError(format!(
            "bpf_redirect_map on map id {id}: only devmaps are provided by the userspace runtime"
        )));
    };
    let ifindex = if flags & F_BROADCAST != 0 {
        0
    } else {
        match devmap.redirect_target(key) {
            Some(i) => i,
            None => return Ok(flags & F_ACTION_MASK),
        }
    };
    env.redirect = Some(Redirect {
        ifindex,
        flags,
        map: Some(id),
    });
    Ok(XDP_REDIRECT)
}
