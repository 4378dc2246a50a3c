//! The raw 8-byte instruction slot, exactly as it is stored in memory.

use crate::error::DecodeError;

/// One 8-byte instruction slot (`struct bpf_insn`), little-endian.
///
/// `lddw` occupies two slots; the second has `code == 0` and carries the high
/// 32 bits of the immediate in `imm`.
///
/// ```
/// use bpfkit_isa::Insn;
/// let exit = Insn::from_bytes(&[0x95, 0, 0, 0, 0, 0, 0, 0]);
/// assert_eq!(exit.code, 0x95);
/// assert_eq!(exit.to_bytes(), [0x95, 0, 0, 0, 0, 0, 0, 0]);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Insn {
    /// The opcode byte.
    pub code: u8,
    /// Destination register field (4 bits).
    pub dst: u8,
    /// Source register field (4 bits).
    pub src: u8,
    /// Signed 16-bit offset.
    pub off: i16,
    /// Signed 32-bit immediate.
    pub imm: i32,
}

impl Insn {
    /// Size of one slot in bytes.
    pub const SIZE: usize = 8;

    /// Builds a slot from its fields.
    pub const fn new(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> Self {
        Insn {
            code,
            dst,
            src,
            off,
            imm,
        }
    }

    /// Reads one slot from 8 little-endian bytes.
    pub fn from_bytes(b: &[u8; 8]) -> Self {
        Insn {
            code: b[0],
            dst: b[1] & 0x0f,
            src: b[1] >> 4,
            off: i16::from_le_bytes([b[2], b[3]]),
            imm: i32::from_le_bytes([b[4], b[5], b[6], b[7]]),
        }
    }

    /// Writes the slot as 8 little-endian bytes.
    pub fn to_bytes(self) -> [u8; 8] {
        let off = self.off.to_le_bytes();
        let imm = self.imm.to_le_bytes();
        [
            self.code,
            (self.src << 4) | (self.dst & 0x0f),
            off[0],
            off[1],
            imm[0],
            imm[1],
            imm[2],
            imm[3],
        ]
    }

    /// The instruction class (low 3 bits of the opcode).
    pub fn class(self) -> u8 {
        self.code & crate::opcode::CLASS_MASK
    }
}

/// Splits raw bytecode into instruction slots.
///
/// Fails when the length is not a multiple of 8, naming the trailing bytes.
pub fn decode_slots(bytes: &[u8]) -> Result<Vec<Insn>, DecodeError> {
    if bytes.len() % Insn::SIZE != 0 {
        return Err(DecodeError::TrailingBytes {
            len: bytes.len(),
            extra: bytes.len() % Insn::SIZE,
        });
    }
    Ok(bytes
        .chunks_exact(Insn::SIZE)
        .map(|c| Insn::from_bytes(c.try_into().expect("chunk of 8")))
        .collect())
}

/// Writes instruction slots as raw bytecode.
pub fn encode_slots(insns: &[Insn]) -> Vec<u8> {
    insns.iter().flat_map(|i| i.to_bytes()).collect()
}
