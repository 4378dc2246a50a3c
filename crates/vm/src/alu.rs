//! The arithmetic whose edge cases the kernel defines explicitly: division
//! and modulo by zero and by -1, and the atomic read-modify-write operations;
//! and the simple ALU operations ([`Alu`]), from one table.
//!
//! Kernel semantics (`kernel/bpf/core.c` and the verifier's rewrite of
//! division in `do_misc_fixups`):
//! - `dst / 0 = 0`, `dst % 0 = dst` (for 32-bit modulo: the low 32 bits of
//!   dst, zero-extended, since the rewrite ends in a 32-bit move);
//! - signed `INT_MIN / -1 = INT_MIN` (the kernel negates), `INT_MIN % -1 = 0`;
//! - signed modulo truncates toward zero: the result has the dividend's sign.

use crate::compile::AtomicKind;
#[cfg(doc)]
use crate::op::Code;
use crate::op::R;

#[inline(always)]
pub(crate) fn div64(a: u64, b: u64) -> u64 {
    a.checked_div(b).unwrap_or(0)
}

#[inline(always)]
pub(crate) fn mod64(a: u64, b: u64) -> u64 {
    a.checked_rem(b).unwrap_or(a)
}

#[inline(always)]
pub(crate) fn sdiv64(a: u64, b: u64) -> u64 {
    if b == 0 {
        0
    } else {
        (a as i64).wrapping_div(b as i64) as u64
    }
}

#[inline(always)]
pub(crate) fn smod64(a: u64, b: u64) -> u64 {
    if b == 0 {
        a
    } else {
        (a as i64).wrapping_rem(b as i64) as u64
    }
}

#[inline(always)]
pub(crate) fn div32(a: u64, b: u64) -> u64 {
    (a as u32).checked_div(b as u32).unwrap_or(0) as u64
}

#[inline(always)]
pub(crate) fn mod32(a: u64, b: u64) -> u64 {
    let a = a as u32;
    a.checked_rem(b as u32).unwrap_or(a) as u64
}

#[inline(always)]
pub(crate) fn sdiv32(a: u64, b: u64) -> u64 {
    if b as u32 == 0 {
        0
    } else {
        (a as i32).wrapping_div(b as i32) as u32 as u64
    }
}

#[inline(always)]
pub(crate) fn smod32(a: u64, b: u64) -> u64 {
    if b as u32 == 0 {
        a as u32 as u64
    } else {
        (a as i32).wrapping_rem(b as i32) as u32 as u64
    }
}

/// The result of one atomic operation on a memory word.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct AtomicResult {
    /// The value to store back.
    pub new: u64,
    /// The register to receive the old value, if any: `Some(true)` for r0
    /// (cmpxchg), `Some(false)` for the source register.
    pub fetch_into_r0: Option<bool>,
}

