//! LLVM / kernel syntax, exactly as `llvm-objdump-19 -d` prints it.
//!
//! LLVM's printer (`BPFInstPrinter` with `--print-imm-hex`, objdump's default)
//! writes every immediate and offset in hexadecimal with an explicit sign
//! for negative values (`0x1`, `-0x1`, `r1 - 0x8`, `goto +0x3`). The 64-bit
//! value of `lddw` is printed the same way as a signed 64-bit number, and an
//! `lddw` with a pseudo source as `ld_pseudo\tr1, 0x<src>, 0x<imm as u32>`.
//!
//! One thing depends on how objdump was told to decode: with the `alu32`
//! feature (`--mcpu=v3`/`v4` or `--mattr=+alu32`) narrow loads and stores
//! and 32-bit atomics use `w` registers and every 32-bit atomic is known;
//! without it (plain `llvm-objdump -d`) they use `r` registers and only the
//! 32-bit atomic add is decoded (see [`Flavor`]).

use crate::instruction::{
    AluOp, AtomicOp, ByteOrder, CallTarget, Cond, Instruction, LddwKind, Operand, Reg, Size, Width,
};

/// Which of LLVM's two BPF decoders objdump ran.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Flavor {
    /// `llvm-objdump -d --mcpu=v4` (or `v3`, or `--mattr=+alu32`): narrow
    /// loads and stores write `w` registers, every 32-bit atomic is decoded.
    /// Lossless, so it is the default.
    #[default]
    Alu32,
    /// Plain `llvm-objdump -d`: narrow loads and stores print `r` registers,
    /// and of the 32-bit atomics only `lock *(u32 *)(..) += r` is decoded
    /// (LLVM also prints the fetching add that way); the others are `<unknown>`.
    NoAlu32,
}

/// `<unknown>`, objdump's text for a slot it cannot decode.
pub const UNKNOWN: &str = "<unknown>";

/// A signed number in LLVM's hex form: `0x1f`, `-0x1f`.
pub fn hex(v: i64) -> String {
    if v < 0 {
        format!("-0x{:x}", v.unsigned_abs())
    } else {
        format!("0x{v:x}")
    }
}

/// A relative jump offset: `+0x3`, `-0x3`, `+0x0`.
pub fn jump_offset(v: i64) -> String {
    if v < 0 {
        format!("-0x{:x}", v.unsigned_abs())
    } else {
        format!("+0x{v:x}")
    }
}

fn reg(r: Reg, w: bool) -> String {
    format!("{}{}", if w { 'w' } else { 'r' }, r.num())
}

/// `r1 + 0x8` / `r10 - 0x8`.
fn addr(base: Reg, off: i16) -> String {
    let sign = if off < 0 { '-' } else { '+' };
    format!("r{} {sign} 0x{:x}", base.num(), off.unsigned_abs())
}

/// `(r1 + 0x8)`.
fn mem(base: Reg, off: i16) -> String {
    format!("({})", addr(base, off))
}

fn size_name(size: Size, signed: bool) -> &'static str {
    match (size, signed) {
        (Size::B, false) => "u8",
        (Size::H, false) => "u16",
        (Size::W, false) => "u32",
        (Size::DW, false) => "u64",
        (Size::B, true) => "s8",
        (Size::H, true) => "s16",
        (Size::W, true) => "s32",
        (Size::DW, true) => "s64",
    }
}

fn alu_operator(op: AluOp) -> &'static str {
    match op {
        AluOp::Add => "+=",
        AluOp::Sub => "-=",
        AluOp::Mul => "*=",
        AluOp::Div => "/=",
        AluOp::SDiv => "s/=",
        AluOp::Or => "|=",
        AluOp::And => "&=",
        AluOp::Lsh => "<<=",
        AluOp::Rsh => ">>=",
        AluOp::Mod => "%=",
        AluOp::SMod => "s%=",
        AluOp::Xor => "^=",
        AluOp::Mov | AluOp::MovSx(_) => "=",
        AluOp::Arsh => "s>>=",
    }
}

