//! Positions in the op array as byte offsets, for the loop's dispatch.
//!
//! The loop keeps its program counter as the byte offset of the op rather
//! than its slot index: fetching the next op is then a compare and loads
//! addressed by base plus offset, where an index costs a shift and an add
//! on top, and keeps two more values live across the loop (benches/RESULTS.md
//! has the figures). Slot indices are computed back from an offset only
//! where they are needed: an error, a call, a change of mode.
//!
//! This is the interpreter loop's one `unsafe`, and it is sound for any
//! program: a [`Pos`] is only made by [`Slots::at`] and `+`, which multiply
//! slot counts by the op's size (wrapping), so every offset is a multiple
//! of the size; [`Slots::get`] reads only an offset below the array's
//! length in bytes, which is then an element of the borrowed array.

#![allow(unsafe_code)]

use crate::op::Op;
use std::marker::PhantomData;

const OP_SIZE: usize = std::mem::size_of::<Op>();

/// The op array of one run, borrowed.
#[derive(Clone, Copy)]
pub(super) struct Slots<'a> {
    base: *const Op,
    len_bytes: usize,
    ops: PhantomData<&'a [Op]>,
}

/// A slot of a [`Slots`] array, which may be past its end: its offset in
/// bytes.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) struct Pos(usize);

impl<'a> Slots<'a> {
    pub(super) fn new(ops: &'a [Op]) -> Self {
        Slots {
            base: ops.as_ptr(),
            len_bytes: std::mem::size_of_val(ops),
            ops: PhantomData,
        }
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

    /// The op at `pos`, or `None` past the end.
    #[inline(always)]
    pub(super) fn get(self, pos: Pos) -> Option<&'a Op> {
        if pos.0 < self.len_bytes {
            // SAFETY: `pos.0` is a multiple of `OP_SIZE` (see the module
            // doc) below the array's length in bytes, so `base + pos.0`
            // is an element of the slice borrowed for 'a.
            Some(unsafe { &*self.base.byte_add(pos.0) })
        } else {
            None
        }
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
            Op::new(Code::Ja, 0, 0, 9, 0),
        ];
        let slots = Slots::new(&ops);
        assert_eq!(slots.get(slots.at(0)).map(|op| op.aux), Some(7));
        assert_eq!(slots.get(slots.at(0) + 1).map(|op| op.aux), Some(9));
        assert_eq!(slots.get(slots.at(2)), None);
        assert_eq!(slots.get(slots.at(u32::MAX as usize) + 3), None);
        assert_eq!(slots.index(slots.at(1) + 1), 2);
    }
}
