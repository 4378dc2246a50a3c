//! The uBPF / bpf_conformance syntax: `mnemonic op, op, ...`, registers as
//! `%rN`, memory as `[%rN+off]`, e.g. `ldxdw %r1, [%r10-8]`,
//! `jne %r0, %r1, exit`, `lock fetch add [%r1+0], %r2`.

use super::cursor::{fail, Cursor, Number, PResult, RegTok, Span};
use super::{LabelRef, Parsed};
use crate::helpers::helper_id;
use crate::instruction::{
    AluOp, AtomicOp, ByteOrder, CallTarget, Cond, Instruction, LddwKind, Operand, Reg, Size, Width,
};

/// One operand as written.
enum Opd<'a> {
    Reg(RegTok),
    Num(Number),
    Mem { base: Reg, off: i16, span: Span },
    Name(&'a str, Span),
}

impl Opd<'_> {
    fn span(&self) -> Span {
        match self {
            Opd::Reg(r) => r.span,
            Opd::Num(n) => n.span,
            Opd::Mem { span, .. } | Opd::Name(_, span) => *span,
        }
    }

    fn reg(&self) -> PResult<Reg> {
        match self {
            Opd::Reg(r) => Ok(r.reg),
            other => fail(other.span(), "expected a register such as `%r1`"),
        }
    }

    fn mem(&self) -> PResult<(Reg, i16)> {
        match self {
            Opd::Mem { base, off, .. } => Ok((*base, *off)),
            other => fail(
                other.span(),
                "expected a memory operand such as `[%r1+8]` or `[%r10-4]`",
            ),
        }
    }

    fn imm32(&self) -> PResult<i32> {
        match self {
            Opd::Num(n) => n.imm32(),
            other => fail(other.span(), "expected an immediate number"),
        }
    }

    fn reg_or_imm(&self) -> PResult<Operand> {
        match self {
            Opd::Reg(r) => Ok(Operand::Reg(r.reg)),
            Opd::Num(n) => Ok(Operand::Imm(n.imm32()?)),
            other => fail(other.span(), "expected a register or an immediate"),
        }
    }

    /// A jump target: a relative offset or a label (patched later, so 0 now).
    fn target(&self, long: bool) -> PResult<(i32, Option<LabelRef>)> {
        match self {
            Opd::Num(n) if long => Ok((n.signed32("jump offset")?, None)),
            Opd::Num(n) => Ok((n.off16("jump offset")? as i32, None)),
            Opd::Name(name, span) => Ok((
                0,
                Some(LabelRef {
                    name: name.to_string(),
                    span: *span,
                    helper: None,
                    addend: 0,
                }),
            )),
            other => fail(other.span(), "expected a label or a relative offset"),
        }
    }
}

