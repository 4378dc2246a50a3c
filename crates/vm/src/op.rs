//! The interpreter's internal instruction form, decoded once at load.
//!
//! One [`Op`] per instruction *slot*, so an index into the op array is the
//! slot index the kernel and every diagnostic use; the second slot of an
//! `lddw` holds a never-executed [`Code::LddwTail`]. Each `Code` names one
//! exact behaviour (operation, width and operand kind), so the interpreter
//! loop is one `match` with no further decoding.

/// One decoded instruction: 16 bytes, copied out of the array by the loop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Op {
    /// What to do.
    pub code: Code,
    /// Destination (or base) register.
    pub dst: R,
    /// Source register.
    pub src: R,
    /// Second source register of a fused `mov` + ALU op with a register operand.
    pub src2: R,
    /// Jump target (absolute slot index), store-immediate offset (as `i32`
    /// bits), or the dense helper index of a helper call.
    pub aux: u32,
    /// The operand, prepared for the `Code`: immediates sign- or
    /// zero-extended as the width requires, memory offsets sign-extended,
    /// the whole 64-bit value of an `lddw`, the helper number of a call.
    pub imm: u64,
}

impl Op {
    pub(crate) fn new(code: Code, dst: u8, src: u8, aux: u32, imm: u64) -> Op {
        Op {
            code,
            dst: R::new(dst),
            src: R::new(src),
            src2: R::R0,
            aux,
            imm,
        }
    }
}

/// A register number as a type with exactly the 11 valid values, so that
/// indexing the register array by it needs neither a mask nor a bounds check.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub(crate) enum R {
    R0,
    R1,
    R2,
    R3,
    R4,
    R5,
    R6,
    R7,
    R8,
    R9,
    R10,
}

impl R {
    /// Register `n`; `check` has proven `n <= 10`, anything else maps to r10
    /// (never reached).
    pub(crate) fn new(n: u8) -> R {
        const ALL: [R; 11] = [
            R::R0,
            R::R1,
            R::R2,
            R::R3,
            R::R4,
            R::R5,
            R::R6,
            R::R7,
            R::R8,
            R::R9,
            R::R10,
        ];
        ALL[(n as usize).min(10)]
    }
}

