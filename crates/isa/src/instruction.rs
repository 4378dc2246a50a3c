//! The typed instruction: what an instruction slot (or two, for `lddw`) means.
//!
//! Decoding is strict, as the kernel is: every field an instruction does not
//! use must be zero, so [`Instruction::decode`] followed by
//! [`Instruction::encode`] gives back the same bytes.

use crate::error::InsnError;
use crate::insn::Insn;
use crate::opcode as op;

/// A register number, r0 to r10.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Reg(u8);

impl Reg {
    /// Return value and exit code.
    pub const R0: Reg = Reg(0);
    /// First argument; the context pointer at entry.
    pub const R1: Reg = Reg(1);
    /// The read-only frame pointer.
    pub const R10: Reg = Reg(10);

    /// The register numbered `n`, if `n <= 10`.
    pub fn new(n: u8) -> Result<Reg, InsnError> {
        if n <= 10 {
            Ok(Reg(n))
        } else {
            Err(InsnError::BadRegister(n))
        }
    }

    /// The register number.
    pub fn num(self) -> u8 {
        self.0
    }
}

/// Operand width of ALU and jump instructions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Width {
    /// 32-bit (`ALU`, `JMP32`): results are zero-extended.
    W32,
    /// 64-bit (`ALU64`, `JMP`).
    W64,
}

/// Memory access size.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Size {
    /// 1 byte (`u8`).
    B,
    /// 2 bytes (`u16`).
    H,
    /// 4 bytes (`u32`).
    W,
    /// 8 bytes (`u64`).
    DW,
}

impl Size {
    /// Size in bytes.
    pub fn bytes(self) -> usize {
        match self {
            Size::B => 1,
            Size::H => 2,
            Size::W => 4,
            Size::DW => 8,
        }
    }

    /// Size in bits.
    pub fn bits(self) -> u32 {
        self.bytes() as u32 * 8
    }

    pub(crate) fn from_code(code: u8) -> Size {
        match code & op::SIZE_MASK {
            op::W => Size::W,
            op::H => Size::H,
            op::B => Size::B,
            _ => Size::DW,
        }
    }

    /// The size bits of a load or store opcode.
    pub fn opcode_bits(self) -> u8 {
        match self {
            Size::W => op::W,
            Size::H => op::H,
            Size::B => op::B,
            Size::DW => op::DW,
        }
    }
}

/// A register or a 32-bit immediate operand.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Operand {
    /// The source register (`BPF_X`).
    Reg(Reg),
    /// The immediate (`BPF_K`), sign-extended to 64 bits where the width is 64.
    Imm(i32),
}

/// Two-operand ALU operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AluOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// Unsigned `/`; division by zero gives 0.
    Div,
    /// Signed `/` (`off == 1`); division by zero gives 0.
    SDiv,
    /// `|`
    Or,
    /// `&`
    And,
    /// `<<`, shift amount masked to the width.
    Lsh,
    /// Logical `>>`, shift amount masked to the width.
    Rsh,
    /// Unsigned `%`; modulo by zero leaves the destination unchanged.
    Mod,
    /// Signed `%` (`off == 1`); modulo by zero leaves the destination unchanged.
    SMod,
    /// `^`
    Xor,
    /// Copy.
    Mov,
    /// Sign-extending move from the low 8, 16 or 32 bits (`off`), ISA v4.
    MovSx(u8),
    /// Arithmetic `>>`.
    Arsh,
}

/// Byte order conversion of `BPF_END`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ByteOrder {
    /// To little endian (`le16/32/64`): a truncation on a little-endian host.
    Le,
    /// To big endian (`be16/32/64`).
    Be,
    /// Unconditional swap (`bswap16/32/64`, `ALU64 | END`), ISA v4.
    Swap,
}

/// Jump conditions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Cond {
    /// `==`
    Eq,
    /// Unsigned `>`
    Gt,
    /// Unsigned `>=`
    Ge,
    /// `dst & src != 0`
    Set,
    /// `!=`
    Ne,
    /// Signed `>`
    Sgt,
    /// Signed `>=`
    Sge,
    /// Unsigned `<`
    Lt,
    /// Unsigned `<=`
    Le,
    /// Signed `<`
    Slt,
    /// Signed `<=`
    Sle,
}

