//! The right-hand side of `rD = ...` in the LLVM syntax: moves, loads,
//! `lddw`, negation, byte swaps, sign-extending moves and the fetching
//! atomics.

use super::cursor::{fail, Cursor, PResult, RegKind, RegTok};
use super::llvm::{address, base_offset, mem_type, reg, reg_of_kind, width};
use super::{LabelRef, Parsed};
use crate::instruction::{AluOp, AtomicOp, ByteOrder, Instruction, LddwKind, Operand, Size};

/// Parses what follows `rD =`.
pub(super) fn rhs(cur: &mut Cursor, dst: RegTok) -> PResult<Instruction> {
    let w = width(dst.kind);
    if cur.eat("*").is_some() {
        return load(cur, dst);
    }
    if cur.at_number() {
        return immediate(cur, dst);
    }
    if let Some(minus) = cur.eat("-") {
        let src = reg(cur, Some(dst.kind), "negation")?;
        if src.reg != dst.reg {
            return fail(
                minus.to(src.span),
                "negation works in place: write `rN = -rN` with the same register",
            );
        }
        return Ok(Instruction::Neg {
            width: w,
            dst: dst.reg,
        });
    }
    if cur.peek_str("(") {
        return sign_extending_move(cur, dst);
    }
    if let Some(src) = cur.llvm_reg() {
        let src = reg_of_kind(src?, dst.kind, "a move")?;
        return Ok(Instruction::Alu {
            width: w,
            op: AluOp::Mov,
            dst: dst.reg,
            src: Operand::Reg(src),
        });
    }
    let save = cur.pos();
    let Some((name, span)) = cur.ident() else {
        return cur.unexpected("expected a value");
    };
    if let Some((order, bits)) = byte_swap(name) {
        let src = reg(cur, None, "a byte swap")?;
        if src.reg != dst.reg {
            return fail(
                src.span,
                format!("byte swaps work in place: write `{name}` of the destination register"),
            );
        }
        return Ok(Instruction::Endian {
            order,
            bits,
            dst: dst.reg,
        });
    }
    if let Some(form) = atomic_form(name) {
        return fetch_atomic(cur, dst, form);
    }
    cur.reset(save);
    fail(span, format!("unknown operation `{name}`"))
}

/// `rD = sym ll` or `rD = sym + 8 ll`: a 64-bit load of a symbol's address,
/// as clang emits it for maps, global data and callbacks. `None` (consuming
/// nothing) when the right-hand side is not of that form.
pub(super) fn symbol_address(cur: &mut Cursor, dst: RegTok) -> PResult<Option<Parsed>> {
    let save = cur.pos();
    let Some((name, span)) = cur.ident() else {
        return Ok(None);
    };
    let sign = match (cur.eat("+"), cur.eat("-")) {
        (Some(plus), _) => Some((plus, 1)),
        (None, Some(minus)) => Some((minus, -1)),
        (None, None) => None,
    };
    let addend = match sign {
        Some(_) if !cur.at_number() => {
            cur.reset(save);
            return Ok(None);
        }
        Some((sign, factor)) => {
            let n = cur.number()?;
            match i64::try_from(n.value * factor) {
                Ok(v) => v,
                Err(_) => return fail(sign.to(n.span), "offset does not fit in 64 bits"),
            }
        }
        None => 0,
    };
    let Some(ll) = cur.eat_word("ll") else {
        cur.reset(save);
        return Ok(None);
    };
    if dst.kind == RegKind::W {
        return fail(
            dst.span.to(ll),
            "a 64-bit load (`ll`) needs a 64-bit register `rN`",
        );
    }
    let insn = Instruction::LoadImm64 {
        dst: dst.reg,
        kind: LddwKind::Imm64,
        lo: 0,
        hi: 0,
    };
    let label = LabelRef {
        name: name.to_string(),
        span,
        helper: None,
        addend,
    };
    Ok(Some(Parsed {
        insn,
        label: Some(label),
    }))
}

