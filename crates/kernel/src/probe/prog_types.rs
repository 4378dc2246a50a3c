//! Program type probes: load `r0 = 0; exit` as the type, with the attach
//! details the type cannot load without (libbpf's `probe_prog_load`).

use bpfkit_isa::Insn;
use bpfkit_object::kinds::{AttachType, ProgType};

use super::Cache;
use crate::prog::{ProgLoad, LOG_LEVEL_BRANCHES};

/// `BPF_F_SLEEPABLE`: syscall programs must be sleepable.
const BPF_F_SLEEPABLE: u32 = 1 << 4;
/// `ENOTSUPP`, the kernel-internal errno struct_ops answers with.
const ENOTSUPP: i32 = 524;

/// Whether the kernel loads programs of `t`.
pub fn prog_type(t: ProgType) -> bool {
    static CACHE: Cache<ProgType, bool> = Cache::new();
    CACHE.get(t, || probe(t))
}

/// `r0 = 0; exit`.
pub(super) fn return_zero() -> [Insn; 2] {
    [Insn::new(0xb7, 0, 0, 0, 0), Insn::new(0x95, 0, 0, 0, 0)]
}

/// The load `probe_prog_load` makes for `t`, with the outcome a kernel
/// that has the type gives for types that cannot load without a real
/// target: an errno and a log line.
pub(super) fn probe_load<'a>(
    t: ProgType,
    insns: &'a [Insn],
) -> (ProgLoad<'a>, Option<(i32, &'static str)>) {
    let mut l = ProgLoad::new(t, insns);
    let mut expect = None;
    match t {
        ProgType::CgroupSockAddr => l.expected_attach_type = Some(AttachType::CgroupInet4Connect),
        ProgType::CgroupSockopt => l.expected_attach_type = Some(AttachType::CgroupGetsockopt),
        ProgType::SkLookup => l.expected_attach_type = Some(AttachType::SkLookup),
        ProgType::LircMode2 => l.expected_attach_type = Some(AttachType::LircMode2),
        ProgType::Netfilter => l.expected_attach_type = Some(AttachType::Netfilter),
        ProgType::Kprobe => l.kern_version = kernel_version(),
        ProgType::Tracing | ProgType::Lsm => {
            l.expected_attach_type = Some(if t == ProgType::Tracing {
                AttachType::TraceFentry
            } else {
                AttachType::ModifyReturn
            });
            l.attach_btf_id = 1;
            expect = Some((libc::EINVAL, "attach_btf_id 1 is not a function"));
        }
        ProgType::Ext => {
            l.attach_btf_id = 1;
            expect = Some((libc::EINVAL, "Cannot replace kernel functions"));
        }
        ProgType::Syscall => l.prog_flags = BPF_F_SLEEPABLE,
        ProgType::StructOps => expect = Some((ENOTSUPP, "")),
        _ => {}
    }
    if expect.is_some() {
        l.log_level = LOG_LEVEL_BRANCHES;
        l.log_size = 4096;
    }
    (l, expect)
}

fn probe(t: ProgType) -> bool {
    if t == ProgType::Unspec {
        return false;
    }
    let insns = return_zero();
    let (load, expect) = probe_load(t, &insns);
    let r = load.load();
    match expect {
        None => r.is_ok(),
        Some((errno, msg)) => match r {
            Ok(_) => false,
            Err(e) => e.errno() == Some(errno) && e.log().unwrap_or("").contains(msg),
        },
    }
}

/// `KERNEL_VERSION(a, b, c)` of the running kernel, from its release string
/// (only kernels before 5.0 check it, for kprobes).
fn kernel_version() -> u32 {
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let mut parts = release
        .trim()
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<u32>().unwrap_or(0));
    let (a, b, c) = (
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
    );
    (a << 16) + (b << 8) + c.min(255)
}
