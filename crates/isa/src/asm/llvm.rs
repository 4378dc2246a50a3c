//! The LLVM / kernel syntax, as `llvm-objdump -d` (LLVM 19), the verifier log
//! and bpftool print it: `r0 = *(u32 *)(r1 + 0x0)`, `if w1 s< w2 goto +3`,
//! `lock *(u64 *)(r10 - 8) += r1`, `r1 = 0x1122334455667788 ll`.
//!
//! Where the printers differ, both spellings are read: `goto +3` and
//! `goto pc+3`; `atomic_fetch_add((u64 *)(r1 + 0), r0)` and the kernel's
//! `atomic64_fetch_add(...)`; `xchg_64(r1 + 0, r2)` and `atomic64_xchg(...)`;
//! `skb[r1]` and `skb[r1 + 4]`. `llvm-objdump` prints a BPF-to-BPF call as
//! `call` with its signed offset, so a negative `call -3` is a local call, as
//! is the kernel's `call pc+2` or `call label`; `call 1` and
//! `call bpf_map_lookup_elem` call helpers.

use super::cursor::{fail, Cursor, Number, PResult, RegKind, RegTok, Span};
use super::{LabelRef, Parsed};
use crate::helpers::helper_id;
use crate::instruction::{
    AluOp, AtomicOp, CallTarget, Cond, Instruction, LddwKind, Operand, Reg, Size, Width,
};

/// Parses one LLVM-syntax statement at the cursor.
pub(super) fn parse(cur: &mut Cursor) -> PResult<Parsed> {
    if cur.peek_str("*") {
        return store(cur).map(Parsed::plain);
    }
    if let Some(dst) = cur.llvm_reg() {
        return assignment(cur, dst?);
    }
    let save = cur.pos();
    let Some((word, span)) = cur.ident() else {
        return cur.unexpected("expected an instruction");
    };
    let insn = match word {
        "exit" => Instruction::Exit,
        "goto" | "gotol" | "ja" => {
            let long = word == "gotol";
            let (off, label) = target(cur, long)?;
            let insn = Instruction::Ja { off, long };
            return Ok(Parsed { insn, label });
        }
        "if" => return conditional(cur),
        "call" => return call(cur),
        "callx" => Instruction::CallX {
            reg: reg(cur, Some(RegKind::R), "callx")?.reg,
        },
        "lock" => lock(cur)?,
        "ld_pseudo" => ld_pseudo(cur)?,
        _ => {
            cur.reset(save);
            return fail(span, format!("unknown instruction `{word}`"));
        }
    };
    Ok(Parsed::plain(insn))
}

pub(super) fn reg(cur: &mut Cursor, kind: Option<RegKind>, context: &str) -> PResult<RegTok> {
    let r = match cur.llvm_reg() {
        Some(r) => r?,
        None => return cur.unexpected(&format!("expected a register for {context}")),
    };
    match kind {
        Some(k) if k != r.kind => fail(r.span, kind_mismatch(k, context)),
        _ => Ok(r),
    }
}

pub(super) fn kind_mismatch(want: RegKind, context: &str) -> String {
    match want {
        RegKind::R => format!("{context} needs a 64-bit register `rN` here"),
        RegKind::W => format!("{context} needs a 32-bit register `wN` here"),
    }
}

pub(super) fn width(kind: RegKind) -> Width {
    match kind {
        RegKind::R => Width::W64,
        RegKind::W => Width::W32,
    }
}

/// A register of the same kind as the destination, or a 32-bit immediate.
fn reg_or_imm(cur: &mut Cursor, kind: RegKind, context: &str) -> PResult<Operand> {
    if cur.at_number() {
        return Ok(Operand::Imm(cur.number()?.imm32()?));
    }
    match cur.llvm_reg() {
        Some(r) => Ok(Operand::Reg(reg_of_kind(r?, kind, context)?)),
        None => cur.unexpected("expected a register or an immediate"),
    }
}

pub(super) fn reg_of_kind(r: RegTok, kind: RegKind, context: &str) -> PResult<Reg> {
    if r.kind == kind {
        Ok(r.reg)
    } else {
        fail(r.span, kind_mismatch(kind, context))
    }
}

/// `+3`, `-0x9f`, `pc+3` or a label, then an optional `<sym+0x30>` annotation.
fn target(cur: &mut Cursor, long: bool) -> PResult<(i32, Option<LabelRef>)> {
    let save = cur.pos();
    if cur.eat_word("pc").is_some() && !cur.at_number() {
        cur.reset(save);
    }
    let result = if cur.at_number() {
        let n = cur.number()?;
        let off = if long {
            n.signed32("jump offset")?
        } else {
            n.off16("jump offset")? as i32
        };
        (off, None)
    } else if let Some((name, span)) = cur.ident() {
        let label = LabelRef {
            name: name.to_string(),
            span,
            helper: None,
            addend: 0,
        };
        (0, Some(label))
    } else {
        return cur.unexpected("expected a jump target (`+3`, `-5` or a label)");
    };
    skip_annotation(cur)?;
    Ok(result)
}