/// Atomic read-modify-write operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AtomicOp {
    /// `+=`
    Add,
    /// `|=`
    Or,
    /// `&=`
    And,
    /// `^=`
    Xor,
    /// Exchange; the old value goes to the source register.
    Xchg,
    /// Compare with r0 and exchange; the old value goes to r0.
    CmpXchg,
}

/// What the 64-bit immediate of an `lddw` means (its `src` field).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LddwKind {
    /// A plain 64-bit constant.
    Imm64,
    /// `imm` is a map fd (`BPF_PSEUDO_MAP_FD`).
    MapFd,
    /// Map fd in the low half, value offset in the high half (`BPF_PSEUDO_MAP_VALUE`).
    MapValue,
    /// A kernel variable by BTF id (`BPF_PSEUDO_BTF_ID`).
    BtfId,
    /// The address of a BPF function, relative to the next instruction (`BPF_PSEUDO_FUNC`).
    Func,
    /// Map by index in the fd array (`BPF_PSEUDO_MAP_IDX`).
    MapIdx,
    /// Map index and value offset (`BPF_PSEUDO_MAP_IDX_VALUE`).
    MapIdxValue,
}

impl LddwKind {
    pub(crate) fn from_src(src: u8) -> Result<LddwKind, InsnError> {
        Ok(match src {
            op::PSEUDO_NONE => LddwKind::Imm64,
            op::PSEUDO_MAP_FD => LddwKind::MapFd,
            op::PSEUDO_MAP_VALUE => LddwKind::MapValue,
            op::PSEUDO_BTF_ID => LddwKind::BtfId,
            op::PSEUDO_FUNC => LddwKind::Func,
            op::PSEUDO_MAP_IDX => LddwKind::MapIdx,
            op::PSEUDO_MAP_IDX_VALUE => LddwKind::MapIdxValue,
            other => return Err(InsnError::BadLddwSource(other)),
        })
    }

    /// The `src` field value.
    pub fn src(self) -> u8 {
        match self {
            LddwKind::Imm64 => op::PSEUDO_NONE,
            LddwKind::MapFd => op::PSEUDO_MAP_FD,
            LddwKind::MapValue => op::PSEUDO_MAP_VALUE,
            LddwKind::BtfId => op::PSEUDO_BTF_ID,
            LddwKind::Func => op::PSEUDO_FUNC,
            LddwKind::MapIdx => op::PSEUDO_MAP_IDX,
            LddwKind::MapIdxValue => op::PSEUDO_MAP_IDX_VALUE,
        }
    }
}

/// What a `call` calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CallTarget {
    /// A helper by number (`src = 0`).
    Helper(i32),
    /// A BPF function at `pc + 1 + offset` (`src = 1`).
    Local(i32),
    /// A kernel function by BTF id; `off` indexes the BTF fd array (`src = 2`).
    Kfunc {
        /// BTF id of the function.
        btf_id: i32,
        /// Index into the fd array of module BTFs (0 for vmlinux).
        off: i16,
    },
}

