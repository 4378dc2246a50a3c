//! The system settings that govern BPF: the sysctls bpftool reports under
//! "system_config".

/// The BPF sysctls; `None` where the file is missing or unreadable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SystemConfig {
    /// `kernel.unprivileged_bpf_disabled`: 0 allowed, 1 disabled for good,
    /// 2 disabled (admin can change).
    pub unprivileged_bpf_disabled: Option<i64>,
    /// `net.core.bpf_jit_enable`.
    pub bpf_jit_enable: Option<i64>,
    /// `net.core.bpf_jit_harden`.
    pub bpf_jit_harden: Option<i64>,
    /// `net.core.bpf_jit_kallsyms`.
    pub bpf_jit_kallsyms: Option<i64>,
    /// `net.core.bpf_jit_limit` in bytes.
    pub bpf_jit_limit: Option<i64>,
}

fn sysctl(path: &str) -> Option<i64> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// Reads the sysctls now.
pub fn system_config() -> SystemConfig {
    SystemConfig {
        unprivileged_bpf_disabled: sysctl("/proc/sys/kernel/unprivileged_bpf_disabled"),
        bpf_jit_enable: sysctl("/proc/sys/net/core/bpf_jit_enable"),
        bpf_jit_harden: sysctl("/proc/sys/net/core/bpf_jit_harden"),
        bpf_jit_kallsyms: sysctl("/proc/sys/net/core/bpf_jit_kallsyms"),
        bpf_jit_limit: sysctl("/proc/sys/net/core/bpf_jit_limit"),
    }
}
