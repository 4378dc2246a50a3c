//! Strict decoding of slots into [`Instruction`]s: every field an instruction
//! does not use must be zero, as the kernel requires.

use crate::error::InsnError;
use crate::insn::Insn;
use crate::instruction::{
    AluOp, AtomicOp, ByteOrder, CallTarget, Cond, Instruction, LddwKind, Operand, Reg, Size, Width,
};
use crate::opcode as op;

fn reserved(what: &'static str, field: &'static str, found: i64) -> InsnError {
    InsnError::ReservedField {
        what,
        field,
        expected: "0",
        found,
    }
}

fn zero(what: &'static str, field: &'static str, v: i64) -> Result<(), InsnError> {
    if v == 0 {
        Ok(())
    } else {
        Err(reserved(what, field, v))
    }
}

fn writable(r: Reg) -> Result<Reg, InsnError> {
    if r == Reg::R10 {
        Err(InsnError::FramePointerWrite)
    } else {
        Ok(r)
    }
}

pub(crate) fn decode(slots: &[Insn]) -> Result<(Instruction, usize), InsnError> {
    let i = *slots.first().ok_or(InsnError::UnknownOpcode(0))?;
    let dst = Reg::new(i.dst)?;
    let src = Reg::new(i.src);
    match i.class() {
        op::ALU | op::ALU64 => decode_alu(i, dst).map(|x| (x, 1)),
        op::JMP | op::JMP32 => decode_jmp(i, dst).map(|x| (x, 1)),
        op::LDX => {
            let mode = i.code & op::MODE_MASK;
            let size = Size::from_code(i.code);
            let signed = match mode {
                op::MEM => false,
                op::MEMSX if size != Size::DW => true,
                _ => return Err(InsnError::UnknownOpcode(i.code)),
            };
            zero("load", "imm", i.imm as i64)?;
            Ok((
                Instruction::Load {
                    size,
                    signed,
                    dst: writable(dst)?,
                    src: src?,
                    off: i.off,
                },
                1,
            ))
        }
        op::ST => {
            if i.code & op::MODE_MASK != op::MEM {
                return Err(InsnError::UnknownOpcode(i.code));
            }
            zero("store imm", "src", i.src as i64)?;
            Ok((
                Instruction::Store {
                    size: Size::from_code(i.code),
                    dst,
                    off: i.off,
                    src: Operand::Imm(i.imm),
                },
                1,
            ))
        }
        op::STX => {
            let size = Size::from_code(i.code);
            match i.code & op::MODE_MASK {
                op::MEM => {
                    zero("store reg", "imm", i.imm as i64)?;
                    Ok((
                        Instruction::Store {
                            size,
                            dst,
                            off: i.off,
                            src: Operand::Reg(src?),
                        },
                        1,
                    ))
                }
                op::ATOMIC if matches!(size, Size::W | Size::DW) => {
                    let (aop, fetch) = match i.imm {
                        x if x & !op::FETCH == op::ADD as i32 => {
                            (AtomicOp::Add, x & op::FETCH != 0)
                        }
                        x if x & !op::FETCH == op::OR as i32 => (AtomicOp::Or, x & op::FETCH != 0),
                        x if x & !op::FETCH == op::AND as i32 => {
                            (AtomicOp::And, x & op::FETCH != 0)
                        }
                        x if x & !op::FETCH == op::XOR as i32 => {
                            (AtomicOp::Xor, x & op::FETCH != 0)
                        }
                        op::XCHG => (AtomicOp::Xchg, true),
                        op::CMPXCHG => (AtomicOp::CmpXchg, true),
                        imm => {
                            return Err(InsnError::BadImmediate {
                                what: "atomic",
                                imm,
                            })
                        }
                    };
                    let src = src?;
                    if fetch && aop != AtomicOp::CmpXchg {
                        writable(src)?;
                    }
                    Ok((
                        Instruction::Atomic {
                            size,
                            op: aop,
                            fetch,
                            dst,
                            src,
                            off: i.off,
                        },
                        1,
                    ))
                }
                _ => Err(InsnError::UnknownOpcode(i.code)),
            }
        }
        _ => decode_ld(slots, i, dst),
    }
}

