//! The kernel build options that matter to BPF, read from the running
//! kernel's configuration (`/boot/config-RELEASE`, else `/proc/config.gz`),
//! as bpftool's feature probe lists them.

use std::io::Read;

/// The options bpftool 7 reports, in its order.
pub const BPF_OPTIONS: &[&str] = &[
    "CONFIG_BPF",
    "CONFIG_BPF_SYSCALL",
    "CONFIG_HAVE_EBPF_JIT",
    "CONFIG_BPF_JIT",
    "CONFIG_BPF_JIT_ALWAYS_ON",
    "CONFIG_DEBUG_INFO_BTF",
    "CONFIG_DEBUG_INFO_BTF_MODULES",
    "CONFIG_CGROUPS",
    "CONFIG_CGROUP_BPF",
    "CONFIG_CGROUP_NET_CLASSID",
    "CONFIG_SOCK_CGROUP_DATA",
    "CONFIG_BPF_EVENTS",
    "CONFIG_KPROBE_EVENTS",
    "CONFIG_UPROBE_EVENTS",
    "CONFIG_TRACING",
    "CONFIG_FTRACE_SYSCALLS",
    "CONFIG_FUNCTION_ERROR_INJECTION",
    "CONFIG_BPF_KPROBE_OVERRIDE",
    "CONFIG_NET",
    "CONFIG_XDP_SOCKETS",
    "CONFIG_LWTUNNEL_BPF",
    "CONFIG_NET_ACT_BPF",
    "CONFIG_NET_CLS_BPF",
    "CONFIG_NET_CLS_ACT",
    "CONFIG_NET_SCH_INGRESS",
    "CONFIG_XFRM",
    "CONFIG_IP_ROUTE_CLASSID",
    "CONFIG_IPV6_SEG6_BPF",
    "CONFIG_BPF_LIRC_MODE2",
    "CONFIG_BPF_STREAM_PARSER",
    "CONFIG_NETFILTER_XT_MATCH_BPF",
    "CONFIG_BPFILTER",
    "CONFIG_BPFILTER_UMH",
    "CONFIG_TEST_BPF",
    "CONFIG_HZ",
];

/// The running kernel's configuration text, or why it cannot be read.
pub fn config_text() -> Result<String, String> {
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map_err(|e| format!("/proc/sys/kernel/osrelease: {e}"))?;
    let boot = format!("/boot/config-{}", release.trim());
    if let Ok(text) = std::fs::read_to_string(&boot) {
        return Ok(text);
    }
    let gz = "/proc/config.gz";
    let raw = std::fs::read(gz).map_err(|e| format!("no {boot}, and {gz}: {e}"))?;
    let mut text = String::new();
    flate2::read::GzDecoder::new(&raw[..])
        .read_to_string(&mut text)
        .map_err(|e| format!("{gz}: {e}"))?;
    Ok(text)
}

/// Each of [`BPF_OPTIONS`] with its value (`y`, `m`, a number...), `None`
/// where it is not set; an error naming the file when there is no config.
pub fn bpf_options() -> Result<Vec<(&'static str, Option<String>)>, String> {
    let text = config_text()?;
    Ok(BPF_OPTIONS
        .iter()
        .map(|name| (*name, value(&text, name)))
        .collect())
}

fn value(text: &str, name: &str) -> Option<String> {
    text.lines().find_map(|l| {
        let (k, v) = l.split_once('=')?;
        (k == name).then(|| v.to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::value;

    #[test]
    fn values_and_unset() {
        let t = "CONFIG_BPF=y\n# CONFIG_TEST_BPF is not set\nCONFIG_HZ=250\nCONFIG_BPF_JIT=m\n";
        assert_eq!(value(t, "CONFIG_BPF").as_deref(), Some("y"));
        assert_eq!(value(t, "CONFIG_HZ").as_deref(), Some("250"));
        assert_eq!(value(t, "CONFIG_TEST_BPF"), None);
        assert_eq!(value(t, "CONFIG_BPF_JIT").as_deref(), Some("m"));
    }
}
