//! Lowering a checked [`Program`] to the interpreter's [`Op`] array.
//!
//! All decoding work happens here, once: immediates are extended to 64 bits
//! the way their width requires, relative jumps become absolute slot indexes,
//! the two halves of an `lddw` become one 64-bit value.

use bpfkit_isa::{
    AluOp, AtomicOp, ByteOrder, CallTarget, Cond, Instruction, LddwKind, Operand, Program, Size,
    Width,
};

use crate::error::LoadError;
use crate::op::{Code, Op};

/// The values a loader gives the pseudo `lddw`s (map handles, map value
/// addresses, function addresses), by slot index.
pub(crate) type LddwValues = std::collections::HashMap<usize, u64>;

/// Lowers every instruction of `program`, then fuses the groups that have
/// a superinstruction and plans the budget's charging by run
/// ([`crate::charge`]), and makes the jump targets byte offsets (see
/// [`Op::aux`]); the result has one op per slot, then at least
/// [`GUARDS`] [`Code::End`] guards, as many as make the length a power of
/// two (the loop's fetch masks its offset with it). A pseudo `lddw`
/// takes its value from `lddw`, and is refused when it has none.
pub(crate) fn compile(program: &Program, lddw: &LddwValues) -> Result<Vec<Op>, LoadError> {
    build(program, lddw, true)
}

/// Like [`compile`] without the superinstructions: the reference the fused
/// ops are tested against.
#[cfg(test)]
pub(crate) fn compile_unfused(program: &Program, lddw: &LddwValues) -> Result<Vec<Op>, LoadError> {
    build(program, lddw, false)
}

/// The fewest guards after a program: more than any op advances past its
/// own slot (a fused group covers at most 4 slots), so that a run falling
/// off the end lands on one.
pub(crate) const GUARDS: usize = 4;

/// The size of an op, which the compiled jump targets count in.
pub(crate) const OP_BYTES: u32 = std::mem::size_of::<Op>() as u32;

/// The most ops a compiled program has: its jump targets are byte offsets
/// in a `u32`.
const MAX_OPS: usize = 1 << 27;
const _: () = assert!(MAX_OPS as u64 * OP_BYTES as u64 == 1 << 32);

/// The number of program slots of compiled `ops`: those before the guards.
pub(crate) fn program_len(ops: &[Op]) -> usize {
    ops.iter()
        .rposition(|op| op.code != Code::End)
        .map_or(0, |i| i + 1)
}

/// The ops of the program's slots: `ops` without the guards.
#[cfg(test)]
pub(crate) fn program_ops(ops: &[Op]) -> &[Op] {
    let program = &ops[..program_len(ops)];
    assert!(ops.len() - program.len() >= GUARDS && ops.len().is_power_of_two());
    program
}

/// The length of the op array for a program of `slots` slots: with at
/// least [`GUARDS`] guards, a power of two. Refused when that is over
/// `max` ops ([`MAX_OPS`], whose byte offsets fit in a `u32`).
fn padded_len(slots: usize, max: usize) -> Result<usize, LoadError> {
    slots
        .checked_add(GUARDS)
        .and_then(usize::checked_next_power_of_two)
        .filter(|&size| size <= max)
        .ok_or(LoadError::TooLarge {
            slots,
            max: max - GUARDS,
        })
}

/// Lowers, fuses if `fuse`, and plans the charging (from the runs of the
/// unfused ops, which fusion does not change).
fn build(program: &Program, lddw: &LddwValues, fuse: bool) -> Result<Vec<Op>, LoadError> {
    let mut ops = lower_all(program, lddw)?;
    let runs = crate::charge::run_lengths(&ops);
    if fuse {
        crate::fuse::fuse(&mut ops);
    }
    crate::charge::plan(&mut ops, &runs);
    let size = padded_len(ops.len(), MAX_OPS)?;
    for op in &mut ops {
        if op.code.jumps_by_aux() {
            op.aux *= OP_BYTES;
        }
        op.next *= OP_BYTES;
    }
    ops.resize(size, Op::new(Code::End, 0, 0, 0, 0));
    Ok(ops)
}

/// Lowers every instruction of `program` one to one, without fusing.
fn lower_all(program: &Program, lddw: &LddwValues) -> Result<Vec<Op>, LoadError> {
    let mut ops = vec![Op::new(Code::LddwTail, 0, 0, 0, 0); program.len()];
    for &(pc, insn) in program.instructions() {
        ops[pc] = match (insn, lddw.get(&pc)) {
            (Instruction::LoadImm64 { dst, kind, .. }, Some(&value)) if kind != LddwKind::Imm64 => {
                Op::new(Code::Lddw, dst.num(), 0, 0, value)
            }
            _ => lower(pc, insn)?,
        };
    }
    Ok(ops)
}