fn decode_alu(i: Insn, dst: Reg) -> Result<Instruction, InsnError> {
    let width = if i.class() == op::ALU64 {
        Width::W64
    } else {
        Width::W32
    };
    let what = if width == Width::W64 {
        "alu64"
    } else {
        "alu32"
    };
    let is_x = i.code & op::X != 0;
    let code_op = i.code & op::OP_MASK;
    match code_op {
        op::NEG => {
            if is_x {
                return Err(InsnError::UnknownOpcode(i.code));
            }
            zero("neg", "src", i.src as i64)?;
            zero("neg", "off", i.off as i64)?;
            zero("neg", "imm", i.imm as i64)?;
            Ok(Instruction::Neg {
                width,
                dst: writable(dst)?,
            })
        }
        op::END => {
            let order = match (width, is_x) {
                (Width::W32, false) => ByteOrder::Le,
                (Width::W32, true) => ByteOrder::Be,
                (Width::W64, false) => ByteOrder::Swap,
                (Width::W64, true) => return Err(InsnError::UnknownOpcode(i.code)),
            };
            zero("byte swap", "src", i.src as i64)?;
            zero("byte swap", "off", i.off as i64)?;
            if !matches!(i.imm, 16 | 32 | 64) {
                return Err(InsnError::BadImmediate {
                    what: "byte swap (must be 16, 32 or 64)",
                    imm: i.imm,
                });
            }
            Ok(Instruction::Endian {
                order,
                bits: i.imm as u8,
                dst: writable(dst)?,
            })
        }
        _ => {
            let aop = match code_op {
                op::ADD => AluOp::Add,
                op::SUB => AluOp::Sub,
                op::MUL => AluOp::Mul,
                op::DIV | op::MOD => match (code_op, i.off) {
                    (op::DIV, 0) => AluOp::Div,
                    (op::DIV, 1) => AluOp::SDiv,
                    (_, 0) => AluOp::Mod,
                    (_, 1) => AluOp::SMod,
                    (_, off) => {
                        return Err(InsnError::ReservedField {
                            what,
                            field: "off",
                            expected: "0 or 1 (signed)",
                            found: off as i64,
                        })
                    }
                },
                op::OR => AluOp::Or,
                op::AND => AluOp::And,
                op::LSH => AluOp::Lsh,
                op::RSH => AluOp::Rsh,
                op::XOR => AluOp::Xor,
                op::ARSH => AluOp::Arsh,
                op::MOV => match (i.off, is_x, width) {
                    (0, _, _) => AluOp::Mov,
                    (8 | 16, true, _) | (32, true, Width::W64) => AluOp::MovSx(i.off as u8),
                    (off, _, _) => {
                        return Err(InsnError::ReservedField {
                            what: "mov",
                            field: "off",
                            expected: "0, or 8, 16 or 32 (movsx from a register)",
                            found: off as i64,
                        })
                    }
                },
                _ => return Err(InsnError::UnknownOpcode(i.code)),
            };
            if !matches!(aop, AluOp::SDiv | AluOp::SMod | AluOp::MovSx(_)) {
                zero(what, "off", i.off as i64)?;
            }
            let src = if is_x {
                zero(what, "imm", i.imm as i64)?;
                Operand::Reg(Reg::new(i.src)?)
            } else {
                zero(what, "src", i.src as i64)?;
                Operand::Imm(i.imm)
            };
            Ok(Instruction::Alu {
                width,
                op: aop,
                dst: writable(dst)?,
                src,
            })
        }
    }
}