/// `rD = imm` (32-bit, sign-extended) or `rD = imm ll` (`lddw`).
fn immediate(cur: &mut Cursor, dst: RegTok) -> PResult<Instruction> {
    let n = cur.number()?;
    if let Some(ll) = cur.eat_word("ll") {
        if dst.kind == RegKind::W {
            return fail(
                dst.span.to(ll),
                "a 64-bit load (`ll`) needs a 64-bit register `rN`",
            );
        }
        let value = n.imm64()?;
        return Ok(Instruction::LoadImm64 {
            dst: dst.reg,
            kind: LddwKind::Imm64,
            lo: value as i32,
            hi: (value >> 32) as i32,
        });
    }
    let imm = match n.imm32() {
        Ok(imm) => imm,
        Err(mut e) if dst.kind == RegKind::R && n.imm64().is_ok() => {
            e.message
                .push_str("; add `ll` for a 64-bit immediate load (lddw)");
            return Err(e);
        }
        Err(e) => return Err(e),
    };
    Ok(Instruction::Alu {
        width: width(dst.kind),
        op: AluOp::Mov,
        dst: dst.reg,
        src: Operand::Imm(imm),
    })
}

/// `r0 = *(u8 *)(r1 + 2)`, `r0 = *(s16 *)(r1 + 2)`, `r0 = *(u16 *)skb[r1]`.
fn load(cur: &mut Cursor, dst: RegTok) -> PResult<Instruction> {
    let (size, signed, tspan) = mem_type(cur)?;
    if cur.eat_word("skb").is_some() {
        if signed || size == Size::DW {
            return fail(tspan, "packet loads are u8, u16 or u32");
        }
        if dst.reg != crate::Reg::R0 || dst.kind != RegKind::R {
            return fail(dst.span, "packet loads always load into r0");
        }
        cur.expect("[", "after `skb`")?;
        let (src, imm) = if cur.at_number() {
            (None, cur.number()?.imm32()?)
        } else {
            let index = reg(cur, Some(RegKind::R), "a packet load")?.reg;
            let imm = if let Some(plus) = cur.eat("+") {
                let mut n = cur.number()?;
                n.span = plus.to(n.span);
                n.imm32()?
            } else if let Some(minus) = cur.eat("-") {
                let mut n = cur.number()?;
                n.value = -n.value;
                n.span = minus.to(n.span);
                n.imm32()?
            } else {
                0
            };
            (Some(index), imm)
        };
        cur.expect("]", "to close `skb[`")?;
        return Ok(Instruction::LoadPacket { size, src, imm });
    }
    let (src, off) = address(cur)?;
    if dst.kind == RegKind::W && (signed || size == Size::DW) {
        return fail(
            dst.span,
            "only zero-extending loads of up to 32 bits can target a `wN` register",
        );
    }
    Ok(Instruction::Load {
        size,
        signed,
        dst: dst.reg,
        src,
        off,
    })
}

/// `r0 = (s8)r1`, `w0 = (s16)w1`.
fn sign_extending_move(cur: &mut Cursor, dst: RegTok) -> PResult<Instruction> {
    cur.expect("(", "")?;
    let Some((ty, tspan)) = cur.ident() else {
        return cur.unexpected("expected s8, s16 or s32");
    };
    let bits = match (ty, dst.kind) {
        ("s8", _) => 8,
        ("s16", _) => 16,
        ("s32", RegKind::R) => 32,
        ("s32", RegKind::W) => return fail(tspan, "a 32-bit sign-extending move takes s8 or s16"),
        _ => return fail(tspan, format!("expected s8, s16 or s32, found `{ty}`")),
    };
    cur.expect(")", "after the type")?;
    let src = reg(cur, Some(dst.kind), "a sign-extending move")?;
    Ok(Instruction::Alu {
        width: width(dst.kind),
        op: AluOp::MovSx(bits),
        dst: dst.reg,
        src: Operand::Reg(src.reg),
    })
}