/// The absolute target of a relative jump at `pc`. `check` has proven it is
/// inside the program, so it fits in `u32` for any program that fits in memory.
fn target(pc: usize, off: i64) -> u32 {
    (pc as i64 + 1 + off) as u32
}

/// An immediate as the operand of a `width` operation: sign-extended for
/// 64 bits, zero-extended from its 32 bits otherwise.
fn extend(width: Width, imm: i32) -> u64 {
    match width {
        Width::W64 => imm as i64 as u64,
        Width::W32 => imm as u32 as u64,
    }
}

fn lower(pc: usize, insn: Instruction) -> Result<Op, LoadError> {
    Ok(match insn {
        Instruction::Alu {
            width,
            op,
            dst,
            src,
        } => {
            let (src_reg, imm, is_imm) = match src {
                Operand::Reg(r) => (r.num(), 0, false),
                Operand::Imm(i) => (0, extend(width, i), true),
            };
            Op::new(alu_code(width, op, is_imm), dst.num(), src_reg, 0, imm)
        }
        Instruction::Neg { width, dst } => {
            let code = match width {
                Width::W64 => Code::Neg64,
                Width::W32 => Code::Neg32,
            };
            Op::new(code, dst.num(), 0, 0, 0)
        }
        Instruction::Endian { order, bits, dst } => {
            let code = match (order, bits) {
                (ByteOrder::Le, 16) => Code::Le16,
                (ByteOrder::Le, 32) => Code::Le32,
                (ByteOrder::Le, _) => Code::Le64,
                (ByteOrder::Be, 16) => Code::Be16,
                (ByteOrder::Be, 32) => Code::Be32,
                (ByteOrder::Be, _) => Code::Be64,
                (ByteOrder::Swap, 16) => Code::Swap16,
                (ByteOrder::Swap, 32) => Code::Swap32,
                (ByteOrder::Swap, _) => Code::Swap64,
            };
            Op::new(code, dst.num(), 0, 0, 0)
        }
        Instruction::LoadImm64 { dst, kind, lo, hi } => {
            let what = match kind {
                LddwKind::Imm64 => "",
                LddwKind::MapFd | LddwKind::MapIdx => "lddw of a map reference",
                LddwKind::MapValue | LddwKind::MapIdxValue => "lddw of a map value address",
                LddwKind::BtfId => "lddw of a kernel variable (BTF id)",
                LddwKind::Func => "lddw of a function address",
            };
            if !what.is_empty() {
                return Err(LoadError::Unsupported { pc, what });
            }
            let value = (lo as u32 as u64) | ((hi as u32 as u64) << 32);
            Op::new(Code::Lddw, dst.num(), 0, 0, value)
        }
        Instruction::Load {
            size,
            signed,
            dst,
            src,
            off,
        } => {
            let code = match (size, signed) {
                (Size::B, false) => Code::LdxB,
                (Size::H, false) => Code::LdxH,
                (Size::W, false) => Code::LdxW,
                (Size::DW, _) => Code::LdxDW,
                (Size::B, true) => Code::LdsxB,
                (Size::H, true) => Code::LdsxH,
                (Size::W, true) => Code::LdsxW,
            };
            Op::new(code, dst.num(), src.num(), 0, off as i64 as u64)
        }
        Instruction::Store {
            size,
            dst,
            off,
            src,
        } => match src {
            Operand::Reg(r) => {
                let code = match size {
                    Size::B => Code::StxB,
                    Size::H => Code::StxH,
                    Size::W => Code::StxW,
                    Size::DW => Code::StxDW,
                };
                Op::new(code, dst.num(), r.num(), 0, off as i64 as u64)
            }
            Operand::Imm(value) => {
                let code = match size {
                    Size::B => Code::StB,
                    Size::H => Code::StH,
                    Size::W => Code::StW,
                    Size::DW => Code::StDW,
                };
                // The kernel stores the sign-extended immediate, truncated to the size.
                Op::new(code, dst.num(), 0, off as i32 as u32, value as i64 as u64)
            }
        },
        Instruction::Atomic {
            size,
            op,
            fetch,
            dst,
            src,
            off,
        } => {
            let code = if size == Size::DW {
                Code::Atomic64
            } else {
                Code::Atomic32
            };
            Op::new(
                code,
                dst.num(),
                src.num(),
                AtomicKind::from_isa(op, fetch) as u32,
                off as i64 as u64,
            )
        }
        Instruction::LoadPacket { size, src, imm } => {
            let code = match (size, src.is_some()) {
                (Size::B, false) => Code::LdAbsB,
                (Size::H, false) => Code::LdAbsH,
                (_, false) => Code::LdAbsW,
                (Size::B, true) => Code::LdIndB,
                (Size::H, true) => Code::LdIndH,
                (_, true) => Code::LdIndW,
            };
            let src = src.map_or(0, |r| r.num());
            Op::new(code, 0, src, 0, imm as i64 as u64)
        }
        Instruction::Ja { off, .. } => Op::new(Code::Ja, 0, 0, target(pc, off as i64), 0),
        Instruction::Jump {
            width,
            cond,
            dst,
            src,
            off,
        } => {
            let (src_reg, imm, is_imm) = match src {
                Operand::Reg(r) => (r.num(), 0, false),
                Operand::Imm(i) => (0, extend(width, i), true),
            };
            Op::new(
                jump_code(width, cond, is_imm),
                dst.num(),
                src_reg,
                target(pc, off as i64),
                imm,
            )
        }
        Instruction::Call(CallTarget::Helper(id)) => {
            // `aux` (the dense helper index) is filled in when helpers are resolved.
            Op::new(Code::CallHelper, 0, 0, 0, id as u32 as u64)
        }
        Instruction::Call(CallTarget::Local(off)) => {
            Op::new(Code::CallLocal, 0, 0, target(pc, off as i64), 0)
        }
        Instruction::Call(CallTarget::Kfunc { .. }) => {
            return Err(LoadError::Unsupported {
                pc,
                what: "a kfunc call",
            })
        }
        Instruction::CallX { reg } => Op::new(Code::CallReg, reg.num(), 0, 0, 0),
        Instruction::Exit => Op::new(Code::Exit, 0, 0, 0, 0),
    })
}

