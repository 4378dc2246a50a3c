//! Bundles: two adjacent ALU instructions that no superinstruction of
//! [`crate::fuse`] covers, run by one op, so that the interpreter
//! dispatches once for both. The first is the op's own `Code` (one
//! `…Then` code per [`Alu`] operation); the second is the [`Alu`] in the
//! op's `alu2`, run by a jump table inside the first's arm, which costs
//! less than a dispatch of its own (no bounds check, no op to load, no
//! `pc` to move).
//!
//! Only the ALU operations that cannot fault or branch are bundled (`add`,
//! `sub`, `mul`, `or`, `and`, the shifts, `xor`, `mov`, at both widths,
//! with an immediate or a register), so a bundle's instruction count,
//! budget and error locations are those of its two instructions, as for
//! every superinstruction.

use crate::op::{Code, Op, R};

/// A simple ALU operation: operation, width, operand kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
#[repr(u8)]
#[allow(missing_docs)]
pub(crate) enum Alu {
    #[default]
    Add64Imm,
    Add64Reg,
    Sub64Imm,
    Sub64Reg,
    Mul64Imm,
    Mul64Reg,
    Or64Imm,
    Or64Reg,
    And64Imm,
    And64Reg,
    Lsh64Imm,
    Lsh64Reg,
    Rsh64Imm,
    Rsh64Reg,
    Arsh64Imm,
    Arsh64Reg,
    Xor64Imm,
    Xor64Reg,
    Mov64Imm,
    Mov64Reg,
    Add32Imm,
    Add32Reg,
    Sub32Imm,
    Sub32Reg,
    Mul32Imm,
    Mul32Reg,
    Or32Imm,
    Or32Reg,
    And32Imm,
    And32Reg,
    Lsh32Imm,
    Lsh32Reg,
    Rsh32Imm,
    Rsh32Reg,
    Arsh32Imm,
    Arsh32Reg,
    Xor32Imm,
    Xor32Reg,
    Mov32Imm,
    Mov32Reg,
}

/// The bundled operation of `code`, if it is one.
pub(crate) fn alu_of(code: Code) -> Option<Alu> {
    use Code::*;
    Some(match code {
        Add64Imm => Alu::Add64Imm,
        Add64Reg => Alu::Add64Reg,
        Sub64Imm => Alu::Sub64Imm,
        Sub64Reg => Alu::Sub64Reg,
        Mul64Imm => Alu::Mul64Imm,
        Mul64Reg => Alu::Mul64Reg,
        Or64Imm => Alu::Or64Imm,
        Or64Reg => Alu::Or64Reg,
        And64Imm => Alu::And64Imm,
        And64Reg => Alu::And64Reg,
        Lsh64Imm => Alu::Lsh64Imm,
        Lsh64Reg => Alu::Lsh64Reg,
        Rsh64Imm => Alu::Rsh64Imm,
        Rsh64Reg => Alu::Rsh64Reg,
        Arsh64Imm => Alu::Arsh64Imm,
        Arsh64Reg => Alu::Arsh64Reg,
        Xor64Imm => Alu::Xor64Imm,
        Xor64Reg => Alu::Xor64Reg,
        Mov64Imm => Alu::Mov64Imm,
        Mov64Reg => Alu::Mov64Reg,
        Add32Imm => Alu::Add32Imm,
        Add32Reg => Alu::Add32Reg,
        Sub32Imm => Alu::Sub32Imm,
        Sub32Reg => Alu::Sub32Reg,
        Mul32Imm => Alu::Mul32Imm,
        Mul32Reg => Alu::Mul32Reg,
        Or32Imm => Alu::Or32Imm,
        Or32Reg => Alu::Or32Reg,
        And32Imm => Alu::And32Imm,
        And32Reg => Alu::And32Reg,
        Lsh32Imm => Alu::Lsh32Imm,
        Lsh32Reg => Alu::Lsh32Reg,
        Rsh32Imm => Alu::Rsh32Imm,
        Rsh32Reg => Alu::Rsh32Reg,
        Arsh32Imm => Alu::Arsh32Imm,
        Arsh32Reg => Alu::Arsh32Reg,
        Xor32Imm => Alu::Xor32Imm,
        Xor32Reg => Alu::Xor32Reg,
        Mov32Imm => Alu::Mov32Imm,
        Mov32Reg => Alu::Mov32Reg,
        _ => return None,
    })
}