/// Applies `kind` to the old memory value `old` with operand `src` (and r0
/// for cmpxchg). For 32-bit atomics all values are the low 32 bits; the
/// caller zero-extends the old value it writes back to a register.
pub(crate) fn atomic(kind: AtomicKind, old: u64, src: u64, r0: u64, mask: u64) -> AtomicResult {
    let (new, fetch_into_r0) = match kind {
        AtomicKind::Add => (old.wrapping_add(src), None),
        AtomicKind::Or => (old | src, None),
        AtomicKind::And => (old & src, None),
        AtomicKind::Xor => (old ^ src, None),
        AtomicKind::FetchAdd => (old.wrapping_add(src), Some(false)),
        AtomicKind::FetchOr => (old | src, Some(false)),
        AtomicKind::FetchAnd => (old & src, Some(false)),
        AtomicKind::FetchXor => (old ^ src, Some(false)),
        AtomicKind::Xchg => (src, Some(false)),
        AtomicKind::CmpXchg => {
            let new = if old == r0 & mask { src } else { old };
            (new, Some(true))
        }
    };
    AtomicResult {
        new: new & mask,
        fetch_into_r0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn division_by_zero_follows_the_kernel() {
        assert_eq!(div64(7, 0), 0);
        assert_eq!(mod64(7, 0), 7);
        assert_eq!(sdiv64(-7i64 as u64, 0), 0);
        assert_eq!(smod64(-7i64 as u64, 0), -7i64 as u64);
        // 32-bit forms look only at the low halves and zero-extend.
        assert_eq!(div32(0xffff_ffff_0000_0007, 0x1_0000_0000), 0);
        assert_eq!(mod32(0xffff_ffff_0000_0007, 0x1_0000_0000), 7);
        assert_eq!(smod32(0xffff_ffff_ffff_fff9, 0), 0xffff_fff9);
        assert_eq!(sdiv32(0xffff_ffff_ffff_fff9, 0), 0);
    }

    #[test]
    fn signed_overflow_wraps() {
        assert_eq!(sdiv64(i64::MIN as u64, u64::MAX), i64::MIN as u64);
        assert_eq!(smod64(i64::MIN as u64, u64::MAX), 0);
        assert_eq!(sdiv32(i32::MIN as u32 as u64, u32::MAX as u64), 0x8000_0000);
        assert_eq!(smod32(i32::MIN as u32 as u64, u32::MAX as u64), 0);
    }

    #[test]
    fn signed_modulo_takes_the_dividend_sign() {
        assert_eq!(smod64(-7i64 as u64, 2), -1i64 as u64);
        assert_eq!(smod64(7, -2i64 as u64), 1);
        assert_eq!(smod32(-7i32 as u32 as u64, 2), 0xffff_ffff);
        assert_eq!(sdiv64(-7i64 as u64, 2), -3i64 as u64);
    }

    #[test]
    fn cmpxchg_compares_the_low_half_of_r0_for_32_bits() {
        let m = u32::MAX as u64;
        let r = atomic(AtomicKind::CmpXchg, 5, 9, 0xdead_0000_0000_0005, m);
        assert_eq!(r.new, 9);
        assert_eq!(r.fetch_into_r0, Some(true));
        let r = atomic(AtomicKind::CmpXchg, 5, 9, 6, m);
        assert_eq!(r.new, 5);
        let r = atomic(AtomicKind::FetchAdd, 0xffff_ffff, 1, 0, m);
        assert_eq!(r.new, 0);
        assert_eq!(r.fetch_into_r0, Some(false));
        assert_eq!(atomic(AtomicKind::Xor, 6, 3, 0, u64::MAX).new, 5);
    }
}

// The shifts (amount masked to the width) and `or`, at 64 and 32 bits
// (32-bit results zero-extended): the simple ALU table's, and those of
// the superinstructions that shift or collect bytes.

#[inline(always)]
pub(crate) fn lsh64(v: u64, sh: u64) -> u64 {
    v << (sh & 63)
}

#[inline(always)]
pub(crate) fn lsh32(v: u64, sh: u64) -> u64 {
    ((v as u32) << (sh & 31)) as u64
}

#[inline(always)]
pub(crate) fn rsh64(v: u64, sh: u64) -> u64 {
    v >> (sh & 63)
}

#[inline(always)]
pub(crate) fn rsh32(v: u64, sh: u64) -> u64 {
    ((v as u32) >> (sh & 31)) as u64
}

#[inline(always)]
pub(crate) fn or64(a: u64, b: u64) -> u64 {
    a | b
}

#[inline(always)]
pub(crate) fn or32(a: u64, b: u64) -> u64 {
    (a as u32 | b as u32) as u64
}

/// Generates, from one table, the simple ALU operations ([`Alu`], each
/// named after its [`Code`]) and what each computes ([`apply`]). A row:
/// the operation, `imm` or `reg` for the operand, and the result as a
/// function of the destination `a` and the operand `b`.
macro_rules! simple_alu {
    ($($alu:ident, $kind:ident, |$a:tt, $b:ident| $e:expr;)*) => {
        /// A simple ALU operation (operation, width, operand kind): one
        /// that cannot fault or branch. The interpreter runs these through
        /// [`apply`], alone or as the second operation of a fused `mov`.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
        #[repr(u8)]
        #[allow(missing_docs)]
        pub(crate) enum Alu {
            #[default]
            $($alu,)*
        }

        /// Runs `alu` on `reg[d]` with `reg[s]` or `imm` (sign-extended
        /// from 32 bits; the 32-bit operations use its low half), as the
        /// kernel's ALU does: 32-bit results zero-extended, shift amounts
        /// masked to the width.
        #[inline(always)]
        pub(crate) fn apply(alu: Alu, reg: &mut [u64; 11], d: R, s: R, imm: u64) {
            match alu {
                $(Alu::$alu => {
                    let ($a, $b) = (reg[d as usize], simple_alu!(@operand $kind, reg, s, imm));
                    reg[d as usize] = $e;
                })*
            }
        }
    };
    (@operand imm, $reg:ident, $s:ident, $imm:ident) => {
        $imm
    };
    (@operand reg, $reg:ident, $s:ident, $imm:ident) => {
        $reg[$s as usize]
    };
}

simple_alu! {
    Add64Imm, imm, |a, b| a.wrapping_add(b);
    Add64Reg, reg, |a, b| a.wrapping_add(b);
    Sub64Imm, imm, |a, b| a.wrapping_sub(b);
    Sub64Reg, reg, |a, b| a.wrapping_sub(b);
    Mul64Imm, imm, |a, b| a.wrapping_mul(b);
    Mul64Reg, reg, |a, b| a.wrapping_mul(b);
    Or64Imm, imm, |a, b| or64(a, b);
    Or64Reg, reg, |a, b| or64(a, b);
    And64Imm, imm, |a, b| a & b;
    And64Reg, reg, |a, b| a & b;
    Lsh64Imm, imm, |a, b| lsh64(a, b);
    Lsh64Reg, reg, |a, b| lsh64(a, b);
    Rsh64Imm, imm, |a, b| rsh64(a, b);
    Rsh64Reg, reg, |a, b| rsh64(a, b);
    Arsh64Imm, imm, |a, b| ((a as i64) >> (b & 63)) as u64;
    Arsh64Reg, reg, |a, b| ((a as i64) >> (b & 63)) as u64;
    Xor64Imm, imm, |a, b| a ^ b;
    Xor64Reg, reg, |a, b| a ^ b;
    Mov64Imm, imm, |_, b| b;
    Mov64Reg, reg, |_, b| b;
    Add32Imm, imm, |a, b| (a as u32).wrapping_add(b as u32) as u64;
    Add32Reg, reg, |a, b| (a as u32).wrapping_add(b as u32) as u64;
    Sub32Imm, imm, |a, b| (a as u32).wrapping_sub(b as u32) as u64;
    Sub32Reg, reg, |a, b| (a as u32).wrapping_sub(b as u32) as u64;
    Mul32Imm, imm, |a, b| (a as u32).wrapping_mul(b as u32) as u64;
    Mul32Reg, reg, |a, b| (a as u32).wrapping_mul(b as u32) as u64;
    Or32Imm, imm, |a, b| or32(a, b);
    Or32Reg, reg, |a, b| or32(a, b);
    And32Imm, imm, |a, b| (a as u32 & b as u32) as u64;
    And32Reg, reg, |a, b| (a as u32 & b as u32) as u64;
    Lsh32Imm, imm, |a, b| lsh32(a, b);
    Lsh32Reg, reg, |a, b| lsh32(a, b);
    Rsh32Imm, imm, |a, b| rsh32(a, b);
    Rsh32Reg, reg, |a, b| rsh32(a, b);
    Arsh32Imm, imm, |a, b| ((a as i32) >> (b & 31)) as u32 as u64;
    Arsh32Reg, reg, |a, b| ((a as i32) >> (b & 31)) as u32 as u64;
    Xor32Imm, imm, |a, b| (a as u32 ^ b as u32) as u64;
    Xor32Reg, reg, |a, b| (a as u32 ^ b as u32) as u64;
    Mov32Imm, imm, |_, b| b as u32 as u64;
    Mov32Reg, reg, |_, b| b as u32 as u64;
}