/// Parses one uBPF statement at the cursor.
pub(super) fn parse(cur: &mut Cursor) -> PResult<Parsed> {
    let Some((mnemonic, mspan)) = cur.ident() else {
        return cur.unexpected("expected a mnemonic");
    };
    match mnemonic {
        "lock" => return lock(cur, mspan),
        "call" | "callx" => return call(cur, mnemonic, mspan),
        _ => {}
    }
    if !known(mnemonic) {
        return fail(mspan, format!("unknown mnemonic `{mnemonic}`"));
    }
    let ops = operands(cur)?;
    let insn = |i| Ok(Parsed::plain(i));
    let arity = |n: usize, usage: &str| -> PResult<()> {
        if ops.len() == n {
            Ok(())
        } else {
            wrong_count(mnemonic, mspan, &ops, n, usage)
        }
    };
    if mnemonic == "exit" {
        arity(0, "exit")?;
        return insn(Instruction::Exit);
    }
    if mnemonic == "lddw" {
        arity(2, "lddw %rD, imm64")?;
        let dst = ops[0].reg()?;
        let value = match &ops[1] {
            Opd::Num(n) => n.imm64()?,
            other => return fail(other.span(), "expected a 64-bit immediate"),
        };
        return insn(Instruction::LoadImm64 {
            dst,
            kind: LddwKind::Imm64,
            lo: value as i32,
            hi: (value >> 32) as i32,
        });
    }
    if let Some(rest) = mnemonic.strip_prefix("movsx") {
        let (bits, width) = match rest {
            "832" => (8, Width::W32),
            "1632" => (16, Width::W32),
            "864" => (8, Width::W64),
            "1664" => (16, Width::W64),
            "3264" => (32, Width::W64),
            _ => return fail(mspan, format!("unknown mnemonic `{mnemonic}` (sign-extending moves are movsx832, movsx1632, movsx864, movsx1664, movsx3264)")),
        };
        arity(2, "movsxNM %rD, %rS")?;
        return insn(Instruction::Alu {
            width,
            op: AluOp::MovSx(bits),
            dst: ops[0].reg()?,
            src: Operand::Reg(ops[1].reg()?),
        });
    }
    if let Some((order, bits)) = endian(mnemonic) {
        arity(1, "OP %rD")?;
        return insn(Instruction::Endian {
            order,
            bits,
            dst: ops[0].reg()?,
        });
    }
    {
        let (base, width) = split_width(mnemonic);
        if base == "neg" {
            arity(1, "neg %rD")?;
            return insn(Instruction::Neg {
                width,
                dst: ops[0].reg()?,
            });
        }
        if let Some(op) = alu_op(base) {
            arity(2, "OP %rD, %rS|imm")?;
            return insn(Instruction::Alu {
                width,
                op,
                dst: ops[0].reg()?,
                src: ops[1].reg_or_imm()?,
            });
        }
        if let Some(cond) = cond(base) {
            arity(3, "jCC %rD, %rS|imm, target")?;
            let (off, label) = ops[2].target(false)?;
            let jump = Instruction::Jump {
                width,
                cond,
                dst: ops[0].reg()?,
                src: ops[1].reg_or_imm()?,
                off: off as i16,
            };
            return Ok(Parsed { insn: jump, label });
        }
        if base == "ja" {
            arity(1, "ja target")?;
            let long = width == Width::W32;
            let (off, label) = ops[0].target(long)?;
            let insn = Instruction::Ja { off, long };
            return Ok(Parsed { insn, label });
        }
    }
    if let Some((kind, size)) = memory_mnemonic(mnemonic) {
        return insn(match kind {
            "ldx" | "ldxs" => {
                arity(2, "ldxSZ %rD, [%rS+off]")?;
                let (src, off) = ops[1].mem()?;
                if kind == "ldxs" && size == Size::DW {
                    return fail(mspan, "there is no sign-extending 64-bit load (`ldxsdw`)");
                }
                Instruction::Load {
                    size,
                    signed: kind == "ldxs",
                    dst: ops[0].reg()?,
                    src,
                    off,
                }
            }
            "st" => {
                arity(2, "stSZ [%rD+off], imm")?;
                let (dst, off) = ops[0].mem()?;
                let src = Operand::Imm(ops[1].imm32()?);
                Instruction::Store {
                    size,
                    dst,
                    off,
                    src,
                }
            }
            "stx" => {
                arity(2, "stxSZ [%rD+off], %rS")?;
                let (dst, off) = ops[0].mem()?;
                let src = Operand::Reg(ops[1].reg()?);
                Instruction::Store {
                    size,
                    dst,
                    off,
                    src,
                }
            }
            "ldabs" => {
                arity(1, "ldabsSZ imm")?;
                packet(mspan, size, None, ops[0].imm32()?)?
            }
            _ => {
                arity(2, "ldindSZ %rS, imm")?;
                packet(mspan, size, Some(ops[0].reg()?), ops[1].imm32()?)?
            }
        });
    }
    fail(mspan, format!("unknown mnemonic `{mnemonic}`"))
}

/// Whether `mnemonic` names an instruction (other than `lock` and `call`),
/// so that an unknown one is reported before its operands are read.
fn known(mnemonic: &str) -> bool {
    let (base, _) = split_width(mnemonic);
    matches!(mnemonic, "exit" | "lddw")
        || mnemonic.starts_with("movsx")
        || endian(mnemonic).is_some()
        || matches!(base, "neg" | "ja")
        || alu_op(base).is_some()
        || cond(base).is_some()
        || memory_mnemonic(mnemonic).is_some()
}