fn decode_jmp(i: Insn, dst: Reg) -> Result<Instruction, InsnError> {
    let width = if i.class() == op::JMP {
        Width::W64
    } else {
        Width::W32
    };
    let is_x = i.code & op::X != 0;
    let cond = match i.code & op::OP_MASK {
        op::JA => {
            if is_x {
                return Err(InsnError::UnknownOpcode(i.code));
            }
            zero("ja", "dst", i.dst as i64)?;
            zero("ja", "src", i.src as i64)?;
            return Ok(if width == Width::W64 {
                zero("ja", "imm", i.imm as i64)?;
                Instruction::Ja {
                    off: i.off as i32,
                    long: false,
                }
            } else {
                zero("gotol", "off", i.off as i64)?;
                Instruction::Ja {
                    off: i.imm,
                    long: true,
                }
            });
        }
        op::CALL if width == Width::W64 => {
            if is_x {
                zero("callx", "src", i.src as i64)?;
                zero("callx", "off", i.off as i64)?;
                zero("callx", "imm", i.imm as i64)?;
                return Ok(Instruction::CallX { reg: dst });
            }
            zero("call", "dst", i.dst as i64)?;
            let target = match i.src {
                op::CALL_HELPER => CallTarget::Helper(i.imm),
                op::PSEUDO_CALL => CallTarget::Local(i.imm),
                op::PSEUDO_KFUNC_CALL => CallTarget::Kfunc {
                    btf_id: i.imm,
                    off: i.off,
                },
                other => {
                    return Err(InsnError::ReservedField {
                        what: "call",
                        field: "src",
                        expected: "0 (helper), 1 (local) or 2 (kfunc)",
                        found: other as i64,
                    })
                }
            };
            if i.src != op::PSEUDO_KFUNC_CALL {
                zero("call", "off", i.off as i64)?;
            }
            return Ok(Instruction::Call(target));
        }
        op::EXIT if width == Width::W64 && !is_x => {
            zero("exit", "dst", i.dst as i64)?;
            zero("exit", "src", i.src as i64)?;
            zero("exit", "off", i.off as i64)?;
            zero("exit", "imm", i.imm as i64)?;
            return Ok(Instruction::Exit);
        }
        op::JEQ => Cond::Eq,
        op::JGT => Cond::Gt,
        op::JGE => Cond::Ge,
        op::JSET => Cond::Set,
        op::JNE => Cond::Ne,
        op::JSGT => Cond::Sgt,
        op::JSGE => Cond::Sge,
        op::JLT => Cond::Lt,
        op::JLE => Cond::Le,
        op::JSLT => Cond::Slt,
        op::JSLE => Cond::Sle,
        _ => return Err(InsnError::UnknownOpcode(i.code)),
    };
    let src = if is_x {
        zero("jump reg", "imm", i.imm as i64)?;
        Operand::Reg(Reg::new(i.src)?)
    } else {
        zero("jump imm", "src", i.src as i64)?;
        Operand::Imm(i.imm)
    };
    Ok(Instruction::Jump {
        width,
        cond,
        dst,
        src,
        off: i.off,
    })
}

fn decode_ld(slots: &[Insn], i: Insn, dst: Reg) -> Result<(Instruction, usize), InsnError> {
    let size = Size::from_code(i.code);
    match i.code & op::MODE_MASK {
        op::IMM if size == Size::DW => {
            zero("lddw", "off", i.off as i64)?;
            let kind = LddwKind::from_src(i.src)?;
            let tail = slots.get(1).ok_or(InsnError::TruncatedLddw)?;
            if tail.code != 0 || tail.dst != 0 || tail.src != 0 || tail.off != 0 {
                return Err(InsnError::BadLddwTail { code: tail.code });
            }
            Ok((
                Instruction::LoadImm64 {
                    dst: writable(dst)?,
                    kind,
                    lo: i.imm,
                    hi: tail.imm,
                },
                2,
            ))
        }
        mode @ (op::ABS | op::IND) if size != Size::DW => {
            zero("packet load", "dst", i.dst as i64)?;
            zero("packet load", "off", i.off as i64)?;
            let src = if mode == op::ABS {
                zero("packet load abs", "src", i.src as i64)?;
                None
            } else {
                Some(Reg::new(i.src)?)
            };
            Ok((
                Instruction::LoadPacket {
                    size,
                    src,
                    imm: i.imm,
                },
                1,
            ))
        }
        _ => Err(InsnError::UnknownOpcode(i.code)),
    }
}
