//! uBPF / bpf_conformance syntax, in the forms the bpf_conformance assembler
//! reads: `mov %r0, 1`, `ldxdw %r1, [%r10-8]`, `jne %r0, %r1, +3`.
//!
//! Immediates are signed decimal (the conformance assembler reads them with
//! `stoull`, which wraps negative numbers as the encoding does); the value
//! of `lddw` is hexadecimal, as every conformance test writes it. Memory
//! operands always carry a signed offset (`[%r1+0]`), which that assembler
//! reads like `[%r1]`.
//!
//! The syntax has no words for the pseudo sources of `lddw` (map fds, BTF
//! ids, function addresses): such an `lddw` prints its value followed by a
//! comment naming the source, so the text stays readable but re-assembles to
//! a plain `lddw`. A kfunc call prints as `call runtime <btf id>`, the
//! conformance assembler's mode for `src = 2`; its `off` (module BTF index)
//! follows in a comment when it is not zero.

use crate::instruction::{
    AluOp, AtomicOp, ByteOrder, CallTarget, Cond, Instruction, LddwKind, Operand, Reg, Size, Width,
};

fn reg(r: Reg) -> String {
    format!("%r{}", r.num())
}

/// `[%r1+0]` / `[%r10-8]`.
fn mem(base: Reg, off: i16) -> String {
    if off < 0 {
        format!("[%r{}{off}]", base.num())
    } else {
        format!("[%r{}+{off}]", base.num())
    }
}

/// `+3` / `-5`.
fn jump_offset(off: i64) -> String {
    if off < 0 {
        off.to_string()
    } else {
        format!("+{off}")
    }
}

fn size_suffix(size: Size) -> &'static str {
    match size {
        Size::B => "b",
        Size::H => "h",
        Size::W => "w",
        Size::DW => "dw",
    }
}

fn width_suffix(width: Width) -> &'static str {
    match width {
        Width::W32 => "32",
        Width::W64 => "",
    }
}

fn alu_name(op: AluOp) -> &'static str {
    match op {
        AluOp::Add => "add",
        AluOp::Sub => "sub",
        AluOp::Mul => "mul",
        AluOp::Div => "div",
        AluOp::SDiv => "sdiv",
        AluOp::Or => "or",
        AluOp::And => "and",
        AluOp::Lsh => "lsh",
        AluOp::Rsh => "rsh",
        AluOp::Mod => "mod",
        AluOp::SMod => "smod",
        AluOp::Xor => "xor",
        AluOp::Mov | AluOp::MovSx(_) => "mov",
        AluOp::Arsh => "arsh",
    }
}

/// The conformance mnemonic of a jump condition.
pub fn cond_name(c: Cond) -> &'static str {
    match c {
        Cond::Eq => "jeq",
        Cond::Gt => "jgt",
        Cond::Ge => "jge",
        Cond::Set => "jset",
        Cond::Ne => "jne",
        Cond::Sgt => "jsgt",
        Cond::Sge => "jsge",
        Cond::Lt => "jlt",
        Cond::Le => "jle",
        Cond::Slt => "jslt",
        Cond::Sle => "jsle",
    }
}

fn atomic_name(op: AtomicOp) -> &'static str {
    match op {
        AtomicOp::Add => "add",
        AtomicOp::Or => "or",
        AtomicOp::And => "and",
        AtomicOp::Xor => "xor",
        AtomicOp::Xchg => "xchg",
        AtomicOp::CmpXchg => "cmpxchg",
    }
}

fn kind_name(kind: LddwKind) -> &'static str {
    match kind {
        LddwKind::Imm64 => "imm64",
        LddwKind::MapFd => "map_fd",
        LddwKind::MapValue => "map_value",
        LddwKind::BtfId => "btf_id",
        LddwKind::Func => "func",
        LddwKind::MapIdx => "map_idx",
        LddwKind::MapIdxValue => "map_idx_value",
    }
}

