//! uBPF / bpf_conformance syntax.

use super::{bytes, insns, one};
use crate::instruction::{
    AluOp, AtomicOp, ByteOrder, CallTarget, Cond, Instruction, LddwKind, Operand, Reg, Size, Width,
};
use crate::Syntax::{Llvm, Ubpf};

fn r(n: u8) -> Reg {
    Reg::new(n).unwrap()
}

#[test]
fn alu_both_widths_and_every_op() {
    let ops = [
        ("add", AluOp::Add),
        ("sub", AluOp::Sub),
        ("mul", AluOp::Mul),
        ("div", AluOp::Div),
        ("sdiv", AluOp::SDiv),
        ("or", AluOp::Or),
        ("and", AluOp::And),
        ("lsh", AluOp::Lsh),
        ("rsh", AluOp::Rsh),
        ("mod", AluOp::Mod),
        ("smod", AluOp::SMod),
        ("xor", AluOp::Xor),
        ("mov", AluOp::Mov),
        ("arsh", AluOp::Arsh),
    ];
    for (name, op) in ops {
        for (suffix, width) in [("", Width::W64), ("64", Width::W64), ("32", Width::W32)] {
            let reg = format!("{name}{suffix} %r3, %r4");
            let want = Instruction::Alu {
                width,
                op,
                dst: r(3),
                src: Operand::Reg(r(4)),
            };
            assert_eq!(one(&reg, Ubpf), want, "{reg}");
            let imm = format!("{name}{suffix} %r3, -0x10");
            let want = Instruction::Alu {
                width,
                op,
                dst: r(3),
                src: Operand::Imm(-16),
            };
            assert_eq!(one(&imm, Ubpf), want, "{imm}");
        }
    }
    assert_eq!(
        one("neg %r2", Ubpf),
        Instruction::Neg {
            width: Width::W64,
            dst: r(2)
        }
    );
    assert_eq!(
        one("neg32 %r2", Ubpf),
        Instruction::Neg {
            width: Width::W32,
            dst: r(2)
        }
    );
    // hex immediates may be written as 32-bit patterns
    assert_eq!(
        one("mov32 %r1, 0x87654321", Ubpf),
        Instruction::Alu {
            width: Width::W32,
            op: AluOp::Mov,
            dst: r(1),
            src: Operand::Imm(0x87654321u32 as i32)
        }
    );
}

#[test]
fn sign_extending_moves() {
    let cases = [
        ("movsx832", Width::W32, 8),
        ("movsx1632", Width::W32, 16),
        ("movsx864", Width::W64, 8),
        ("movsx1664", Width::W64, 16),
        ("movsx3264", Width::W64, 32),
    ];
    for (m, width, bits) in cases {
        let want = Instruction::Alu {
            width,
            op: AluOp::MovSx(bits),
            dst: r(0),
            src: Operand::Reg(r(1)),
        };
        assert_eq!(one(&format!("{m} %r0, %r1"), Ubpf), want);
    }
}

#[test]
fn byte_swaps() {
    for (m, order) in [
        ("be", ByteOrder::Be),
        ("le", ByteOrder::Le),
        ("swap", ByteOrder::Swap),
        ("bswap", ByteOrder::Swap),
    ] {
        for bits in [16u8, 32, 64] {
            let want = Instruction::Endian {
                order,
                bits,
                dst: r(0),
            };
            assert_eq!(one(&format!("{m}{bits} %r0"), Ubpf), want);
        }
    }
}

#[test]
fn lddw_and_memory() {
    assert_eq!(
        one("lddw %r0, 0x1122334455667788", Ubpf),
        Instruction::LoadImm64 {
            dst: r(0),
            kind: LddwKind::Imm64,
            lo: 0x55667788,
            hi: 0x11223344
        }
    );
    assert_eq!(
        one("lddw %r0, -2", Ubpf),
        Instruction::LoadImm64 {
            dst: r(0),
            kind: LddwKind::Imm64,
            lo: -2,
            hi: -1
        }
    );
    let sizes = [
        ("b", Size::B),
        ("h", Size::H),
        ("w", Size::W),
        ("dw", Size::DW),
    ];
    for (s, size) in sizes {
        let load = Instruction::Load {
            size,
            signed: false,
            dst: r(0),
            src: r(1),
            off: 2,
        };
        assert_eq!(one(&format!("ldx{s} %r0, [%r1+2]"), Ubpf), load);
        let store = Instruction::Store {
            size,
            dst: r(10),
            off: -8,
            src: Operand::Imm(5),
        };
        assert_eq!(one(&format!("st{s} [%r10-8], 5"), Ubpf), store);
        let stx = Instruction::Store {
            size,
            dst: r(1),
            off: 0,
            src: Operand::Reg(r(2)),
        };
        assert_eq!(one(&format!("stx{s} [%r1], %r2"), Ubpf), stx);
    }
    let sx = Instruction::Load {
        size: Size::H,
        signed: true,
        dst: r(0),
        src: r(1),
        off: -2,
    };
    assert_eq!(one("ldxsh %r0, [%r1-2]", Ubpf), sx);
}

