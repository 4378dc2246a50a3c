//! Typed instruction to raw slots: the inverse of [`Instruction::decode`].

use crate::insn::Insn;
use crate::instruction::{
    AluOp, AtomicOp, ByteOrder, CallTarget, Cond, Encoded, Instruction, Operand, Width,
};
use crate::opcode as op;

fn alu_class(w: Width) -> u8 {
    match w {
        Width::W32 => op::ALU,
        Width::W64 => op::ALU64,
    }
}

fn jmp_class(w: Width) -> u8 {
    match w {
        Width::W32 => op::JMP32,
        Width::W64 => op::JMP,
    }
}

/// The opcode bits and `off` of an ALU operation.
fn alu_op(a: AluOp) -> (u8, i16) {
    match a {
        AluOp::Add => (op::ADD, 0),
        AluOp::Sub => (op::SUB, 0),
        AluOp::Mul => (op::MUL, 0),
        AluOp::Div => (op::DIV, 0),
        AluOp::SDiv => (op::DIV, 1),
        AluOp::Or => (op::OR, 0),
        AluOp::And => (op::AND, 0),
        AluOp::Lsh => (op::LSH, 0),
        AluOp::Rsh => (op::RSH, 0),
        AluOp::Mod => (op::MOD, 0),
        AluOp::SMod => (op::MOD, 1),
        AluOp::Xor => (op::XOR, 0),
        AluOp::Mov => (op::MOV, 0),
        AluOp::MovSx(bits) => (op::MOV, bits as i16),
        AluOp::Arsh => (op::ARSH, 0),
    }
}

/// The opcode bits of a jump condition.
pub(crate) fn cond_op(c: Cond) -> u8 {
    match c {
        Cond::Eq => op::JEQ,
        Cond::Gt => op::JGT,
        Cond::Ge => op::JGE,
        Cond::Set => op::JSET,
        Cond::Ne => op::JNE,
        Cond::Sgt => op::JSGT,
        Cond::Sge => op::JSGE,
        Cond::Lt => op::JLT,
        Cond::Le => op::JLE,
        Cond::Slt => op::JSLT,
        Cond::Sle => op::JSLE,
    }
}

/// The `imm` of an atomic operation.
fn atomic_imm(a: AtomicOp, fetch: bool) -> i32 {
    let f = if fetch { op::FETCH } else { 0 };
    match a {
        AtomicOp::Add => op::ADD as i32 | f,
        AtomicOp::Or => op::OR as i32 | f,
        AtomicOp::And => op::AND as i32 | f,
        AtomicOp::Xor => op::XOR as i32 | f,
        AtomicOp::Xchg => op::XCHG,
        AtomicOp::CmpXchg => op::CMPXCHG,
    }
}

/// Source bit, src register field and imm of an operand.
fn operand(o: Operand) -> (u8, u8, i32) {
    match o {
        Operand::Reg(r) => (op::X, r.num(), 0),
        Operand::Imm(i) => (op::K, 0, i),
    }
}

