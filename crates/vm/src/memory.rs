//! The memory a program may touch, as checked regions of a synthetic address
//! space.
//!
//! # Address scheme
//!
//! Region `n` lives at `n << 32`: an address is a region number in its high
//! 32 bits and an offset in its low 32 bits. [`STACK_BASE`] (region 1) holds
//! the stack frames, [`INPUT_BASE`] (region 2) the input memory or the
//! packet, and the caller's extra [`Region`]s follow from region 3 on
//! ([`region_base`]). [`CONTEXT_BASE`] holds the program's context
//! (`struct xdp_md`, `struct __sk_buff`), which is not plain memory: its
//! fields are read and written through [`Context`], the way the kernel's
//! `convert_ctx_access` rewrites them. Region 0 is never mapped, so null
//! pointers and small integers used as pointers fault.
//!
//! A packet's buffer has room around the data (the kernel's headroom and
//! tailroom, so `bpf_xdp_adjust_head` and friends can move its ends): the
//! program reaches only its window, from `data_meta` to `data_end`.
//!
//! Why synthetic addresses rather than host pointers:
//! - every access is checked against its region's bounds, so a hostile
//!   program cannot reach host memory: the stack frame and the packet
//!   window by one subtraction and one compare each, then one unchecked
//!   read or write (the VM's `unsafe` memory access, `read_unchecked` and
//!   `write_unchecked` under `Memory::load` and `Memory::store`),
//!   everything else in safe Rust;
//! - finding any other region is one shift, not a search through a region list;
//! - addresses are deterministic across runs and machines, so test output
//!   and diagnostics are reproducible, and no host address leaks into a
//!   program (or out of it through r0).
//!
//! Map values (lookup results, global data) are regions from
//! [`MAP_VALUE_REGION`] on, one per
//! value, reached through the run's [`Env`]; see
//! [`map_values`](crate::map_values).
//!
//! Pointer arithmetic inside a region works as in the kernel; a region holds
//! at most 4 GiB.

use crate::ctx::{Context, PacketPointers};
use crate::error::{Access, FaultKind, RegionInfo, VmError};
use crate::map_values::MAP_VALUE_REGION;
use crate::runtime::Env;

/// Size of one stack frame, the kernel's `MAX_BPF_STACK`.
pub const STACK_FRAME_SIZE: usize = 512;
/// Maximum call depth, the kernel's `MAX_CALL_FRAMES`.
pub const MAX_CALL_FRAMES: usize = 8;
/// Size of the whole stack region: one frame per call depth.
pub const STACK_SIZE: usize = STACK_FRAME_SIZE * MAX_CALL_FRAMES;

/// Base address of the stack region. Frame 0's r10 is `STACK_BASE +
/// STACK_SIZE`; each call moves r10 down by [`STACK_FRAME_SIZE`].
pub const STACK_BASE: u64 = 1 << 32;
/// Base address of the input memory (r1 at entry when it is not empty).
pub const INPUT_BASE: u64 = 2 << 32;
/// Base address of the program's context: r1 of a packet program.
pub const CONTEXT_BASE: u64 = CONTEXT_REGION << 32;
const STACK_REGION: u64 = STACK_BASE >> 32;
const INPUT_REGION: u64 = INPUT_BASE >> 32;
const CONTEXT_REGION: u64 = 0x1000;
/// The region number of BPF function addresses (`lddw r2, callback`,
/// `BPF_PSEUDO_FUNC`): `(FUNC_REGION << 32) | slot`, constants a helper
/// taking a callback recognises; never memory.
pub const FUNC_REGION: u64 = 0x1900;
const FIRST_EXTRA_REGION: u64 = 3;

/// The window of a packet buffer the program may touch, as offsets into
/// the buffer: `meta <= data <= end <= buffer length`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PacketWindow {
    /// Start of the metadata area (`data_meta`); `data` when there is none.
    pub meta: usize,
    /// First byte of the packet (`data`).
    pub data: usize,
    /// One past its last byte (`data_end`).
    pub end: usize,
}

