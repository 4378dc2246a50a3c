//! Positions in the op array as byte offsets, for the loop's dispatch.
//!
//! The loop keeps its program counter as the byte offset of the op rather
//! than its slot index: fetching the next op is then a mask and loads
//! addressed by base plus offset, where an index costs a shift and an add
//! on top, and moving on is one add (benches/RESULTS.md has the figures).
//! Slot indices are computed back from an offset only where they are
//! needed: an error, a call, a change of mode.
//!
//! The fetch has no branch: [`Slots::get`] masks the offset with the
//! array's size, a power of two, and the array ends with at least
//! [`GUARDS`] [`Code::End`] guards, so a run that falls off the end reads a
//! guard and stops with an error. (One `and` in place of a compare and a
//! branch: about 1 host instruction per BPF instruction less, benches/RESULTS.md.
//! LLVM keeps one fetch that the arms jump to; made to copy it into them,
//! with `-tail-dup-pred-size` and `-tail-dup-indirect-size` raised, the
//! loop took 10 to 24 % more time on this guest.)
//!
//! This is the interpreter loop's one `unsafe`, and it is sound for any
//! program and any op array: the mask clears the offset's bits below the
//! op's size (a power of two) and those above the size of the array's
//! first power-of-two part, so the masked offset names an element of the
//! borrowed array whatever a [`Pos`] holds.

#![allow(unsafe_code)]

use crate::op::Op;
#[cfg(doc)]
use crate::{compile::GUARDS, op::Code};
use std::marker::PhantomData;

/// The size of an op ([`crate::compile::OP_BYTES`], the unit of compiled
/// jump targets).
const OP_SIZE: usize = crate::compile::OP_BYTES as usize;
const _: () = assert!(OP_SIZE.is_power_of_two());

/// The op array of one run, borrowed; not empty.
#[derive(Clone, Copy)]
pub(super) struct Slots<'a> {
    base: *const Op,
    /// The mask of an offset: the size in bytes of the array's largest
    /// power-of-two prefix (the whole array, as compiled), less one, with
    /// the bits below the op's size clear.
    mask: usize,
    ops: PhantomData<&'a [Op]>,
}

/// A slot of a [`Slots`] array, which may be past its end: its offset in
/// bytes.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) struct Pos(usize);

impl<'a> Slots<'a> {
    /// The array `ops`, as compiled: a power of two long, ending with
    /// guards (`None` when empty).
    pub(super) fn new(ops: &'a [Op]) -> Option<Self> {
        let prefix = 1usize.checked_shl(ops.len().checked_ilog2()?)?;
        Some(Slots {
            base: ops.as_ptr(),
            mask: (prefix * OP_SIZE - 1) & !(OP_SIZE - 1),
            ops: PhantomData,
        })
    }

    /// The slot at byte offset `off`, a compiled jump target.
    #[inline(always)]
    pub(super) fn at_offset(self, off: u32) -> Pos {
        Pos(off as usize)
    }

    /// Slot `index`.
    #[inline(always)]
    pub(super) fn at(self, index: usize) -> Pos {
        Pos(index.wrapping_mul(OP_SIZE))
    }

    /// The slot index of `pos`.
    #[inline(always)]
    pub(super) fn index(self, pos: Pos) -> usize {
        pos.0 / OP_SIZE
    }

    /// The op at `pos`, and its position: a guard when `pos` is past the
    /// program (the offset is masked).
    #[inline(always)]
    pub(super) fn get(self, pos: Pos) -> (&'a Op, Pos) {
        let off = pos.0 & self.mask;
        // SAFETY: the mask makes `off` a multiple of `OP_SIZE` below the
        // size in bytes of a prefix of the array, so `base + off` is an
        // element of the slice borrowed for 'a.
        (unsafe { &*self.base.byte_add(off) }, Pos(off))
    }
}

impl std::ops::Add<usize> for Pos {
    type Output = Pos;
    #[inline(always)]
    fn add(self, n: usize) -> Pos {
        Pos(self.0.wrapping_add(n.wrapping_mul(OP_SIZE)))
    }
}

impl std::ops::AddAssign<usize> for Pos {
    #[inline(always)]
    fn add_assign(&mut self, n: usize) {
        *self = *self + n;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::op::Code;

    #[test]
    fn a_position_reads_only_inside_the_array() {
        let mut ops = vec![Op::new(Code::Exit, 0, 0, 7, 0)];
        ops.resize(4, Op::new(Code::End, 0, 0, 9, 0));
        let slots = Slots::new(&ops).unwrap();
        let aux = |pos| slots.get(pos).0.aux;
        assert_eq!(aux(slots.at(0)), 7);
        assert_eq!(aux(slots.at(0) + 1), 9);
        assert_eq!(aux(slots.at(3)), 9);
        assert_eq!(slots.get(slots.at(6)).1, slots.at(2));
        assert_eq!(aux(slots.at(u32::MAX as usize) + 3), 9);
        assert_eq!(slots.index(slots.at(1) + 1), 2);
        assert!(Slots::new(&[]).is_none());
        // An offset inside an op reads that op.
        assert_eq!(slots.get(slots.at_offset(32 + 7)).1, slots.at(1));
        // Not a power of two (never compiled so): only the first 2 are read.
        let slots = Slots::new(&ops[..3]).unwrap();
        assert_eq!(slots.get(slots.at(2)).1, slots.at(0));
    }
}