/// The comparison operator of a condition, as LLVM writes it.
pub fn cond_operator(c: Cond) -> &'static str {
    match c {
        Cond::Eq => "==",
        Cond::Gt => ">",
        Cond::Ge => ">=",
        Cond::Set => "&",
        Cond::Ne => "!=",
        Cond::Sgt => "s>",
        Cond::Sge => "s>=",
        Cond::Lt => "<",
        Cond::Le => "<=",
        Cond::Slt => "s<",
        Cond::Sle => "s<=",
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

fn atomic_operator(op: AtomicOp) -> &'static str {
    match op {
        AtomicOp::Add => "+=",
        AtomicOp::Or => "|=",
        AtomicOp::And => "&=",
        AtomicOp::Xor => "^=",
        AtomicOp::Xchg | AtomicOp::CmpXchg => "=",
    }
}

fn operand(o: Operand, w: bool) -> String {
    match o {
        Operand::Reg(r) => reg(r, w),
        Operand::Imm(i) => hex(i as i64),
    }
}

/// The 64-bit value of an `lddw` from its two halves.
pub fn imm64(lo: i32, hi: i32) -> i64 {
    ((hi as u32 as u64) << 32 | lo as u32 as u64) as i64
}

fn atomic(size: Size, op: AtomicOp, fetch: bool, dst: Reg, src: Reg, off: i16) -> String {
    let w = size == Size::W;
    let ty = size_name(size, false);
    let addr = addr(dst, off);
    match op {
        AtomicOp::Xchg => {
            let name = if w { "xchg32_32" } else { "xchg_64" };
            format!("{} = {name}({addr}, {})", reg(src, w), reg(src, w))
        }
        AtomicOp::CmpXchg => {
            let name = if w { "cmpxchg32_32" } else { "cmpxchg_64" };
            let r0 = reg(Reg::R0, w);
            format!("{r0} = {name}({addr}, {r0}, {})", reg(src, w))
        }
        _ if fetch => format!(
            "{} = atomic_fetch_{}(({ty} *){}, {})",
            reg(src, w),
            atomic_name(op),
            mem(dst, off),
            reg(src, w)
        ),
        _ => format!(
            "lock *({ty} *){} {} {}",
            mem(dst, off),
            atomic_operator(op),
            reg(src, w)
        ),
    }
}

