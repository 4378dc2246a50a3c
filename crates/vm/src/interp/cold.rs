//! The interpreter's out-of-line operations: helper calls, the legacy
//! packet loads and the atomics, kept out of the loop's code.

use crate::alu;
use crate::callback::Callbacks;
use crate::compile::AtomicKind;
use crate::error::{Access, VmError};
use crate::helpers::{Helper, HelperContext, Helpers};
use crate::memory::Memory;
use crate::op::{Code, Op};

/// Calls a helper with r1-r5, `remaining` being what is left of the run's
/// budget: its result (r0) and the instructions its callbacks ran, which
/// count against that budget. (The budget is passed by value so that the
/// loop's copy of it can live in a register.)
#[inline(never)]
pub(super) fn call_helper(
    helper: &Helper,
    mem: &mut Memory<'_, '_>,
    reg: &[u64; 11],
    pc: usize,
    id: u64,
    (ops, helpers, depth): (&[Op], &Helpers, usize),
    remaining: i64,
) -> Result<(u64, i64), VmError> {
    match helper {
        Helper::Plain(f) => Ok((f(reg[1], reg[2], reg[3], reg[4], reg[5]), 0)),
        Helper::Context(f) => {
            let callbacks = Callbacks::new(ops, helpers, depth, remaining);
            let mut ctx = HelperContext::new(mem, callbacks);
            let r0 = f(&mut ctx, [reg[1], reg[2], reg[3], reg[4], reg[5]]).map_err(|e| {
                VmError::HelperFailed {
                    pc,
                    id: id as u32,
                    message: e.0,
                }
            })?;
            Ok((r0, ctx.callback_insns() as i64))
        }
    }
}

/// A little-endian word of 4 or 8 bytes.
fn read_le(word: &[u8]) -> u64 {
    let mut b = [0u8; 8];
    b[..word.len()].copy_from_slice(word);
    u64::from_le_bytes(b)
}

/// LD_ABS / LD_IND: the big-endian packet word at `imm` (plus the index
/// register for LD_IND), or `None` when it is outside the input.
///
/// The kernel computes the offset in 32 bits and takes it as a signed int;
/// negative offsets are its `SKF_NET_OFF` / `SKF_LL_OFF` areas, relative
/// to the network and MAC headers of an skb context (a flat input has
/// none, and fails them like any other out-of-bounds offset).
#[inline(never)]
pub(super) fn packet_load(op: &Op, reg: &[u64; 11], mem: &Memory<'_, '_>) -> Option<u64> {
    let off = match op.code {
        Code::LdIndB | Code::LdIndH | Code::LdIndW => {
            (reg[op.src as usize] as u32).wrapping_add(op.imm as u32)
        }
        _ => op.imm as u32,
    };
    let size = match op.code {
        Code::LdAbsB | Code::LdIndB => 1,
        Code::LdAbsH | Code::LdIndH => 2,
        _ => 4,
    };
    let bytes = match usize::try_from(off as i32) {
        Ok(off) => mem.input().get(off..off.checked_add(size)?)?,
        Err(_) => mem.header_bytes(off as i32, size)?,
    };
    Some(bytes.iter().fold(0u64, |v, &b| (v << 8) | b as u64))
}

/// The atomic read-modify-write instructions.
#[inline(never)]
pub(super) fn atomic(
    op: &Op,
    reg: &mut [u64; 11],
    mem: &mut Memory<'_, '_>,
    pc: usize,
) -> Result<(), VmError> {
    let (dst, src) = (op.dst as usize, op.src as usize);
    let addr = reg[dst].wrapping_add(op.imm);
    let (size, mask) = if op.code == Code::Atomic64 {
        (8, u64::MAX)
    } else {
        (4, u32::MAX as u64)
    };
    let Some(word) = mem.slice_mut(addr, size) else {
        return Err(mem.fault(pc, Access::Write, addr, size));
    };
    let old = read_le(word);
    let r = alu::atomic(
        AtomicKind::from_aux(op.aux),
        old,
        reg[src] & mask,
        reg[0],
        mask,
    );
    word.copy_from_slice(&r.new.to_le_bytes()[..size]);
    match r.fetch_into_r0 {
        Some(true) => reg[0] = old,
        Some(false) => reg[src] = old,
        None => {}
    }
    Ok(())
}
