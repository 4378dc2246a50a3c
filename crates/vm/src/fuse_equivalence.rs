//! Superinstructions and charging the budget by run must be invisible:
//! random programs built from the patterns `fuse` looks for (and near misses
//! of them) give the same result, the same instruction count and the same
//! error, at every budget, fused and unfused, charged by run and one
//! instruction at a time.

use bpfkit_isa::{check, Insn};
use proptest::prelude::*;

use crate::charge::make_checked_only;
use crate::compile::compile_unfused;
use crate::Vm;

/// One randomly chosen group of instructions, most of them fusable.
fn group() -> impl Strategy<Value = Vec<Insn>> {
    // r9 holds the input address throughout: no group writes it.
    let reg = 0u8..9;
    let imm = prop_oneof![Just(0i32), Just(1), Just(-1), -40i32..40, any::<i32>()];
    // ALU opcodes: add, sub, or, and, lsh, rsh, xor, arsh, mul (64 and 32,
    // immediate and register forms share the op nibble).
    let alu = prop::sample::select(vec![0x00u8, 0x10, 0x20, 0x40, 0x50, 0x60, 0x70, 0xa0, 0xc0]);
    // Jump ops: jeq jgt jge jset jne jsgt jsge jlt jle jslt jsle.
    let jmp = prop::sample::select(vec![
        0x10u8, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0xa0, 0xb0, 0xc0, 0xd0,
    ]);
    let size = prop::sample::select(vec![0x10u8, 0x08, 0x00, 0x18]); // h, b, w, dw
    let wide = any::<bool>();
    let k = any::<bool>();
    (
        reg.clone(),
        reg.clone(),
        reg,
        imm,
        alu,
        jmp,
        size,
        wide,
        k,
        -6i16..6,
        0i16..24,
        0u32..17,
    )
        .prop_map(
            |(d, s, t, imm, alu, jmp, size, wide, k, back, off, which)| {
                let alu_class = if wide { 0x07 } else { 0x04 };
                let jmp_class = if wide { 0x05 } else { 0x06 };
                let src_bit = if k { 0x08 } else { 0x00 };
                let mov = if wide { 0xbf } else { 0xbc };
                // The register form (`k`) has a source and no immediate; the
                // immediate form has no source.
                let (src, kimm) = if k { (s, 0) } else { (0, imm) };
                // A u64 slot of the memory updates (on the stack, or in the input
                // where an access can fault) and the 64-bit update: add, sub, or,
                // and, xor with a register, or add an immediate.
                let (base, at) = if off % 3 == 0 {
                    (9, off)
                } else {
                    (10, -8 * (1 + off % 4))
                };
                let update =
                    match [0x0f, 0x1f, 0x4f, 0x5f, 0xaf, 0x07][(s as usize + t as usize) % 6] {
                        0x07 => Insn::new(0x07, d, 0, 0, imm),
                        alu => Insn::new(alu, d, t, 0, 0),
                    };
                match which {
                    // mov; alu (same or other register)
                    0 => vec![
                        Insn::new(mov, d, s, 0, 0),
                        Insn::new(
                            alu | alu_class | src_bit,
                            if t % 2 == 0 { d } else { t },
                            src,
                            0,
                            kimm & 31,
                        ),
                    ],
                    // mov; add; ldx from the input (r9 keeps the input address),
                    // into the same register or another
                    1 => vec![
                        Insn::new(0xbf, d, 9, 0, 0),
                        Insn::new(0x0f, d, t, 0, 0),
                        Insn::new(0x61 | size, if k { s } else { d }, d, off, 0),
                    ],
                    // mov; add imm; add; ldx, into the same register or another
                    13 => vec![
                        Insn::new(0xbf, d, 9, 0, 0),
                        Insn::new(0x07, d, 0, 0, imm % 8),
                        Insn::new(0x0f, d, t, 0, 0),
                        Insn::new(0x61 | size, if k { s } else { d }, d, off - 4, 0),
                    ],
                    // add; ldx
                    2 => vec![
                        Insn::new(0x0f, d, s, 0, 0),
                        Insn::new(0x61 | size, if k { t } else { d }, d, off, 0),
                    ],
                    // add or and imm; conditional jump on the same register;
                    // sometimes a goto, which the jump falls through past
                    3 => {
                        let mut group = vec![
                            Insn::new(if k { 0x50 } else { 0x00 } | alu_class, d, 0, 0, imm),
                            Insn::new(
                                jmp | jmp_class | src_bit,
                                d,
                                src,
                                back,
                                kimm.wrapping_mul(3),
                            ),
                        ];
                        if off % 2 == 0 {
                            group.push(Insn::new(0x05, 0, 0, back - 1, 0));
                        }
                        group
                    }
                    // if cond goto +1 (or another short hop); goto back
                    4 => vec![
                        Insn::new(jmp | jmp_class | src_bit, d, src, 1 + off % 3, kimm),
                        Insn::new(0x05, 0, 0, back, 0),
                    ],
                    // a narrow load from the input, then a shift
                    5 => vec![
                        Insn::new(0x61 | size, d, 9, off, 0),
                        Insn::new(0x60 | alu_class, d, 0, 0, imm & 31),
                    ],
                    // mov; shift by an immediate; xor with the mov's source (or,
                    // a near miss, another register)
                    6 => vec![
                        Insn::new(mov, d, s, 0, 0),
                        Insn::new(if k { 0x70 } else { 0x60 } | alu_class, d, 0, 0, imm & 63),
                        Insn::new(0xa8 | alu_class, d, if off % 4 == 0 { t } else { s }, 0, 0),
                    ],
                    // a byte or half from the input; shift; or (at one width or,
                    // a near miss, two)
                    7 => vec![
                        Insn::new(if k { 0x71 } else { 0x69 }, d, 9, off, 0), // ldxb, ldxh
                        Insn::new(
                            0x60 | alu_class,
                            d,
                            0,
                            0,
                            8 + 8 * (back as i32).rem_euclid(3),
                        ),
                        Insn::new(
                            0x48 | if off % 4 != 0 {
                                alu_class
                            } else if wide {
                                0x04
                            } else {
                                0x07
                            },
                            // `rD |= rT` or `rT |= rD`
                            if k { d } else { t },
                            if k { t } else { d },
                            0,
                            0,
                        ),
                    ],
                    // a u64 on the stack (or in the input) updated in place (or,
                    // a near miss, stored elsewhere)
                    8 => {
                        vec![
                            Insn::new(0x79, d, base, at, 0),
                            update,
                            Insn::new(0x7b, base, d, if off % 5 == 0 { at - 8 } else { at }, 0),
                        ]
                    }
                    // a one-bit mask
                    9 => vec![
                        Insn::new(0xb7, d, 0, 0, imm & 3),
                        Insn::new(0x6f, if off % 4 == 0 { t } else { d }, s, 0, 0),
                    ],
                    // and; neg; and (the CRC step), or a near miss on another
                    // register
                    10 => vec![
                        Insn::new(0xb7, d, 0, 0, off as i32 - 9), // rD = a small value, odd or even
                        Insn::new(0x54 | (alu_class & 0x03), d, 0, 0, 1 | imm & 6),
                        Insn::new(0x84 | (alu_class & 0x03), d, 0, 0, 0),
                        Insn::new(0x54 | (alu_class & 0x03), if k { d } else { t }, 0, 0, imm),
                    ],
                    // lddw; and with it (or, a near miss, with another register)
                    11 => vec![
                        Insn::new(0x18, t, 0, 0, imm),
                        Insn::new(0x00, 0, 0, 0, imm.rotate_left(7)),
                        Insn::new(0x5f, d, if k { t } else { s }, 0, 0),
                    ],
                    // an ALU op, then its result stored (on the stack or in the
                    // input, where a store can fault) or, a near miss, another
                    // register stored
                    12 => {
                        vec![
                            update,
                            Insn::new(0x7b, base, if off % 5 == 0 { s } else { d }, at, 0),
                        ]
                    }
                    // a value of any sign and size, then two ALU instructions of
                    // any operation, width and operand kind (the pairs the
                    // superinstructions take among them)
                    14 => {
                        let second = [0xb0, 0x00, 0x10, 0x20, 0x40, 0x50, 0x60, 0x70, 0xa0, 0xc0]
                            [(s as usize * 3 + t as usize) % 10];
                        let (class2, src2) = if off % 2 == 0 {
                            (0x07, 0x08)
                        } else {
                            (0x04, 0x00)
                        };
                        let shift = |op: u8, v: i32| {
                            if matches!(op, 0x60 | 0x70 | 0xc0) {
                                v & 31
                            } else {
                                v
                            }
                        };
                        vec![
                            Insn::new(0xb7, d, 0, 0, imm.wrapping_mul(0x1f3d_5b79)),
                            Insn::new(alu | alu_class | src_bit, d, src, 0, shift(alu, kimm)),
                            Insn::new(
                                second | class2 | src2,
                                t,
                                if src2 != 0 { d } else { 0 },
                                0,
                                if src2 != 0 {
                                    0
                                } else {
                                    shift(second, imm.rotate_left(3))
                                },
                            ),
                        ]
                    }
                    // add or and imm; an ALU instruction on other registers
                    // (or, near misses, one that writes or reads the step's
                    // register); a conditional jump on the step's register,
                    // which `hoist` moves the middle one ahead of
                    16 => {
                        let b_op = [0xb0u8, 0x00, 0x70, 0xa0][(s as usize + off as usize) % 4];
                        let b_dst = if off % 3 == 0 { d } else { t };
                        let b_src = if off % 5 == 0 { d } else { s };
                        vec![
                            Insn::new(if k { 0x50 } else { 0x00 } | alu_class, d, 0, 0, imm),
                            Insn::new(
                                b_op | 0x08 | if back % 2 == 0 { 0x07 } else { 0x04 },
                                b_dst,
                                b_src,
                                0,
                                0,
                            ),
                            Insn::new(jmp | jmp_class | src_bit, d, src, back, kimm),
                        ]
                    }
                    // copy the input address
                    _ => vec![Insn::new(0xbf, d, 9, 0, 0)],
                }
            },
        )
}

