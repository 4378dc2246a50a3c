//! The helpers the runtime provides, by the kernel's numbering, and which
//! program types may call which (as each type's `get_func_proto` allows):
//! a program calling a helper its type does not get is refused at load
//! time with the helper's name.
//!
//! Every helper follows its kernel implementation (cited in its module):
//! the same argument checks, the same negative errnos, the same effects on
//! the packet and the maps. A helper handed a pointer the program cannot
//! reach stops the run with an error (the verifier would have rejected the
//! program); runtime conditions the kernel reports (a full map, a bad
//! offset) are returned as the kernel returns them.

mod csum;
mod for_each;
mod format;
mod lock;
mod loops;
mod maps;
mod printk;
mod probe;
mod ringbuf;
mod skb;
mod strto;
mod tail_call;
mod task;
mod time;
mod tracing;
mod vlan;
mod xdp;

pub use format::{format_bprintf, FormatError};
pub(crate) use tail_call::TAIL_CALL;

use bpfkit_object::kinds::ProgType;
use bpfkit_object::map::MapError;

use super::env::Env;
use crate::helpers::{HelperContext, HelperError, Helpers};
use crate::map_values::handle_map_id;

/// A helper's r0 or the error that stops the run.
pub(crate) type HelperResult = Result<u64, HelperError>;

/// A negative errno as r0.
pub(crate) fn neg(errno: i32) -> u64 {
    (-(errno as i64)) as u64
}

/// 0, or the map error's negative errno.
pub(crate) fn errno_of(r: Result<(), MapError>) -> u64 {
    match r {
        Ok(()) => 0,
        Err(e) => neg(e.errno()),
    }
}

/// The runtime environment, which every runtime helper needs.
pub(crate) fn env_of<'a>(
    ctx: &'a mut HelperContext<'_, '_, '_>,
) -> Result<&'a mut Env, HelperError> {
    ctx.env_mut().ok_or_else(|| {
        HelperError(
            "this helper needs the runtime's maps and state (run the program through Runtime)"
                .into(),
        )
    })
}

/// The map id of a map handle argument.
pub(crate) fn map_of(arg: u64) -> Result<u32, HelperError> {
    handle_map_id(arg).ok_or_else(|| HelperError(format!("{arg:#x} is not a map pointer")))
}

/// `EINVAL`, `EFAULT`, `EACCES`, `ERANGE`, `ENOTSUPP`.
pub(crate) const EINVAL: i32 = 22;
pub(crate) const EACCES: i32 = 13;
pub(crate) const EFAULT: i32 = 14;
pub(crate) const ERANGE: i32 = 34;
pub(crate) const ENOTSUPP: i32 = 524;

