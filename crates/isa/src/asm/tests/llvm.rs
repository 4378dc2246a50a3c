//! LLVM / kernel syntax.

use super::{bytes, insns, one};
use crate::instruction::{
    AluOp, AtomicOp, ByteOrder, CallTarget, Cond, Instruction, LddwKind, Operand, Reg, Size, Width,
};
use crate::Syntax::Llvm;

const SOURCE: &str = include_str!("llvm19_all.s");
const DUMP: &str = include_str!("llvm19_all.dump");

fn r(n: u8) -> Reg {
    Reg::new(n).unwrap()
}

/// The bytes objdump shows on the instruction lines of the dump.
fn dump_bytes() -> Vec<u8> {
    let mut expected = Vec::new();
    for line in DUMP.lines() {
        let fields: Vec<&str> = line.split('\t').collect();
        if fields.len() == 3 && fields[0].trim_end().ends_with(':') {
            for b in fields[1].split_whitespace() {
                expected.push(u8::from_str_radix(b, 16).unwrap());
            }
        }
    }
    expected
}

/// Every instruction form LLVM 19 prints, assembled from the source that
/// llvm-mc-19 assembled: the same bytes.
#[test]
fn source_matches_llvm_mc() {
    let expected = dump_bytes();
    assert!(expected.len() > 170 * 8);
    assert_eq!(bytes(SOURCE, Llvm), expected);
}

/// The whole `llvm-objdump -d` listing (banners, addresses, bytes, hex
/// immediates, `<.text+0x..>` annotations) assembles back to its bytes.
#[test]
fn objdump_output_reassembles_to_its_bytes() {
    assert_eq!(bytes(DUMP, Llvm), dump_bytes());
}

#[test]
fn alu_both_widths() {
    let alu = |width, op, dst, src| Instruction::Alu {
        width,
        op,
        dst: r(dst),
        src,
    };
    assert_eq!(
        one("r1 += r2", Llvm),
        alu(Width::W64, AluOp::Add, 1, Operand::Reg(r(2)))
    );
    assert_eq!(
        one("w1 -= 5", Llvm),
        alu(Width::W32, AluOp::Sub, 1, Operand::Imm(5))
    );
    assert_eq!(
        one("r0 s/= r1", Llvm),
        alu(Width::W64, AluOp::SDiv, 0, Operand::Reg(r(1)))
    );
    assert_eq!(
        one("w0 s%= -3", Llvm),
        alu(Width::W32, AluOp::SMod, 0, Operand::Imm(-3))
    );
    assert_eq!(
        one("r9 s>>= 0x3f", Llvm),
        alu(Width::W64, AluOp::Arsh, 9, Operand::Imm(63))
    );
    assert_eq!(
        one("w0 = w1", Llvm),
        alu(Width::W32, AluOp::Mov, 0, Operand::Reg(r(1)))
    );
    assert_eq!(
        one("r0 = -0x1", Llvm),
        alu(Width::W64, AluOp::Mov, 0, Operand::Imm(-1))
    );
    assert_eq!(
        one("r0 = 0xffffffff", Llvm),
        alu(Width::W64, AluOp::Mov, 0, Operand::Imm(-1))
    );
    assert_eq!(
        one("r0 = (s8)r1", Llvm),
        alu(Width::W64, AluOp::MovSx(8), 0, Operand::Reg(r(1)))
    );
    assert_eq!(
        one("w0 = (s16)w1", Llvm),
        alu(Width::W32, AluOp::MovSx(16), 0, Operand::Reg(r(1)))
    );
    assert_eq!(
        one("w0 = -w0", Llvm),
        Instruction::Neg {
            width: Width::W32,
            dst: r(0)
        }
    );
    assert_eq!(
        one("r0 = -r0", Llvm),
        Instruction::Neg {
            width: Width::W64,
            dst: r(0)
        }
    );
}

#[test]
fn byte_swaps() {
    let e = |order, bits| Instruction::Endian {
        order,
        bits,
        dst: r(0),
    };
    assert_eq!(one("r0 = be16 r0", Llvm), e(ByteOrder::Be, 16));
    assert_eq!(one("r0 = le32 r0", Llvm), e(ByteOrder::Le, 32));
    assert_eq!(one("r0 = bswap64 r0", Llvm), e(ByteOrder::Swap, 64));
}

