//! `bpf_for_each_map_elem` (kernel/bpf/bpf_iter.c and each map's
//! `map_for_each_callback`): the callback is called with the map, a
//! pointer to the key, a pointer to the value (in place, writable as a
//! lookup's) and the caller's context, element by element in the map's
//! iteration order, until it returns non-zero; the result is the number of
//! elements visited. Arrays visit every index; hash maps their elements.
//! The key is a read-only copy (`map_values::KEY_REGION`).

use super::{env_of, map_of, neg, HelperResult, EINVAL};
use crate::helpers::{HelperContext, HelperError};
use crate::map_values::map_handle;

/// `long bpf_for_each_map_elem(map, callback_fn, callback_ctx, flags)`.
pub(crate) fn for_each_map_elem(ctx: &mut HelperContext<'_, '_, '_>, a: [u64; 5]) -> HelperResult {
    let (id, callback, cb_ctx, flags) = (map_of(a[0])?, a[1], a[2], a[3]);
    if flags != 0 {
        return Ok(neg(EINVAL));
    }
    let keys = {
        let env = env_of(ctx)?;
        let map = env.map_mut(id)?;
        use bpfkit_object::kinds::MapType::*;
        let t = bpfkit_object::map::Map::spec(map).map_type;
        if !matches!(
            t,
            Array | PercpuArray | Hash | PercpuHash | LruHash | LruPercpuHash
        ) {
            return Err(HelperError(format!(
                "bpf_for_each_map_elem on a {} map (the kernel supports arrays and hashes)",
                t.name()
            )));
        }
        let mut keys = Vec::new();
        let mut prev: Option<Vec<u8>> = None;
        while let Ok(k) = bpfkit_object::map::Map::next_key(&*map, prev.as_deref()) {
            keys.push(k.clone());
            prev = Some(k);
        }
        keys
    };
    let mut visited = 0u64;
    for key in keys {
        let env = env_of(ctx)?;
        let cpu = env.cpu;
        let Ok(Some(slot)) = env.map_mut(id)?.prog_lookup(&key, cpu) else {
            continue; // deleted by an earlier callback
        };
        let value = env
            .values
            .expose(id, slot)
            .ok_or_else(|| HelperError("too many map values in one run".into()))?;
        let key_addr = env.values.set_callback_key(&key);
        visited += 1;
        if ctx.call_function(callback, [map_handle(id), key_addr, value, cb_ctx, 0])? != 0 {
            break;
        }
    }
    Ok(visited)
}