pub(crate) fn encode(i: &Instruction) -> Encoded {
    let one = Encoded::one;
    match *i {
        Instruction::Alu {
            width,
            op: a,
            dst,
            src,
        } => {
            let (bits, off) = alu_op(a);
            let (sbit, sreg, imm) = operand(src);
            one(Insn::new(
                alu_class(width) | bits | sbit,
                dst.num(),
                sreg,
                off,
                imm,
            ))
        }
        Instruction::Neg { width, dst } => {
            one(Insn::new(alu_class(width) | op::NEG, dst.num(), 0, 0, 0))
        }
        Instruction::Endian { order, bits, dst } => {
            let code = match order {
                ByteOrder::Le => op::ALU | op::END | op::TO_LE,
                ByteOrder::Be => op::ALU | op::END | op::TO_BE,
                ByteOrder::Swap => op::ALU64 | op::END,
            };
            one(Insn::new(code, dst.num(), 0, 0, bits as i32))
        }
        Instruction::LoadImm64 { dst, kind, lo, hi } => Encoded::two(
            Insn::new(op::LD | op::IMM | op::DW, dst.num(), kind.src(), 0, lo),
            Insn::new(0, 0, 0, 0, hi),
        ),
        Instruction::Load {
            size,
            signed,
            dst,
            src,
            off,
        } => {
            let mode = if signed { op::MEMSX } else { op::MEM };
            one(Insn::new(
                op::LDX | mode | size.opcode_bits(),
                dst.num(),
                src.num(),
                off,
                0,
            ))
        }
        Instruction::Store {
            size,
            dst,
            off,
            src,
        } => match src {
            Operand::Reg(r) => one(Insn::new(
                op::STX | op::MEM | size.opcode_bits(),
                dst.num(),
                r.num(),
                off,
                0,
            )),
            Operand::Imm(imm) => one(Insn::new(
                op::ST | op::MEM | size.opcode_bits(),
                dst.num(),
                0,
                off,
                imm,
            )),
        },
        Instruction::Atomic {
            size,
            op: a,
            fetch,
            dst,
            src,
            off,
        } => one(Insn::new(
            op::STX | op::ATOMIC | size.opcode_bits(),
            dst.num(),
            src.num(),
            off,
            atomic_imm(a, fetch),
        )),
        Instruction::LoadPacket { size, src, imm } => {
            let (mode, sreg) = match src {
                None => (op::ABS, 0),
                Some(r) => (op::IND, r.num()),
            };
            one(Insn::new(
                op::LD | mode | size.opcode_bits(),
                0,
                sreg,
                0,
                imm,
            ))
        }
        Instruction::Ja { off, long } => {
            if long {
                one(Insn::new(op::JMP32 | op::JA, 0, 0, 0, off))
            } else {
                one(Insn::new(op::JMP | op::JA, 0, 0, off as i16, 0))
            }
        }
        Instruction::Jump {
            width,
            cond,
            dst,
            src,
            off,
        } => {
            let (sbit, sreg, imm) = operand(src);
            one(Insn::new(
                jmp_class(width) | cond_op(cond) | sbit,
                dst.num(),
                sreg,
                off,
                imm,
            ))
        }
        Instruction::Call(t) => {
            let (src, off, imm) = match t {
                CallTarget::Helper(id) => (op::CALL_HELPER, 0, id),
                CallTarget::Local(rel) => (op::PSEUDO_CALL, 0, rel),
                CallTarget::Kfunc { btf_id, off } => (op::PSEUDO_KFUNC_CALL, off, btf_id),
            };
            one(Insn::new(op::JMP | op::CALL, 0, src, off, imm))
        }
        Instruction::CallX { reg } => {
            one(Insn::new(op::JMP | op::CALL | op::X, reg.num(), 0, 0, 0))
        }
        Instruction::Exit => one(Insn::new(op::JMP | op::EXIT, 0, 0, 0, 0)),
    }
}

#[cfg(test)]
mod tests {
    use crate::{Insn, Instruction};

    /// Every opcode byte with a spread of field values: whatever decodes must
    /// encode back to the same slots.
    #[test]
    fn decode_encode_is_byte_exact() {
        let fields = [
            (0u8, 0u8, 0i16, 0i32),
            (1, 2, 0, 0),
            (3, 0, -8, 0),
            (0, 4, 1, 0),
            (5, 0, 0, 16),
            (0, 0, 0, 32),
            (2, 0, 0, 64),
            (1, 1, 8, 0),
            (9, 9, 32, 0),
            (0, 0, 16, 0),
            (1, 2, 0, 0x41),
            (7, 3, 4, 0xf1),
            (0, 1, 0, 7),
            (0, 2, 3, 9),
        ];
        let mut decoded = 0;
        for code in 0..=255u8 {
            for &(dst, src, off, imm) in &fields {
                let slots = [
                    Insn::new(code, dst, src, off, imm),
                    Insn::new(0, 0, 0, 0, 5),
                ];
                if let Ok((insn, len)) = Instruction::decode(&slots) {
                    decoded += 1;
                    assert_eq!(insn.encode().as_slice(), &slots[..len], "{insn:?}");
                }
            }
        }
        assert!(decoded > 300, "only {decoded} decoded");
    }
}