fn packet(mspan: Span, size: Size, src: Option<Reg>, imm: i32) -> PResult<Instruction> {
    if size == Size::DW {
        return fail(mspan, "legacy packet loads are 1, 2 or 4 bytes (b, h, w)");
    }
    Ok(Instruction::LoadPacket { size, src, imm })
}

fn wrong_count<T>(mnemonic: &str, mspan: Span, ops: &[Opd], n: usize, usage: &str) -> PResult<T> {
    let span = match (ops.first(), ops.last()) {
        (Some(a), Some(b)) if ops.len() > n => a.span().to(b.span()),
        _ => mspan,
    };
    fail(
        span,
        format!(
            "wrong number of operands for `{mnemonic}`: expected {n} (`{usage}`), found {}",
            ops.len()
        ),
    )
}

/// `lock [fetch] OP[32] [%rD+off], %rS`.
fn lock(cur: &mut Cursor, lspan: Span) -> PResult<Parsed> {
    const USAGE: &str = "lock [fetch] OP [%rD+off], %rS";
    if cur.at_end() {
        return fail(
            lspan,
            format!("wrong number of operands for `lock`: expected `{USAGE}`"),
        );
    }
    let fetch = cur.eat_word("fetch").is_some();
    let Some((name, nspan)) = cur.ident() else {
        return cur.unexpected("expected an atomic operation (add, and, or, xor, xchg, cmpxchg)");
    };
    let (base, width) = split_width(name);
    let (op, fetch) = match base {
        "add" => (AtomicOp::Add, fetch),
        "and" => (AtomicOp::And, fetch),
        "or" => (AtomicOp::Or, fetch),
        "xor" => (AtomicOp::Xor, fetch),
        "xchg" => (AtomicOp::Xchg, true),
        "cmpxchg" => (AtomicOp::CmpXchg, true),
        _ => {
            return fail(
                nspan,
                format!("unknown atomic operation `{name}` (add, and, or, xor, xchg, cmpxchg)"),
            )
        }
    };
    let ops = operands(cur)?;
    if ops.len() != 2 {
        let what = format!("lock {name}");
        return wrong_count(&what, lspan.to(nspan), &ops, 2, USAGE);
    }
    let (dst, off) = ops[0].mem()?;
    Ok(Parsed::plain(Instruction::Atomic {
        size: if width == Width::W32 {
            Size::W
        } else {
            Size::DW
        },
        op,
        fetch,
        dst,
        src: ops[1].reg()?,
        off,
    }))
}

/// `call N`, `call helper N`, `call local label`, `call runtime N`, `call %rN`.
fn call(cur: &mut Cursor, mnemonic: &str, mspan: Span) -> PResult<Parsed> {
    let save = cur.pos();
    let mut mode = None;
    for word in ["local", "helper", "runtime"] {
        if let Some(span) = cur.eat_word(word) {
            if cur.at_end() {
                cur.reset(save);
            } else {
                mode = Some((word, span));
            }
            break;
        }
    }
    let ops = operands(cur)?;
    if ops.len() != 1 {
        return wrong_count(mnemonic, mspan, &ops, 1, "call imm|label|%rN");
    }
    let op = &ops[0];
    let target = match (mode.map(|m| m.0), op) {
        (None, Opd::Reg(r)) => return Ok(Parsed::plain(Instruction::CallX { reg: r.reg })),
        (Some("local"), _) => {
            let (off, label) = op.target(true)?;
            let insn = Instruction::Call(CallTarget::Local(off));
            return Ok(Parsed { insn, label });
        }
        (Some("runtime"), _) => CallTarget::Kfunc {
            btf_id: op.imm32()?,
            off: 0,
        },
        (_, Opd::Name(name, span)) => match helper_id(name) {
            Some(id) => CallTarget::Helper(id),
            None => return fail(*span, format!("unknown helper `{name}`")),
        },
        (_, _) => CallTarget::Helper(op.imm32()?),
    };
    if mnemonic == "callx" {
        return fail(mspan, "`callx` takes a register: `callx %rN`");
    }
    Ok(Parsed::plain(Instruction::Call(target)))
}