fn operand(o: Operand) -> String {
    match o {
        Operand::Reg(r) => reg(r),
        Operand::Imm(i) => i.to_string(),
    }
}

/// One instruction in uBPF syntax.
pub fn format(insn: &Instruction) -> String {
    match *insn {
        Instruction::Alu {
            width,
            op: AluOp::MovSx(bits),
            dst,
            src,
        } => {
            let to = match width {
                Width::W32 => 32,
                Width::W64 => 64,
            };
            format!("movsx{bits}{to} {}, {}", reg(dst), operand(src))
        }
        Instruction::Alu {
            width,
            op,
            dst,
            src,
        } => format!(
            "{}{} {}, {}",
            alu_name(op),
            width_suffix(width),
            reg(dst),
            operand(src)
        ),
        Instruction::Neg { width, dst } => format!("neg{} {}", width_suffix(width), reg(dst)),
        Instruction::Endian { order, bits, dst } => {
            let name = match order {
                ByteOrder::Le => "le",
                ByteOrder::Be => "be",
                ByteOrder::Swap => "swap",
            };
            format!("{name}{bits} {}", reg(dst))
        }
        Instruction::LoadImm64 { dst, kind, lo, hi } => {
            let value = (hi as u32 as u64) << 32 | lo as u32 as u64;
            match kind {
                LddwKind::Imm64 => format!("lddw {}, 0x{value:x}", reg(dst)),
                _ => format!(
                    "lddw {}, 0x{value:x} # src {} ({})",
                    reg(dst),
                    kind.src(),
                    kind_name(kind)
                ),
            }
        }
        Instruction::Load {
            size,
            signed,
            dst,
            src,
            off,
        } => format!(
            "ldx{}{} {}, {}",
            if signed { "s" } else { "" },
            size_suffix(size),
            reg(dst),
            mem(src, off)
        ),
        Instruction::Store {
            size,
            dst,
            off,
            src,
        } => {
            let x = if matches!(src, Operand::Reg(_)) {
                "x"
            } else {
                ""
            };
            format!(
                "st{x}{} {}, {}",
                size_suffix(size),
                mem(dst, off),
                operand(src)
            )
        }
        Instruction::Atomic {
            size,
            op,
            fetch,
            dst,
            src,
            off,
        } => {
            let fetch = if fetch && !matches!(op, AtomicOp::Xchg | AtomicOp::CmpXchg) {
                "fetch "
            } else {
                ""
            };
            let width = if size == Size::W { "32" } else { "" };
            format!(
                "lock {fetch}{}{width} {}, {}",
                atomic_name(op),
                mem(dst, off),
                reg(src)
            )
        }
        Instruction::LoadPacket { size, src, imm } => match src {
            None => format!("ldabs{} {imm}", size_suffix(size)),
            Some(r) => format!("ldind{} {}, {imm}", size_suffix(size), reg(r)),
        },
        Instruction::Ja { off, long } => {
            let name = if long { "ja32" } else { "ja" };
            format!("{name} {}", jump_offset(off as i64))
        }
        Instruction::Jump {
            width,
            cond,
            dst,
            src,
            off,
        } => format!(
            "{}{} {}, {}, {}",
            cond_name(cond),
            width_suffix(width),
            reg(dst),
            operand(src),
            jump_offset(off as i64)
        ),
        Instruction::Call(CallTarget::Helper(id)) => format!("call {id}"),
        Instruction::Call(CallTarget::Local(off)) => {
            format!("call local {}", jump_offset(off as i64))
        }
        Instruction::Call(CallTarget::Kfunc { btf_id, off: 0 }) => {
            format!("call runtime {btf_id}")
        }
        Instruction::Call(CallTarget::Kfunc { btf_id, off }) => {
            format!("call runtime {btf_id} # btf fd index {off}")
        }
        Instruction::CallX { reg: r } => format!("call {}", reg(r)),
        Instruction::Exit => "exit".to_string(),
    }
}