/// The atomic operations, as carried in an atomic op's `aux`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AtomicKind {
    Add,
    Or,
    And,
    Xor,
    FetchAdd,
    FetchOr,
    FetchAnd,
    FetchXor,
    Xchg,
    CmpXchg,
}

impl AtomicKind {
    fn from_isa(op: AtomicOp, fetch: bool) -> AtomicKind {
        match (op, fetch) {
            (AtomicOp::Add, false) => AtomicKind::Add,
            (AtomicOp::Or, false) => AtomicKind::Or,
            (AtomicOp::And, false) => AtomicKind::And,
            (AtomicOp::Xor, false) => AtomicKind::Xor,
            (AtomicOp::Add, true) => AtomicKind::FetchAdd,
            (AtomicOp::Or, true) => AtomicKind::FetchOr,
            (AtomicOp::And, true) => AtomicKind::FetchAnd,
            (AtomicOp::Xor, true) => AtomicKind::FetchXor,
            (AtomicOp::Xchg, _) => AtomicKind::Xchg,
            (AtomicOp::CmpXchg, _) => AtomicKind::CmpXchg,
        }
    }

    /// The inverse of `as u32`, for the interpreter.
    pub(crate) fn from_aux(aux: u32) -> AtomicKind {
        const ALL: [AtomicKind; 10] = [
            AtomicKind::Add,
            AtomicKind::Or,
            AtomicKind::And,
            AtomicKind::Xor,
            AtomicKind::FetchAdd,
            AtomicKind::FetchOr,
            AtomicKind::FetchAnd,
            AtomicKind::FetchXor,
            AtomicKind::Xchg,
            AtomicKind::CmpXchg,
        ];
        ALL[aux as usize % ALL.len()]
    }
}

