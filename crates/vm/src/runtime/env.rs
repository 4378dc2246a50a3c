//! [`Env`]: what the runtime's helpers see besides the program's memory —
//! the maps, the clock, the random state, the task the program runs "in",
//! and what the program leaves behind (trace output, a redirect).

use std::time::Instant;

use crate::map_values::MapValues;

/// The kernel's `HZ` on common distribution kernels (`CONFIG_HZ=250`),
/// the rate `bpf_jiffies64` counts at.
pub const DEFAULT_HZ: u64 = 250;

/// Where the time helpers get their time from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clock {
    /// The host's monotonic clock: nanoseconds since the runtime was
    /// created, plus `offset_ns` (so a program never sees time 0).
    Host {
        /// When the runtime was created.
        start: Instant,
        /// Added to the elapsed time.
        offset_ns: u64,
    },
    /// A fixed time the caller sets, for reproducible runs.
    Fixed(u64),
}

impl Clock {
    /// `CLOCK_MONOTONIC` in nanoseconds.
    pub fn now_ns(&self) -> u64 {
        match *self {
            Clock::Host { start, offset_ns } => {
                offset_ns.wrapping_add(start.elapsed().as_nanos() as u64)
            }
            Clock::Fixed(ns) => ns,
        }
    }
}

/// The task `bpf_get_current_*` report: the caller sets it (a packet
/// program "runs in" whatever task the kernel interrupted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Task {
    /// Thread id (the kernel's `pid`).
    pub pid: u32,
    /// Process id (the kernel's `tgid`).
    pub tgid: u32,
    /// User id.
    pub uid: u32,
    /// Group id.
    pub gid: u32,
    /// `comm`, at most 15 bytes (`TASK_COMM_LEN` is 16 with the NUL).
    pub comm: String,
}

/// Where a program asked its packet to go (`bpf_redirect`,
/// `bpf_redirect_map`), recorded for the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Redirect {
    /// The target interface index (for `bpf_redirect_map`, the devmap
    /// slot's; 0 for a broadcast to the whole map).
    pub ifindex: u32,
    /// The helper's flags (`BPF_F_INGRESS` for TC).
    pub flags: u64,
    /// The map the target was taken from, by id, for `bpf_redirect_map`.
    pub map: Option<u32>,
}

/// The kernel's `struct rnd_state` (`prandom_u32_state`, the lfsr113
/// generator `bpf_get_prandom_u32` uses), seedable for reproducible runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Prandom {
    s: [u32; 4],
}

impl Prandom {
    /// `prandom_seed_state(state, seed)` followed by the kernel's warm-up.
    pub fn seeded(seed: u64) -> Prandom {
        let i = ((seed >> 32) ^ (seed << 10) ^ seed) as u32;
        let fix = |x: u32, m: u32| if x < m { x.wrapping_add(m) } else { x };
        let mut p = Prandom {
            s: [fix(i, 2), fix(i, 8), fix(i, 16), fix(i, 128)],
        };
        for _ in 0..10 {
            p.next_u32();
        }
        p
    }

    /// `prandom_u32_state`.
    pub fn next_u32(&mut self) -> u32 {
        fn taus(s: u32, a: u32, b: u32, c: u32, d: u32) -> u32 {
            ((s & c) << d) ^ (((s << a) ^ s) >> b)
        }
        let s = &mut self.s;
        s[0] = taus(s[0], 6, 13, 4294967294, 18);
        s[1] = taus(s[1], 2, 27, 4294967288, 2);
        s[2] = taus(s[2], 13, 21, 4294967280, 7);
        s[3] = taus(s[3], 3, 12, 4294967168, 13);
        s[0] ^ s[1] ^ s[2] ^ s[3]
    }
}

/// Everything the runtime's helpers reach besides the program's memory.
#[derive(Debug, Clone)]
pub struct Env {
    /// The maps and the value regions programs address.
    pub values: MapValues,
    /// The time source of `bpf_ktime_get_*_ns` and `bpf_jiffies64`.
    pub clock: Clock,
    /// `CONFIG_HZ`, for `bpf_jiffies64` and the coarse clock.
    pub hz: u64,
    /// `bpf_get_prandom_u32`'s generator.
    pub prandom: Prandom,
    /// `bpf_get_smp_processor_id` (and the CPU of per-CPU maps).
    pub cpu: u32,
    /// `bpf_get_numa_node_id`.
    pub numa_node: u32,
    /// The current task, if the caller set one (`None`: the `current`
    /// helpers answer as for a kernel thread with no task: zero, `EINVAL`).
    pub task: Option<Task>,
    /// Lines written by `bpf_trace_printk`, as `trace_pipe` shows their
    /// message part, oldest first.
    pub trace: Vec<String>,
    /// The last redirect the program asked for in this run.
    pub redirect: Option<Redirect>,
    /// What `bpf_get_func_ip` answers for kprobe and fentry programs: the
    /// address of the function the program is attached to (the caller
    /// sets it; no function is probed in userspace).
    pub func_ip: u64,
    /// What `bpf_get_attach_cookie` answers for tracing programs: the
    /// cookie of the attachment (0, as for a link made without one).
    pub attach_cookie: u64,
    /// The program id a `bpf_tail_call` is jumping to (the helper stops
    /// the run; the runtime starts the target).
    pub(crate) tail_call: Option<u32>,
    /// The budget the tail-calling run had left at the call, so that the
    /// run's instructions count in the chain's total.
    pub(crate) tail_call_budget_left: u64,
    /// Tail calls made in this run, against `MAX_TAIL_CALL_CNT`.
    pub(crate) tail_calls: u32,
}

impl Env {
    /// An environment over `values`, with the host clock, CPU 0, no task,
    /// and a random state seeded with 0 (set [`Env::prandom`] for another).
    pub fn new(values: MapValues) -> Env {
        Env {
            values,
            clock: Clock::Host {
                start: Instant::now(),
                offset_ns: 1_000_000_000,
            },
            hz: DEFAULT_HZ,
            prandom: Prandom::seeded(0),
            cpu: 0,
            numa_node: 0,
            task: None,
            trace: Vec::new(),
            redirect: None,
            func_ip: 0,
            attach_cookie: 0,
            tail_call: None,
            tail_call_budget_left: 0,
            tail_calls: 0,
        }
    }
}

impl Env {
    /// The key and value sizes of map `id`.
    pub(crate) fn map_sizes(&self, id: u32) -> Result<(usize, usize), crate::HelperError> {
        self.values
            .registry()
            .get(id)
            .map(|m| {
                let s = bpfkit_object::map::Map::spec(m);
                (s.key_size as usize, s.value_size as usize)
            })
            .ok_or_else(|| crate::HelperError(format!("map id {id} does not exist")))
    }

    /// Map `id`, for a helper to operate on.
    pub(crate) fn map_mut(
        &mut self,
        id: u32,
    ) -> Result<&mut crate::maps::UserMap, crate::HelperError> {
        self.values
            .registry_mut()
            .get_mut(id)
            .ok_or_else(|| crate::HelperError(format!("map id {id} does not exist")))
    }
}
