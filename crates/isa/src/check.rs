//! The structural check of a whole program, and the decoded [`Program`] it yields.

use crate::error::CheckError;
use crate::insn::Insn;
use crate::instruction::Instruction;

/// A structurally valid program: its raw slots and each instruction decoded
/// once, in slot order, with the slot index it starts at.
///
/// Later stages (disassembler, interpreter, verifier) take a `Program` so that
/// no stage decodes the bytes again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Program {
    slots: Vec<Insn>,
    insns: Vec<(usize, Instruction)>,
}

impl Program {
    /// The raw instruction slots.
    pub fn slots(&self) -> &[Insn] {
        &self.slots
    }

    /// The decoded instructions with the slot index each starts at.
    pub fn instructions(&self) -> &[(usize, Instruction)] {
        &self.insns
    }

    /// Number of slots (an `lddw` counts two, as in the kernel).
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Always false: a checked program has at least one instruction.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }
}

/// Checks the structure of a program and decodes it.
///
/// Every failure names the slot index: an unknown opcode or a reserved field
/// that is not zero, a bad register, a jump or call out of range or into the
/// second slot of an `lddw`, or a last instruction that can fall off the end.
///
/// ```
/// use bpfkit_isa::{check, decode_slots, CheckError};
/// // r0 = 1; exit
/// let bytes = [0xb7, 0, 0, 0, 1, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0];
/// let prog = check(&decode_slots(&bytes).unwrap()).unwrap();
/// assert_eq!(prog.len(), 2);
/// // r0 = 1 alone falls off the end
/// let err = check(&decode_slots(&bytes[..8]).unwrap()).unwrap_err();
/// assert!(matches!(err, CheckError::FallsOffEnd { pc: 0 }));
/// ```
pub fn check(slots: &[Insn]) -> Result<Program, CheckError> {
    if slots.is_empty() {
        return Err(CheckError::Empty);
    }
    let mut insns = Vec::with_capacity(slots.len());
    let mut is_tail = vec![false; slots.len()];
    let mut pc = 0;
    while pc < slots.len() {
        let (insn, n) =
            Instruction::decode(&slots[pc..]).map_err(|error| CheckError::Insn { pc, error })?;
        if n == 2 {
            is_tail[pc + 1] = true;
        }
        insns.push((pc, insn));
        pc += n;
    }
    for &(pc, insn) in &insns {
        if let Some(off) = insn.branch_offset() {
            let target = pc as i64 + 1 + off;
            if target < 0 || target >= slots.len() as i64 {
                return Err(CheckError::JumpOutOfRange {
                    pc,
                    target,
                    len: slots.len(),
                });
            }
            if is_tail[target as usize] {
                return Err(CheckError::JumpIntoLddw {
                    pc,
                    target: target as usize,
                });
            }
        }
    }
    let &(last_pc, last) = insns.last().expect("non-empty");
    if last.falls_through() {
        return Err(CheckError::FallsOffEnd { pc: last_pc });
    }
    Ok(Program {
        slots: slots.to_vec(),
        insns,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::InsnError;

    fn slots(raw: &[(u8, u8, u8, i16, i32)]) -> Vec<Insn> {
        raw.iter()
            .map(|&(c, d, s, o, i)| Insn::new(c, d, s, o, i))
            .collect()
    }

    #[test]
    fn rejects_each_structural_fault_with_its_index() {
        let exit = (0x95, 0, 0, 0, 0);
        let cases: Vec<(Vec<Insn>, CheckError)> = vec![
            (vec![], CheckError::Empty),
            (
                slots(&[(0xff, 0, 0, 0, 0), exit]),
                CheckError::Insn {
                    pc: 0,
                    error: InsnError::UnknownOpcode(0xff),
                },
            ),
            (
                slots(&[(0xb7, 11, 0, 0, 0), exit]),
                CheckError::Insn {
                    pc: 0,
                    error: InsnError::BadRegister(11),
                },
            ),
            (
                slots(&[(0x05, 0, 0, 5, 0), exit]),
                CheckError::JumpOutOfRange {
                    pc: 0,
                    target: 6,
                    len: 2,
                },
            ),
            (
                slots(&[
                    (0x05, 0, 0, 1, 0),
                    (0x18, 0, 0, 0, 1),
                    (0, 0, 0, 0, 0),
                    exit,
                ]),
                CheckError::JumpIntoLddw { pc: 0, target: 2 },
            ),
            (
                slots(&[(0xb7, 0, 0, 0, 0)]),
                CheckError::FallsOffEnd { pc: 0 },
            ),
            (
                slots(&[(0x18, 0, 0, 0, 1)]),
                CheckError::Insn {
                    pc: 0,
                    error: InsnError::TruncatedLddw,
                },
            ),
            (
                slots(&[(0x95, 0, 0, 1, 0)]),
                CheckError::Insn {
                    pc: 0,
                    error: InsnError::ReservedField {
                        what: "exit",
                        field: "off",
                        expected: "0",
                        found: 1,
                    },
                },
            ),
        ];
        for (prog, want) in cases {
            assert_eq!(check(&prog).unwrap_err(), want);
        }
    }

    #[test]
    fn accepts_lddw_and_backward_jumps() {
        let p = slots(&[
            (0x18, 1, 0, 0, 7),
            (0, 0, 0, 0, 0),
            (0x05, 0, 0, 1, 0),
            (0x95, 0, 0, 0, 0),
            (0x05, 0, 0, -2, 0),
        ]);
        let prog = check(&p).unwrap();
        assert_eq!(prog.instructions().len(), 4);
        assert_eq!(prog.instructions()[1].0, 2);
    }
}
