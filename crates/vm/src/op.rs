//! The interpreter's internal instruction form, decoded once at load.
//!
//! One [`Op`] per instruction *slot*, so an index into the op array is the
//! slot index the kernel and every diagnostic use; the second slot of an
//! `lddw` holds a never-executed [`Code::LddwTail`]. Each `Code` names one
//! exact behaviour (operation, width and operand kind), so the interpreter
//! loop is one `match` with no further decoding.

/// One decoded instruction, copied out of the array by the loop: 32 bytes
/// (a 2-byte code, four registers, `aux`, `imm`, the three budget lengths
/// of [`crate::charge`] and a conditional jump's fall-through slot `next`).
/// Packing it into 16 bytes, with the fused ops' second register moved into
/// `aux`, measured slower on a Zen 4; 32 bytes, with `next`, measured faster
/// than 24 without it on an Intel Xeon (benches/RESULTS.md).
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
    /// Second destination register: where a fused indexed load
    /// (`AddLdx`, `MovAddLdx`) puts the value it loads. (It fills what was
    /// padding, so the op stays 32 bytes.)
    pub dst2: R,
    /// Jump target, store-immediate offset (as `i32` bits), or the dense
    /// helper index of a helper call. A target ([`Code::jumps_by_aux`]) is
    /// an absolute slot index until [`crate::compile`] ends, which makes it
    /// the target's byte offset in the op array, the loop's program counter.
    pub aux: u32,
    /// The operand, prepared for the `Code`: immediates sign- or
    /// zero-extended as the width requires, memory offsets sign-extended,
    /// the whole 64-bit value of an `lddw`, the helper number of a call.
    pub imm: u64,
    /// The length of the straight-line run starting at this slot, charged
    /// to the budget when an `exit` returns here (see [`crate::charge`]).
    pub len: u16,
    /// The length charged when this control op goes to its target (`aux`).
    pub t_len: u16,
    /// The length charged when this control op falls through.
    pub f_len: u16,
    /// Where a conditional jump goes when it falls through: the slot after
    /// it, or, when that slot is a `goto`, the `goto`'s target, so that the
    /// `goto` costs no dispatch of its own ([`crate::charge`] charges it
    /// with `f_len`). Unused by other ops. A byte offset, as `aux`'s
    /// targets, once compiled.
    pub next: u32,
}

// The size the loop was measured with; a change here wants a new measurement.
const _: () = assert!(std::mem::size_of::<Op>() == 32);

/// How an op leaves its straight-line run ([`crate::charge`]): what the
/// lengths it carries are for, and whether `aux` is a jump target.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Exit {
    /// Not a control op: the run goes on at the next instruction.
    Straight,
    /// `ja`: always to the target.
    Jump,
    /// A call into a helper or a subprogram, or a legacy packet load: to
    /// the target or on to the next slot.
    Branch,
    /// A conditional jump: to the target or on to the next slot, or past
    /// the `goto` there (`Op::next`).
    CondJump,
    /// `dst op= imm; if dst cmp X goto L` fused: the jump is the second slot.
    AluBranch,
    /// `exit`, or the never-executed tail of an `lddw`.
    End,
}

impl Code {
    /// How an op of this code leaves its run. The control codes are
    /// declared in ranges ([`Code::Jeq64Imm`] to [`Code::Jsle32Reg`], and
    /// so on), which this tells apart.
    pub(crate) fn exit(self) -> Exit {
        let n = self as u16;
        let within = |first: Code, last: Code| (first as u16..=last as u16).contains(&n);
        if self == Code::Ja {
            Exit::Jump
        } else if within(Code::Jeq64Imm, Code::Jsle32Reg) {
            Exit::CondJump
        } else if within(Code::LdAbsB, Code::LdIndW) || within(Code::CallHelper, Code::CallLocal) {
            Exit::Branch
        } else if within(Code::AddJeq64Imm, Code::AndJsle32Reg) {
            Exit::AluBranch
        } else if matches!(self, Code::Exit | Code::LddwTail) {
            Exit::End
        } else {
            Exit::Straight
        }
    }