#[test]
fn lddw() {
    assert_eq!(
        one("r1 = 0x1122334455667788 ll", Llvm),
        Instruction::LoadImm64 {
            dst: r(1),
            kind: LddwKind::Imm64,
            lo: 0x55667788,
            hi: 0x11223344
        }
    );
    assert_eq!(
        one("r1 = 0 ll", Llvm),
        Instruction::LoadImm64 {
            dst: r(1),
            kind: LddwKind::Imm64,
            lo: 0,
            hi: 0
        }
    );
    assert_eq!(
        one("ld_pseudo r1, 0x2, 0x5", Llvm),
        Instruction::LoadImm64 {
            dst: r(1),
            kind: LddwKind::MapValue,
            lo: 5,
            hi: 0
        }
    );
}

#[test]
fn loads_and_stores() {
    let load = |size, signed, off| Instruction::Load {
        size,
        signed,
        dst: r(0),
        src: r(1),
        off,
    };
    assert_eq!(one("r0 = *(u32 *)(r1 + 0)", Llvm), load(Size::W, false, 0));
    assert_eq!(one("r0 = *(u8 *)(r1 + 0x2)", Llvm), load(Size::B, false, 2));
    assert_eq!(one("r0 = *(s8 *)(r1 + 2)", Llvm), load(Size::B, true, 2));
    assert_eq!(one("w0 = *(u16 *)(r1 - 2)", Llvm), load(Size::H, false, -2));
    // the verifier log's spacing
    assert_eq!(one("r0 = *(u64 *)(r1 +8)", Llvm), load(Size::DW, false, 8));
    assert_eq!(
        one("*(u32 *)(r10 - 4) = r1", Llvm),
        Instruction::Store {
            size: Size::W,
            dst: r(10),
            off: -4,
            src: Operand::Reg(r(1))
        }
    );
    assert_eq!(
        one("*(u64 *)(r10 -8) = 5", Llvm),
        Instruction::Store {
            size: Size::DW,
            dst: r(10),
            off: -8,
            src: Operand::Imm(5)
        }
    );
}

#[test]
fn atomics_in_llvm_and_kernel_spelling() {
    let a = |size, op, fetch, src, off| Instruction::Atomic {
        size,
        op,
        fetch,
        dst: r(1),
        src: r(src),
        off,
    };
    assert_eq!(
        one("lock *(u64 *)(r1 - 8) += r2", Llvm),
        a(Size::DW, AtomicOp::Add, false, 2, -8)
    );
    assert_eq!(
        one("lock *(u32 *)(r1 + 0) += w2", Llvm),
        a(Size::W, AtomicOp::Add, false, 2, 0)
    );
    assert_eq!(
        one("lock *(u32 *)(r1 + 0) ^= r2", Llvm),
        a(Size::W, AtomicOp::Xor, false, 2, 0)
    );
    assert_eq!(
        one("lock *(u64 *)(r1+0) |= r2", Llvm),
        a(Size::DW, AtomicOp::Or, false, 2, 0)
    );
    let fetch_and = a(Size::DW, AtomicOp::And, true, 2, 0);
    assert_eq!(
        one("r2 = atomic_fetch_and((u64 *)(r1 + 0), r2)", Llvm),
        fetch_and
    );
    assert_eq!(
        one("r2 = atomic64_fetch_and((u64 *)(r1 +0), r2)", Llvm),
        fetch_and
    );
    let or32 = a(Size::W, AtomicOp::Or, true, 2, 0);
    assert_eq!(one("w2 = atomic_fetch_or((u32 *)(r1 + 0), w2)", Llvm), or32);
    let xchg = a(Size::DW, AtomicOp::Xchg, true, 2, 0);
    assert_eq!(one("r2 = xchg_64(r1 + 0, r2)", Llvm), xchg);
    assert_eq!(one("r2 = atomic64_xchg((u64 *)(r1 +0), r2)", Llvm), xchg);
    assert_eq!(
        one("w2 = xchg32_32(r1 + 0, w2)", Llvm),
        a(Size::W, AtomicOp::Xchg, true, 2, 0)
    );
    let cmpxchg = a(Size::DW, AtomicOp::CmpXchg, true, 2, 0);
    assert_eq!(one("r0 = cmpxchg_64(r1 + 0, r0, r2)", Llvm), cmpxchg);
    assert_eq!(
        one("r0 = atomic64_cmpxchg((u64 *)(r1 +0), r0, r2)", Llvm),
        cmpxchg
    );
    assert_eq!(
        one("w0 = cmpxchg32_32(r1 + 0, w0, w2)", Llvm),
        a(Size::W, AtomicOp::CmpXchg, true, 2, 0)
    );
}

