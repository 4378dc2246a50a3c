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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Insn;

    fn one(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> String {
        format(
            &Instruction::decode(&[Insn::new(code, dst, src, off, imm)])
                .unwrap()
                .0,
        )
    }

    #[test]
    fn alu_forms() {
        assert_eq!(one(0xb7, 0, 0, 0, 1), "mov %r0, 1");
        assert_eq!(one(0xb4, 0, 0, 0, -1), "mov32 %r0, -1");
        assert_eq!(one(0x0c, 1, 2, 0, 0), "add32 %r1, %r2");
        assert_eq!(one(0x3f, 1, 2, 1, 0), "sdiv %r1, %r2");
        assert_eq!(one(0x94, 1, 0, 1, 7), "smod32 %r1, 7");
        assert_eq!(one(0xc7, 1, 0, 0, 63), "arsh %r1, 63");
        assert_eq!(one(0x87, 3, 0, 0, 0), "neg %r3");
        assert_eq!(one(0x84, 3, 0, 0, 0), "neg32 %r3");
        assert_eq!(one(0xdc, 0, 0, 0, 16), "be16 %r0");
        assert_eq!(one(0xd4, 0, 0, 0, 64), "le64 %r0");
        assert_eq!(one(0xd7, 0, 0, 0, 64), "swap64 %r0");
        assert_eq!(one(0xbc, 0, 1, 8, 0), "movsx832 %r0, %r1");
        assert_eq!(one(0xbf, 0, 1, 32, 0), "movsx3264 %r0, %r1");
        assert_eq!(one(0x07, 1, 0, 0, i32::MIN), "add %r1, -2147483648");
    }

    #[test]
    fn memory_forms() {
        assert_eq!(one(0x79, 1, 10, -8, 0), "ldxdw %r1, [%r10-8]");
        assert_eq!(one(0x71, 1, 2, 0, 0), "ldxb %r1, [%r2+0]");
        assert_eq!(one(0x89, 1, 2, 2, 0), "ldxsh %r1, [%r2+2]");
        assert_eq!(one(0x72, 1, 0, 2, 5), "stb [%r1+2], 5");
        assert_eq!(one(0x7b, 10, 1, -32768, 0), "stxdw [%r10-32768], %r1");
        assert_eq!(one(0xc3, 10, 1, -8, 0), "lock add32 [%r10-8], %r1");
        assert_eq!(one(0xdb, 1, 2, 0, 0x01), "lock fetch add [%r1+0], %r2");
        assert_eq!(one(0xc3, 1, 2, 0, 0x51), "lock fetch and32 [%r1+0], %r2");
        assert_eq!(one(0xdb, 1, 2, 0, 0xe1), "lock xchg [%r1+0], %r2");
        assert_eq!(one(0xc3, 1, 2, 4, 0xf1), "lock cmpxchg32 [%r1+4], %r2");
        assert_eq!(one(0x30, 0, 0, 0, 3), "ldabsb 3");
        assert_eq!(one(0x48, 0, 1, 0, 3), "ldindh %r1, 3");
        let lddw = |src, lo, hi| {
            format(
                &Instruction::decode(&[Insn::new(0x18, 0, src, 0, lo), Insn::new(0, 0, 0, 0, hi)])
                    .unwrap()
                    .0,
            )
        };
        assert_eq!(lddw(0, -1, -1), "lddw %r0, 0xffffffffffffffff");
        assert_eq!(lddw(0, 2, 1), "lddw %r0, 0x100000002");
        assert_eq!(lddw(1, 5, 0), "lddw %r0, 0x5 # src 1 (map_fd)");
    }

    #[test]
    fn control_flow_forms() {
        assert_eq!(one(0x05, 0, 0, 3, 0), "ja +3");
        assert_eq!(one(0x05, 0, 0, -3, 0), "ja -3");
        assert_eq!(one(0x06, 0, 0, 0, 70000), "ja32 +70000");
        assert_eq!(one(0x5d, 0, 1, 3, 0), "jne %r0, %r1, +3");
        assert_eq!(one(0x56, 0, 0, -1, -5), "jne32 %r0, -5, -1");
        assert_eq!(one(0x4d, 2, 3, 0, 0), "jset %r2, %r3, +0");
        assert_eq!(one(0x85, 0, 0, 0, 5), "call 5");
        assert_eq!(one(0x85, 0, 1, 0, 3), "call local +3");
        assert_eq!(one(0x85, 0, 1, 0, -4), "call local -4");
        assert_eq!(one(0x85, 0, 2, 0, 77), "call runtime 77");
        assert_eq!(one(0x8d, 2, 0, 0, 0), "call %r2");
        assert_eq!(one(0x95, 0, 0, 0, 0), "exit");
    }
}