    /// Whether `aux` is a jump target: a `goto`, a conditional jump (plain
    /// or fused after an ALU operation), a call of a BPF function (a
    /// helper call's `aux` is the helper's index).
    pub(crate) fn jumps_by_aux(self) -> bool {
        match self.exit() {
            Exit::Jump | Exit::CondJump | Exit::AluBranch => true,
            Exit::Branch => self == Code::CallLocal,
            Exit::Straight | Exit::End => false,
        }
    }
}

impl Op {
    pub(crate) fn new(code: Code, dst: u8, src: u8, aux: u32, imm: u64) -> Op {
        Op {
            code,
            dst: R::new(dst),
            src: R::new(src),
            src2: R::R0,
            dst2: R::R0,
            aux,
            imm,
            len: 0,
            t_len: 0,
            f_len: 0,
            next: 0,
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
    /// The guard after a program's last slot ([`crate::interp`] reads it
    /// when a run falls off the end): stops the run with an error.
    End,
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
    /// `dst = src; dst += src2; dst2 = *(uN *)(dst + imm)`: the indexed
    /// load `p[i]` (three instructions).
    MovAddLdxB,
    MovAddLdxH,
    MovAddLdxW,
    MovAddLdxDW,
    /// `dst = src; dst += a; dst += src2; dst2 = *(uN *)(dst + off)`: an
    /// element of an array at a fixed offset (four instructions); `a` in
    /// `imm`'s low 32 bits, `off` in its high 32, both sign-extended.
    MovAddAddLdxB,
    MovAddAddLdxH,
    MovAddAddLdxW,
    MovAddAddLdxDW,
    /// `dst += src2; dst2 = *(uN *)(dst + imm)`.
    AddLdxB,
    AddLdxH,
    AddLdxW,
    AddLdxDW,
    /// `dst += imm` then `if dst cmp X goto aux`, the loop counter's step and
    /// test, at one width: the add's immediate in `imm`'s low 32 bits, the
    /// compared immediate (`Imm`) in its high 32 bits, or `src` (`Reg`).
    AddJeq64Imm,
    AddJeq64Reg,
    AddJgt64Imm,
    AddJgt64Reg,
    AddJge64Imm,
    AddJge64Reg,
    AddJset64Imm,
    AddJset64Reg,
    AddJne64Imm,
    AddJne64Reg,
    AddJsgt64Imm,
    AddJsgt64Reg,
    AddJsge64Imm,
    AddJsge64Reg,
    AddJlt64Imm,
    AddJlt64Reg,
    AddJle64Imm,
    AddJle64Reg,
    AddJslt64Imm,
    AddJslt64Reg,
    AddJsle64Imm,
    AddJsle64Reg,
    AddJeq32Imm,
    AddJeq32Reg,
    AddJgt32Imm,
    AddJgt32Reg,
    AddJge32Imm,
    AddJge32Reg,
    AddJset32Imm,
    AddJset32Reg,
    AddJne32Imm,
    AddJne32Reg,
    AddJsgt32Imm,
    AddJsgt32Reg,
    AddJsge32Imm,
    AddJsge32Reg,
    AddJlt32Imm,
    AddJlt32Reg,
    AddJle32Imm,
    AddJle32Reg,
    AddJslt32Imm,
    AddJslt32Reg,
    AddJsle32Imm,
    AddJsle32Reg,
    /// `dst &= imm` then `if dst cmp X goto aux` (a mask and its test),
    /// laid out as the `AddJ` codes.
    AndJeq64Imm,
    AndJeq64Reg,
    AndJgt64Imm,
    AndJgt64Reg,
    AndJge64Imm,
    AndJge64Reg,
    AndJset64Imm,
    AndJset64Reg,
    AndJne64Imm,
    AndJne64Reg,
    AndJsgt64Imm,
    AndJsgt64Reg,
    AndJsge64Imm,
    AndJsge64Reg,
    AndJlt64Imm,
    AndJlt64Reg,
    AndJle64Imm,
    AndJle64Reg,
    AndJslt64Imm,
    AndJslt64Reg,
    AndJsle64Imm,
    AndJsle64Reg,
    AndJeq32Imm,
    AndJeq32Reg,
    AndJgt32Imm,
    AndJgt32Reg,
    AndJge32Imm,
    AndJge32Reg,
    AndJset32Imm,
    AndJset32Reg,
    AndJne32Imm,
    AndJne32Reg,
    AndJsgt32Imm,
    AndJsgt32Reg,
    AndJsge32Imm,
    AndJsge32Reg,
    AndJlt32Imm,
    AndJlt32Reg,
    AndJle32Imm,
    AndJle32Reg,
    AndJslt32Imm,
    AndJslt32Reg,
    AndJsle32Imm,
    AndJsle32Reg,
    /// `dst = *(uN *)(src + off)` then `dst <<= sh` (a header byte put in
    /// place): the offset in `imm`'s low 32 bits, the shift in its high 32.
    LdxBLsh64,
    LdxBLsh32,
    LdxHLsh64,
    LdxHLsh32,
    LdxWLsh64,
    LdxWLsh32,
    /// `dst = *(uN *)(src + off); dst <<= sh; dst2 |= src2`, where `dst` is
    /// `dst2` or `src2` (header bytes put together, big-endian): `off` in
    /// `imm`'s low 32 bits, `sh` in its high 32; the shift and the `or` at
    /// the width of the suffix.
    LdxBLshOr64,
    LdxBLshOr32,
    LdxHLshOr64,
    LdxHLshOr32,
    /// `dst = src; dst >>= imm; dst ^= src` (or `<<=`): a xorshift step,
    /// three instructions.
    MovRshXor64,
    MovLshXor64,
    MovRshXor32,
    MovLshXor32,
    /// `dst = *(u64 *)(src + off); dst op= src2; *(u64 *)(src + off) = dst`
    /// (a value kept in memory, updated; `dst` is not `src`): `off` in
    /// `imm`'s low 32 bits, and for `RmwAdd64Imm` the added immediate in
    /// its high 32, sign-extended.
    RmwAdd64Reg,
    RmwSub64Reg,
    RmwOr64Reg,
    RmwAnd64Reg,
    RmwXor64Reg,
    RmwAdd64Imm,
    /// `dst = imm; dst <<= src` (a one-bit mask `1 << n`).
    MovImmLsh64Reg,
    /// `dst &= a; dst = -dst; dst &= b` (the branch-free step of a bitwise
    /// CRC): `a` in `imm`'s low 32 bits, `b` in its high 32, sign-extended
    /// for `AndNegAnd64`.
    AndNegAnd64,
    AndNegAnd32,
    /// `dst = imm ll; dst2 &= dst` (a 64-bit mask), three slots.
    LddwAnd64,
    /// `dst op= src` (or `imm`'s high 32 bits, sign-extended, for
    /// `AddStx64Imm`), then `*(u64 *)(src2 + off) = dst` with `off` in
    /// `imm`'s low 32 bits.
    AddStx64Reg,
    SubStx64Reg,
    OrStx64Reg,
    AndStx64Reg,
    XorStx64Reg,
    AddStx64Imm,
    /// Helper call: helper number in `imm`, dense table index in `aux`.
    CallHelper,
    /// Helper call through a register (`callx`): the register in `dst`.
    CallReg,
    /// BPF-to-BPF call: callee's first slot in `aux`.
    CallLocal,
    Exit,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_codes_are_told_apart_by_their_ranges() {
        for (code, exit, by_aux) in [
            (Code::Mov64Imm, Exit::Straight, false),
            (Code::LdxDW, Exit::Straight, false),
            (Code::Ja, Exit::Jump, true),
            (Code::Jeq64Imm, Exit::CondJump, true),
            (Code::Jsle32Reg, Exit::CondJump, true),
            (Code::AddJeq64Imm, Exit::AluBranch, true),
            (Code::AndJsle32Reg, Exit::AluBranch, true),
            (Code::LdAbsB, Exit::Branch, false),
            (Code::LdIndW, Exit::Branch, false),
            (Code::CallHelper, Exit::Branch, false),
            (Code::CallReg, Exit::Branch, false),
            (Code::CallLocal, Exit::Branch, true),
            (Code::Exit, Exit::End, false),
            (Code::LddwTail, Exit::End, false),
        ] {
            assert_eq!(
                (code.exit(), code.jumps_by_aux()),
                (exit, by_aux),
                "{code:?}"
            );
        }
    }
}