/// The op code that runs `alu` and then its op's `alu2`.
pub(crate) fn then_code(alu: Alu) -> Code {
    use Code::*;
    match alu {
        Alu::Add64Imm => Add64ImmThen,
        Alu::Add64Reg => Add64RegThen,
        Alu::Sub64Imm => Sub64ImmThen,
        Alu::Sub64Reg => Sub64RegThen,
        Alu::Mul64Imm => Mul64ImmThen,
        Alu::Mul64Reg => Mul64RegThen,
        Alu::Or64Imm => Or64ImmThen,
        Alu::Or64Reg => Or64RegThen,
        Alu::And64Imm => And64ImmThen,
        Alu::And64Reg => And64RegThen,
        Alu::Lsh64Imm => Lsh64ImmThen,
        Alu::Lsh64Reg => Lsh64RegThen,
        Alu::Rsh64Imm => Rsh64ImmThen,
        Alu::Rsh64Reg => Rsh64RegThen,
        Alu::Arsh64Imm => Arsh64ImmThen,
        Alu::Arsh64Reg => Arsh64RegThen,
        Alu::Xor64Imm => Xor64ImmThen,
        Alu::Xor64Reg => Xor64RegThen,
        Alu::Mov64Imm => Mov64ImmThen,
        Alu::Mov64Reg => Mov64RegThen,
        Alu::Add32Imm => Add32ImmThen,
        Alu::Add32Reg => Add32RegThen,
        Alu::Sub32Imm => Sub32ImmThen,
        Alu::Sub32Reg => Sub32RegThen,
        Alu::Mul32Imm => Mul32ImmThen,
        Alu::Mul32Reg => Mul32RegThen,
        Alu::Or32Imm => Or32ImmThen,
        Alu::Or32Reg => Or32RegThen,
        Alu::And32Imm => And32ImmThen,
        Alu::And32Reg => And32RegThen,
        Alu::Lsh32Imm => Lsh32ImmThen,
        Alu::Lsh32Reg => Lsh32RegThen,
        Alu::Rsh32Imm => Rsh32ImmThen,
        Alu::Rsh32Reg => Rsh32RegThen,
        Alu::Arsh32Imm => Arsh32ImmThen,
        Alu::Arsh32Reg => Arsh32RegThen,
        Alu::Xor32Imm => Xor32ImmThen,
        Alu::Xor32Reg => Xor32RegThen,
        Alu::Mov32Imm => Mov32ImmThen,
        Alu::Mov32Reg => Mov32RegThen,
    }
}

