//! The tracing-only helpers about the attachment (kernel/trace/bpf_trace.c):
//! `bpf_get_func_ip` and `bpf_get_attach_cookie`. In the kernel both come
//! from the probe the program runs under; here from the caller's
//! [`Env::func_ip`](crate::runtime::Env::func_ip) and
//! [`Env::attach_cookie`](crate::runtime::Env::attach_cookie). Packet
//! programs do not get them (their load is refused with the helper's
//! name, as the verifier refuses it).

use super::{env_of, HelperResult};
use crate::helpers::HelperContext;

/// `u64 bpf_get_func_ip(ctx)`: the attached function's address.
pub(crate) fn get_func_ip(ctx: &mut HelperContext<'_, '_, '_>, _: [u64; 5]) -> HelperResult {
    Ok(env_of(ctx)?.func_ip)
}

/// `u64 bpf_get_attach_cookie(ctx)`: the attachment's cookie.
pub(crate) fn get_attach_cookie(ctx: &mut HelperContext<'_, '_, '_>, _: [u64; 5]) -> HelperResult {
    Ok(env_of(ctx)?.attach_cookie)
}
