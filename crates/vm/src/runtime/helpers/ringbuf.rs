//! The ring buffer helpers (kernel/bpf/ringbuf.c): `bpf_ringbuf_output`,
//! `_reserve`, `_submit`, `_discard`, `_query`. A reserved record is a
//! value region of its own (see [`map_values`](crate::map_values)) until
//! it is submitted or discarded; after that the program cannot reach it.

use super::{env_of, errno_of, map_of, HelperResult};
use crate::helpers::{HelperContext, HelperError};

fn not_ringbuf(id: u32) -> HelperError {
    HelperError(format!("map id {id} is not a ring buffer"))
}

/// `long bpf_ringbuf_output(ringbuf, data, size, flags)`.
pub(crate) fn output(ctx: &mut HelperContext<'_, '_, '_>, a: [u64; 5]) -> HelperResult {
    let id = map_of(a[0])?;
    let data = ctx.read(a[1], a[2] as usize)?.to_vec();
    let rb = env_of(ctx)?
        .map_mut(id)?
        .as_ringbuf_mut()
        .ok_or_else(|| not_ringbuf(id))?;
    Ok(errno_of(rb.output(&data, a[3])))
}

/// `void *bpf_ringbuf_reserve(ringbuf, size, flags)`: the record's
/// address, or NULL when it does not fit or `flags` is not 0.
pub(crate) fn reserve(ctx: &mut HelperContext<'_, '_, '_>, a: [u64; 5]) -> HelperResult {
    let id = map_of(a[0])?;
    let env = env_of(ctx)?;
    let rb = env
        .map_mut(id)?
        .as_ringbuf_mut()
        .ok_or_else(|| not_ringbuf(id))?;
    Ok(match rb.reserve(a[1], a[2]) {
        Some(slot) => env.values.expose(id, slot).unwrap_or(0),
        None => 0,
    })
}

/// Submits or discards the record at `a[0]`.
fn commit(ctx: &mut HelperContext<'_, '_, '_>, a: [u64; 5], discard: bool) -> HelperResult {
    let env = env_of(ctx)?;
    let Some((id, slot)) = env.values.resolve(a[0]).filter(|_| a[0] as u32 == 0) else {
        return Err(HelperError(format!(
            "{:#x} is not a reserved ring buffer record",
            a[0]
        )));
    };
    let rb = env
        .map_mut(id)?
        .as_ringbuf_mut()
        .ok_or_else(|| not_ringbuf(id))?;
    let r = if discard {
        rb.discard(slot, a[1])
    } else {
        rb.submit(slot, a[1])
    };
    r.map_err(|e| {
        HelperError(format!(
            "record {:#x}: {e} (submitted or discarded twice?)",
            a[0]
        ))
    })?;
    Ok(0)
}

/// `void bpf_ringbuf_submit(data, flags)`.
pub(crate) fn submit(ctx: &mut HelperContext<'_, '_, '_>, a: [u64; 5]) -> HelperResult {
    commit(ctx, a, false)
}

/// `void bpf_ringbuf_discard(data, flags)`.
pub(crate) fn discard(ctx: &mut HelperContext<'_, '_, '_>, a: [u64; 5]) -> HelperResult {
    commit(ctx, a, true)
}

/// `u64 bpf_ringbuf_query(ringbuf, flags)`.
pub(crate) fn query(ctx: &mut HelperContext<'_, '_, '_>, a: [u64; 5]) -> HelperResult {
    let id = map_of(a[0])?;
    let rb = env_of(ctx)?
        .map_mut(id)?
        .as_ringbuf_mut()
        .ok_or_else(|| not_ringbuf(id))?;
    Ok(rb.query(a[1]))
}