/// One decoded BPF instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Instruction {
    /// `dst = dst OP src`.
    Alu {
        /// 32 or 64 bits.
        width: Width,
        /// The operation.
        op: AluOp,
        /// Destination (and first operand).
        dst: Reg,
        /// Second operand.
        src: Operand,
    },
    /// `dst = -dst`.
    Neg {
        /// 32 or 64 bits.
        width: Width,
        /// The register negated.
        dst: Reg,
    },
    /// Byte order conversion of the low `bits` of `dst`.
    Endian {
        /// Direction.
        order: ByteOrder,
        /// 16, 32 or 64.
        bits: u8,
        /// The register converted.
        dst: Reg,
    },
    /// `lddw`: load a 64-bit immediate (two slots).
    LoadImm64 {
        /// Destination.
        dst: Reg,
        /// How the loader interprets the immediate.
        kind: LddwKind,
        /// Low 32 bits (first slot's `imm`).
        lo: i32,
        /// High 32 bits (second slot's `imm`).
        hi: i32,
    },
    /// `dst = *(size *)(src + off)`, optionally sign-extended (ISA v4 `ldsx`).
    Load {
        /// Access size.
        size: Size,
        /// Sign-extend (`BPF_MEMSX`).
        signed: bool,
        /// Destination.
        dst: Reg,
        /// Base address register.
        src: Reg,
        /// Offset from the base.
        off: i16,
    },
    /// `*(size *)(dst + off) = src`.
    Store {
        /// Access size.
        size: Size,
        /// Base address register.
        dst: Reg,
        /// Offset from the base.
        off: i16,
        /// The value: a register (`STX`) or an immediate (`ST`).
        src: Operand,
    },
    /// Atomic read-modify-write of `*(size *)(dst + off)` with `src`.
    Atomic {
        /// `W` or `DW`.
        size: Size,
        /// The operation.
        op: AtomicOp,
        /// Whether the old value is returned (always true for xchg and cmpxchg).
        fetch: bool,
        /// Base address register.
        dst: Reg,
        /// Operand register (receives the old value when fetching).
        src: Reg,
        /// Offset from the base.
        off: i16,
    },
    /// Legacy packet load into r0: `LD_ABS` (`src == None`) or `LD_IND`.
    LoadPacket {
        /// `B`, `H` or `W`.
        size: Size,
        /// Index register for `LD_IND`.
        src: Option<Reg>,
        /// Packet offset.
        imm: i32,
    },
    /// Unconditional jump to `pc + 1 + off`.
    Ja {
        /// Relative target.
        off: i32,
        /// `gotol`: the `JMP32` form with a 32-bit offset in `imm`.
        long: bool,
    },
    /// Conditional jump to `pc + 1 + off`.
    Jump {
        /// 32 or 64-bit comparison.
        width: Width,
        /// The condition.
        cond: Cond,
        /// Left operand.
        dst: Reg,
        /// Right operand.
        src: Operand,
        /// Relative target.
        off: i16,
    },
    /// `call`.
    Call(CallTarget),
    /// `callx`: call the helper whose number is in a register (`JMP | CALL | X`).
    CallX {
        /// The register holding the target.
        reg: Reg,
    },
    /// Return r0.
    Exit,
}

impl Instruction {
    /// Decodes the instruction starting at `slots[0]`, returning it and the
    /// number of slots it occupies (2 for `lddw`, else 1).
    ///
    /// ```
    /// use bpfkit_isa::{Insn, Instruction};
    /// let slots = [Insn::new(0xb7, 0, 0, 0, 42)]; // r0 = 42
    /// let (insn, len) = Instruction::decode(&slots).unwrap();
    /// assert_eq!(len, 1);
    /// assert_eq!(insn.encode().as_slice(), &slots);
    /// ```
    pub fn decode(slots: &[Insn]) -> Result<(Instruction, usize), InsnError> {
        crate::decode::decode(slots)
    }

    /// Encodes the instruction as one slot, or two for `lddw`.
    pub fn encode(&self) -> Encoded {
        crate::encode::encode(self)
    }

    /// Whether control can continue at the next instruction.
    pub fn falls_through(&self) -> bool {
        !matches!(self, Instruction::Exit | Instruction::Ja { .. })
    }

    /// The relative jump offset of jumps and local calls (target is `pc + 1 + off`).
    pub fn branch_offset(&self) -> Option<i64> {
        match *self {
            Instruction::Ja { off, .. } => Some(off as i64),
            Instruction::Jump { off, .. } => Some(off as i64),
            Instruction::Call(CallTarget::Local(off)) => Some(off as i64),
            Instruction::LoadImm64 {
                kind: LddwKind::Func,
                lo,
                ..
            } => Some(lo as i64),
            _ => None,
        }
    }

    /// Number of slots this instruction occupies.
    pub fn slots(&self) -> usize {
        if matches!(self, Instruction::LoadImm64 { .. }) {
            2
        } else {
            1
        }
    }
}

/// One or two encoded slots.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Encoded {
    slots: [Insn; 2],
    len: usize,
}

impl Encoded {
    pub(crate) fn one(i: Insn) -> Encoded {
        Encoded {
            slots: [i, Insn::default()],
            len: 1,
        }
    }

    pub(crate) fn two(a: Insn, b: Insn) -> Encoded {
        Encoded {
            slots: [a, b],
            len: 2,
        }
    }

    /// The slots.
    pub fn as_slice(&self) -> &[Insn] {
        &self.slots[..self.len]
    }
}
