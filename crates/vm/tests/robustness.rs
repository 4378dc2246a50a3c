//! Hostile programs: random slots that pass the structural check must run
//! to a result or a typed error, never a panic (the test profile has
//! overflow checks on, so any arithmetic slip would panic here too).

use bpfkit_isa::{check, Insn};
use bpfkit_vm::{Region, Vm, VmError};

/// xorshift64*: deterministic, so a failure reproduces.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

/// Opcodes the checker accepts, so that most random programs are valid.
const CODES: &[u8] = &[
    0x07, 0x0f, 0x17, 0x1f, 0x27, 0x2f, 0x37, 0x3f, 0x47, 0x4f, 0x57, 0x5f, 0x67, 0x6f, 0x77, 0x7f,
    0x87, 0x97, 0x9f, 0xa7, 0xaf, 0xb7, 0xbf, 0xc7, 0xcf, 0xd7, 0x04, 0x0c, 0x34, 0x3c, 0x94, 0x9c,
    0xb4, 0xbc, 0xc4, 0xcc, 0xd4, 0xdc, 0x18, 0x61, 0x69, 0x71, 0x79, 0x81, 0x89, 0x91, 0x62, 0x6a,
    0x72, 0x7a, 0x63, 0x6b, 0x73, 0x7b, 0xc3, 0xdb, 0x20, 0x28, 0x30, 0x40, 0x48, 0x50, 0x05, 0x06,
    0x15, 0x1d, 0x25, 0x2d, 0x35, 0x3d, 0x45, 0x4d, 0x55, 0x5d, 0x65, 0x6d, 0x75, 0x7d, 0xa5, 0xad,
    0xb5, 0xbd, 0xc5, 0xcd, 0xd5, 0xdd, 0x16, 0x1e, 0xa6, 0xae, 0x85, 0x8d, 0x95,
];

fn random_program(rng: &mut Rng) -> Vec<Insn> {
    let len = 2 + (rng.next() % 24) as usize;
    let mut slots = Vec::new();
    for _ in 0..len {
        let r = rng.next();
        let code = CODES[(r % CODES.len() as u64) as usize];
        let class = code & 0x07;
        let is_x = code & 0x08 != 0;
        let mut dst = ((r >> 8) % 10) as u8; // never r10 as a destination
        let mut src = ((r >> 12) % 10) as u8;
        let mut off = 0i16;
        let mut imm = (r >> 32) as i32 >> ((r >> 20) % 32);
        match class {
            0x04 | 0x07 => {
                let op = code & 0xf0;
                if op == 0x80 || op == 0xd0 {
                    src = 0;
                    imm = if op == 0x80 {
                        0
                    } else {
                        [16, 32, 64][(r >> 40) as usize % 3]
                    };
                } else if is_x {
                    imm = 0;
                    if op == 0xb0 && (r >> 44) % 4 == 0 {
                        off = if class == 0x07 { 32 } else { 8 };
                    }
                } else {
                    src = 0;
                }
                if matches!(op, 0x30 | 0x90) {
                    off = ((r >> 46) % 2) as i16;
                }
            }
            0x05 | 0x06 => {
                off = ((r >> 16) % 9) as i16 - 4;
                match code {
                    0x05 => (dst, src, imm) = (0, 0, 0),
                    0x06 => (dst, src, off, imm) = (0, 0, 0, off as i32),
                    0x85 => {
                        (dst, off) = (0, 0);
                        src = ((r >> 12) % 2) as u8;
                        imm = ((r >> 40) % 8) as i32 - 2;
                    }
                    0x8d => (src, off, imm) = (0, 0, 0),
                    0x95 => (dst, src, off, imm) = (0, 0, 0, 0),
                    _ if is_x => imm = 0,
                    _ => src = 0,
                }
            }
            0x00 => {
                if code == 0x18 {
                    slots.push(Insn::new(code, dst, 0, 0, imm));
                    slots.push(Insn::new(0, 0, 0, 0, (r >> 3) as i32));
                    continue;
                }
                dst = 0;
                if code & 0xe0 == 0x20 {
                    src = 0;
                }
                imm = ((r >> 40) % 80) as i32 - 8;
            }
            _ => {
                off = ((r >> 16) % 1100) as i16 - 550;
                dst = ((r >> 8) % 11) as u8;
                if class == 0x01 {
                    dst %= 10;
                    imm = 0;
                } else if class == 0x02 {
                    src = 0;
                } else if code & 0xe0 == 0xc0 {
                    imm = [0, 1, 0x40, 0x41, 0x50, 0x51, 0xa0, 0xa1, 0xe1, 0xf1]
                        [(r >> 40) as usize % 10];
                } else {
                    imm = 0;
                }
            }
        }
        slots.push(Insn::new(code, dst, src, off, imm));
    }
    slots.push(Insn::new(0x95, 0, 0, 0, 0));
    slots
}

#[test]
fn random_checked_programs_never_panic() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let (mut ran, mut errors, mut rejected) = (0, 0, 0);
    for _ in 0..20_000 {
        let slots = random_program(&mut rng);
        let Ok(program) = check(&slots) else {
            rejected += 1;
            continue;
        };
        let Ok(mut vm) = Vm::new(&program) else {
            continue;
        };
        vm.set_budget(5_000);
        for id in 0..4 {
            vm.register_helper(id, |a, b, _, _, _| a ^ b);
        }
        let mut mem = [0x5au8; 64];
        let ro = [1u8; 16];
        let mut regions = [Region::read_only("ro", &ro)];
        match vm.run_with_regions(&mut mem, &mut regions) {
            Ok(_) => ran += 1,
            Err(e) => {
                assert!(e.pc().is_some_and(|pc| pc < slots.len()), "{e}");
                assert!(!e.to_string().is_empty());
                if !matches!(e, VmError::BudgetExhausted { .. }) {
                    errors += 1;
                }
            }
        }
    }
    println!(
        "robustness: {ran} programs ran to exit, {errors} stopped with an error, \
         {rejected} failed the check"
    );
    assert!(
        ran > 1000 && errors > 1000,
        "generator too narrow: {ran} ran, {errors} errors"
    );
}