#[test]
fn atomics() {
    let a = |size, op, fetch| Instruction::Atomic {
        size,
        op,
        fetch,
        dst: r(10),
        src: r(1),
        off: -8,
    };
    assert_eq!(
        one("lock add [%r10-8], %r1", Ubpf),
        a(Size::DW, AtomicOp::Add, false)
    );
    assert_eq!(
        one("lock add32 [%r10-8], %r1", Ubpf),
        a(Size::W, AtomicOp::Add, false)
    );
    assert_eq!(
        one("lock fetch or [%r10-8], %r1", Ubpf),
        a(Size::DW, AtomicOp::Or, true)
    );
    assert_eq!(
        one("lock fetch xor32 [%r10-8], %r1", Ubpf),
        a(Size::W, AtomicOp::Xor, true)
    );
    assert_eq!(
        one("lock and [%r10-8], %r1", Ubpf),
        a(Size::DW, AtomicOp::And, false)
    );
    assert_eq!(
        one("lock xchg [%r10-8], %r1", Ubpf),
        a(Size::DW, AtomicOp::Xchg, true)
    );
    assert_eq!(
        one("lock cmpxchg32 [%r10-8], %r1", Ubpf),
        a(Size::W, AtomicOp::CmpXchg, true)
    );
}

#[test]
fn packet_loads() {
    assert_eq!(
        one("ldabsh 12", Ubpf),
        Instruction::LoadPacket {
            size: Size::H,
            src: None,
            imm: 12
        }
    );
    assert_eq!(
        one("ldindw %r3, -4", Ubpf),
        Instruction::LoadPacket {
            size: Size::W,
            src: Some(r(3)),
            imm: -4
        }
    );
}

#[test]
fn jumps_offsets_labels_and_implicit_exit() {
    let conds = [
        ("jeq", Cond::Eq),
        ("jgt", Cond::Gt),
        ("jge", Cond::Ge),
        ("jset", Cond::Set),
        ("jne", Cond::Ne),
        ("jsgt", Cond::Sgt),
        ("jsge", Cond::Sge),
        ("jlt", Cond::Lt),
        ("jle", Cond::Le),
        ("jslt", Cond::Slt),
        ("jsle", Cond::Sle),
    ];
    for (m, cond) in conds {
        for (suffix, width) in [("", Width::W64), ("32", Width::W32)] {
            let want = Instruction::Jump {
                width,
                cond,
                dst: r(1),
                src: Operand::Imm(7),
                off: -3,
            };
            assert_eq!(one(&format!("{m}{suffix} %r1, 7, -3"), Ubpf), want);
        }
    }
    let prog = insns("jne %r0, %r1, exit\nL1: ja +1\nexit\nja32 L1\nexit", Ubpf);
    assert_eq!(
        prog[0],
        Instruction::Jump {
            width: Width::W64,
            cond: Cond::Ne,
            dst: r(0),
            src: Operand::Reg(r(1)),
            off: 1
        }
    );
    assert_eq!(
        prog[1],
        Instruction::Ja {
            off: 1,
            long: false
        }
    );
    assert_eq!(
        prog[3],
        Instruction::Ja {
            off: -3,
            long: true
        }
    );
    // an explicit `exit` label wins over the first exit instruction
    let prog = insns("ja exit\nexit\nexit:\nexit", Ubpf);
    assert_eq!(
        prog[0],
        Instruction::Ja {
            off: 1,
            long: false
        }
    );
    // labels count lddw as two slots
    let prog = insns("ja end\nlddw %r0, 1\nend: exit", Ubpf);
    assert_eq!(
        prog[0],
        Instruction::Ja {
            off: 2,
            long: false
        }
    );
}

#[test]
fn calls() {
    use CallTarget::*;
    assert_eq!(one("call 5", Ubpf), Instruction::Call(Helper(5)));
    assert_eq!(one("call helper 6", Ubpf), Instruction::Call(Helper(6)));
    assert_eq!(
        one("call bpf_ktime_get_ns", Ubpf),
        Instruction::Call(Helper(5))
    );
    assert_eq!(
        one("call runtime 77", Ubpf),
        Instruction::Call(Kfunc { btf_id: 77, off: 0 })
    );
    assert_eq!(one("call %r2", Ubpf), Instruction::CallX { reg: r(2) });
    assert_eq!(one("call local -3", Ubpf), Instruction::Call(Local(-3)));
    let prog = insns("call local f\nexit\nf:\nexit", Ubpf);
    assert_eq!(prog[0], Instruction::Call(Local(1)));
}

#[test]
fn callx_and_exit_bytes() {
    assert_eq!(bytes("call %r2", Ubpf), [0x8d, 0x02, 0, 0, 0, 0, 0, 0]);
    assert_eq!(bytes("exit", Ubpf), [0x95, 0, 0, 0, 0, 0, 0, 0]);
}

#[test]
fn both_syntaxes_agree() {
    let ubpf =
        "mov %r0, 0\nldxw %r1, [%r1+4]\njsgt32 %r1, -2, +1\nlock fetch add [%r10-8], %r1\nexit";
    let llvm = "r0 = 0\nr1 = *(u32 *)(r1 + 4)\nif w1 s> -2 goto +1\nr1 = atomic_fetch_add((u64 *)(r10 - 8), r1)\nexit";
    assert_eq!(bytes(ubpf, Ubpf), bytes(llvm, Llvm));
}

#[test]
fn comments_blank_lines_and_labels_before_instructions() {
    let prog = insns(
        "# header\n\n  start: mov %r0, 1 ; trailing\n// c++ style\nexit # done",
        Ubpf,
    );
    assert_eq!(prog.len(), 2);
    assert_eq!(prog[1], Instruction::Exit);
}