/// The base address of the caller's extra region number `index` (the index
/// into the slice given to [`Vm::run_with_regions`](crate::Vm::run_with_regions)).
pub fn region_base(index: usize) -> u64 {
    (FIRST_EXTRA_REGION + index as u64) << 32
}

/// Extra memory a program may use besides its stack and input: a context,
/// a packet, a map value, read-only data. Later stages add regions here.
#[derive(Debug)]
pub struct Region<'a> {
    name: &'a str,
    data: RegionData<'a>,
}

#[derive(Debug)]
enum RegionData<'a> {
    ReadOnly(&'a [u8]),
    Writable(&'a mut [u8]),
}

impl<'a> Region<'a> {
    /// A region the program may read and write.
    pub fn writable(name: &'a str, data: &'a mut [u8]) -> Region<'a> {
        Region {
            name,
            data: RegionData::Writable(data),
        }
    }

    /// A region the program may only read; a store to it is an error.
    pub fn read_only(name: &'a str, data: &'a [u8]) -> Region<'a> {
        Region {
            name,
            data: RegionData::ReadOnly(data),
        }
    }

    /// The region's name, used in diagnostics.
    pub fn name(&self) -> &str {
        self.name
    }

    /// The region's bytes.
    pub fn bytes(&self) -> &[u8] {
        match &self.data {
            RegionData::ReadOnly(d) => d,
            RegionData::Writable(d) => d,
        }
    }

    fn bytes_mut(&mut self) -> Option<&mut [u8]> {
        match &mut self.data {
            RegionData::ReadOnly(_) => None,
            RegionData::Writable(d) => Some(d),
        }
    }
}

/// The index into [`Memory`]'s `window_lim` of an access of `n` bytes.
const fn lim_index(n: usize) -> usize {
    match n {
        1 => 0,
        2 => 1,
        4 => 2,
        _ => 3,
    }
}

/// The `N` bytes at `off` of `buf`: the fast path's read, with no second
/// bounds check (asserted in debug builds).
///
/// # Safety
///
/// `off + N <= buf.len()`, as `Memory::in_window` and `Memory::in_frame`
/// establish.
#[inline(always)]
#[allow(unsafe_code)]
unsafe fn read_unchecked<const N: usize>(buf: &[u8], off: usize) -> [u8; N] {
    debug_assert!(off.checked_add(N).is_some_and(|end| end <= buf.len()));
    // SAFETY: in bounds by the caller's contract; `[u8; N]` has alignment 1.
    unsafe { buf.as_ptr().add(off).cast::<[u8; N]>().read() }
}

/// Writes `bytes` at `off` of `buf`, as [`read_unchecked`] reads.
///
/// # Safety
///
/// As for [`read_unchecked`].
#[inline(always)]
#[allow(unsafe_code)]
unsafe fn write_unchecked<const N: usize>(buf: &mut [u8], off: usize, bytes: [u8; N]) {
    debug_assert!(off.checked_add(N).is_some_and(|end| end <= buf.len()));
    // SAFETY: as in `read_unchecked`.
    unsafe { buf.as_mut_ptr().add(off).cast::<[u8; N]>().write(bytes) }
}

/// The regions of one run. Built per run from borrowed parts: no allocation.
pub(crate) struct Memory<'m, 'r> {
    stack: &'m mut [u8; STACK_SIZE],
    /// Lowest valid stack offset: the bottom of the current frame. Deeper,
    /// unused frames are out of bounds.
    stack_lo: usize,
    /// The address of the current frame's first byte, `STACK_BASE +
    /// stack_lo`: the fast path's stack check (see [`Memory::load`]).
    frame_addr: u64,
    /// The input memory, or a packet's whole buffer.
    input: &'m mut [u8],
    /// The part of `input` the program may touch: `window.meta..window.end`.
    window: PacketWindow,
    /// The fast path's window check: an access of `N` bytes at `addr` lies
    /// inside the window when `addr - window_addr` (wrapping) is below
    /// `window_lim[lim_index(N)]`. Kept by [`Memory::set_window_checks`].
    window_addr: u64,
    window_lim: [u64; 4],
    ctx: Option<&'m mut dyn Context>,
    extra: &'m mut [Region<'r>],
    /// The runtime's maps and helper state, when the program runs in one.
    env: Option<&'m mut Env>,
}