/// A program: r9 = r1 (the input), the groups, then an epilogue that folds
/// every register and the stack slots the groups write into r0, so that
/// the result shows them all, then `exit`. Jumps out of range are clamped
/// by retrying until `check` accepts the program.
fn program() -> impl Strategy<Value = Vec<Insn>> {
    prop::collection::vec(group(), 1..12).prop_map(|groups| {
        let mut slots = vec![Insn::new(0xbf, 9, 1, 0, 0)];
        slots.extend(groups.into_iter().flatten());
        for r in 1..10 {
            slots.push(Insn::new(0x27, 0, 0, 0, 3)); // r0 *= 3
            slots.push(Insn::new(0x0f, 0, r, 0, 0)); // r0 += rN
        }
        for at in [-8, -16, -24, -32] {
            slots.push(Insn::new(0x79, 1, 10, at, 0)); // r1 = *(u64 *)(r10 + at)
            slots.push(Insn::new(0xaf, 0, 1, 0, 0)); // r0 ^= r1
        }
        slots.push(Insn::new(0x95, 0, 0, 0, 0));
        slots
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    #[test]
    fn fused_and_unfused_runs_agree(
        slots in program(),
        budget in prop_oneof![0u64..120, 120u64..5000, Just(100_000)],
    ) {
        let Ok(prog) = check(&slots) else { return Ok(()) };
        let mut fused = Vm::new(&prog).unwrap();
        let mut plain = fused.clone();
        plain.ops = compile_unfused(&prog, &Default::default()).unwrap();
        // The reference: unfused, charged one instruction at a time.
        let mut checked = plain.clone();
        make_checked_only(&mut checked.ops);
        for vm in [&mut fused, &mut plain, &mut checked] {
            vm.set_budget(budget);
            vm.set_clear_stack(true);
        }
        let mut a: Vec<u8> = (0..32).collect();
        let mut b = a.clone();
        let mut c = a.clone();
        let x = fused.run(&mut a);
        let y = plain.run(&mut b);
        let z = checked.run(&mut c);
        prop_assert_eq!(&x, &z);
        prop_assert_eq!(&y, &z);
        prop_assert_eq!(&a, &c);
        prop_assert_eq!(&b, &c);
    }
}