#[test]
fn packet_loads() {
    let p = |size, src, imm| Instruction::LoadPacket { size, src, imm };
    assert_eq!(one("r0 = *(u8 *)skb[3]", Llvm), p(Size::B, None, 3));
    assert_eq!(one("r0 = *(u16 *)skb[r1]", Llvm), p(Size::H, Some(r(1)), 0));
    assert_eq!(
        one("r0 = *(u32 *)skb[r1 + 4]", Llvm),
        p(Size::W, Some(r(1)), 4)
    );
}

#[test]
fn jumps_with_offsets_labels_and_annotations() {
    let j = |width, cond, dst, src, off| Instruction::Jump {
        width,
        cond,
        dst: r(dst),
        src,
        off,
    };
    assert_eq!(
        one("if r8 > 4 goto -159", Llvm),
        j(Width::W64, Cond::Gt, 8, Operand::Imm(4), -159)
    );
    assert_eq!(
        one("if w1 s< w2 goto +3", Llvm),
        j(Width::W32, Cond::Slt, 1, Operand::Reg(r(2)), 3)
    );
    assert_eq!(
        one("if r1 & 0x8 goto pc+2", Llvm),
        j(Width::W64, Cond::Set, 1, Operand::Imm(8), 2)
    );
    assert_eq!(
        one("if w2 > 0x5 goto +0x1 <f+0x20>", Llvm),
        j(Width::W32, Cond::Gt, 2, Operand::Imm(5), 1)
    );
    assert_eq!(
        one("goto +3", Llvm),
        Instruction::Ja {
            off: 3,
            long: false
        }
    );
    assert_eq!(
        one("goto pc-5", Llvm),
        Instruction::Ja {
            off: -5,
            long: false
        }
    );
    assert_eq!(
        one("gotol +70000", Llvm),
        Instruction::Ja {
            off: 70000,
            long: true
        }
    );
    let prog = insns(
        "start:\n  if r1 != 0 goto out\n  goto start\nout: exit",
        Llvm,
    );
    assert_eq!(prog[0], j(Width::W64, Cond::Ne, 1, Operand::Imm(0), 1));
    assert_eq!(
        prog[1],
        Instruction::Ja {
            off: -2,
            long: false
        }
    );
}

#[test]
fn calls() {
    use CallTarget::*;
    assert_eq!(one("call 1", Llvm), Instruction::Call(Helper(1)));
    assert_eq!(one("call 0x5", Llvm), Instruction::Call(Helper(5)));
    assert_eq!(
        one("call bpf_map_lookup_elem", Llvm),
        Instruction::Call(Helper(1))
    );
    // the verifier log: `call bpf_trace_printk#6` (the `#6` is a comment)
    assert_eq!(
        one("call bpf_trace_printk#6", Llvm),
        Instruction::Call(Helper(6))
    );
    // llvm-objdump prints a local call as its signed offset
    assert_eq!(one("call -0x3", Llvm), Instruction::Call(Local(-3)));
    assert_eq!(one("call pc+2", Llvm), Instruction::Call(Local(2)));
    assert_eq!(one("callx r2", Llvm), Instruction::CallX { reg: r(2) });
    let prog = insns("call my_func\nexit\nmy_func:\nr0 = 0\nexit", Llvm);
    assert_eq!(prog[0], Instruction::Call(Local(1)));
    // a label wins over a helper of the same name
    let prog = insns("call redirect\nexit\nredirect: exit", Llvm);
    assert_eq!(prog[0], Instruction::Call(Local(1)));
}

#[test]
fn verifier_log_lines() {
    let log = "0: (b7) r0 = 0\n1: (85) call bpf_ktime_get_ns#5\n2: (95) exit";
    assert_eq!(
        insns(log, Llvm),
        vec![
            Instruction::Alu {
                width: Width::W64,
                op: AluOp::Mov,
                dst: r(0),
                src: Operand::Imm(0)
            },
            Instruction::Call(CallTarget::Helper(5)),
            Instruction::Exit,
        ]
    );
}

#[test]
fn objdump_relocation_lines_are_skipped() {
    let dump = "b.o:\tfile format elf64-bpf\n\nDisassembly of section .text:\n\n\
                0000000000000000 <g>:\n       0:\t85 10 00 00 ff ff ff ff\tcall -0x1\n\
                \t\t0000000000000000:  R_BPF_64_32\tf\n       1:\t95 00 00 00 00 00 00 00\texit";
    assert_eq!(
        insns(dump, Llvm),
        vec![Instruction::Call(CallTarget::Local(-1)), Instruction::Exit]
    );
}