/// What a program type's helpers are: the common set every program type
/// gets (`bpf_base_func_proto`), plus the type's own.
pub fn helpers_for(prog_type: ProgType) -> Helpers {
    let mut h = Helpers::new();
    let reg = |h: &mut Helpers,
               id: u32,
               f: fn(&mut HelperContext<'_, '_, '_>, [u64; 5]) -> HelperResult| {
        h.register_with_context(id, f)
    };
    // bpf_base_func_proto
    reg(&mut h, 1, maps::lookup);
    reg(&mut h, 2, maps::update);
    reg(&mut h, 3, maps::delete);
    reg(&mut h, 87, maps::push);
    reg(&mut h, 88, maps::pop);
    reg(&mut h, 89, maps::peek);
    reg(&mut h, 5, time::ktime_get_ns);
    reg(&mut h, 125, time::ktime_get_boot_ns);
    reg(&mut h, 160, time::ktime_get_coarse_ns);
    reg(&mut h, 118, time::jiffies64);
    reg(&mut h, 7, time::get_prandom_u32);
    reg(&mut h, 8, time::get_smp_processor_id);
    reg(&mut h, 42, time::get_numa_node_id);
    reg(&mut h, 6, printk::trace_printk);
    reg(&mut h, 165, printk::snprintf);
    reg(&mut h, 177, printk::trace_vprintk);
    reg(&mut h, 105, strto::strtol);
    reg(&mut h, 106, strto::strtoul);
    reg(&mut h, 130, ringbuf::output);
    reg(&mut h, 131, ringbuf::reserve);
    reg(&mut h, 132, ringbuf::submit);
    reg(&mut h, 133, ringbuf::discard);
    reg(&mut h, 134, ringbuf::query);
    reg(&mut h, 113, probe::read);
    reg(&mut h, 112, probe::read);
    reg(&mut h, 115, probe::read_str);
    reg(&mut h, 114, probe::read_str);
    reg(&mut h, 12, tail_call::tail_call);
    reg(&mut h, 181, loops::bpf_loop);
    reg(&mut h, 164, for_each::for_each_map_elem);
    reg(&mut h, 93, lock::spin_lock);
    reg(&mut h, 94, lock::spin_unlock);
    reg(&mut h, 14, task::get_current_pid_tgid);
    reg(&mut h, 15, task::get_current_uid_gid);
    reg(&mut h, 16, task::get_current_comm);
    let tracing = matches!(
        prog_type,
        ProgType::Kprobe
            | ProgType::Tracepoint
            | ProgType::RawTracepoint
            | ProgType::PerfEvent
            | ProgType::Tracing
    );
    if tracing {
        reg(&mut h, 4, probe::read);
        reg(&mut h, 45, probe::read_str);
    }
    // bpf_get_func_ip: kprobe (kprobe_prog_func_proto) and fentry/fexit
    // (tracing_prog_func_proto); bpf_get_attach_cookie: kprobe,
    // tracepoint, perf_event and fentry/fexit.
    if matches!(prog_type, ProgType::Kprobe | ProgType::Tracing) {
        reg(&mut h, 173, tracing::get_func_ip);
    }
    if matches!(
        prog_type,
        ProgType::Kprobe | ProgType::Tracepoint | ProgType::PerfEvent | ProgType::Tracing
    ) {
        reg(&mut h, 174, tracing::get_attach_cookie);
    }
    match prog_type {
        ProgType::Xdp => {
            reg(&mut h, 28, csum::csum_diff);
            reg(&mut h, 44, xdp::adjust_head);
            reg(&mut h, 65, xdp::adjust_tail);
            reg(&mut h, 54, xdp::adjust_meta);
            reg(&mut h, 188, xdp::get_buff_len);
            reg(&mut h, 23, xdp::redirect);
            reg(&mut h, 51, xdp::redirect_map);
            reg(&mut h, 25, xdp::perf_event_output);
        }
        ProgType::SchedCls | ProgType::SchedAct => {
            reg(&mut h, 28, csum::csum_diff);
            reg(&mut h, 10, skb::l3_csum_replace);
            reg(&mut h, 11, skb::l4_csum_replace);
            reg(&mut h, 40, skb::csum_update);
            reg(&mut h, 135, skb::csum_level);
            reg(&mut h, 41, skb::set_hash_invalid);
            reg(&mut h, 26, skb::load_bytes);
            reg(&mut h, 68, skb::load_bytes_relative);
            reg(&mut h, 9, skb::store_bytes);
            reg(&mut h, 23, skb::redirect);
            reg(&mut h, 34, skb::get_hash_recalc);
            reg(&mut h, 48, skb::set_hash);
            reg(&mut h, 38, skb::change_tail);
            reg(&mut h, 43, skb::change_head);
            reg(&mut h, 18, vlan::vlan_push);
            reg(&mut h, 19, vlan::vlan_pop);
            reg(&mut h, 25, skb::perf_event_output);
        }
        ProgType::SocketFilter | ProgType::CgroupSkb => {
            reg(&mut h, 26, skb::load_bytes);
            reg(&mut h, 68, skb::load_bytes_relative);
            reg(&mut h, 25, skb::perf_event_output);
        }
        _ => {
            reg(&mut h, 25, probe::perf_event_output);
        }
    }
    h
}
