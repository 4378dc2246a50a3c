//! Writing a relocation's value into its instruction
//! (`bpf_core_patch_insn`), or poisoning the instruction.

use bpfkit_isa::opcode::{self, CLASS_MASK, MODE_MASK, SIZE_MASK};
use bpfkit_isa::Insn;
use serde::Serialize;

use super::error::CoreErrorKind;
use super::value::ReloValue;

/// The helper number a poisoned instruction calls: `0xbad2310`, "bad relo".
/// The verifier rejects it with "invalid func unknown#195896080" if the
/// instruction is reachable, and drops it if it is dead code.
pub const POISON_IMM: i32 = 0x0bad_2310;

/// How an instruction was changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "insn", rename_all = "snake_case")]
pub enum Patch {
    /// `rX op= imm` or `rX = imm`: the 32-bit immediate.
    Alu {
        /// Immediate before.
        old: i64,
        /// Immediate after.
        new: u64,
    },
    /// A load or store: the 16-bit offset, and maybe the access size.
    Mem {
        /// Offset before.
        old: i64,
        /// Offset after.
        new: u64,
        /// Access size in bytes before and after, when it changed.
        size: Option<(u32, u32)>,
    },
    /// `lddw`: the 64-bit immediate.
    Ldimm64 {
        /// Immediate before.
        old: u64,
        /// Immediate after.
        new: u64,
    },
    /// Replaced by `call 0xbad2310` (both slots of an `lddw`).
    Poisoned {
        /// The load/store would have changed size unsafely (otherwise the
        /// target lacks the field or enumerator).
        unsafe_size_change: bool,
        /// The instruction was an `lddw`, so two slots were replaced.
        lddw: bool,
    },
}

fn poison_slot(insn: &mut Insn) {
    *insn = Insn::new(opcode::JMP | opcode::CALL, 0, 0, 0, POISON_IMM);
}

fn poison(insns: &mut [Insn], idx: usize, unsafe_size_change: bool) -> Patch {
    let lddw = insns[idx].code == LDDW && idx + 1 < insns.len();
    if lddw {
        poison_slot(&mut insns[idx + 1]);
    }
    poison_slot(&mut insns[idx]);
    Patch::Poisoned {
        unsafe_size_change,
        lddw,
    }
}

const LDDW: u8 = opcode::LD | opcode::IMM | opcode::DW;

fn size_bytes(code: u8) -> u32 {
    match code & SIZE_MASK {
        opcode::DW => 8,
        opcode::W => 4,
        opcode::H => 2,
        _ => 1,
    }
}

fn size_code(bytes: u32) -> Option<u8> {
    Some(match bytes {
        8 => opcode::DW,
        4 => opcode::W,
        2 => opcode::H,
        1 => opcode::B,
        _ => return None,
    })
}

/// `bpf_core_patch_insn`: patches `insns[idx]` with `res`, first checking
/// (when `res.validate`) that it holds the local value. Supported: ALU and
/// ALU64 with an immediate, LDX/ST/STX offsets (and their size, when the
/// field's size changed safely), and `lddw` immediates.
pub fn patch_insn(insns: &mut [Insn], idx: usize, res: &ReloValue) -> Result<Patch, CoreErrorKind> {
    let len = insns.len();
    let insn = *insns.get(idx).ok_or(CoreErrorKind::InsnOutOfRange {
        insn_index: idx,
        len,
    })?;
    if res.poison {
        return Ok(poison(insns, idx, false));
    }
    let (orig, new) = (res.orig_val, res.new_val);
    let mismatch = |class, got: i64| CoreErrorKind::InsnValueMismatch {
        insn_index: idx,
        class,
        got,
        expected: orig,
        new,
    };
    match insn.code & CLASS_MASK {
        opcode::ALU | opcode::ALU64 => {
            if insn.code & opcode::X != 0 {
                return Err(CoreErrorKind::UnsupportedInsn {
                    insn_index: idx,
                    code: insn.code,
                    reason: "ALU instruction with a register source has no immediate",
                });
            }
            // The C comparison widens the s32 immediate with sign extension.
            if res.validate && insn.imm as i64 as u64 != orig {
                return Err(mismatch("ALU/ALU64", insn.imm as i64));
            }
            insns[idx].imm = new as i32;
            Ok(Patch::Alu {
                old: insn.imm as i64,
                new,
            })
        }
        opcode::LDX | opcode::ST | opcode::STX => {
            if res.validate && insn.off as i64 as u64 != orig {
                return Err(mismatch("LDX/ST/STX", insn.off as i64));
            }
            if new > i16::MAX as u64 {
                return Err(CoreErrorKind::OffsetTooBig {
                    insn_index: idx,
                    value: new,
                });
            }
            if res.fail_memsz_adjust {
                return Ok(poison(insns, idx, true));
            }
            let mut size = None;
            let mut code = insn.code;
            if res.new_sz != res.orig_sz {
                let have = size_bytes(insn.code);
                if have != res.orig_sz {
                    return Err(CoreErrorKind::MemSize {
                        insn_index: idx,
                        reason: format!("unexpected mem size: got {have}, exp {}", res.orig_sz),
                    });
                }
                let sz = size_code(res.new_sz).ok_or_else(|| CoreErrorKind::MemSize {
                    insn_index: idx,
                    reason: format!("invalid new mem size: {}", res.new_sz),
                })?;
                code = (insn.code & MODE_MASK) | sz | (insn.code & CLASS_MASK);
                size = Some((res.orig_sz, res.new_sz));
            }
            insns[idx].off = new as i16;
            insns[idx].code = code;
            Ok(Patch::Mem {
                old: insn.off as i64,
                new,
                size,
            })
        }
        opcode::LD => {
            let next = insns.get(idx + 1).copied();
            let well_formed = insn.code == LDDW
                && insn.src == 0
                && insn.off == 0
                && next.is_some_and(|n| n.code == 0 && n.dst == 0 && n.src == 0 && n.off == 0);
            let Some(next) = next.filter(|_| well_formed) else {
                return Err(CoreErrorKind::UnsupportedInsn {
                    insn_index: idx,
                    code: insn.code,
                    reason: "not a plain lddw (LDIMM64 has unexpected form)",
                });
            };
            let imm = insn.imm as u32 as u64 | (next.imm as u32 as u64) << 32;
            if res.validate && imm != orig {
                return Err(mismatch("LDIMM64", imm as i64));
            }
            insns[idx].imm = new as i32;
            insns[idx + 1].imm = (new >> 32) as i32;
            Ok(Patch::Ldimm64 { old: imm, new })
        }
        _ => Err(CoreErrorKind::UnsupportedInsn {
            insn_index: idx,
            code: insn.code,
            reason:
                "only ALU/ALU64 immediates, LDX/ST/STX offsets and lddw immediates are relocatable",
        }),
    }
}