/// Comma-separated operands up to the end of the line.
fn operands<'a>(cur: &mut Cursor<'a>) -> PResult<Vec<Opd<'a>>> {
    let mut ops = Vec::new();
    if cur.at_end() {
        return Ok(ops);
    }
    loop {
        ops.push(operand(cur)?);
        if cur.eat(",").is_none() {
            return Ok(ops);
        }
    }
}

fn operand<'a>(cur: &mut Cursor<'a>) -> PResult<Opd<'a>> {
    if let Some(r) = cur.ubpf_reg() {
        return Ok(Opd::Reg(r?));
    }
    if let Some(open) = cur.eat("[") {
        let base = match cur.ubpf_reg() {
            Some(r) => r?.reg,
            None => return cur.unexpected("expected a base register such as `%r10` after `[`"),
        };
        let off = if let Some(plus) = cur.eat("+") {
            let mut n = cur.number()?;
            n.span = plus.to(n.span);
            n.off16("offset")?
        } else if let Some(minus) = cur.eat("-") {
            let mut n = cur.number()?;
            n.value = -n.value;
            n.span = minus.to(n.span);
            n.off16("offset")?
        } else {
            0
        };
        let close = cur.expect("]", "to close the memory operand")?;
        return Ok(Opd::Mem {
            base,
            off,
            span: open.to(close),
        });
    }
    if cur.at_number() {
        return Ok(Opd::Num(cur.number()?));
    }
    if let Some((name, span)) = cur.ident() {
        return Ok(Opd::Name(name, span));
    }
    cur.unexpected("expected an operand")
}

/// Splits `add32` into (`add`, 32-bit) and `add` / `add64` into (`add`, 64-bit).
fn split_width(m: &str) -> (&str, Width) {
    match m.strip_suffix("32") {
        Some(base) => (base, Width::W32),
        None => (m.strip_suffix("64").unwrap_or(m), Width::W64),
    }
}

fn alu_op(base: &str) -> Option<AluOp> {
    Some(match base {
        "add" => AluOp::Add,
        "sub" => AluOp::Sub,
        "mul" => AluOp::Mul,
        "div" => AluOp::Div,
        "sdiv" => AluOp::SDiv,
        "or" => AluOp::Or,
        "and" => AluOp::And,
        "lsh" => AluOp::Lsh,
        "rsh" => AluOp::Rsh,
        "mod" => AluOp::Mod,
        "smod" => AluOp::SMod,
        "xor" => AluOp::Xor,
        "mov" => AluOp::Mov,
        "arsh" => AluOp::Arsh,
        _ => return None,
    })
}

fn cond(base: &str) -> Option<Cond> {
    Some(match base {
        "jeq" => Cond::Eq,
        "jgt" => Cond::Gt,
        "jge" => Cond::Ge,
        "jset" => Cond::Set,
        "jne" => Cond::Ne,
        "jsgt" => Cond::Sgt,
        "jsge" => Cond::Sge,
        "jlt" => Cond::Lt,
        "jle" => Cond::Le,
        "jslt" => Cond::Slt,
        "jsle" => Cond::Sle,
        _ => return None,
    })
}

fn endian(m: &str) -> Option<(ByteOrder, u8)> {
    let (order, bits) = if let Some(b) = m.strip_prefix("be") {
        (ByteOrder::Be, b)
    } else if let Some(b) = m.strip_prefix("le") {
        (ByteOrder::Le, b)
    } else if let Some(b) = m.strip_prefix("bswap").or_else(|| m.strip_prefix("swap")) {
        (ByteOrder::Swap, b)
    } else {
        return None;
    };
    let bits = match bits {
        "16" => 16,
        "32" => 32,
        "64" => 64,
        _ => return None,
    };
    Some((order, bits))
}

/// `ldxw` → (`ldx`, W), `stdw` → (`st`, DW), `ldabsh` → (`ldabs`, H), ...
fn memory_mnemonic(m: &str) -> Option<(&'static str, Size)> {
    for kind in ["ldabs", "ldind", "ldxs", "ldx", "stx", "st"] {
        if let Some(sz) = m.strip_prefix(kind) {
            let size = match sz {
                "b" => Size::B,
                "h" => Size::H,
                "w" => Size::W,
                "dw" => Size::DW,
                _ => continue,
            };
            return Some((kind, size));
        }
    }
    None
}