/// Runs `alu` on `reg[d]` with `reg[s]` or `imm` (a 32-bit immediate,
/// sign-extended), as the kernel's ALU does.
#[inline(always)]
pub(crate) fn apply(alu: Alu, reg: &mut [u64; 11], d: R, s: R, imm: u64) {
    match alu {
        Alu::Add64Imm => {
            let (a, b) = (reg[d as usize], imm);
            reg[d as usize] = a.wrapping_add(b);
        }
        Alu::Add64Reg => {
            let (a, b) = (reg[d as usize], reg[s as usize]);
            reg[d as usize] = a.wrapping_add(b);
        }
        Alu::Sub64Imm => {
            let (a, b) = (reg[d as usize], imm);
            reg[d as usize] = a.wrapping_sub(b);
        }
        Alu::Sub64Reg => {
            let (a, b) = (reg[d as usize], reg[s as usize]);
            reg[d as usize] = a.wrapping_sub(b);
        }
        Alu::Mul64Imm => {
            let (a, b) = (reg[d as usize], imm);
            reg[d as usize] = a.wrapping_mul(b);
        }
        Alu::Mul64Reg => {
            let (a, b) = (reg[d as usize], reg[s as usize]);
            reg[d as usize] = a.wrapping_mul(b);
        }
        Alu::Or64Imm => {
            let (a, b) = (reg[d as usize], imm);
            reg[d as usize] = a | b;
        }
        Alu::Or64Reg => {
            let (a, b) = (reg[d as usize], reg[s as usize]);
            reg[d as usize] = a | b;
        }
        Alu::And64Imm => {
            let (a, b) = (reg[d as usize], imm);
            reg[d as usize] = a & b;
        }
        Alu::And64Reg => {
            let (a, b) = (reg[d as usize], reg[s as usize]);
            reg[d as usize] = a & b;
        }
        Alu::Lsh64Imm => {
            let (a, b) = (reg[d as usize], imm);
            reg[d as usize] = a << (b & 63);
        }
        Alu::Lsh64Reg => {
            let (a, b) = (reg[d as usize], reg[s as usize]);
            reg[d as usize] = a << (b & 63);
        }
        Alu::Rsh64Imm => {
            let (a, b) = (reg[d as usize], imm);
            reg[d as usize] = a >> (b & 63);
        }
        Alu::Rsh64Reg => {
            let (a, b) = (reg[d as usize], reg[s as usize]);
            reg[d as usize] = a >> (b & 63);
        }
        Alu::Arsh64Imm => {
            let (a, b) = (reg[d as usize], imm);
            reg[d as usize] = ((a as i64) >> (b & 63)) as u64;
        }
        Alu::Arsh64Reg => {
            let (a, b) = (reg[d as usize], reg[s as usize]);
            reg[d as usize] = ((a as i64) >> (b & 63)) as u64;
        }
        Alu::Xor64Imm => {
            let (a, b) = (reg[d as usize], imm);
            reg[d as usize] = a ^ b;
        }
        Alu::Xor64Reg => {
            let (a, b) = (reg[d as usize], reg[s as usize]);
            reg[d as usize] = a ^ b;
        }
        Alu::Mov64Imm => {
            let b = imm;
            reg[d as usize] = b;
        }
        Alu::Mov64Reg => {
            let b = reg[s as usize];
            reg[d as usize] = b;
        }
        Alu::Add32Imm => {
            let (a, b) = (reg[d as usize], imm);
            reg[d as usize] = (a as u32).wrapping_add(b as u32) as u64;
        }
        Alu::Add32Reg => {
            let (a, b) = (reg[d as usize], reg[s as usize]);
            reg[d as usize] = (a as u32).wrapping_add(b as u32) as u64;
        }
        Alu::Sub32Imm => {
            let (a, b) = (reg[d as usize], imm);
            reg[d as usize] = (a as u32).wrapping_sub(b as u32) as u64;
        }
        Alu::Sub32Reg => {
            let (a, b) = (reg[d as usize], reg[s as usize]);
            reg[d as usize] = (a as u32).wrapping_sub(b as u32) as u64;
        }
        Alu::Mul32Imm => {
            let (a, b) = (reg[d as usize], imm);
            reg[d as usize] = (a as u32).wrapping_mul(b as u32) as u64;
        }
        Alu::Mul32Reg => {
            let (a, b) = (reg[d as usize], reg[s as usize]);
            reg[d as usize] = (a as u32).wrapping_mul(b as u32) as u64;
        }
        Alu::Or32Imm => {
            let (a, b) = (reg[d as usize], imm);
            reg[d as usize] = (a as u32 | b as u32) as u64;
        }
        Alu::Or32Reg => {
            let (a, b) = (reg[d as usize], reg[s as usize]);
            reg[d as usize] = (a as u32 | b as u32) as u64;
        }
        Alu::And32Imm => {
            let (a, b) = (reg[d as usize], imm);
            reg[d as usize] = (a as u32 & b as u32) as u64;
        }
        Alu::And32Reg => {
            let (a, b) = (reg[d as usize], reg[s as usize]);
            reg[d as usize] = (a as u32 & b as u32) as u64;
        }
        Alu::Lsh32Imm => {
            let (a, b) = (reg[d as usize], imm);
            reg[d as usize] = ((a as u32) << (b & 31)) as u64;
        }
        Alu::Lsh32Reg => {
            let (a, b) = (reg[d as usize], reg[s as usize]);
            reg[d as usize] = ((a as u32) << (b & 31)) as u64;
        }
        Alu::Rsh32Imm => {
            let (a, b) = (reg[d as usize], imm);
            reg[d as usize] = ((a as u32) >> (b & 31)) as u64;
        }
        Alu::Rsh32Reg => {
            let (a, b) = (reg[d as usize], reg[s as usize]);
            reg[d as usize] = ((a as u32) >> (b & 31)) as u64;
        }
        Alu::Arsh32Imm => {
            let (a, b) = (reg[d as usize], imm);
            reg[d as usize] = ((a as i32) >> (b & 31)) as u32 as u64;
        }
        Alu::Arsh32Reg => {
            let (a, b) = (reg[d as usize], reg[s as usize]);
            reg[d as usize] = ((a as i32) >> (b & 31)) as u32 as u64;
        }
        Alu::Xor32Imm => {
            let (a, b) = (reg[d as usize], imm);
            reg[d as usize] = (a as u32 ^ b as u32) as u64;
        }
        Alu::Xor32Reg => {
            let (a, b) = (reg[d as usize], reg[s as usize]);
            reg[d as usize] = (a as u32 ^ b as u32) as u64;
        }
        Alu::Mov32Imm => {
            let b = imm;
            reg[d as usize] = b as u32 as u64;
        }
        Alu::Mov32Reg => {
            let b = reg[s as usize];
            reg[d as usize] = b as u32 as u64;
        }
    }
}

/// Whether `code` is a bundle's.
pub(crate) fn is_bundle(code: Code) -> bool {
    (Code::Add64ImmThen as u16..=Code::Mov32RegThen as u16).contains(&(code as u16))
}

/// The bundle of `first` and `second`, if both are bundleable ALU
/// instructions.
pub(crate) fn pair(first: Op, second: Op) -> Option<Op> {
    let (a, b) = (alu_of(first.code)?, alu_of(second.code)?);
    Some(Op {
        code: then_code(a),
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
            let then = then_code(alu);
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