/// `llvm-objdump` prints the target after the offset: `goto +3 <f+0x30>`.
pub(super) fn skip_annotation(cur: &mut Cursor) -> PResult<()> {
    if let Some(open) = cur.eat("<") {
        match cur.rest().find('>') {
            Some(i) => cur.advance(i + 1),
            None => return fail(open, "unclosed `<` annotation"),
        }
    }
    Ok(())
}

/// `if rA OP rB|imm goto target`.
fn conditional(cur: &mut Cursor) -> PResult<Parsed> {
    let dst = reg(cur, None, "a conditional jump")?;
    const CONDS: [(&str, Cond); 11] = [
        ("s>=", Cond::Sge),
        ("s<=", Cond::Sle),
        ("s>", Cond::Sgt),
        ("s<", Cond::Slt),
        (">=", Cond::Ge),
        ("<=", Cond::Le),
        ("==", Cond::Eq),
        ("!=", Cond::Ne),
        (">", Cond::Gt),
        ("<", Cond::Lt),
        ("&", Cond::Set),
    ];
    let Some(cond) = CONDS
        .iter()
        .find(|(s, _)| cur.eat(s).is_some())
        .map(|c| c.1)
    else {
        return cur.unexpected("expected a comparison (==, !=, >, >=, <, <=, s>, s>=, s<, s<=, &)");
    };
    let src = reg_or_imm(cur, dst.kind, "the comparison")?;
    if cur.eat_word("goto").is_none() {
        return cur.unexpected("expected `goto`");
    }
    let (off, label) = target(cur, false)?;
    let insn = Instruction::Jump {
        width: width(dst.kind),
        cond,
        dst: dst.reg,
        src,
        off: off as i16,
    };
    Ok(Parsed { insn, label })
}

/// `call 1`, `call bpf_map_lookup_elem`, `call -3`, `call pc+2`, `call label`.
fn call(cur: &mut Cursor) -> PResult<Parsed> {
    let save = cur.pos();
    if cur.eat_word("pc").is_some() {
        if cur.at_number() {
            let off = cur.number()?.signed32("call offset")?;
            return Ok(Parsed::plain(Instruction::Call(CallTarget::Local(off))));
        }
        cur.reset(save);
    }
    if cur.at_number() {
        let n = cur.number()?;
        let target = if n.value < 0 {
            CallTarget::Local(n.signed32("call offset")?)
        } else {
            CallTarget::Helper(n.imm32()?)
        };
        skip_annotation(cur)?;
        return Ok(Parsed::plain(Instruction::Call(target)));
    }
    let Some((name, span)) = cur.ident() else {
        return cur.unexpected("expected a helper number, helper name or label");
    };
    let label = LabelRef {
        name: name.to_string(),
        span,
        helper: helper_id(name),
        addend: 0,
    };
    Ok(Parsed {
        insn: Instruction::Call(CallTarget::Local(0)),
        label: Some(label),
    })
}

/// `(u32 *)`: the size and signedness of a memory access.
pub(super) fn mem_type(cur: &mut Cursor) -> PResult<(Size, bool, Span)> {
    let open = cur.expect("(", "before the access type, as in `(u32 *)`")?;
    let Some((ty, span)) = cur.ident() else {
        return cur.unexpected("expected an access type (u8, u16, u32, u64, s8, s16, s32)");
    };
    let (size, signed) = match ty {
        "u8" => (Size::B, false),
        "u16" => (Size::H, false),
        "u32" => (Size::W, false),
        "u64" => (Size::DW, false),
        "s8" => (Size::B, true),
        "s16" => (Size::H, true),
        "s32" => (Size::W, true),
        _ => {
            return fail(
                span,
                format!("unknown access type `{ty}` (u8, u16, u32, u64, s8, s16, s32)"),
            )
        }
    };
    cur.expect("*", "after the access type")?;
    let close = cur.expect(")", "after the access type")?;
    Ok((size, signed, open.to(close)))
}

/// `rB + off` / `rB - off` / `rB`, as inside `(r10 - 8)`.
pub(super) fn base_offset(cur: &mut Cursor) -> PResult<(Reg, i16)> {
    let base = reg(cur, Some(RegKind::R), "a memory address")?.reg;
    let off = if let Some(plus) = cur.eat("+") {
        let mut n: Number = cur.number()?;
        n.span = plus.to(n.span);
        n.off16("offset")?
    } else if let Some(minus) = cur.eat("-") {
        let mut n: Number = cur.number()?;
        n.value = -n.value;
        n.span = minus.to(n.span);
        n.off16("offset")?
    } else {
        0
    };
    Ok((base, off))
}