fn alu_code(width: Width, op: AluOp, imm: bool) -> Code {
    use Code::*;
    let pick = |i: Code, r: Code| if imm { i } else { r };
    match width {
        Width::W64 => match op {
            AluOp::Add => pick(Add64Imm, Add64Reg),
            AluOp::Sub => pick(Sub64Imm, Sub64Reg),
            AluOp::Mul => pick(Mul64Imm, Mul64Reg),
            AluOp::Div => pick(Div64Imm, Div64Reg),
            AluOp::SDiv => pick(SDiv64Imm, SDiv64Reg),
            AluOp::Mod => pick(Mod64Imm, Mod64Reg),
            AluOp::SMod => pick(SMod64Imm, SMod64Reg),
            AluOp::Or => pick(Or64Imm, Or64Reg),
            AluOp::And => pick(And64Imm, And64Reg),
            AluOp::Lsh => pick(Lsh64Imm, Lsh64Reg),
            AluOp::Rsh => pick(Rsh64Imm, Rsh64Reg),
            AluOp::Arsh => pick(Arsh64Imm, Arsh64Reg),
            AluOp::Xor => pick(Xor64Imm, Xor64Reg),
            AluOp::Mov => pick(Mov64Imm, Mov64Reg),
            AluOp::MovSx(8) => MovSx64B,
            AluOp::MovSx(16) => MovSx64H,
            AluOp::MovSx(_) => MovSx64W,
        },
        Width::W32 => match op {
            AluOp::Add => pick(Add32Imm, Add32Reg),
            AluOp::Sub => pick(Sub32Imm, Sub32Reg),
            AluOp::Mul => pick(Mul32Imm, Mul32Reg),
            AluOp::Div => pick(Div32Imm, Div32Reg),
            AluOp::SDiv => pick(SDiv32Imm, SDiv32Reg),
            AluOp::Mod => pick(Mod32Imm, Mod32Reg),
            AluOp::SMod => pick(SMod32Imm, SMod32Reg),
            AluOp::Or => pick(Or32Imm, Or32Reg),
            AluOp::And => pick(And32Imm, And32Reg),
            AluOp::Lsh => pick(Lsh32Imm, Lsh32Reg),
            AluOp::Rsh => pick(Rsh32Imm, Rsh32Reg),
            AluOp::Arsh => pick(Arsh32Imm, Arsh32Reg),
            AluOp::Xor => pick(Xor32Imm, Xor32Reg),
            AluOp::Mov => pick(Mov32Imm, Mov32Reg),
            AluOp::MovSx(8) => MovSx32B,
            // The decoder admits only 8 and 16 for the 32-bit form.
            AluOp::MovSx(_) => MovSx32H,
        },
    }
}

fn jump_code(width: Width, cond: Cond, imm: bool) -> Code {
    use Code::*;
    let pick = |i: Code, r: Code| if imm { i } else { r };
    match width {
        Width::W64 => match cond {
            Cond::Eq => pick(Jeq64Imm, Jeq64Reg),
            Cond::Gt => pick(Jgt64Imm, Jgt64Reg),
            Cond::Ge => pick(Jge64Imm, Jge64Reg),
            Cond::Set => pick(Jset64Imm, Jset64Reg),
            Cond::Ne => pick(Jne64Imm, Jne64Reg),
            Cond::Sgt => pick(Jsgt64Imm, Jsgt64Reg),
            Cond::Sge => pick(Jsge64Imm, Jsge64Reg),
            Cond::Lt => pick(Jlt64Imm, Jlt64Reg),
            Cond::Le => pick(Jle64Imm, Jle64Reg),
            Cond::Slt => pick(Jslt64Imm, Jslt64Reg),
            Cond::Sle => pick(Jsle64Imm, Jsle64Reg),
        },
        Width::W32 => match cond {
            Cond::Eq => pick(Jeq32Imm, Jeq32Reg),
            Cond::Gt => pick(Jgt32Imm, Jgt32Reg),
            Cond::Ge => pick(Jge32Imm, Jge32Reg),
            Cond::Set => pick(Jset32Imm, Jset32Reg),
            Cond::Ne => pick(Jne32Imm, Jne32Reg),
            Cond::Sgt => pick(Jsgt32Imm, Jsgt32Reg),
            Cond::Sge => pick(Jsge32Imm, Jsge32Reg),
            Cond::Lt => pick(Jlt32Imm, Jlt32Reg),
            Cond::Le => pick(Jle32Imm, Jle32Reg),
            Cond::Slt => pick(Jslt32Imm, Jslt32Reg),
            Cond::Sle => pick(Jsle32Imm, Jsle32Reg),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_op_array_is_a_power_of_two_with_room_for_the_guards() {
        assert_eq!(padded_len(0, MAX_OPS).unwrap(), 4);
        assert_eq!(padded_len(1, MAX_OPS).unwrap(), 8);
        assert_eq!(padded_len(4, MAX_OPS).unwrap(), 8);
        assert_eq!(padded_len(5, MAX_OPS).unwrap(), 16);
        assert_eq!(padded_len(MAX_OPS - GUARDS, MAX_OPS).unwrap(), MAX_OPS);
    }

    #[test]
    fn a_program_whose_offsets_would_not_fit_in_32_bits_is_refused() {
        // One slot more than fits: the array would be 2^28 ops, its byte
        // offsets 2^33.
        let slots = MAX_OPS - GUARDS + 1;
        let err = padded_len(slots, MAX_OPS).unwrap_err();
        assert!(
            matches!(err, LoadError::TooLarge { slots: s, max } if s == slots && max == MAX_OPS - GUARDS)
        );
        assert_eq!(
            err.to_string(),
            "the program has 134217725 instruction slots; the userspace VM runs at most 134217724"
        );
        // The same with a small limit, and where the sum would overflow.
        assert!(padded_len(5, 8).is_err());
        assert_eq!(padded_len(4, 8).unwrap(), 8);
        assert!(padded_len(usize::MAX - 1, MAX_OPS).is_err());
    }
}