impl<'m, 'r> Memory<'m, 'r> {
    /// Memory for a raw run: all of `input` is reachable, and no context.
    pub(crate) fn new(
        stack: &'m mut [u8; STACK_SIZE],
        input: &'m mut [u8],
        extra: &'m mut [Region<'r>],
    ) -> Self {
        let stack_lo = STACK_SIZE - STACK_FRAME_SIZE;
        let window = PacketWindow {
            meta: 0,
            data: 0,
            end: input.len(),
        };
        let mut mem = Memory {
            stack,
            stack_lo,
            frame_addr: STACK_BASE + stack_lo as u64,
            input,
            window,
            window_addr: 0,
            window_lim: [0; 4],
            ctx: None,
            extra,
            env: None,
        };
        mem.set_window_checks();
        mem
    }

    /// Sets the fast path's window check from `window`, clamped to the
    /// buffer and to the 4 GiB of the input region, so that an access it
    /// lets through is inside `input` whatever `window` holds.
    fn set_window_checks(&mut self) {
        let w = self.window;
        let end = w.end.min(self.input.len()).min(1 << 32);
        let len = end.saturating_sub(w.meta) as u64;
        self.window_addr = INPUT_BASE + w.meta as u64;
        self.window_lim = [1, 2, 4, 8].map(|n| (len + 1).saturating_sub(n));
    }

    /// Gives the run its runtime environment (maps, helper state).
    pub(crate) fn set_env(&mut self, env: &'m mut Env) {
        env.values.start_run();
        self.env = Some(env);
    }

    /// The runtime environment, if the run has one.
    pub(crate) fn env_mut(&mut self) -> Option<&mut Env> {
        self.env.as_deref_mut()
    }

    /// The runtime environment, to read.
    pub(crate) fn env(&self) -> Option<&Env> {
        self.env.as_deref()
    }

    /// Memory for a packet run: the packet's buffer with its window, and
    /// the context the program gets in r1. The caller has checked that the
    /// window lies inside the buffer.
    pub(crate) fn with_packet(
        stack: &'m mut [u8; STACK_SIZE],
        buffer: &'m mut [u8],
        window: PacketWindow,
        ctx: &'m mut dyn Context,
        extra: &'m mut [Region<'r>],
    ) -> Self {
        let mut mem = Memory::new(stack, buffer, extra);
        mem.window = window;
        mem.set_window_checks();
        mem.ctx = Some(ctx);
        mem
    }

    /// The packet window.
    pub(crate) fn window(&self) -> PacketWindow {
        self.window
    }

    /// Moves the packet window (the adjust helpers). False, and nothing
    /// changes, unless `meta <= data <= end <= buffer length`.
    pub(crate) fn set_window(&mut self, w: PacketWindow) -> bool {
        let ok = w.meta <= w.data && w.data <= w.end && w.end <= self.input.len();
        if ok {
            self.window = w;
            self.set_window_checks();
        }
        ok
    }

    /// The packet's whole buffer, headroom and tailroom included.
    pub(crate) fn buffer_mut(&mut self) -> &mut [u8] {
        self.input
    }

    /// The context, if the run has one.
    pub(crate) fn context_mut(&mut self) -> Option<&mut (dyn Context + 'm)> {
        self.ctx.as_deref_mut()
    }

    /// The packet pointers a context hands out (`data`, `data_end`, `data_meta`).
    fn packet_pointers(&self) -> PacketPointers {
        PacketPointers {
            data: INPUT_BASE + self.window.data as u64,
            data_end: INPUT_BASE + self.window.end as u64,
            data_meta: INPUT_BASE + self.window.meta as u64,
        }
    }

    /// The current call depth (0 = the entry function).
    pub(crate) fn call_depth(&self) -> usize {
        (STACK_SIZE - self.stack_lo) / STACK_FRAME_SIZE - 1
    }

    /// Makes `depth` (0 = entry) the current call depth.
    #[inline(always)]
    pub(crate) fn set_frame(&mut self, depth: usize) {
        // Clamped, so that the frame lies inside the stack whatever the
        // caller passes (the fast path relies on it).
        let depth = depth.min(MAX_CALL_FRAMES - 1);
        self.stack_lo = STACK_SIZE - (depth + 1) * STACK_FRAME_SIZE;
        self.frame_addr = STACK_BASE + self.stack_lo as u64;
    }

    /// Reads `N` bytes at `addr`, or `None` when they are not all inside one region.
    ///
    /// The fast path: an access inside the packet window or the current
    /// stack frame costs one subtraction and one compare for each region
    /// tried ([`Memory::in_window`], [`Memory::in_frame`]), then an
    /// unchecked read at the address's low 32 bits, the offset into the
    /// buffer (the VM's `unsafe` memory access). Everything else (a
    /// caller's frame, the other regions, the bytes just below a region, a
    /// fault) goes to the exact, out-of-line [`Memory::slice`].
    #[inline(always)]
    #[allow(unsafe_code)]
    pub(crate) fn load<const N: usize>(&self, addr: u64) -> Option<[u8; N]> {
        if self.in_window::<N>(addr) {
            // SAFETY: `in_window`: the `N` bytes at offset `addr as u32`
            // are inside `input`.
            return Some(unsafe { read_unchecked(self.input, addr as u32 as usize) });
        }
        if self.in_frame::<N>(addr) {
            // SAFETY: `in_frame`: the bytes are inside `stack`.
            return Some(unsafe { read_unchecked(self.stack, addr as u32 as usize) });
        }
        self.load_other(addr)
    }

    /// Writes `bytes` at `addr`; false when they are not all inside one
    /// writable region. The fast path as [`Memory::load`]'s, with the
    /// stack frame tried first: most stores are spills and locals, most
    /// loads read the packet or the input (packet_parse, fnv1a and sum_array
    /// ran 1 to 3 % fewer host instructions with loads trying the window
    /// first, sieve, which works on the stack, 1 % more).
    #[inline(always)]
    #[allow(unsafe_code)]
    pub(crate) fn store<const N: usize>(&mut self, addr: u64, bytes: [u8; N]) -> bool {
        if self.in_frame::<N>(addr) {
            // SAFETY: as in `load`.
            unsafe { write_unchecked(self.stack, addr as u32 as usize, bytes) };
            return true;
        }
        if self.in_window::<N>(addr) {
            // SAFETY: as in `load`.
            unsafe { write_unchecked(self.input, addr as u32 as usize, bytes) };
            return true;
        }
        self.store_other(addr, bytes)
    }

    /// Whether the `N` bytes at `addr` are inside the current stack frame,
    /// which is then at offset `addr as u32` of `stack`, with `N` bytes
    /// left after it. The fast path's stack check: the frame is
    /// `STACK_FRAME_SIZE` bytes from `frame_addr = STACK_BASE + stack_lo`,
    /// so `addr - frame_addr <= STACK_FRAME_SIZE - N` (wrapping: an
    /// address below the frame is huge) puts the access inside it, and
    /// `stack_lo + STACK_FRAME_SIZE <= STACK_SIZE` (`set_frame` clamps).
    #[inline(always)]
    fn in_frame<const N: usize>(&self, addr: u64) -> bool {
        const { assert!(N <= STACK_FRAME_SIZE) };
        addr.wrapping_sub(self.frame_addr) <= (STACK_FRAME_SIZE - N) as u64
    }

    /// Whether the `N` bytes at `addr` are inside the packet window, which
    /// is then at offset `addr as u32` of `input`, with `N` bytes left
    /// after it. The window's limits hold `len + 1 - N` (0 when that is
    /// negative), `len` being the window's length clamped to the buffer
    /// and to the region's 4 GiB by `set_window_checks`, and `window_addr`
    /// is `INPUT_BASE + meta`: an address that passes is `INPUT_BASE` plus
    /// an offset below 2^32, and that offset plus `N` is at most the
    /// buffer's length.
    #[inline(always)]
    fn in_window<const N: usize>(&self, addr: u64) -> bool {
        const { assert!(N == 1 || N == 2 || N == 4 || N == 8) };
        addr.wrapping_sub(self.window_addr) < self.window_lim[lim_index(N)]
    }

    /// A load outside the fast path's two regions.
    #[cold]
    #[inline(never)]
    fn load_other<const N: usize>(&self, addr: u64) -> Option<[u8; N]> {
        self.slice(addr, N)?.try_into().ok()
    }

    /// A store outside the fast path's two regions.
    #[cold]
    #[inline(never)]
    fn store_other<const N: usize>(&mut self, addr: u64, bytes: [u8; N]) -> bool {
        match self.slice_mut(addr, N) {
            Some(dst) => {
                dst.copy_from_slice(&bytes);
                true
            }
            None => false,
        }
    }

    /// The `len` bytes at `addr`, if they are all inside one region.
    pub(crate) fn slice(&self, addr: u64, len: usize) -> Option<&[u8]> {
        let off = addr as u32 as usize;
        let end = off.checked_add(len)?;
        match addr >> 32 {
            STACK_REGION if off >= self.stack_lo => self.stack.get(off..end),
            INPUT_REGION if off >= self.window.meta && end <= self.window.end => {
                self.input.get(off..end)
            }
            STACK_REGION | INPUT_REGION => None,
            region if region >= MAP_VALUE_REGION => self.value_bytes(region, off, len),
            region => self
                .extra
                .get(region.checked_sub(FIRST_EXTRA_REGION)? as usize)?
                .bytes()
                .get(off..end),
        }
    }

    /// The `len` bytes at `addr` for writing, if they are all inside one
    /// writable region.
    #[inline(always)]
    pub(crate) fn slice_mut(&mut self, addr: u64, len: usize) -> Option<&mut [u8]> {
        let off = addr as u32 as usize;
        let end = off.checked_add(len)?;
        match addr >> 32 {
            STACK_REGION if off >= self.stack_lo => self.stack.get_mut(off..end),
            INPUT_REGION if off >= self.window.meta && end <= self.window.end => {
                self.input.get_mut(off..end)
            }
            STACK_REGION | INPUT_REGION => None,
            region if region >= MAP_VALUE_REGION => self.value_bytes_mut(region, off, len),
            region => self
                .extra
                .get_mut(region.checked_sub(FIRST_EXTRA_REGION)? as usize)?
                .bytes_mut()?
                .get_mut(off..end),
        }
    }

    /// Map value bytes, out of line so the stack and packet paths stay small.
    #[cold]
    #[inline(never)]
    fn value_bytes(&self, region: u64, off: usize, len: usize) -> Option<&[u8]> {
        self.env.as_deref()?.values.bytes(region, off, len)
    }

    /// Writable map value bytes, out of line as [`Memory::value_bytes`].
    #[cold]
    #[inline(never)]
    fn value_bytes_mut(&mut self, region: u64, off: usize, len: usize) -> Option<&mut [u8]> {
        self.env.as_deref_mut()?.values.bytes_mut(region, off, len)
    }

    /// The packet from `data` to `data_end` (all of a raw run's input), for
    /// the legacy packet loads.
    #[inline(always)]
    pub(crate) fn input(&self) -> &[u8] {
        self.input
            .get(self.window.data..self.window.end)
            .unwrap_or(&[])
    }

    /// The `size` packet bytes at a classic packet load's negative offset,
    /// as `bpf_internal_load_pointer_neg_helper` finds them: from
    /// `SKF_NET_OFF` (-0x100000) relative to the network header, from
    /// `SKF_LL_OFF` (-0x200000) to the MAC header; inside the buffer and
    /// before `data_end`, else `None`.
    #[cold]
    #[inline(never)]
    pub(crate) fn header_bytes(&self, off: i32, size: usize) -> Option<&[u8]> {
        const SKF_NET_OFF: i32 = -0x10_0000;
        const SKF_LL_OFF: i32 = -0x20_0000;
        let (mac, net) = self.ctx.as_deref()?.header_offsets()?;
        let (base, rel) = if off >= SKF_NET_OFF {
            (net, off - SKF_NET_OFF)
        } else if off >= SKF_LL_OFF {
            (mac, off - SKF_LL_OFF)
        } else {
            return None;
        };
        let start = usize::try_from(self.window.data as isize + base + rel as isize).ok()?;
        let end = start.checked_add(size).filter(|&e| e <= self.window.end)?;
        self.input.get(start..end)
    }

    /// A load the plain regions refused: a context field, read the way the
    /// kernel's rewritten access reads it, or the fault. `signed` is a
    /// sign-extending load (`ldsx`).
    #[cold]
    #[inline(never)]
    pub(crate) fn load_slow(
        &self,
        pc: usize,
        addr: u64,
        size: usize,
        signed: bool,
    ) -> Result<u64, VmError> {
        let Some(ctx) = self.ctx.as_deref().filter(|_| addr >> 32 == CONTEXT_REGION) else {
            return Err(self.fault(pc, Access::Read, addr, size));
        };
        let value = ctx
            .load(addr as u32, size as u32, &self.packet_pointers())
            .map_err(|denied| VmError::ContextAccess {
                pc,
                access: Access::Read,
                context: ctx.name(),
                off: addr as u32,
                size,
                reason: denied.0,
            })?;
        Ok(if signed {
            let shift = 64 - 8 * size as u32;
            (((value << shift) as i64) >> shift) as u64
        } else {
            value
        })
    }

    /// A store the plain regions refused: a context field the program may
    /// write, or the fault.
    #[cold]
    #[inline(never)]
    pub(crate) fn store_slow(&mut self, pc: usize, addr: u64, bytes: &[u8]) -> Result<(), VmError> {
        let size = bytes.len();
        if addr >> 32 != CONTEXT_REGION || self.ctx.is_none() {
            return Err(self.fault(pc, Access::Write, addr, size));
        }
        let mut word = [0u8; 8];
        word[..size].copy_from_slice(bytes);
        let Some(ctx) = self.ctx.as_deref_mut() else {
            return Err(self.fault(pc, Access::Write, addr, size));
        };
        ctx.store(addr as u32, size as u32, u64::from_le_bytes(word))
            .map_err(|denied| VmError::ContextAccess {
                pc,
                access: Access::Write,
                context: ctx.name(),
                off: addr as u32,
                size,
                reason: denied.0,
            })
    }

    /// The error for a refused access: which region the address points
    /// into, and whether the access was out of bounds or a write to
    /// read-only memory.
    #[cold]
    pub(crate) fn fault(&self, pc: usize, access: Access, addr: u64, size: usize) -> VmError {
        let region = addr >> 32;
        let (info, read_only) = match region {
            STACK_REGION => (
                Some(RegionInfo {
                    name: "stack frame".into(),
                    start: STACK_BASE + self.stack_lo as u64,
                    len: (STACK_SIZE - self.stack_lo) as u64,
                }),
                false,
            ),
            INPUT_REGION => (
                Some(RegionInfo {
                    name: if self.ctx.is_some() {
                        "packet"
                    } else {
                        "input"
                    }
                    .into(),
                    start: INPUT_BASE + self.window.meta as u64,
                    len: (self.window.end - self.window.meta) as u64,
                }),
                false,
            ),
            _ if region >= MAP_VALUE_REGION => {
                match self.env.as_deref().and_then(|e| e.values.describe(region)) {
                    Some((name, len, read_only)) => (
                        Some(RegionInfo {
                            name,
                            start: region << 32,
                            len,
                        }),
                        read_only,
                    ),
                    None => (None, false),
                }
            }
            _ => match region
                .checked_sub(FIRST_EXTRA_REGION)
                .and_then(|i| self.extra.get(i as usize))
            {
                Some(r) => (
                    Some(RegionInfo {
                        name: r.name.to_string(),
                        start: region << 32,
                        len: r.bytes().len() as u64,
                    }),
                    matches!(r.data, RegionData::ReadOnly(_)),
                ),
                None => (None, false),
            },
        };
        let in_bounds = self.slice(addr, size).is_some();
        let kind = if access == Access::Write && read_only && in_bounds {
            FaultKind::ReadOnly
        } else {
            FaultKind::OutOfBounds
        };
        VmError::MemoryFault {
            pc,
            access,
            addr,
            size,
            kind,
            region: info,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every address from 16 bytes below a region's start to 16 past its
    /// end, for every access size.
    fn edges(start: u64, len: u64) -> impl Iterator<Item = u64> {
        (start - 16..start + 16).chain(start + len.saturating_sub(16)..start + len + 16)
    }

    /// The fast path lets through exactly the accesses the exact check
    /// (`slice`) allows, and reads and writes the same bytes.
    fn agrees_with_slice(mem: &mut Memory<'_, '_>) {
        let (lo, frames) = (STACK_BASE + mem.stack_lo as u64, STACK_SIZE - mem.stack_lo);
        let w = mem.window();
        let (wlo, wlen) = (INPUT_BASE + w.meta as u64, (w.end - w.meta) as u64);
        for addr in edges(lo, frames as u64).chain(edges(wlo, wlen)) {
            macro_rules! check {
                ($n:literal) => {{
                    let exact = mem
                        .slice(addr, $n)
                        .map(|b| <[u8; $n]>::try_from(b).unwrap());
                    assert_eq!(mem.load::<$n>(addr), exact, "load {} at {addr:#x}", $n);
                    let bytes = [0x5a; $n];
                    assert_eq!(
                        mem.store::<$n>(addr, bytes),
                        exact.is_some(),
                        "store at {addr:#x}"
                    );
                    if let Some(old) = exact {
                        assert_eq!(mem.slice(addr, $n), Some(&bytes[..]));
                        assert!(mem.store::<$n>(addr, old));
                    }
                }};
            }
            check!(1);
            check!(2);
            check!(4);
            check!(8);
        }
    }

    #[test]
    fn the_fast_path_checks_exactly_what_the_regions_allow() {
        let mut stack = [0u8; STACK_SIZE];
        for (i, b) in stack.iter_mut().enumerate() {
            *b = i as u8;
        }
        for len in [0usize, 1, 2, 3, 7, 8, 9, 64] {
            let mut input: Vec<u8> = (0..len as u8).map(|b| b ^ 0xa5).collect();
            let mut extra = [];
            let mut mem = Memory::new(&mut stack, &mut input, &mut extra);
            for depth in [0, 1, MAX_CALL_FRAMES - 1] {
                mem.set_frame(depth);
                agrees_with_slice(&mut mem);
            }
        }
        // A packet window inside a larger buffer, moved as the adjust
        // helpers move it, and shrunk to nothing.
        let mut buffer = vec![0x11u8; 256];
        let mut extra = [];
        let mut mem = Memory::new(&mut stack, &mut buffer, &mut extra);
        for (meta, data, end) in [(32, 40, 100), (0, 0, 256), (64, 64, 64), (10, 20, 21)] {
            assert!(mem.set_window(PacketWindow { meta, data, end }));
            agrees_with_slice(&mut mem);
        }
        assert!(!mem.set_window(PacketWindow {
            meta: 0,
            data: 0,
            end: 257
        }));
        agrees_with_slice(&mut mem);
    }
}