/// The operation of an [`Op`]. Suffixes: `64`/`32` width, `Imm`/`Reg`
/// second operand.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub(crate) enum Code {
    // 64-bit ALU.
    Add64Imm,
    Add64Reg,
    Sub64Imm,
    Sub64Reg,
    Mul64Imm,
    Mul64Reg,
    Div64Imm,
    Div64Reg,
    SDiv64Imm,
    SDiv64Reg,
    Mod64Imm,
    Mod64Reg,
    SMod64Imm,
    SMod64Reg,
    Or64Imm,
    Or64Reg,
    And64Imm,
    And64Reg,
    Lsh64Imm,
    Lsh64Reg,
    Rsh64Imm,
    Rsh64Reg,
    Arsh64Imm,
    Arsh64Reg,
    Xor64Imm,
    Xor64Reg,
    Mov64Imm,
    Mov64Reg,
    MovSx64B,
    MovSx64H,
    MovSx64W,
    Neg64,
    // 32-bit ALU: operands truncated, result zero-extended.
    Add32Imm,
    Add32Reg,
    Sub32Imm,
    Sub32Reg,
    Mul32Imm,
    Mul32Reg,
    Div32Imm,
    Div32Reg,
    SDiv32Imm,
    SDiv32Reg,
    Mod32Imm,
    Mod32Reg,
    SMod32Imm,
    SMod32Reg,
    Or32Imm,
    Or32Reg,
    And32Imm,
    And32Reg,
    Lsh32Imm,
    Lsh32Reg,
    Rsh32Imm,
    Rsh32Reg,
    Arsh32Imm,
    Arsh32Reg,
    Xor32Imm,
    Xor32Reg,
    Mov32Imm,
    Mov32Reg,
    MovSx32B,
    MovSx32H,
    Neg32,
    // Byte order.
    Le16,
    Le32,
    Le64,
    Be16,
    Be32,
    Be64,
    Swap16,
    Swap32,
    Swap64,
    // 64-bit immediate; the next slot is its tail.
    Lddw,
    LddwTail,
    // Memory: address = regs[src or dst] + imm (the sign-extended offset).
    LdxB,
    LdxH,
    LdxW,
    LdxDW,
    LdsxB,
    LdsxH,
    LdsxW,
    /// Store immediate: offset in `aux` (as i32), value in `imm`.
    StB,
    StH,
    StW,
    StDW,
    StxB,
    StxH,
    StxW,
    StxDW,
    /// Atomics: the operation in `aux` (the instruction's `imm`).
    Atomic32,
    Atomic64,
    // Legacy packet loads into r0 (big-endian), offset in `imm`.
    LdAbsB,
    LdAbsH,
    LdAbsW,
    LdIndB,
    LdIndH,
    LdIndW,
    // Control flow: target in `aux`.
    Ja,
    Jeq64Imm,
    Jeq64Reg,
    Jgt64Imm,
    Jgt64Reg,
    Jge64Imm,
    Jge64Reg,
    Jset64Imm,
    Jset64Reg,
    Jne64Imm,
    Jne64Reg,
    Jsgt64Imm,
    Jsgt64Reg,
    Jsge64Imm,
    Jsge64Reg,
    Jlt64Imm,
    Jlt64Reg,
    Jle64Imm,
    Jle64Reg,
    Jslt64Imm,
    Jslt64Reg,
    Jsle64Imm,
    Jsle64Reg,
    Jeq32Imm,
    Jeq32Reg,
    Jgt32Imm,
    Jgt32Reg,
    Jge32Imm,
    Jge32Reg,
    Jset32Imm,
    Jset32Reg,
    Jne32Imm,
    Jne32Reg,
    Jsgt32Imm,
    Jsgt32Reg,
    Jsge32Imm,
    Jsge32Reg,
    Jlt32Imm,
    Jlt32Reg,
    Jle32Imm,
    Jle32Reg,
    Jslt32Imm,
    Jslt32Reg,
    Jsle32Imm,
    Jsle32Reg,
    // Superinstructions (see `fuse`): two adjacent instructions run by one
    // op, which counts and charges both. The second slot keeps its own op.
    /// `dst = src` then `dst op= imm` (or `dst op= src2`), 64-bit.
    MovAdd64Imm,
    MovAdd64Reg,
    MovSub64Imm,
    MovSub64Reg,
    MovMul64Imm,
    MovMul64Reg,
    MovOr64Imm,
    MovOr64Reg,
    MovAnd64Imm,
    MovAnd64Reg,
    MovLsh64Imm,
    MovLsh64Reg,
    MovRsh64Imm,
    MovRsh64Reg,
    MovArsh64Imm,
    MovArsh64Reg,
    MovXor64Imm,
    MovXor64Reg,
    /// `wdst = wsrc` then the 32-bit `dst op= imm` (or `dst op= src2`).
    MovAdd32Imm,
    MovAdd32Reg,
    MovSub32Imm,
    MovSub32Reg,
    MovMul32Imm,
    MovMul32Reg,
    MovOr32Imm,
    MovOr32Reg,
    MovAnd32Imm,
    MovAnd32Reg,
    MovLsh32Imm,
    MovLsh32Reg,
    MovRsh32Imm,
    MovRsh32Reg,
    MovArsh32Imm,
    MovArsh32Reg,
    MovXor32Imm,
    MovXor32Reg,
    /// `if cond goto +1` then `goto aux`: the conditional jump that skips a
    /// loop's back edge; the jump (`Else`) runs when the condition is false.
    Jeq64ImmElse,
    Jeq64RegElse,
    Jgt64ImmElse,
    Jgt64RegElse,
    Jge64ImmElse,
    Jge64RegElse,
    Jset64ImmElse,
    Jset64RegElse,
    Jne64ImmElse,
    Jne64RegElse,
    Jsgt64ImmElse,
    Jsgt64RegElse,
    Jsge64ImmElse,
    Jsge64RegElse,
    Jlt64ImmElse,
    Jlt64RegElse,
    Jle64ImmElse,
    Jle64RegElse,
    Jslt64ImmElse,
    Jslt64RegElse,
    Jsle64ImmElse,
    Jsle64RegElse,
    Jeq32ImmElse,
    Jeq32RegElse,
    Jgt32ImmElse,
    Jgt32RegElse,
    Jge32ImmElse,
    Jge32RegElse,
    Jset32ImmElse,
    Jset32RegElse,
    Jne32ImmElse,
    Jne32RegElse,
    Jsgt32ImmElse,
    Jsgt32RegElse,
    Jsge32ImmElse,
    Jsge32RegElse,
    Jlt32ImmElse,
    Jlt32RegElse,
    Jle32ImmElse,
    Jle32RegElse,
    Jslt32ImmElse,
    Jslt32RegElse,
    Jsle32ImmElse,
    Jsle32RegElse,
    /// Helper call: helper number in `imm`, dense table index in `aux`.
    CallHelper,
    /// Helper call through a register (`callx`): the register in `dst`.
    CallReg,
    /// BPF-to-BPF call: callee's first slot in `aux`.
    CallLocal,
    Exit,
}
