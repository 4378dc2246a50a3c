//! The memory a program may touch, as checked regions of a synthetic address
//! space.
//!
//! # Address scheme
//!
//! Region `n` lives at `n << 32`: an address is a region number in its high
//! 32 bits and an offset in its low 32 bits. [`STACK_BASE`] (region 1) holds
//! the stack frames, [`INPUT_BASE`] (region 2) the input memory, and the
//! caller's extra [`Region`]s follow from region 3 on ([`region_base`]).
//! Region 0 is never mapped, so null pointers and small integers used as
//! pointers fault.
//!
//! Why synthetic addresses rather than host pointers:
//! - every access is checked in safe Rust (a shift, a compare and a slice
//!   index), so the VM needs no `unsafe` at all and a hostile program cannot
//!   reach host memory;
//! - finding the region is one shift, not a search through a region list;
//! - addresses are deterministic across runs and machines, so test output
//!   and diagnostics are reproducible, and no host address leaks into a
//!   program (or out of it through r0).
//!
//! Pointer arithmetic inside a region works as in the kernel; a region holds
//! at most 4 GiB.

use crate::error::{Access, FaultKind, RegionInfo, VmError};

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
const STACK_REGION: u64 = STACK_BASE >> 32;
const INPUT_REGION: u64 = INPUT_BASE >> 32;
const FIRST_EXTRA_REGION: u64 = 3;

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

/// The regions of one run. Built per run from borrowed parts: no allocation.
pub(crate) struct Memory<'m, 'r> {
    stack: &'m mut [u8; STACK_SIZE],
    /// Lowest valid stack offset: the bottom of the current frame. Deeper,
    /// unused frames are out of bounds.
    stack_lo: usize,
    input: &'m mut [u8],
    extra: &'m mut [Region<'r>],
}

impl<'m, 'r> Memory<'m, 'r> {
    pub(crate) fn new(
        stack: &'m mut [u8; STACK_SIZE],
        input: &'m mut [u8],
        extra: &'m mut [Region<'r>],
    ) -> Self {
        let stack_lo = STACK_SIZE - STACK_FRAME_SIZE;
        Memory {
            stack,
            stack_lo,
            input,
            extra,
        }
    }

    /// Makes `depth` (0 = entry) the current call depth.
    #[inline(always)]
    pub(crate) fn set_frame(&mut self, depth: usize) {
        self.stack_lo = STACK_SIZE - (depth + 1) * STACK_FRAME_SIZE;
    }

    /// Reads `N` bytes at `addr`, or `None` when they are not all inside one region.
    #[inline(always)]
    pub(crate) fn load<const N: usize>(&self, addr: u64) -> Option<[u8; N]> {
        let off = addr as u32 as usize;
        let end = off.checked_add(N)?;
        let bytes = match addr >> 32 {
            STACK_REGION if off >= self.stack_lo => self.stack.get(off..end)?,
            INPUT_REGION => self.input.get(off..end)?,
            _ => self.slice(addr, N)?,
        };
        bytes.try_into().ok()
    }

    /// Writes `bytes` at `addr`; false when they are not all inside one
    /// writable region.
    #[inline(always)]
    pub(crate) fn store<const N: usize>(&mut self, addr: u64, bytes: [u8; N]) -> bool {
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
            INPUT_REGION => self.input.get(off..end),
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
            INPUT_REGION => self.input.get_mut(off..end),
            region => self
                .extra
                .get_mut(region.checked_sub(FIRST_EXTRA_REGION)? as usize)?
                .bytes_mut()?
                .get_mut(off..end),
        }
    }

    /// The input memory, for the legacy packet loads.
    #[inline(always)]
    pub(crate) fn input(&self) -> &[u8] {
        self.input
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
                    name: "input".into(),
                    start: INPUT_BASE,
                    len: self.input.len() as u64,
                }),
                false,
            ),
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
