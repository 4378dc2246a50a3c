//! A packet as a packet program receives it: the data inside a buffer with
//! room on both sides, as the kernel's `xdp_buff` and `sk_buff` have.

use crate::memory::PacketWindow;

/// The kernel's `XDP_PACKET_HEADROOM`: the room before an XDP packet's data.
pub const XDP_HEADROOM: usize = 256;

/// Room the kernel leaves after an XDP frame for `struct skb_shared_info`
/// (`SKB_DATA_ALIGN(sizeof(struct skb_shared_info))` on x86-64).
pub const XDP_SHARED_INFO: usize = 320;

/// A packet buffer and the window of it that holds the metadata and data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet {
    buf: Vec<u8>,
    window: PacketWindow,
}

impl Packet {
    /// `data` with `headroom` bytes of room before it and `tailroom` after,
    /// and no metadata.
    pub fn new(data: &[u8], headroom: usize, tailroom: usize) -> Packet {
        let mut buf = vec![0; headroom + data.len() + tailroom];
        buf[headroom..headroom + data.len()].copy_from_slice(data);
        Packet {
            buf,
            window: PacketWindow {
                meta: headroom,
                data: headroom,
                end: headroom + data.len(),
            },
        }
    }

    /// An XDP frame as `BPF_PROG_TEST_RUN` builds one: [`XDP_HEADROOM`]
    /// before the data, and a 4 KiB page in all with the shared-info room
    /// at its end (more when the data does not fit, as for a frags buffer).
    pub fn xdp(data: &[u8]) -> Packet {
        let used = XDP_HEADROOM + data.len() + XDP_SHARED_INFO;
        let tail = 4096usize.saturating_sub(used) + XDP_SHARED_INFO;
        Packet::new(data, XDP_HEADROOM, tail)
    }

    /// An XDP frame as [`Packet::xdp`] with `meta` as its metadata, just
    /// before `data` (as `BPF_PROG_TEST_RUN` places a `ctx_in`'s metadata).
    pub fn xdp_with_meta(meta: &[u8], data: &[u8]) -> Packet {
        let mut p = Packet::xdp(data);
        let start = p.window.data.saturating_sub(meta.len());
        let n = p.window.data - start;
        p.buf[start..p.window.data].copy_from_slice(&meta[meta.len() - n..]);
        p.window.meta = start;
        p
    }

    /// The packet bytes, `data` to `data_end`.
    pub fn data(&self) -> &[u8] {
        &self.buf[self.window.data..self.window.end]
    }

    /// The metadata bytes, `data_meta` to `data`.
    pub fn meta(&self) -> &[u8] {
        &self.buf[self.window.meta..self.window.data]
    }

    /// The window, as offsets into the buffer.
    pub fn window(&self) -> PacketWindow {
        self.window
    }

    /// The room before `data_meta` (where `adjust_head` can grow into).
    pub fn headroom(&self) -> usize {
        self.window.meta
    }

    /// The buffer's length, headroom and tailroom included.
    pub fn buffer_len(&self) -> usize {
        self.buf.len()
    }

    pub(crate) fn parts(&mut self) -> (&mut [u8], PacketWindow) {
        (&mut self.buf, self.window)
    }

    pub(crate) fn set_window(&mut self, w: PacketWindow) {
        self.window = w;
    }
}
