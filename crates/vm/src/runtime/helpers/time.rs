//! Time, randomness and placement (kernel/bpf/helpers.c): the clocks, the
//! jiffies counter, `prandom_u32`, the CPU and NUMA node.

use super::{env_of, HelperResult};
use crate::helpers::HelperContext;

/// `INITIAL_JIFFIES`: the kernel starts jiffies five minutes before
/// wrapping a 32-bit counter, `(unsigned long)(unsigned int)(-300 * HZ)`.
pub(crate) fn initial_jiffies(hz: u64) -> u64 {
    (-300i64 * hz as i64) as u32 as u64
}

/// `u64 bpf_ktime_get_ns(void)`: `CLOCK_MONOTONIC`.
pub(crate) fn ktime_get_ns(ctx: &mut HelperContext<'_, '_, '_>, _: [u64; 5]) -> HelperResult {
    Ok(env_of(ctx)?.clock.now_ns())
}

/// `u64 bpf_ktime_get_boot_ns(void)`: `CLOCK_BOOTTIME`, the monotonic
/// clock plus time suspended (none, for a userspace run).
pub(crate) fn ktime_get_boot_ns(ctx: &mut HelperContext<'_, '_, '_>, _: [u64; 5]) -> HelperResult {
    Ok(env_of(ctx)?.clock.now_ns())
}

/// `u64 bpf_ktime_get_coarse_ns(void)`: `ktime_get_coarse_ns`, the
/// monotonic time of the last tick (a multiple of `NSEC_PER_SEC / HZ`).
pub(crate) fn ktime_get_coarse_ns(
    ctx: &mut HelperContext<'_, '_, '_>,
    _: [u64; 5],
) -> HelperResult {
    let env = env_of(ctx)?;
    let tick = 1_000_000_000 / env.hz.max(1);
    let now = env.clock.now_ns();
    Ok(now - now % tick)
}

/// `u64 bpf_jiffies64(void)`: `get_jiffies_64()`, ticks of `HZ` since
/// boot counted from `INITIAL_JIFFIES`.
pub(crate) fn jiffies64(ctx: &mut HelperContext<'_, '_, '_>, _: [u64; 5]) -> HelperResult {
    let env = env_of(ctx)?;
    let hz = env.hz.max(1);
    Ok(initial_jiffies(hz).wrapping_add(env.clock.now_ns() / (1_000_000_000 / hz)))
}

/// `u32 bpf_get_prandom_u32(void)`: the next `prandom_u32_state`.
pub(crate) fn get_prandom_u32(ctx: &mut HelperContext<'_, '_, '_>, _: [u64; 5]) -> HelperResult {
    Ok(env_of(ctx)?.prandom.next_u32() as u64)
}

/// `u32 bpf_get_smp_processor_id(void)`.
pub(crate) fn get_smp_processor_id(
    ctx: &mut HelperContext<'_, '_, '_>,
    _: [u64; 5],
) -> HelperResult {
    Ok(env_of(ctx)?.cpu as u64)
}

/// `long bpf_get_numa_node_id(void)`.
pub(crate) fn get_numa_node_id(ctx: &mut HelperContext<'_, '_, '_>, _: [u64; 5]) -> HelperResult {
    Ok(env_of(ctx)?.numa_node as u64)
}
