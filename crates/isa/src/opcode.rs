//! Opcode field values, named as in `include/uapi/linux/bpf.h` and RFC 9669.
//!
//! An opcode byte is `class | ...`: for ALU and JMP classes `op | source | class`,
//! for load and store classes `mode | size | class`.

/// Mask of the instruction class (low 3 bits).
pub const CLASS_MASK: u8 = 0x07;
/// Non-standard load: `lddw`, and the legacy LD_ABS / LD_IND packet loads.
pub const LD: u8 = 0x00;
/// Load from memory into a register.
pub const LDX: u8 = 0x01;
/// Store an immediate into memory.
pub const ST: u8 = 0x02;
/// Store a register into memory (and the atomic operations).
pub const STX: u8 = 0x03;
/// 32-bit arithmetic.
pub const ALU: u8 = 0x04;
/// 64-bit jumps, calls and exit.
pub const JMP: u8 = 0x05;
/// 32-bit jumps (and `gotol`).
pub const JMP32: u8 = 0x06;
/// 64-bit arithmetic.
pub const ALU64: u8 = 0x07;

/// Mask of the size field of load and store opcodes.
pub const SIZE_MASK: u8 = 0x18;
/// 4 bytes.
pub const W: u8 = 0x00;
/// 2 bytes.
pub const H: u8 = 0x08;
/// 1 byte.
pub const B: u8 = 0x10;
/// 8 bytes.
pub const DW: u8 = 0x18;

/// Mask of the mode field of load and store opcodes.
pub const MODE_MASK: u8 = 0xe0;
/// 64-bit immediate (`lddw`).
pub const IMM: u8 = 0x00;
/// Legacy packet load at an absolute offset.
pub const ABS: u8 = 0x20;
/// Legacy packet load at a register-relative offset.
pub const IND: u8 = 0x40;
/// Regular memory access.
pub const MEM: u8 = 0x60;
/// Sign-extending memory load (ISA v4).
pub const MEMSX: u8 = 0x80;
/// Atomic read-modify-write.
pub const ATOMIC: u8 = 0xc0;

/// Source bit: the operand is the 32-bit immediate.
pub const K: u8 = 0x00;
/// Source bit: the operand is the source register.
pub const X: u8 = 0x08;

/// Mask of the operation field of ALU and JMP opcodes.
pub const OP_MASK: u8 = 0xf0;
/// ALU operations.
pub const ADD: u8 = 0x00;
#[allow(missing_docs)]
pub const SUB: u8 = 0x10;
#[allow(missing_docs)]
pub const MUL: u8 = 0x20;
#[allow(missing_docs)]
pub const DIV: u8 = 0x30;
#[allow(missing_docs)]
pub const OR: u8 = 0x40;
#[allow(missing_docs)]
pub const AND: u8 = 0x50;
#[allow(missing_docs)]
pub const LSH: u8 = 0x60;
#[allow(missing_docs)]
pub const RSH: u8 = 0x70;
#[allow(missing_docs)]
pub const NEG: u8 = 0x80;
#[allow(missing_docs)]
pub const MOD: u8 = 0x90;
#[allow(missing_docs)]
pub const XOR: u8 = 0xa0;
#[allow(missing_docs)]
pub const MOV: u8 = 0xb0;
#[allow(missing_docs)]
pub const ARSH: u8 = 0xc0;
/// Byte swap; the source bit selects to-big-endian in the ALU class.
pub const END: u8 = 0xd0;
/// With [`END`]: convert to little endian (source bit clear).
pub const TO_LE: u8 = 0x00;
/// With [`END`]: convert to big endian (source bit set).
pub const TO_BE: u8 = 0x08;

/// Jump operations.
pub const JA: u8 = 0x00;
#[allow(missing_docs)]
pub const JEQ: u8 = 0x10;
#[allow(missing_docs)]
pub const JGT: u8 = 0x20;
#[allow(missing_docs)]
pub const JGE: u8 = 0x30;
#[allow(missing_docs)]
pub const JSET: u8 = 0x40;
#[allow(missing_docs)]
pub const JNE: u8 = 0x50;
#[allow(missing_docs)]
pub const JSGT: u8 = 0x60;
#[allow(missing_docs)]
pub const JSGE: u8 = 0x70;
#[allow(missing_docs)]
pub const CALL: u8 = 0x80;
#[allow(missing_docs)]
pub const EXIT: u8 = 0x90;
#[allow(missing_docs)]
pub const JLT: u8 = 0xa0;
#[allow(missing_docs)]
pub const JLE: u8 = 0xb0;
#[allow(missing_docs)]
pub const JSLT: u8 = 0xc0;
#[allow(missing_docs)]
pub const JSLE: u8 = 0xd0;

/// Atomic `imm` flag: the old value is returned in the source register.
pub const FETCH: i32 = 0x01;
/// Atomic exchange (always fetches).
pub const XCHG: i32 = 0xe0 | FETCH;
/// Atomic compare-and-exchange against r0 (always fetches).
pub const CMPXCHG: i32 = 0xf0 | FETCH;

/// `lddw` source: plain 64-bit immediate.
pub const PSEUDO_NONE: u8 = 0;
/// `lddw` source: `imm` is a map file descriptor.
pub const PSEUDO_MAP_FD: u8 = 1;
/// `lddw` source: map fd plus an offset into its value.
pub const PSEUDO_MAP_VALUE: u8 = 2;
/// `lddw` source: a kernel variable's BTF id.
pub const PSEUDO_BTF_ID: u8 = 3;
/// `lddw` source: the address of a BPF function (relative instruction offset).
pub const PSEUDO_FUNC: u8 = 4;
/// `lddw` source: the index of a map in the fd array.
pub const PSEUDO_MAP_IDX: u8 = 5;
/// `lddw` source: map index plus an offset into its value.
pub const PSEUDO_MAP_IDX_VALUE: u8 = 6;

/// `call` source: a helper by number.
pub const CALL_HELPER: u8 = 0;
/// `call` source: a BPF-to-BPF call, `imm` relative to the next instruction.
pub const PSEUDO_CALL: u8 = 1;
/// `call` source: a kernel function by BTF id.
pub const PSEUDO_KFUNC_CALL: u8 = 2;
