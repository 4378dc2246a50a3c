//! Positions in the op array as byte offsets, for the loop's dispatch.
//!
//! The loop keeps its program counter as the byte offset of the op rather
//! than its slot index: fetching the next op is then a compare and loads
//! addressed by base plus offset, where an index costs a shift and an add
//! on top, and keeps two more values live across the loop (benches/RESULTS.md
//! has the figures). Slot indices are computed back from an offset only
//! where they are needed: an error, a call, a change of mode.
//!
//! The fetch has no branch: [`Slots::get`] clamps the offset to the last
//! op, which is the [`Code::End`] guard the `Vm` puts after every program,
//! so a run that falls off the end reads the guard and stops with an
//! error. (A compare and a conditional move in place of a compare and a
//! branch: 0.1 to 0.5 fewer host instructions per BPF instruction, as the
//! loop's registers come out. LLVM still does not copy the fetch into the
//! arms, not even with `-tail-dup-pred-size` and `-tail-dup-indirect-size`
//! raised.)
//!
//! This is the interpreter loop's one `unsafe`, and it is sound for any
//! program and any op array: a [`Pos`] is only made by [`Slots::at`] and
//! `+`, which multiply slot counts by the op's size (wrapping), so every
//! offset is a multiple of the size; the clamped offset is at most the
//! last op's, so it names an element of the borrowed array.

#![allow(unsafe_code)]

#[cfg(doc)]
use crate::op::Code;
use crate::op::Op;
use std::marker::PhantomData;

const OP_SIZE: usize = std::mem::size_of::<Op>();

/// The op array of one run, borrowed; not empty.
#[derive(Clone, Copy)]
pub(super) struct Slots<'a> {
    base: *const Op,
    /// The offset of the last op.
    last: usize,
    ops: PhantomData<&'a [Op]>,
}

/// A slot of a [`Slots`] array, which may be past its end: its offset in
/// bytes.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) struct Pos(usize);

impl<'a> Slots<'a> {
    /// The array `ops`, whose last op is the guard (`None` when empty).
    pub(super) fn new(ops: &'a [Op]) -> Option<Self> {
        debug_assert!(ops.last().map_or(true, |op| op.code == crate::op::Code::End));
        Some(Slots {
            base: ops.as_ptr(),
            last: std::mem::size_of_val(ops).checked_sub(OP_SIZE)?,
            ops: PhantomData,
        })
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

    /// The op at `pos`, and its position: the last op (the guard) when
    /// `pos` is past it.
    #[inline(always)]
    pub(super) fn get(self, pos: Pos) -> (&'a Op, Pos) {
        let off = pos.0.min(self.last);
        // SAFETY: `off` is a multiple of `OP_SIZE` (see the module doc)
        // and at most the last op's offset, so `base + off` is an element
        // of the slice borrowed for 'a.
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
        let ops = [
            Op::new(Code::Exit, 0, 0, 7, 0),
            Op::new(Code::End, 0, 0, 9, 0),
        ];
        let slots = Slots::new(&ops).unwrap();
        let aux = |pos| slots.get(pos).0.aux;
        assert_eq!(aux(slots.at(0)), 7);
        assert_eq!(aux(slots.at(0) + 1), 9);
        assert_eq!(aux(slots.at(2)), 9);
        assert_eq!(slots.get(slots.at(5)).1, slots.at(1));
        assert_eq!(aux(slots.at(u32::MAX as usize) + 3), 9);
        assert_eq!(slots.index(slots.at(1) + 1), 2);
        assert!(Slots::new(&[]).is_none());
    }
}
