//! The interpreter loop proper: one `match` over the pre-decoded ops, in
//! fast mode (the budget charged by run) or checked mode (by instruction).

use super::cold::{atomic, call_helper, packet_load};
use super::slots::Slots;
use super::{run_checked, State};
use crate::alu::{self, Alu};
use crate::error::VmError;
use crate::helpers::Helpers;
use crate::memory::Memory;
use crate::op::{Code, Op};
use crate::RunOutcome;

/// The loop proper, from slot `pc` with the registers and frames set and
/// `remaining` of `budget` left. In fast mode (`CHECKED` false) the run
/// that `pc` starts has been charged already, and each control op charges
/// the run it goes to; in checked mode every instruction is charged as it
/// runs.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(super) fn run_loop<const CHECKED: bool>(
    ops: &[Op],
    helpers: &Helpers,
    state: &mut State,
    mem: &mut Memory<'_, '_>,
    pc: usize,
    budget: u64,
    remaining: i64,
) -> Result<RunOutcome, VmError> {
    let State { reg, calls } = &mut *state;
    let mut remaining = remaining;
    let Some(slots) = Slots::new(ops) else {
        return Err(VmError::BadControlFlow { pc });
    };
    let mut pc = slots.at(pc);
    // The slot index of a position, for errors, jumps and calls.
    macro_rules! ix {
        ($pos:expr) => {
            slots.index($pos)
        };
    }

    // Goes to slot `$target`, which starts a run of `$len` instructions:
    // in fast mode, charges it, or goes on in checked mode from there (or
    // from `$resume`, where the instructions charged begin) when the budget
    // left is smaller.
    macro_rules! go {
        ($target:expr, $len:expr) => {{
            let target = $target;
            go!(target, $len, target)
        }};
        (@slot $target:expr, $len:expr) => {{
            let target = slots.at($target as usize);
            go!(target, $len, target)
        }};
        ($target:expr, $len:expr, $resume:expr) => {{
            pc = $target;
            if !CHECKED {
                let len = $len as i64;
                if remaining < len {
                    return run_checked(ops, helpers, state, mem, ix!($resume), budget, remaining);
                }
                remaining -= len;
            }
            continue;
        }};
    }

    // Leaves the current frame: returns from the program at depth 0, else
    // returns to the caller.
    macro_rules! exit {
        () => {{
            if calls.depth == calls.base {
                return Ok(RunOutcome {
                    r0: reg[0],
                    insn_count: budget - remaining as u64,
                });
            }
            let ret = calls.ret(reg, mem);
            go!(@slot ret, ops.get(ret).map_or(0, |op| op.len));
        }};
    }

    loop {
        // Past the end, the guard, which stops the run.
        let (op, this) = slots.get(pc);
        if CHECKED {
            remaining -= 1;
            if remaining < 0 {
                return Err(VmError::BudgetExhausted {
                    pc: ix!(this),
                    budget,
                });
            }
        }
        pc = this;
        // The operand registers, as closures so that each arm reads only
        // the fields it uses: read here, before the `match`, all three cost
        // every dispatch their loads (4 to 9 % more host instructions).
        // `op.imm` likewise, read where it is used: read here, it held a
        // register through every arm (2 to 4 % more).
        let dst = || op.dst as usize;
        let src = || op.src as usize;
        let src2 = || op.src2 as usize;
        let dst2 = || op.dst2 as usize;

        macro_rules! load {
            ($n:literal, $conv:expr) => {{
                let addr = reg[src()].wrapping_add(op.imm);
                match mem.load::<$n>(addr) {
                    Some(b) => reg[dst()] = $conv(b),
                    None => {
                        let signed = matches!(op.code, Code::LdsxB | Code::LdsxH | Code::LdsxW);
                        reg[dst()] = mem.load_slow(ix!(this), addr, $n, signed)?;
                    }
                }
            }};
        }
        macro_rules! store {
            ($n:literal, $addr:expr, $bytes:expr) => {
                store!($n, $addr, $bytes, ix!(this))
            };
            // A fault names slot `$slot`.
            ($n:literal, $addr:expr, $bytes:expr, $slot:expr) => {{
                let addr = $addr;
                let bytes = $bytes;
                if !mem.store::<$n>(addr, bytes) {
                    mem.store_slow($slot, addr, &bytes)?;
                }
            }};
        }
        // To the target (`aux`) if `$cond`, else on to the slot after the
        // jump, `$next`, charging the run each starts. In fast mode the
        // fall-through goes to `op.next`, which skips a `goto` in `$next`
        // (charged in `f_len`); short of that, and in checked mode, which
        // charges the `goto` as it runs, it goes to `$next`.
        macro_rules! branch {
            ($cond:expr, $next:expr) => {{
                let next = $next;
                if $cond {
                    go!(slots.at_offset(op.aux), op.t_len)
                } else if CHECKED {
                    pc = next;
                    continue;
                } else {
                    go!(slots.at_offset(op.next), op.f_len, next)
                }
            }};
        }
        macro_rules! jump {
            ($cond:expr) => {
                branch!($cond, this + 1)
            };
        }
        // The next instruction of a superinstruction (`fuse`): moves `pc`
        // to its slot (so a straight op's `pc` ends on its last slot, and
        // the loop's `pc += 1` moves past it); in checked mode charged like
        // any other, and when the budget is spent the run goes on at that
        // slot, which stops it there. (In fast mode its run has been
        // charged.)
        macro_rules! then {
            ($second:expr) => {{
                pc += 1;
                if CHECKED {
                    if remaining == 0 {
                        continue;
                    }
                    remaining -= 1;
                }
                $second;
            }};
        }
        // `dst = src` at 64 or 32 bits, then the ALU operation `$alu` on
        // `dst` with `src2` or `op.imm`; see `Code::MovAdd64Imm`.
        macro_rules! mov_alu64 {
            ($alu:ident) => {{
                reg[dst()] = reg[src()];
                then!({
                    alu::apply(Alu::$alu, reg, op.dst, op.src2, op.imm);
                })
            }};
        }
        macro_rules! mov_alu32 {
            ($alu:ident) => {{
                reg[dst()] = reg[src()] as u32 as u64;
                then!({
                    alu::apply(Alu::$alu, reg, op.dst, op.src2, op.imm);
                })
            }};
        }
        // `dst += src2`, then the load at `dst + op.imm` into `dst2`, which is
        // the last instruction of the group and names its slot in a fault.
        macro_rules! add_load {
            ($n:literal, $conv:expr, $last:expr) => {
                add_load!($n, $conv, $last, op.imm)
            };
            ($n:literal, $conv:expr, $last:expr, $off:expr) => {{
                reg[dst()] = reg[dst()].wrapping_add(reg[src2()]);
                then!({
                    let addr = reg[dst()].wrapping_add($off);
                    match mem.load::<$n>(addr) {
                        Some(b) => reg[dst2()] = $conv(b),
                        None => reg[dst2()] = mem.load_slow(ix!(this) + $last, addr, $n, false)?,
                    }
                })
            }};
        }
        // `dst = src; dst += a`, then `add_load!` with the offset `off`;
        // see `Code::MovAddAddLdxB`.
        macro_rules! mov_add_add_load {
            ($n:literal, $conv:expr) => {{
                reg[dst()] = reg[src()];
                then!({
                    reg[dst()] = reg[dst()].wrapping_add(op.imm as u32 as i32 as i64 as u64);
                    then!({ add_load!($n, $conv, 3, hi64!()) })
                })
            }};
        }
        macro_rules! mov_add_load {
            ($n:literal, $conv:expr) => {{
                reg[dst()] = reg[src()];
                then!({ add_load!($n, $conv, 2) })
            }};
        }
        // The compared immediate of the fused add/and-then-jump ops: the
        // high 32 bits of `op.imm`, sign-extended (see `Code::AddJeq64Imm`).
        macro_rules! hi64 {
            () => {
                (op.imm >> 32) as u32 as i32 as i64 as u64
            };
        }
        // `dst op= op.imm` (`$alu`), then the jump; see `Code::AddJeq64Imm`.
        macro_rules! hi32 {
            () => {
                (op.imm >> 32) as u32
            };
        }
        // A comparison of the fused jumps: unsigned (`u`), signed (`s`) or
        // `set` (`a & b != 0`), at the width of `$t` (and `$st` signed).
        macro_rules! cmp {
            ($t:ty, $st:ty, u $op:tt, $a:expr, $b:expr) => {
                ($a as $t) $op ($b as $t)
            };
            ($t:ty, $st:ty, s $op:tt, $a:expr, $b:expr) => {
                ($a as $st) $op ($b as $st)
            };
            ($t:ty, $st:ty, set $op:tt, $a:expr, $b:expr) => {
                ($a as $t) & ($b as $t) != 0
            };
        }
        // `dst += op.imm` or `dst &= op.imm` (`$alu`), then the jump on `dst`;
        // see `Code::AddJeq64Imm`.
        macro_rules! alu_jump64 {
            ($alu:ident, $sign:ident $op:tt, $rhs:expr) => {{
                let x = op.imm as u32 as i32 as i64 as u64;
                alu_jump64!(@$alu, reg[dst()], x);
                then!(branch!(cmp!(u64, i64, $sign $op, reg[dst()], $rhs), this + 2))
            }};
            (@add, $r:expr, $b:expr) => {
                $r = $r.wrapping_add($b)
            };
            (@and, $r:expr, $b:expr) => {
                $r &= $b
            };
        }
        macro_rules! alu_jump32 {
            ($alu:ident, $sign:ident $op:tt, $rhs:expr) => {{
                let (d, x) = (reg[dst()] as u32, op.imm as u32);
                reg[dst()] = alu_jump32!(@$alu, d, x) as u64;
                then!(branch!(cmp!(u32, i32, $sign $op, reg[dst()], $rhs), this + 2))
            }};
            (@add, $a:expr, $b:expr) => { $a.wrapping_add($b) };
            (@and, $a:expr, $b:expr) => { $a & $b };
        }
        // The load at `src + off`, then `dst <<= sh`, then (`$or`) `dst2 |=
        // src2`; see `Code::LdxBLsh64` and `Code::LdxBLshOr64`.
        macro_rules! load_shift {
            ($n:literal, $conv:expr, $shift:expr) => {
                load_shift!(@ $n, $conv, $shift, {})
            };
            ($n:literal, $conv:expr, $shift:expr, $or:expr) => {
                load_shift!(@ $n, $conv, $shift, then!({
                    reg[dst2()] = $or(reg[dst2()], reg[src2()]);
                }))
            };
            (@ $n:literal, $conv:expr, $shift:expr, $tail:expr) => {{
                let addr = reg[src()].wrapping_add(op.imm as u32 as i32 as i64 as u64);
                match mem.load::<$n>(addr) {
                    Some(b) => reg[dst()] = $conv(b),
                    None => reg[dst()] = mem.load_slow(ix!(this), addr, $n, false)?,
                }
                then!({
                    reg[dst()] = $shift(reg[dst()], op.imm >> 32);
                    $tail
                })
            }};
        }
        // `dst = src; dst = $shift(dst, op.imm); dst ^= src`, at 64 bits or
        // (`$w` = `u32`) 32; see `Code::MovRshXor64`.
        macro_rules! xorshift {
            ($w:ty, $shift:expr) => {{
                reg[dst()] = reg[src()] as $w as u64;
                then!({
                    reg[dst()] = $shift(reg[dst()], op.imm);
                    then!({
                        reg[dst()] = (reg[dst()] as $w ^ reg[src()] as $w) as u64;
                    })
                })
            }};
        }
        // `dst = $f(dst, $x)`, then the store of `dst` at `src2 + off`; see
        // `Code::AddStx64Reg`.
        macro_rules! alu_store {
            ($f:expr, $x:expr) => {{
                reg[dst()] = $f(reg[dst()], $x);
                then!({
                    let addr = reg[src2()].wrapping_add(op.imm as u32 as i32 as i64 as u64);
                    store!(8, addr, reg[dst()].to_le_bytes(), ix!(this) + 1)
                })
            }};
        }
        // The load at `src + off`, `dst = $f(dst, $x)`, the store back
        // (whose fault names the third slot); see `Code::RmwAdd64Reg`.
        macro_rules! rmw {
            ($f:expr, $x:expr) => {{
                let addr = reg[src()].wrapping_add(op.imm as u32 as i32 as i64 as u64);
                match mem.load::<8>(addr) {
                    Some(b) => reg[dst()] = u64::from_le_bytes(b),
                    None => reg[dst()] = mem.load_slow(ix!(this), addr, 8, false)?,
                }
                then!({
                    reg[dst()] = $f(reg[dst()], $x);
                    then!({ store!(8, addr, reg[dst()].to_le_bytes(), ix!(this) + 2) })
                })
            }};
        }
        // A helper call (`$helper`: the helper numbered `$id`, if there is
        // one): r0 and the budget its callbacks used, then the run after it.
        // Two arms rather than one with a lookup in front, which measured
        // more host instructions on every program.
        macro_rules! call {
            ($id:expr, $helper:expr) => {{
                let Some(helper) = $helper else {
                    return Err(VmError::UnknownHelper {
                        pc: ix!(this),
                        id: $id,
                    });
                };
                let (r0, used) = call_helper(
                    helper,
                    mem,
                    reg,
                    ix!(this),
                    $id,
                    (ops, helpers, calls.depth),
                    remaining,
                )?;
                reg[0] = r0;
                remaining -= used;
                go!(this + 1, op.f_len)
            }};
        }
        // A simple ALU operation ([`Alu`]).
        macro_rules! alu {
            ($alu:ident) => {
                alu::apply(Alu::$alu, reg, op.dst, op.src, op.imm)
            };
        }
        match op.code {
            Code::Add64Imm => alu!(Add64Imm),
            Code::Add64Reg => alu!(Add64Reg),
            Code::Sub64Imm => alu!(Sub64Imm),
            Code::Sub64Reg => alu!(Sub64Reg),
            Code::Mul64Imm => alu!(Mul64Imm),
            Code::Mul64Reg => alu!(Mul64Reg),
            Code::Div64Imm => reg[dst()] = alu::div64(reg[dst()], op.imm),
            Code::Div64Reg => reg[dst()] = alu::div64(reg[dst()], reg[src()]),
            Code::SDiv64Imm => reg[dst()] = alu::sdiv64(reg[dst()], op.imm),
            Code::SDiv64Reg => reg[dst()] = alu::sdiv64(reg[dst()], reg[src()]),
            Code::Mod64Imm => reg[dst()] = alu::mod64(reg[dst()], op.imm),
            Code::Mod64Reg => reg[dst()] = alu::mod64(reg[dst()], reg[src()]),
            Code::SMod64Imm => reg[dst()] = alu::smod64(reg[dst()], op.imm),
            Code::SMod64Reg => reg[dst()] = alu::smod64(reg[dst()], reg[src()]),
            Code::Or64Imm => alu!(Or64Imm),
            Code::Or64Reg => alu!(Or64Reg),
            Code::And64Imm => alu!(And64Imm),
            Code::And64Reg => alu!(And64Reg),
            Code::Lsh64Imm => alu!(Lsh64Imm),
            Code::Lsh64Reg => alu!(Lsh64Reg),
            Code::Rsh64Imm => alu!(Rsh64Imm),
            Code::Rsh64Reg => alu!(Rsh64Reg),
            Code::Arsh64Imm => alu!(Arsh64Imm),
            Code::Arsh64Reg => alu!(Arsh64Reg),
            Code::Xor64Imm => alu!(Xor64Imm),
            Code::Xor64Reg => alu!(Xor64Reg),
            Code::Mov64Imm => alu!(Mov64Imm),
            Code::Mov64Reg => alu!(Mov64Reg),
            Code::MovSx64B => reg[dst()] = reg[src()] as i8 as i64 as u64,
            Code::MovSx64H => reg[dst()] = reg[src()] as i16 as i64 as u64,
            Code::MovSx64W => reg[dst()] = reg[src()] as i32 as i64 as u64,
            Code::Neg64 => reg[dst()] = reg[dst()].wrapping_neg(),

            Code::Add32Imm => alu!(Add32Imm),
            Code::Add32Reg => alu!(Add32Reg),
            Code::Sub32Imm => alu!(Sub32Imm),
            Code::Sub32Reg => alu!(Sub32Reg),
            Code::Mul32Imm => alu!(Mul32Imm),
            Code::Mul32Reg => alu!(Mul32Reg),
            Code::Div32Imm => reg[dst()] = alu::div32(reg[dst()], op.imm),
            Code::Div32Reg => reg[dst()] = alu::div32(reg[dst()], reg[src()]),
            Code::SDiv32Imm => reg[dst()] = alu::sdiv32(reg[dst()], op.imm),
            Code::SDiv32Reg => reg[dst()] = alu::sdiv32(reg[dst()], reg[src()]),
            Code::Mod32Imm => reg[dst()] = alu::mod32(reg[dst()], op.imm),
            Code::Mod32Reg => reg[dst()] = alu::mod32(reg[dst()], reg[src()]),
            Code::SMod32Imm => reg[dst()] = alu::smod32(reg[dst()], op.imm),
            Code::SMod32Reg => reg[dst()] = alu::smod32(reg[dst()], reg[src()]),
            Code::Or32Imm => alu!(Or32Imm),
            Code::Or32Reg => alu!(Or32Reg),
            Code::And32Imm => alu!(And32Imm),
            Code::And32Reg => alu!(And32Reg),
            Code::Lsh32Imm => alu!(Lsh32Imm),
            Code::Lsh32Reg => alu!(Lsh32Reg),
            Code::Rsh32Imm => alu!(Rsh32Imm),
            Code::Rsh32Reg => alu!(Rsh32Reg),
            Code::Arsh32Imm => alu!(Arsh32Imm),
            Code::Arsh32Reg => alu!(Arsh32Reg),
            Code::Xor32Imm => alu!(Xor32Imm),
            Code::Xor32Reg => alu!(Xor32Reg),
            Code::Mov32Imm => alu!(Mov32Imm),
            Code::Mov32Reg => alu!(Mov32Reg),
            Code::MovSx32B => reg[dst()] = reg[src()] as i8 as i32 as u32 as u64,
            Code::MovSx32H => reg[dst()] = reg[src()] as i16 as i32 as u32 as u64,
            Code::Neg32 => reg[dst()] = (reg[dst()] as u32).wrapping_neg() as u64,

            // The emulated machine is little-endian on every host: `le`
            // truncates, `be` and `bswap` swap.
            Code::Le16 => reg[dst()] = reg[dst()] as u16 as u64,
            Code::Le32 => reg[dst()] = reg[dst()] as u32 as u64,
            Code::Le64 => {}
            Code::Be16 | Code::Swap16 => reg[dst()] = (reg[dst()] as u16).swap_bytes() as u64,
            Code::Be32 | Code::Swap32 => reg[dst()] = (reg[dst()] as u32).swap_bytes() as u64,
            Code::Be64 | Code::Swap64 => reg[dst()] = reg[dst()].swap_bytes(),

            Code::Lddw => {
                reg[dst()] = op.imm;
                pc += 1;
            }
            Code::LddwTail | Code::End => {
                return Err(VmError::BadControlFlow { pc: ix!(this) });
            }

            Code::LdxB => load!(1, |b: [u8; 1]| b[0] as u64),
            Code::LdxH => load!(2, |b| u16::from_le_bytes(b) as u64),
            Code::LdxW => load!(4, |b| u32::from_le_bytes(b) as u64),
            Code::LdxDW => load!(8, u64::from_le_bytes),
            Code::LdsxB => load!(1, |b: [u8; 1]| b[0] as i8 as i64 as u64),
            Code::LdsxH => load!(2, |b| i16::from_le_bytes(b) as i64 as u64),
            Code::LdsxW => load!(4, |b| i32::from_le_bytes(b) as i64 as u64),

            Code::StB => store!(
                1,
                reg[dst()].wrapping_add(op.aux as i32 as u64),
                [op.imm as u8]
            ),
            Code::StH => store!(
                2,
                reg[dst()].wrapping_add(op.aux as i32 as u64),
                (op.imm as u16).to_le_bytes()
            ),
            Code::StW => store!(
                4,
                reg[dst()].wrapping_add(op.aux as i32 as u64),
                (op.imm as u32).to_le_bytes()
            ),
            Code::StDW => store!(
                8,
                reg[dst()].wrapping_add(op.aux as i32 as u64),
                op.imm.to_le_bytes()
            ),
            Code::StxB => store!(1, reg[dst()].wrapping_add(op.imm), [reg[src()] as u8]),
            Code::StxH => store!(
                2,
                reg[dst()].wrapping_add(op.imm),
                (reg[src()] as u16).to_le_bytes()
            ),
            Code::StxW => store!(
                4,
                reg[dst()].wrapping_add(op.imm),
                (reg[src()] as u32).to_le_bytes()
            ),
            Code::StxDW => store!(8, reg[dst()].wrapping_add(op.imm), reg[src()].to_le_bytes()),

            Code::Atomic32 | Code::Atomic64 => atomic(op, reg, mem, ix!(this))?,

            Code::LdAbsB
            | Code::LdAbsH
            | Code::LdAbsW
            | Code::LdIndB
            | Code::LdIndH
            | Code::LdIndW => match packet_load(op, reg, mem) {
                Some(v) => {
                    reg[0] = v;
                    go!(this + 1, op.f_len)
                }
                None => {
                    // The kernel's LD_ABS/LD_IND: `r0 = 0; exit` on a bad offset.
                    reg[0] = 0;
                    exit!();
                }
            },

            Code::Ja => go!(slots.at_offset(op.aux), op.t_len),
            Code::Jeq64Imm => jump!(reg[dst()] == op.imm),
            Code::Jeq64Reg => jump!(reg[dst()] == reg[src()]),
            Code::Jgt64Imm => jump!(reg[dst()] > op.imm),
            Code::Jgt64Reg => jump!(reg[dst()] > reg[src()]),
            Code::Jge64Imm => jump!(reg[dst()] >= op.imm),
            Code::Jge64Reg => jump!(reg[dst()] >= reg[src()]),
            Code::Jset64Imm => jump!(reg[dst()] & op.imm != 0),
            Code::Jset64Reg => jump!(reg[dst()] & reg[src()] != 0),
            Code::Jne64Imm => jump!(reg[dst()] != op.imm),
            Code::Jne64Reg => jump!(reg[dst()] != reg[src()]),
            Code::Jsgt64Imm => jump!((reg[dst()] as i64) > op.imm as i64),
            Code::Jsgt64Reg => jump!((reg[dst()] as i64) > reg[src()] as i64),
            Code::Jsge64Imm => jump!((reg[dst()] as i64) >= op.imm as i64),
            Code::Jsge64Reg => jump!((reg[dst()] as i64) >= reg[src()] as i64),
            Code::Jlt64Imm => jump!(reg[dst()] < op.imm),
            Code::Jlt64Reg => jump!(reg[dst()] < reg[src()]),
            Code::Jle64Imm => jump!(reg[dst()] <= op.imm),
            Code::Jle64Reg => jump!(reg[dst()] <= reg[src()]),
            Code::Jslt64Imm => jump!((reg[dst()] as i64) < op.imm as i64),
            Code::Jslt64Reg => jump!((reg[dst()] as i64) < reg[src()] as i64),
            Code::Jsle64Imm => jump!((reg[dst()] as i64) <= op.imm as i64),
            Code::Jsle64Reg => jump!((reg[dst()] as i64) <= reg[src()] as i64),
            Code::Jeq32Imm => jump!(reg[dst()] as u32 == op.imm as u32),
            Code::Jeq32Reg => jump!(reg[dst()] as u32 == reg[src()] as u32),
            Code::Jgt32Imm => jump!(reg[dst()] as u32 > op.imm as u32),
            Code::Jgt32Reg => jump!(reg[dst()] as u32 > reg[src()] as u32),
            Code::Jge32Imm => jump!(reg[dst()] as u32 >= op.imm as u32),
            Code::Jge32Reg => jump!(reg[dst()] as u32 >= reg[src()] as u32),
            Code::Jset32Imm => jump!(reg[dst()] as u32 & op.imm as u32 != 0),
            Code::Jset32Reg => jump!(reg[dst()] as u32 & reg[src()] as u32 != 0),
            Code::Jne32Imm => jump!(reg[dst()] as u32 != op.imm as u32),
            Code::Jne32Reg => jump!(reg[dst()] as u32 != reg[src()] as u32),
            Code::Jsgt32Imm => jump!((reg[dst()] as i32) > op.imm as i32),
            Code::Jsgt32Reg => jump!((reg[dst()] as i32) > reg[src()] as i32),
            Code::Jsge32Imm => jump!((reg[dst()] as i32) >= op.imm as i32),
            Code::Jsge32Reg => jump!((reg[dst()] as i32) >= reg[src()] as i32),
            Code::Jlt32Imm => jump!((reg[dst()] as u32) < op.imm as u32),
            Code::Jlt32Reg => jump!((reg[dst()] as u32) < reg[src()] as u32),
            Code::Jle32Imm => jump!(reg[dst()] as u32 <= op.imm as u32),
            Code::Jle32Reg => jump!(reg[dst()] as u32 <= reg[src()] as u32),
            Code::Jslt32Imm => jump!((reg[dst()] as i32) < op.imm as i32),
            Code::Jslt32Reg => jump!((reg[dst()] as i32) < reg[src()] as i32),
            Code::Jsle32Imm => jump!((reg[dst()] as i32) <= op.imm as i32),
            Code::Jsle32Reg => jump!((reg[dst()] as i32) <= reg[src()] as i32),

            Code::MovAdd64Imm => mov_alu64!(Add64Imm),
            Code::MovAdd64Reg => mov_alu64!(Add64Reg),
            Code::MovSub64Imm => mov_alu64!(Sub64Imm),
            Code::MovSub64Reg => mov_alu64!(Sub64Reg),
            Code::MovMul64Imm => mov_alu64!(Mul64Imm),
            Code::MovMul64Reg => mov_alu64!(Mul64Reg),
            Code::MovOr64Imm => mov_alu64!(Or64Imm),
            Code::MovOr64Reg => mov_alu64!(Or64Reg),
            Code::MovAnd64Imm => mov_alu64!(And64Imm),
            Code::MovAnd64Reg => mov_alu64!(And64Reg),
            Code::MovLsh64Imm => mov_alu64!(Lsh64Imm),
            Code::MovLsh64Reg => mov_alu64!(Lsh64Reg),
            Code::MovRsh64Imm => mov_alu64!(Rsh64Imm),
            Code::MovRsh64Reg => mov_alu64!(Rsh64Reg),
            Code::MovArsh64Imm => mov_alu64!(Arsh64Imm),
            Code::MovArsh64Reg => mov_alu64!(Arsh64Reg),
            Code::MovXor64Imm => mov_alu64!(Xor64Imm),
            Code::MovXor64Reg => mov_alu64!(Xor64Reg),
            Code::MovAdd32Imm => mov_alu32!(Add32Imm),
            Code::MovAdd32Reg => mov_alu32!(Add32Reg),
            Code::MovSub32Imm => mov_alu32!(Sub32Imm),
            Code::MovSub32Reg => mov_alu32!(Sub32Reg),
            Code::MovMul32Imm => mov_alu32!(Mul32Imm),
            Code::MovMul32Reg => mov_alu32!(Mul32Reg),
            Code::MovOr32Imm => mov_alu32!(Or32Imm),
            Code::MovOr32Reg => mov_alu32!(Or32Reg),
            Code::MovAnd32Imm => mov_alu32!(And32Imm),
            Code::MovAnd32Reg => mov_alu32!(And32Reg),
            Code::MovLsh32Imm => mov_alu32!(Lsh32Imm),
            Code::MovLsh32Reg => mov_alu32!(Lsh32Reg),
            Code::MovRsh32Imm => mov_alu32!(Rsh32Imm),
            Code::MovRsh32Reg => mov_alu32!(Rsh32Reg),
            Code::MovArsh32Imm => mov_alu32!(Arsh32Imm),
            Code::MovArsh32Reg => mov_alu32!(Arsh32Reg),
            Code::MovXor32Imm => mov_alu32!(Xor32Imm),
            Code::MovXor32Reg => mov_alu32!(Xor32Reg),

            Code::MovAddLdxB => mov_add_load!(1, |b: [u8; 1]| b[0] as u64),
            Code::MovAddLdxH => mov_add_load!(2, |b| u16::from_le_bytes(b) as u64),
            Code::MovAddLdxW => mov_add_load!(4, |b| u32::from_le_bytes(b) as u64),
            Code::MovAddLdxDW => mov_add_load!(8, u64::from_le_bytes),
            Code::MovAddAddLdxB => mov_add_add_load!(1, |b: [u8; 1]| b[0] as u64),
            Code::MovAddAddLdxH => mov_add_add_load!(2, |b| u16::from_le_bytes(b) as u64),
            Code::MovAddAddLdxW => mov_add_add_load!(4, |b| u32::from_le_bytes(b) as u64),
            Code::MovAddAddLdxDW => mov_add_add_load!(8, u64::from_le_bytes),
            Code::AddLdxB => add_load!(1, |b: [u8; 1]| b[0] as u64, 1),
            Code::AddLdxH => add_load!(2, |b| u16::from_le_bytes(b) as u64, 1),
            Code::AddLdxW => add_load!(4, |b| u32::from_le_bytes(b) as u64, 1),
            Code::AddLdxDW => add_load!(8, u64::from_le_bytes, 1),
            Code::AddJeq64Imm => alu_jump64!(add, u ==, hi64!()),
            Code::AddJeq64Reg => alu_jump64!(add, u ==, reg[src()]),
            Code::AddJgt64Imm => alu_jump64!(add, u >, hi64!()),
            Code::AddJgt64Reg => alu_jump64!(add, u >, reg[src()]),
            Code::AddJge64Imm => alu_jump64!(add, u >=, hi64!()),
            Code::AddJge64Reg => alu_jump64!(add, u >=, reg[src()]),
            Code::AddJset64Imm => alu_jump64!(add, set &, hi64!()),
            Code::AddJset64Reg => alu_jump64!(add, set &, reg[src()]),
            Code::AddJne64Imm => alu_jump64!(add, u !=, hi64!()),
            Code::AddJne64Reg => alu_jump64!(add, u !=, reg[src()]),
            Code::AddJsgt64Imm => alu_jump64!(add, s >, hi64!()),
            Code::AddJsgt64Reg => alu_jump64!(add, s >, reg[src()]),
            Code::AddJsge64Imm => alu_jump64!(add, s >=, hi64!()),
            Code::AddJsge64Reg => alu_jump64!(add, s >=, reg[src()]),
            Code::AddJlt64Imm => alu_jump64!(add, u <, hi64!()),
            Code::AddJlt64Reg => alu_jump64!(add, u <, reg[src()]),
            Code::AddJle64Imm => alu_jump64!(add, u <=, hi64!()),
            Code::AddJle64Reg => alu_jump64!(add, u <=, reg[src()]),
            Code::AddJslt64Imm => alu_jump64!(add, s <, hi64!()),
            Code::AddJslt64Reg => alu_jump64!(add, s <, reg[src()]),
            Code::AddJsle64Imm => alu_jump64!(add, s <=, hi64!()),
            Code::AddJsle64Reg => alu_jump64!(add, s <=, reg[src()]),
            Code::AddJeq32Imm => alu_jump32!(add, u ==, hi32!()),
            Code::AddJeq32Reg => alu_jump32!(add, u ==, reg[src()]),
            Code::AddJgt32Imm => alu_jump32!(add, u >, hi32!()),
            Code::AddJgt32Reg => alu_jump32!(add, u >, reg[src()]),
            Code::AddJge32Imm => alu_jump32!(add, u >=, hi32!()),
            Code::AddJge32Reg => alu_jump32!(add, u >=, reg[src()]),
            Code::AddJset32Imm => alu_jump32!(add, set &, hi32!()),
            Code::AddJset32Reg => alu_jump32!(add, set &, reg[src()]),
            Code::AddJne32Imm => alu_jump32!(add, u !=, hi32!()),
            Code::AddJne32Reg => alu_jump32!(add, u !=, reg[src()]),
            Code::AddJsgt32Imm => alu_jump32!(add, s >, hi32!()),
            Code::AddJsgt32Reg => alu_jump32!(add, s >, reg[src()]),
            Code::AddJsge32Imm => alu_jump32!(add, s >=, hi32!()),
            Code::AddJsge32Reg => alu_jump32!(add, s >=, reg[src()]),
            Code::AddJlt32Imm => alu_jump32!(add, u <, hi32!()),
            Code::AddJlt32Reg => alu_jump32!(add, u <, reg[src()]),
            Code::AddJle32Imm => alu_jump32!(add, u <=, hi32!()),
            Code::AddJle32Reg => alu_jump32!(add, u <=, reg[src()]),
            Code::AddJslt32Imm => alu_jump32!(add, s <, hi32!()),
            Code::AddJslt32Reg => alu_jump32!(add, s <, reg[src()]),
            Code::AddJsle32Imm => alu_jump32!(add, s <=, hi32!()),
            Code::AddJsle32Reg => alu_jump32!(add, s <=, reg[src()]),
            Code::AndJeq64Imm => alu_jump64!(and, u ==, hi64!()),
            Code::AndJeq64Reg => alu_jump64!(and, u ==, reg[src()]),
            Code::AndJgt64Imm => alu_jump64!(and, u >, hi64!()),
            Code::AndJgt64Reg => alu_jump64!(and, u >, reg[src()]),
            Code::AndJge64Imm => alu_jump64!(and, u >=, hi64!()),
            Code::AndJge64Reg => alu_jump64!(and, u >=, reg[src()]),
            Code::AndJset64Imm => alu_jump64!(and, set &, hi64!()),
            Code::AndJset64Reg => alu_jump64!(and, set &, reg[src()]),
            Code::AndJne64Imm => alu_jump64!(and, u !=, hi64!()),
            Code::AndJne64Reg => alu_jump64!(and, u !=, reg[src()]),
            Code::AndJsgt64Imm => alu_jump64!(and, s >, hi64!()),
            Code::AndJsgt64Reg => alu_jump64!(and, s >, reg[src()]),
            Code::AndJsge64Imm => alu_jump64!(and, s >=, hi64!()),
            Code::AndJsge64Reg => alu_jump64!(and, s >=, reg[src()]),
            Code::AndJlt64Imm => alu_jump64!(and, u <, hi64!()),
            Code::AndJlt64Reg => alu_jump64!(and, u <, reg[src()]),
            Code::AndJle64Imm => alu_jump64!(and, u <=, hi64!()),
            Code::AndJle64Reg => alu_jump64!(and, u <=, reg[src()]),
            Code::AndJslt64Imm => alu_jump64!(and, s <, hi64!()),
            Code::AndJslt64Reg => alu_jump64!(and, s <, reg[src()]),
            Code::AndJsle64Imm => alu_jump64!(and, s <=, hi64!()),
            Code::AndJsle64Reg => alu_jump64!(and, s <=, reg[src()]),
            Code::AndJeq32Imm => alu_jump32!(and, u ==, hi32!()),
            Code::AndJeq32Reg => alu_jump32!(and, u ==, reg[src()]),
            Code::AndJgt32Imm => alu_jump32!(and, u >, hi32!()),
            Code::AndJgt32Reg => alu_jump32!(and, u >, reg[src()]),
            Code::AndJge32Imm => alu_jump32!(and, u >=, hi32!()),
            Code::AndJge32Reg => alu_jump32!(and, u >=, reg[src()]),
            Code::AndJset32Imm => alu_jump32!(and, set &, hi32!()),
            Code::AndJset32Reg => alu_jump32!(and, set &, reg[src()]),
            Code::AndJne32Imm => alu_jump32!(and, u !=, hi32!()),
            Code::AndJne32Reg => alu_jump32!(and, u !=, reg[src()]),
            Code::AndJsgt32Imm => alu_jump32!(and, s >, hi32!()),
            Code::AndJsgt32Reg => alu_jump32!(and, s >, reg[src()]),
            Code::AndJsge32Imm => alu_jump32!(and, s >=, hi32!()),
            Code::AndJsge32Reg => alu_jump32!(and, s >=, reg[src()]),
            Code::AndJlt32Imm => alu_jump32!(and, u <, hi32!()),
            Code::AndJlt32Reg => alu_jump32!(and, u <, reg[src()]),
            Code::AndJle32Imm => alu_jump32!(and, u <=, hi32!()),
            Code::AndJle32Reg => alu_jump32!(and, u <=, reg[src()]),
            Code::AndJslt32Imm => alu_jump32!(and, s <, hi32!()),
            Code::AndJslt32Reg => alu_jump32!(and, s <, reg[src()]),
            Code::AndJsle32Imm => alu_jump32!(and, s <=, hi32!()),
            Code::AndJsle32Reg => alu_jump32!(and, s <=, reg[src()]),
            Code::LdxBLsh64 => load_shift!(1, |b: [u8; 1]| b[0] as u64, alu::lsh64),
            Code::LdxBLsh32 => load_shift!(1, |b: [u8; 1]| b[0] as u64, alu::lsh32),
            Code::LdxHLsh64 => load_shift!(2, |b| u16::from_le_bytes(b) as u64, alu::lsh64),
            Code::LdxHLsh32 => load_shift!(2, |b| u16::from_le_bytes(b) as u64, alu::lsh32),
            Code::LdxWLsh64 => load_shift!(4, |b| u32::from_le_bytes(b) as u64, alu::lsh64),
            Code::LdxWLsh32 => load_shift!(4, |b| u32::from_le_bytes(b) as u64, alu::lsh32),
            Code::LdxBLshOr64 => load_shift!(1, |b: [u8; 1]| b[0] as u64, alu::lsh64, alu::or64),
            Code::LdxBLshOr32 => load_shift!(1, |b: [u8; 1]| b[0] as u64, alu::lsh32, alu::or32),
            Code::LdxHLshOr64 => {
                load_shift!(2, |b| u16::from_le_bytes(b) as u64, alu::lsh64, alu::or64)
            }
            Code::LdxHLshOr32 => {
                load_shift!(2, |b| u16::from_le_bytes(b) as u64, alu::lsh32, alu::or32)
            }
            Code::MovRshXor64 => xorshift!(u64, alu::rsh64),
            Code::MovLshXor64 => xorshift!(u64, alu::lsh64),
            Code::MovRshXor32 => xorshift!(u32, alu::rsh32),
            Code::MovLshXor32 => xorshift!(u32, alu::lsh32),
            Code::RmwAdd64Reg => rmw!(u64::wrapping_add, reg[src2()]),
            Code::RmwSub64Reg => rmw!(u64::wrapping_sub, reg[src2()]),
            Code::RmwOr64Reg => rmw!(alu::or64, reg[src2()]),
            Code::RmwAnd64Reg => rmw!(|a: u64, b: u64| a & b, reg[src2()]),
            Code::RmwXor64Reg => rmw!(|a: u64, b: u64| a ^ b, reg[src2()]),
            Code::RmwAdd64Imm => rmw!(u64::wrapping_add, hi64!()),
            Code::AndNegAnd64 => {
                reg[dst()] &= op.imm as u32 as i32 as i64 as u64;
                then!({
                    reg[dst()] = reg[dst()].wrapping_neg();
                    then!({
                        reg[dst()] &= hi64!();
                    })
                })
            }
            Code::AndNegAnd32 => {
                reg[dst()] = (reg[dst()] as u32 & op.imm as u32) as u64;
                then!({
                    reg[dst()] = (reg[dst()] as u32).wrapping_neg() as u64;
                    then!({
                        reg[dst()] = (reg[dst()] as u32 & hi32!()) as u64;
                    })
                })
            }
            Code::LddwAnd64 => {
                reg[dst()] = op.imm;
                pc += 1;
                then!({
                    reg[dst2()] &= reg[dst()];
                })
            }
            Code::AddStx64Reg => alu_store!(u64::wrapping_add, reg[src()]),
            Code::SubStx64Reg => alu_store!(u64::wrapping_sub, reg[src()]),
            Code::OrStx64Reg => alu_store!(alu::or64, reg[src()]),
            Code::AndStx64Reg => alu_store!(|a: u64, b: u64| a & b, reg[src()]),
            Code::XorStx64Reg => alu_store!(|a: u64, b: u64| a ^ b, reg[src()]),
            Code::AddStx64Imm => alu_store!(u64::wrapping_add, hi64!()),
            Code::MovImmLsh64Reg => {
                reg[dst()] = op.imm;
                then!({
                    reg[dst()] <<= reg[src()] & 63;
                })
            }

            Code::CallHelper => {
                let id = op.imm;
                call!(id, helpers.get(op.aux as usize))
            }
            Code::CallReg => {
                let id = reg[dst()];
                call!(id, helpers.index(id).and_then(|i| helpers.get(i)))
            }
            Code::CallLocal => {
                calls.call(reg, mem, ix!(this), ix!(this) + 1)?;
                go!(slots.at_offset(op.aux), op.t_len)
            }
            Code::Exit => exit!(),
        }
        // A straight op goes on after its slots (the control ops continue
        // from where they go).
        pc += 1;
    }
}
