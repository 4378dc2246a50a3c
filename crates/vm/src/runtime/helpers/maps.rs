//! The map helpers: `bpf_map_lookup_elem`, `_update_elem`, `_delete_elem`,
//! `_push_elem`, `_pop_elem`, `_peek_elem` (kernel/bpf/helpers.c), on the
//! runtime's maps, with the kernel's return values: a lookup returns a
//! pointer to the value in place (or to the inner map of a map-in-map) or
//! NULL, the others 0 or a negative errno.

use super::{env_of, errno_of, map_of, HelperResult};
use crate::helpers::HelperContext;

/// Copies the `len` bytes at `addr` out of the program's memory.
fn copy_in(
    ctx: &HelperContext<'_, '_, '_>,
    addr: u64,
    len: usize,
) -> Result<Vec<u8>, crate::HelperError> {
    ctx.read(addr, len).map(<[u8]>::to_vec)
}

/// `void *bpf_map_lookup_elem(map, key)`.
pub(crate) fn lookup(ctx: &mut HelperContext<'_, '_, '_>, a: [u64; 5]) -> HelperResult {
    let id = map_of(a[0])?;
    let key_size = env_of(ctx)?.map_sizes(id)?.0;
    let key = copy_in(ctx, a[1], key_size)?;
    let env = env_of(ctx)?;
    let cpu = env.cpu;
    let map = env.map_mut(id)?;
    match map.prog_lookup(&key, cpu) {
        Ok(Some(slot)) => Ok(env.values.expose(id, slot).unwrap_or(0)),
        Ok(None) => Ok(0),
        Err(_) => match map.prog_lookup_inner(&key) {
            Ok(Some(inner)) => Ok(crate::map_values::map_handle(inner)),
            _ => Ok(0),
        },
    }
}

/// `long bpf_map_update_elem(map, key, value, flags)`.
pub(crate) fn update(ctx: &mut HelperContext<'_, '_, '_>, a: [u64; 5]) -> HelperResult {
    let id = map_of(a[0])?;
    let (key_size, value_size) = env_of(ctx)?.map_sizes(id)?;
    let key = copy_in(ctx, a[1], key_size)?;
    let value = copy_in(ctx, a[2], value_size)?;
    let env = env_of(ctx)?;
    let cpu = env.cpu;
    Ok(errno_of(
        env.map_mut(id)?.prog_update(&key, &value, a[3], cpu),
    ))
}

/// `long bpf_map_delete_elem(map, key)`.
pub(crate) fn delete(ctx: &mut HelperContext<'_, '_, '_>, a: [u64; 5]) -> HelperResult {
    let id = map_of(a[0])?;
    let key_size = env_of(ctx)?.map_sizes(id)?.0;
    let key = copy_in(ctx, a[1], key_size)?;
    Ok(errno_of(env_of(ctx)?.map_mut(id)?.prog_delete(&key)))
}

/// `long bpf_map_push_elem(map, value, flags)`.
pub(crate) fn push(ctx: &mut HelperContext<'_, '_, '_>, a: [u64; 5]) -> HelperResult {
    let id = map_of(a[0])?;
    let size = env_of(ctx)?.map_sizes(id)?.1;
    let value = copy_in(ctx, a[1], size)?;
    Ok(errno_of(env_of(ctx)?.map_mut(id)?.push(&value, a[2])))
}

/// `pop` (`remove` true) and `peek`: the value goes to the program's
/// buffer at `a[1]`; a bloom filter's peek tests the buffer instead.
fn take(ctx: &mut HelperContext<'_, '_, '_>, a: [u64; 5], remove: bool) -> HelperResult {
    let id = map_of(a[0])?;
    let size = env_of(ctx)?.map_sizes(id)?.1;
    let mut buf = copy_in(ctx, a[1], size)?.to_vec();
    let map = env_of(ctx)?.map_mut(id)?;
    let r = if remove {
        map.pop(&mut buf)
    } else {
        map.peek(&mut buf)
    };
    if r.is_ok() {
        ctx.write(a[1], &buf)?;
    }
    Ok(errno_of(r))
}

/// `long bpf_map_pop_elem(map, value)`.
pub(crate) fn pop(ctx: &mut HelperContext<'_, '_, '_>, a: [u64; 5]) -> HelperResult {
    take(ctx, a, true)
}

/// `long bpf_map_peek_elem(map, value)`.
pub(crate) fn peek(ctx: &mut HelperContext<'_, '_, '_>, a: [u64; 5]) -> HelperResult {
    take(ctx, a, false)
}
