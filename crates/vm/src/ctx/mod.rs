//! Program contexts: what r1 points to when a packet program starts
//! (`struct xdp_md`, `struct __sk_buff`), presented the way the kernel
//! presents them.
//!
//! The kernel never lets a program read its real `struct xdp_buff` or
//! `struct sk_buff`: the verifier rewrites every access to the user-visible
//! struct (`convert_ctx_access`), after checking it against the program
//! type's rules (`*_is_valid_access`). bpfkit does the same at run time: the
//! context is not memory but a [`Context`] whose `load` and `store` apply
//! those rules and produce what the rewritten access would. So a program
//! compiled against `linux/bpf.h` runs unmodified, 32-bit `data` fields and
//! all: a 4-byte load of `xdp_md->data` yields the full 64-bit packet
//! pointer, as in the kernel.

mod skb;
mod skb_test_run;
mod xdp;

pub use skb::{SkBuff, SkbKind};
pub use skb_test_run::{SkbTestRun, TestRunError, SKB_CTX_SIZE};
pub use xdp::XdpMd;

/// The packet pointers a context hands out, as program addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PacketPointers {
    /// `data`: the first packet byte.
    pub data: u64,
    /// `data_end`: one past the last.
    pub data_end: u64,
    /// `data_meta`: the start of the metadata before `data`.
    pub data_meta: u64,
}

/// An access the verifier would refuse, with the kernel's reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Denied(pub &'static str);

/// A program context with the kernel's access rules.
pub trait Context {
    /// The C type the program sees, for diagnostics (`struct xdp_md`).
    fn name(&self) -> &'static str;

    /// A `size`-byte load at offset `off`: the value the kernel's rewritten
    /// access yields, zero-extended.
    fn load(&self, off: u32, size: u32, packet: &PacketPointers) -> Result<u64, Denied>;

    /// A `size`-byte store of `value` (its low bytes) at offset `off`.
    fn store(&mut self, off: u32, size: u32, value: u64) -> Result<(), Denied>;

    /// The `struct __sk_buff` behind the context, for the skb helpers
    /// (`bpf_set_hash`, ...); `None` for other contexts.
    fn as_skb_mut(&mut self) -> Option<&mut SkBuff> {
        None
    }

    /// Where the MAC and the network header start, in bytes from `data`,
    /// for the classic packet loads' negative offsets (`SKF_LL_OFF`,
    /// `SKF_NET_OFF`); `None` for a context without them.
    fn header_offsets(&self) -> Option<(isize, isize)> {
        None
    }
}

/// The common shape checks of `*_is_valid_access`: inside the struct and
/// naturally aligned.
pub(crate) fn check_bounds(off: u32, size: u32, struct_size: u32) -> Result<(), Denied> {
    if !matches!(size, 1 | 2 | 4 | 8) {
        return Err(Denied("access size is not 1, 2, 4 or 8 bytes"));
    }
    if !off.checked_add(size).is_some_and(|end| end <= struct_size) {
        return Err(Denied("outside the context"));
    }
    if off % size != 0 {
        return Err(Denied("misaligned access"));
    }
    Ok(())
}

/// A narrow read of a 32-bit field (`bpf_ctx_narrow_access_ok`): the
/// field's bytes at `off` within it, little-endian as on every BPF host
/// bpfkit emulates.
pub(crate) fn narrow(field: u32, field_off: u32, off: u32, size: u32) -> u64 {
    let shift = 8 * (off - field_off);
    let v = (field as u64) >> shift;
    if size >= 4 {
        v
    } else {
        v & ((1u64 << (8 * size)) - 1)
    }
}
