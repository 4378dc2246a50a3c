//! Bundles: two adjacent ALU instructions that no superinstruction of
//! [`crate::fuse`] covers, run by one op, so that the interpreter
//! dispatches once for both. The first is the op's own `Code` (one
//! `…Then` code per [`Alu`](crate::alu::Alu) operation); the second is the
//! `Alu` in the op's `alu2`, run by a jump table inside the first's arm,
//! which costs
//! less than a dispatch of its own (no bounds check, no op to load, no
//! `pc` to move).
//!
//! Only the ALU operations that cannot fault or branch are bundled (`add`,
//! `sub`, `mul`, `or`, `and`, the shifts, `xor`, `mov`, at both widths,
//! with an immediate or a register), so a bundle's instruction count,
//! budget and error locations are those of its two instructions, as for
//! every superinstruction.

use crate::alu::{alu_of, bundle_code};
use crate::op::{Code, Op};

/// Whether `code` is a bundle's.
pub(crate) fn is_bundle(code: Code) -> bool {
    (Code::Add64ImmThen as u16..=Code::Mov32RegThen as u16).contains(&(code as u16))
}

/// The bundle of `first` and `second`, if both are bundleable ALU
/// instructions.
pub(crate) fn pair(first: Op, second: Op) -> Option<Op> {
    let (a, b) = (alu_of(first.code)?, alu_of(second.code)?);
    Some(Op {
        code: bundle_code(a),
        dst2: second.dst,
        src2: second.src,
        alu2: b,
        imm: (second.imm as u32 as u64) << 32 | first.imm as u32 as u64,
        ..first
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alu::Alu;
    use crate::op::R;

    /// Every ALU code a bundle can start with, in `Alu` order.
    const ALU_CODES: [Code; 40] = {
        use Code::*;
        [
            Add64Imm, Add64Reg, Sub64Imm, Sub64Reg, Mul64Imm, Mul64Reg, Or64Imm, Or64Reg, And64Imm,
            And64Reg, Lsh64Imm, Lsh64Reg, Rsh64Imm, Rsh64Reg, Arsh64Imm, Arsh64Reg, Xor64Imm,
            Xor64Reg, Mov64Imm, Mov64Reg, Add32Imm, Add32Reg, Sub32Imm, Sub32Reg, Mul32Imm,
            Mul32Reg, Or32Imm, Or32Reg, And32Imm, And32Reg, Lsh32Imm, Lsh32Reg, Rsh32Imm, Rsh32Reg,
            Arsh32Imm, Arsh32Reg, Xor32Imm, Xor32Reg, Mov32Imm, Mov32Reg,
        ]
    };

    #[test]
    fn each_alu_code_has_its_own_bundle_code() {
        let mut seen = std::collections::HashSet::new();
        for code in ALU_CODES {
            let alu = alu_of(code).expect("bundleable");
            let then = bundle_code(alu);
            assert!(is_bundle(then), "{code:?} -> {then:?}");
            assert!(seen.insert(then), "{then:?} twice");
        }
        // The range `is_bundle` tests holds the bundle codes and nothing else.
        let range = Code::Add64ImmThen as u16..=Code::Mov32RegThen as u16;
        assert_eq!(range.count(), seen.len());
        for other in [
            Code::Div64Imm,
            Code::Neg64,
            Code::MovSx64B,
            Code::LdxB,
            Code::CallHelper,
            Code::Exit,
        ] {
            assert!(alu_of(other).is_none() && !is_bundle(other), "{other:?}");
        }
    }

    #[test]
    fn a_bundle_keeps_both_immediates_and_registers() {
        let first = Op::new(Code::Add64Imm, 3, 0, 0, -7i64 as u64);
        let second = Op::new(Code::Xor32Reg, 4, 5, 0, 0);
        let op = pair(first, second).expect("a bundle");
        assert_eq!(op.code, Code::Add64ImmThen);
        assert_eq!(
            (op.dst, op.dst2, op.src2, op.alu2),
            (R::R3, R::R4, R::R5, Alu::Xor32Reg)
        );
        assert_eq!(op.imm as u32 as i32, -7);
        assert!(pair(first, Op::new(Code::LdxB, 4, 5, 0, 0)).is_none());
    }
}