/// One instruction's text, without jump-target annotation, or `None` where
/// this flavor of objdump prints `<unknown>`.
pub fn format(insn: &Instruction, flavor: Flavor) -> Option<String> {
    let alu32 = flavor == Flavor::Alu32;
    Some(match *insn {
        Instruction::Alu {
            width,
            op,
            dst,
            src,
        } => {
            let w = width == Width::W32;
            match op {
                AluOp::MovSx(bits) => {
                    let s = match src {
                        Operand::Reg(r) => reg(r, w),
                        Operand::Imm(i) => hex(i as i64),
                    };
                    format!("{} = (s{bits}){s}", reg(dst, w))
                }
                _ => format!("{} {} {}", reg(dst, w), alu_operator(op), operand(src, w)),
            }
        }
        Instruction::Neg { width, dst } => {
            let d = reg(dst, width == Width::W32);
            format!("{d} = -{d}")
        }
        Instruction::Endian { order, bits, dst } => {
            let name = match order {
                ByteOrder::Le => "le",
                ByteOrder::Be => "be",
                ByteOrder::Swap => "bswap",
            };
            format!("r{0} = {name}{bits} r{0}", dst.num())
        }
        Instruction::LoadImm64 { dst, kind, lo, hi } => match kind {
            LddwKind::Imm64 => format!("r{} = {} ll", dst.num(), hex(imm64(lo, hi))),
            _ => format!(
                "ld_pseudo\tr{}, 0x{:x}, 0x{:x}",
                dst.num(),
                kind.src(),
                lo as u32
            ),
        },
        Instruction::Load {
            size,
            signed,
            dst,
            src,
            off,
        } => {
            let w = alu32 && !signed && size != Size::DW;
            format!(
                "{} = *({} *){}",
                reg(dst, w),
                size_name(size, signed),
                mem(src, off)
            )
        }
        Instruction::Store {
            size,
            dst,
            off,
            src,
        } => {
            let w = alu32 && size != Size::DW;
            format!(
                "*({} *){} = {}",
                size_name(size, false),
                mem(dst, off),
                operand(src, w)
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
            if !alu32 && size == Size::W {
                // Without alu32 LLVM only knows XADDW, and its decoder does
                // not look at the fetch bit.
                if op != AtomicOp::Add {
                    return None;
                }
                return Some(format!("lock *(u32 *){} += r{}", mem(dst, off), src.num()));
            }
            atomic(size, op, fetch, dst, src, off)
        }
        Instruction::LoadPacket { size, src, imm } => {
            let index = match src {
                Some(r) => format!("r{}", r.num()),
                None => hex(imm as i64),
            };
            format!("r0 = *({} *)skb[{index}]", size_name(size, false))
        }
        Instruction::Ja { off, long } => {
            let name = if long { "gotol" } else { "goto" };
            format!("{name} {}", jump_offset(off as i64))
        }
        Instruction::Jump {
            width,
            cond,
            dst,
            src,
            off,
        } => {
            let w = width == Width::W32;
            format!(
                "if {} {} {} goto {}",
                reg(dst, w),
                cond_operator(cond),
                operand(src, w),
                jump_offset(off as i64)
            )
        }
        Instruction::Call(target) => {
            let imm = match target {
                CallTarget::Helper(id) => id,
                CallTarget::Local(off) => off,
                CallTarget::Kfunc { btf_id, .. } => btf_id,
            };
            format!("call {}", hex(imm as i64))
        }
        Instruction::CallX { reg: r } => format!("callx r{}", r.num()),
        Instruction::Exit => "exit".to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Insn;

    fn text(slots: &[Insn], flavor: Flavor) -> Option<String> {
        format(&Instruction::decode(slots).unwrap().0, flavor)
    }

    fn one(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> String {
        text(&[Insn::new(code, dst, src, off, imm)], Flavor::Alu32).unwrap()
    }

    #[test]
    fn immediates_are_signed_hex() {
        assert_eq!(one(0xb7, 0, 0, 0, 10), "r0 = 0xa");
        assert_eq!(one(0xb7, 0, 0, 0, -1), "r0 = -0x1");
        assert_eq!(one(0xb4, 1, 0, 0, i32::MIN), "w1 = -0x80000000");
        assert_eq!(one(0x07, 1, 0, 0, 0), "r1 += 0x0");
        assert_eq!(one(0x85, 0, 0, 0, -1), "call -0x1");
        let lddw = |lo, hi| {
            text(
                &[Insn::new(0x18, 2, 0, 0, lo), Insn::new(0, 0, 0, 0, hi)],
                Flavor::Alu32,
            )
            .unwrap()
        };
        assert_eq!(lddw(-1, -1), "r2 = -0x1 ll");
        assert_eq!(lddw(0, i32::MIN), "r2 = -0x8000000000000000 ll");
        assert_eq!(lddw(-1, 0), "r2 = 0xffffffff ll");
    }

    #[test]
    fn offsets_carry_their_sign() {
        assert_eq!(one(0x79, 1, 10, -8, 0), "r1 = *(u64 *)(r10 - 0x8)");
        assert_eq!(one(0x79, 1, 10, i16::MIN, 0), "r1 = *(u64 *)(r10 - 0x8000)");
        assert_eq!(one(0x7a, 10, 0, 0, 3), "*(u64 *)(r10 + 0x0) = 0x3");
        assert_eq!(one(0x05, 0, 0, 0, 0), "goto +0x0");
        assert_eq!(one(0x05, 0, 0, -3, 0), "goto -0x3");
        assert_eq!(one(0x06, 0, 0, 0, 70000), "gotol +0x11170");
        assert_eq!(one(0xc5, 1, 0, -2, -7), "if r1 s< -0x7 goto -0x2");
    }

    #[test]
    fn register_width_follows_class_and_flavor() {
        assert_eq!(one(0x0c, 1, 2, 0, 0), "w1 += w2");
        assert_eq!(one(0x2e, 1, 2, 1, 0), "if w1 > w2 goto +0x1");
        // Byte swaps always print r, whatever the class.
        assert_eq!(one(0xd4, 3, 0, 0, 16), "r3 = le16 r3");
        assert_eq!(one(0xbc, 3, 4, 0, 0), "w3 = w4");
        assert_eq!(one(0xbc, 3, 4, 8, 0), "w3 = (s8)w4");
        assert_eq!(one(0xbf, 3, 4, 32, 0), "r3 = (s32)r4");
        let load = [Insn::new(0x61, 1, 2, 4, 0)];
        assert_eq!(
            text(&load, Flavor::Alu32).unwrap(),
            "w1 = *(u32 *)(r2 + 0x4)"
        );
        assert_eq!(
            text(&load, Flavor::NoAlu32).unwrap(),
            "r1 = *(u32 *)(r2 + 0x4)"
        );
        let store = [Insn::new(0x73, 1, 2, 0, 0)];
        assert_eq!(
            text(&store, Flavor::Alu32).unwrap(),
            "*(u8 *)(r1 + 0x0) = w2"
        );
        assert_eq!(
            text(&store, Flavor::NoAlu32).unwrap(),
            "*(u8 *)(r1 + 0x0) = r2"
        );
        // Sign-extending loads write a 64-bit register in both flavors.
        assert_eq!(one(0x91, 1, 2, 0, 0), "r1 = *(s8 *)(r2 + 0x0)");
    }

    #[test]
    fn atomics_in_both_flavors() {
        let xchg32 = [Insn::new(0xc3, 1, 2, 8, 0xe1)];
        assert_eq!(
            text(&xchg32, Flavor::Alu32).unwrap(),
            "w2 = xchg32_32(r1 + 0x8, w2)"
        );
        assert_eq!(text(&xchg32, Flavor::NoAlu32), None);
        let fetch_add32 = [Insn::new(0xc3, 1, 2, -8, 0x01)];
        assert_eq!(
            text(&fetch_add32, Flavor::Alu32).unwrap(),
            "w2 = atomic_fetch_add((u32 *)(r1 - 0x8), w2)"
        );
        assert_eq!(
            text(&fetch_add32, Flavor::NoAlu32).unwrap(),
            "lock *(u32 *)(r1 - 0x8) += r2"
        );
        assert_eq!(
            one(0xdb, 1, 2, 0, 0xf1),
            "r0 = cmpxchg_64(r1 + 0x0, r0, r2)"
        );
        assert_eq!(one(0xdb, 1, 2, 0, 0xa0), "lock *(u64 *)(r1 + 0x0) ^= r2");
    }

    #[test]
    fn pseudo_lddw_and_packet_loads() {
        let map = [Insn::new(0x18, 1, 1, 0, -3), Insn::new(0, 0, 0, 0, 9)];
        assert_eq!(
            text(&map, Flavor::Alu32).unwrap(),
            "ld_pseudo\tr1, 0x1, 0xfffffffd"
        );
        assert_eq!(one(0x30, 0, 0, 0, -1), "r0 = *(u8 *)skb[-0x1]");
        assert_eq!(one(0x48, 0, 3, 0, 0), "r0 = *(u16 *)skb[r3]");
        assert_eq!(one(0x8d, 4, 0, 0, 0), "callx r4");
    }
}