/// `(rB + off)`.
pub(super) fn address(cur: &mut Cursor) -> PResult<(Reg, i16)> {
    cur.expect("(", "before the address, as in `(r1 + 8)`")?;
    let a = base_offset(cur)?;
    cur.expect(")", "after the address")?;
    Ok(a)
}

/// `*(u32 *)(r10 - 4) = r1` or `= imm`.
fn store(cur: &mut Cursor) -> PResult<Instruction> {
    cur.expect("*", "")?;
    let (size, signed, tspan) = mem_type(cur)?;
    if signed {
        return fail(
            tspan,
            "stores take an unsigned access type (u8, u16, u32, u64)",
        );
    }
    let (dst, off) = address(cur)?;
    cur.expect("=", "in a store")?;
    let src = if cur.at_number() {
        Operand::Imm(cur.number()?.imm32()?)
    } else {
        let r = reg(cur, None, "a store")?;
        if r.kind == RegKind::W && size == Size::DW {
            return fail(r.span, "a 64-bit store needs a 64-bit register `rN`");
        }
        Operand::Reg(r.reg)
    };
    Ok(Instruction::Store {
        size,
        dst,
        off,
        src,
    })
}

/// `lock *(u64 *)(r1 + 0) += r2` (also `|=`, `&=`, `^=`).
fn lock(cur: &mut Cursor) -> PResult<Instruction> {
    cur.expect("*", "after `lock`, as in `lock *(u64 *)(r1 + 0) += r2`")?;
    let (size, signed, tspan) = mem_type(cur)?;
    if signed || !matches!(size, Size::W | Size::DW) {
        return fail(tspan, "atomic operations are on u32 or u64");
    }
    let (dst, off) = address(cur)?;
    const OPS: [(&str, AtomicOp); 4] = [
        ("+=", AtomicOp::Add),
        ("|=", AtomicOp::Or),
        ("&=", AtomicOp::And),
        ("^=", AtomicOp::Xor),
    ];
    let Some(op) = OPS.iter().find(|(s, _)| cur.eat(s).is_some()).map(|o| o.1) else {
        return cur.unexpected("expected an atomic operation (+=, |=, &=, ^=)");
    };
    let src = reg(cur, None, "an atomic operation")?;
    if src.kind == RegKind::W && size == Size::DW {
        return fail(
            src.span,
            "a 64-bit atomic operation needs a 64-bit register `rN`",
        );
    }
    Ok(Instruction::Atomic {
        size,
        op,
        fetch: false,
        dst,
        src: src.reg,
        off,
    })
}

/// `ld_pseudo r1, 1, 5`: the `lddw` with a pseudo source, as llvm-objdump prints it.
fn ld_pseudo(cur: &mut Cursor) -> PResult<Instruction> {
    let dst = reg(cur, Some(RegKind::R), "ld_pseudo")?.reg;
    cur.expect(",", "after the register")?;
    let src = cur.number()?;
    let kind = match src.value {
        0 => LddwKind::Imm64,
        1 => LddwKind::MapFd,
        2 => LddwKind::MapValue,
        3 => LddwKind::BtfId,
        4 => LddwKind::Func,
        5 => LddwKind::MapIdx,
        6 => LddwKind::MapIdxValue,
        _ => return fail(src.span, "unknown lddw pseudo source (0 to 6)"),
    };
    cur.expect(",", "after the pseudo source")?;
    let value = cur.number()?.imm64()?;
    Ok(Instruction::LoadImm64 {
        dst,
        kind,
        lo: value as i32,
        hi: (value >> 32) as i32,
    })
}

/// Everything that starts with a register: `rD = ...` and `rD OP= ...`.
fn assignment(cur: &mut Cursor, dst: RegTok) -> PResult<Parsed> {
    const OPS: [(&str, AluOp); 14] = [
        ("s>>=", AluOp::Arsh),
        ("s/=", AluOp::SDiv),
        ("s%=", AluOp::SMod),
        ("<<=", AluOp::Lsh),
        (">>=", AluOp::Rsh),
        ("+=", AluOp::Add),
        ("-=", AluOp::Sub),
        ("*=", AluOp::Mul),
        ("/=", AluOp::Div),
        ("%=", AluOp::Mod),
        ("|=", AluOp::Or),
        ("&=", AluOp::And),
        ("^=", AluOp::Xor),
        ("=", AluOp::Mov),
    ];
    let Some(op) = OPS.iter().find(|(s, _)| cur.eat(s).is_some()).map(|o| o.1) else {
        return cur.unexpected("expected `=` or an operator such as `+=`");
    };
    let w = width(dst.kind);
    if op != AluOp::Mov {
        let src = reg_or_imm(cur, dst.kind, "this operation")?;
        return Ok(Parsed::plain(Instruction::Alu {
            width: w,
            op,
            dst: dst.reg,
            src,
        }));
    }
    if let Some(parsed) = super::llvm_rhs::symbol_address(cur, dst)? {
        return Ok(parsed);
    }
    super::llvm_rhs::rhs(cur, dst).map(Parsed::plain)
}