fn byte_swap(name: &str) -> Option<(ByteOrder, u8)> {
    let (order, bits) = if let Some(b) = name.strip_prefix("bswap") {
        (ByteOrder::Swap, b)
    } else if let Some(b) = name.strip_prefix("be") {
        (ByteOrder::Be, b)
    } else if let Some(b) = name.strip_prefix("le") {
        (ByteOrder::Le, b)
    } else {
        return None;
    };
    match bits {
        "16" => Some((order, 16)),
        "32" => Some((order, 32)),
        "64" => Some((order, 64)),
        _ => None,
    }
}

/// A fetching atomic by name: the operation and, for the forms whose address
/// carries no type (`xchg_64(r1 + 0, r2)`), the size.
struct AtomicForm {
    op: AtomicOp,
    size: Option<Size>,
}

fn atomic_form(name: &str) -> Option<AtomicForm> {
    let (op, size) = match name {
        "xchg_64" => (AtomicOp::Xchg, Some(Size::DW)),
        "xchg32_32" => (AtomicOp::Xchg, Some(Size::W)),
        "cmpxchg_64" => (AtomicOp::CmpXchg, Some(Size::DW)),
        "cmpxchg32_32" => (AtomicOp::CmpXchg, Some(Size::W)),
        _ => {
            let rest = name
                .strip_prefix("atomic64_")
                .or_else(|| name.strip_prefix("atomic_"))?;
            let op = match rest {
                "fetch_add" => AtomicOp::Add,
                "fetch_and" => AtomicOp::And,
                "fetch_or" => AtomicOp::Or,
                "fetch_xor" => AtomicOp::Xor,
                "xchg" => AtomicOp::Xchg,
                "cmpxchg" => AtomicOp::CmpXchg,
                _ => return None,
            };
            (op, None)
        }
    };
    Some(AtomicForm { op, size })
}

/// `r0 = atomic_fetch_add((u64 *)(r1 + 0), r0)`, `r2 = xchg_64(r1 + 0, r2)`,
/// `r0 = cmpxchg_64(r1 + 0, r0, r2)` and the kernel's `atomic64_*` forms.
fn fetch_atomic(cur: &mut Cursor, dst: RegTok, form: AtomicForm) -> PResult<Instruction> {
    cur.expect("(", "after the atomic operation")?;
    let (size, dst_base, off) = if cur.peek_str("(") {
        let (size, signed, tspan) = mem_type(cur)?;
        if signed || !matches!(size, Size::W | Size::DW) {
            return fail(tspan, "atomic operations are on u32 or u64");
        }
        let (base, off) = address(cur)?;
        (size, base, off)
    } else {
        let (base, off) = base_offset(cur)?;
        let Some(size) = form.size else {
            return cur.unexpected("expected a typed address such as `(u64 *)(r1 + 0)`");
        };
        (size, base, off)
    };
    let kind = if size == Size::DW {
        RegKind::R
    } else {
        dst.kind
    };
    cur.expect(",", "after the address")?;
    if form.op == AtomicOp::CmpXchg {
        let r0 = reg(cur, Some(kind), "cmpxchg")?;
        if r0.reg != crate::Reg::R0 || dst.reg != crate::Reg::R0 {
            return fail(
                dst.span.to(r0.span),
                "cmpxchg compares with and returns into r0: write `r0 = cmpxchg_64(rB + off, r0, rS)`",
            );
        }
        cur.expect(",", "after r0")?;
    }
    let src = reg(cur, Some(kind), "an atomic operation")?;
    cur.expect(")", "to close the atomic operation")?;
    if dst.kind != kind {
        return fail(
            dst.span,
            super::llvm::kind_mismatch(kind, "this atomic operation"),
        );
    }
    if form.op != AtomicOp::CmpXchg && src.reg != dst.reg {
        return fail(
            src.span,
            "the old value is returned in the source register: destination and source must be the same register",
        );
    }
    Ok(Instruction::Atomic {
        size,
        op: form.op,
        fetch: true,
        dst: dst_base,
        src: src.reg,
        off,
    })
}
