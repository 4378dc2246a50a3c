//! Program type, expected attach type and attach target from an ELF section
//! name: libbpf's `section_defs` table (libbpf 1.x, Linux 6.18) with its
//! matching rules, and iproute2's convention for tc objects.
//!
//! libbpf matches a name against each entry in table order: an entry ending
//! in `/` matches any name with that prefix (`kprobe/` needs a target), one
//! ending in `+` matches the bare name or the name followed by `/...`, and
//! any other entry matches only itself.

use serde::Serialize;

use crate::kinds::{AttachType, ProgType};

/// `SEC_SLEEPABLE`: the program is loaded with `BPF_F_SLEEPABLE`.
const SLEEPABLE: u8 = 1;
/// `SEC_XDP_FRAGS`: loaded with `BPF_F_XDP_HAS_FRAGS`.
const XDP_FRAGS: u8 = 2;
/// `SEC_ATTACH_BTF`: the part after `/` names a kernel BTF function or
/// tracepoint that the loader resolves to `attach_btf_id`.
const ATTACH_BTF: u8 = 4;
/// `SEC_USDT`: a USDT probe (a kprobe program with USDT argument specs).
const USDT: u8 = 8;

/// `BPF_F_SLEEPABLE` in `prog_flags`.
pub const BPF_F_SLEEPABLE: u32 = 1 << 4;
/// `BPF_F_XDP_HAS_FRAGS` in `prog_flags`.
pub const BPF_F_XDP_HAS_FRAGS: u32 = 1 << 5;

struct Def {
    pattern: &'static str,
    prog_type: ProgType,
    attach: Option<AttachType>,
    flags: u8,
}

macro_rules! defs {
    ($( $pat:literal => $pt:ident, $at:tt, $fl:expr; )*) => {
        &[ $( Def { pattern: $pat, prog_type: ProgType::$pt, attach: defs!(@at $at), flags: $fl }, )* ]
    };
    (@at None) => { None };
    (@at $at:ident) => { Some(AttachType::$at) };
}

/// libbpf's table, in libbpf's order (the first match wins).
static SECTION_DEFS: &[Def] = defs! {
    "socket" => SocketFilter, None, 0;
    "sk_reuseport/migrate" => SkReuseport, SkReuseportSelectOrMigrate, 0;
    "sk_reuseport" => SkReuseport, SkReuseportSelect, 0;
    "kprobe+" => Kprobe, None, 0;
    "uprobe+" => Kprobe, None, 0;
    "uprobe.s+" => Kprobe, None, SLEEPABLE;
    "kretprobe+" => Kprobe, None, 0;
    "uretprobe+" => Kprobe, None, 0;
    "uretprobe.s+" => Kprobe, None, SLEEPABLE;
    "kprobe.multi+" => Kprobe, TraceKprobeMulti, 0;
    "kretprobe.multi+" => Kprobe, TraceKprobeMulti, 0;
    "kprobe.session+" => Kprobe, TraceKprobeSession, 0;
    "uprobe.multi+" => Kprobe, TraceUprobeMulti, 0;
    "uretprobe.multi+" => Kprobe, TraceUprobeMulti, 0;
    "uprobe.session+" => Kprobe, TraceUprobeSession, 0;
    "uprobe.multi.s+" => Kprobe, TraceUprobeMulti, SLEEPABLE;
    "uretprobe.multi.s+" => Kprobe, TraceUprobeMulti, SLEEPABLE;
    "uprobe.session.s+" => Kprobe, TraceUprobeSession, SLEEPABLE;
    "ksyscall+" => Kprobe, None, 0;
    "kretsyscall+" => Kprobe, None, 0;
    "usdt+" => Kprobe, None, USDT;
    "usdt.s+" => Kprobe, None, USDT | SLEEPABLE;
    "tc/ingress" => SchedCls, TcxIngress, 0;
    "tc/egress" => SchedCls, TcxEgress, 0;
    "tcx/ingress" => SchedCls, TcxIngress, 0;
    "tcx/egress" => SchedCls, TcxEgress, 0;
    "tc" => SchedCls, None, 0;
    "classifier" => SchedCls, None, 0;
    "action" => SchedAct, None, 0;
    "netkit/primary" => SchedCls, NetkitPrimary, 0;
    "netkit/peer" => SchedCls, NetkitPeer, 0;
    "tracepoint+" => Tracepoint, None, 0;
    "tp+" => Tracepoint, None, 0;
    "raw_tracepoint+" => RawTracepoint, None, 0;
    "raw_tp+" => RawTracepoint, None, 0;
    "raw_tracepoint.w+" => RawTracepointWritable, None, 0;
    "raw_tp.w+" => RawTracepointWritable, None, 0;
    "tp_btf+" => Tracing, TraceRawTp, ATTACH_BTF;
    "fentry+" => Tracing, TraceFentry, ATTACH_BTF;
    "fmod_ret+" => Tracing, ModifyReturn, ATTACH_BTF;
    "fexit+" => Tracing, TraceFexit, ATTACH_BTF;
    "fentry.s+" => Tracing, TraceFentry, ATTACH_BTF | SLEEPABLE;
    "fmod_ret.s+" => Tracing, ModifyReturn, ATTACH_BTF | SLEEPABLE;
    "fexit.s+" => Tracing, TraceFexit, ATTACH_BTF | SLEEPABLE;
    "freplace+" => Ext, None, ATTACH_BTF;
    "lsm+" => Lsm, LsmMac, ATTACH_BTF;
    "lsm.s+" => Lsm, LsmMac, ATTACH_BTF | SLEEPABLE;
    "lsm_cgroup+" => Lsm, LsmCgroup, ATTACH_BTF;
    "iter+" => Tracing, TraceIter, ATTACH_BTF;
    "iter.s+" => Tracing, TraceIter, ATTACH_BTF | SLEEPABLE;
    "syscall" => Syscall, None, SLEEPABLE;
    "xdp.frags/devmap" => Xdp, XdpDevmap, XDP_FRAGS;
    "xdp/devmap" => Xdp, XdpDevmap, 0;
    "xdp.frags/cpumap" => Xdp, XdpCpumap, XDP_FRAGS;
    "xdp/cpumap" => Xdp, XdpCpumap, 0;
    "xdp.frags" => Xdp, Xdp, XDP_FRAGS;
    "xdp" => Xdp, Xdp, 0;
    "perf_event" => PerfEvent, None, 0;
    "lwt_in" => LwtIn, None, 0;
    "lwt_out" => LwtOut, None, 0;
    "lwt_xmit" => LwtXmit, None, 0;
    "lwt_seg6local" => LwtSeg6local, None, 0;
    "sockops" => SockOps, CgroupSockOps, 0;
    "sk_skb/stream_parser" => SkSkb, SkSkbStreamParser, 0;
    "sk_skb/stream_verdict" => SkSkb, SkSkbStreamVerdict, 0;
    "sk_skb/verdict" => SkSkb, SkSkbVerdict, 0;
    "sk_skb" => SkSkb, None, 0;
    "sk_msg" => SkMsg, SkMsgVerdict, 0;
    "lirc_mode2" => LircMode2, LircMode2, 0;
    "flow_dissector" => FlowDissector, FlowDissector, 0;
    "cgroup_skb/ingress" => CgroupSkb, CgroupInetIngress, 0;
    "cgroup_skb/egress" => CgroupSkb, CgroupInetEgress, 0;
    "cgroup/skb" => CgroupSkb, None, 0;
    "cgroup/sock_create" => CgroupSock, CgroupInetSockCreate, 0;
    "cgroup/sock_release" => CgroupSock, CgroupInetSockRelease, 0;
    "cgroup/sock" => CgroupSock, CgroupInetSockCreate, 0;
    "cgroup/post_bind4" => CgroupSock, CgroupInet4PostBind, 0;
    "cgroup/post_bind6" => CgroupSock, CgroupInet6PostBind, 0;
    "cgroup/bind4" => CgroupSockAddr, CgroupInet4Bind, 0;
    "cgroup/bind6" => CgroupSockAddr, CgroupInet6Bind, 0;
    "cgroup/connect4" => CgroupSockAddr, CgroupInet4Connect, 0;
    "cgroup/connect6" => CgroupSockAddr, CgroupInet6Connect, 0;
    "cgroup/connect_unix" => CgroupSockAddr, CgroupUnixConnect, 0;
    "cgroup/sendmsg4" => CgroupSockAddr, CgroupUdp4Sendmsg, 0;
    "cgroup/sendmsg6" => CgroupSockAddr, CgroupUdp6Sendmsg, 0;
    "cgroup/sendmsg_unix" => CgroupSockAddr, CgroupUnixSendmsg, 0;
    "cgroup/recvmsg4" => CgroupSockAddr, CgroupUdp4Recvmsg, 0;
    "cgroup/recvmsg6" => CgroupSockAddr, CgroupUdp6Recvmsg, 0;
    "cgroup/recvmsg_unix" => CgroupSockAddr, CgroupUnixRecvmsg, 0;
    "cgroup/getpeername4" => CgroupSockAddr, CgroupInet4Getpeername, 0;
    "cgroup/getpeername6" => CgroupSockAddr, CgroupInet6Getpeername, 0;
    "cgroup/getpeername_unix" => CgroupSockAddr, CgroupUnixGetpeername, 0;
    "cgroup/getsockname4" => CgroupSockAddr, CgroupInet4Getsockname, 0;
    "cgroup/getsockname6" => CgroupSockAddr, CgroupInet6Getsockname, 0;
    "cgroup/getsockname_unix" => CgroupSockAddr, CgroupUnixGetsockname, 0;
    "cgroup/sysctl" => CgroupSysctl, CgroupSysctl, 0;
    "cgroup/getsockopt" => CgroupSockopt, CgroupGetsockopt, 0;
    "cgroup/setsockopt" => CgroupSockopt, CgroupSetsockopt, 0;
    "cgroup/dev" => CgroupDevice, CgroupDevice, 0;
    "struct_ops+" => StructOps, None, 0;
    "struct_ops.s+" => StructOps, None, SLEEPABLE;
    "sk_lookup" => SkLookup, SkLookup, 0;
    "netfilter" => Netfilter, Netfilter, 0;
};

/// How a program's type was found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "pattern", rename_all = "snake_case")]
pub enum TypeSource {
    /// An entry of libbpf's section table (its pattern, e.g. `"kprobe+"`).
    Libbpf(&'static str),
    /// iproute2's convention: tc loads a program from any named section of
    /// an object with `struct bpf_elf_map` maps as `sched_cls`.
    Iproute2,
    /// Nothing matched; the loader must be told the type.
    Unknown,
}

/// What the section name says about its programs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SectionType {
    /// The program type.
    pub prog_type: ProgType,
    /// `expected_attach_type` passed at load time (`None`: libbpf passes 0
    /// without meaning an attach type).
    pub expected_attach_type: Option<AttachType>,
    /// What to attach to: the text after the matched prefix's `/`
    /// (`do_sys_open` for `kprobe/do_sys_open`, `syscalls/sys_enter_open`
    /// for `tracepoint/syscalls/sys_enter_open`), when there is one.
    pub attach_target: Option<String>,
    /// `BPF_F_*` program flags the section implies (sleepable, XDP frags).
    pub prog_flags: u32,
    /// The attach target is a kernel BTF name (fentry, lsm, tp_btf, iter, ...).
    pub attach_btf: bool,
    /// A USDT probe.
    pub usdt: bool,
    /// Loaded with the object (libbpf's `SEC("?name")` turns it off).
    pub autoload: bool,
    /// Where the type came from.
    pub source: TypeSource,
}

impl SectionType {
    /// A section nothing recognises.
    fn unknown(source: TypeSource, prog_type: ProgType) -> SectionType {
        SectionType {
            prog_type,
            expected_attach_type: None,
            attach_target: None,
            prog_flags: 0,
            attach_btf: false,
            usdt: false,
            autoload: true,
            source,
        }
    }
}

/// Whether `name` matches one libbpf pattern, and the text after it.
fn matches<'n>(pattern: &str, name: &'n str) -> Option<Option<&'n str>> {
    if let Some(prefix) = pattern.strip_suffix('/') {
        let rest = name.strip_prefix(prefix)?.strip_prefix('/')?;
        return Some(Some(rest));
    }
    if let Some(base) = pattern.strip_suffix('+') {
        let rest = name.strip_prefix(base)?;
        if rest.is_empty() {
            return Some(None);
        }
        return rest.strip_prefix('/').map(Some);
    }
    (pattern == name).then_some(None)
}

/// The program type of a section named `name`. `tc_object` says the object
/// is an iproute2 one (it defines `struct bpf_elf_map` maps), where any
/// section libbpf does not know holds a `sched_cls` program.
pub fn classify(name: &str, tc_object: bool) -> SectionType {
    // libbpf: a leading `?` only says "do not load by default".
    if let Some(rest) = name.strip_prefix('?') {
        let mut t = classify(rest, tc_object);
        t.autoload = false;
        return t;
    }
    for def in SECTION_DEFS {
        if let Some(rest) = matches(def.pattern, name) {
            let mut flags = 0;
            if def.flags & SLEEPABLE != 0 {
                flags |= BPF_F_SLEEPABLE;
            }
            if def.flags & XDP_FRAGS != 0 {
                flags |= BPF_F_XDP_HAS_FRAGS;
            }
            return SectionType {
                prog_type: def.prog_type,
                expected_attach_type: def.attach,
                attach_target: rest.filter(|r| !r.is_empty()).map(str::to_string),
                prog_flags: flags,
                attach_btf: def.flags & ATTACH_BTF != 0,
                usdt: def.flags & USDT != 0,
                autoload: true,
                source: TypeSource::Libbpf(def.pattern),
            };
        }
    }
    if tc_object {
        SectionType::unknown(TypeSource::Iproute2, ProgType::SchedCls)
    } else {
        SectionType::unknown(TypeSource::Unknown, ProgType::Unspec)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(name: &str) -> (ProgType, Option<AttachType>, Option<String>) {
        let s = classify(name, false);
        (s.prog_type, s.expected_attach_type, s.attach_target)
    }

    #[test]
    fn libbpf_patterns_and_targets() {
        assert_eq!(t("xdp"), (ProgType::Xdp, Some(AttachType::Xdp), None));
        assert_eq!(classify("xdp.frags", false).prog_flags, BPF_F_XDP_HAS_FRAGS);
        assert_eq!(
            t("kprobe/do_sys_open"),
            (ProgType::Kprobe, None, Some("do_sys_open".into()))
        );
        assert_eq!(t("kprobe"), (ProgType::Kprobe, None, None));
        assert_eq!(t("kprobex").0, ProgType::Unspec);
        assert_eq!(
            t("tracepoint/syscalls/sys_enter_open").2.as_deref(),
            Some("syscalls/sys_enter_open")
        );
        assert_eq!(
            t("tp_btf/sched_switch"),
            (
                ProgType::Tracing,
                Some(AttachType::TraceRawTp),
                Some("sched_switch".into())
            )
        );
        assert!(classify("fentry.s/do_unlinkat", false).prog_flags & BPF_F_SLEEPABLE != 0);
        assert_eq!(
            t("tcx/ingress"),
            (ProgType::SchedCls, Some(AttachType::TcxIngress), None)
        );
        assert_eq!(
            t("cgroup_skb/ingress").1,
            Some(AttachType::CgroupInetIngress)
        );
        assert_eq!(t("cgroup/sock").1, Some(AttachType::CgroupInetSockCreate));
        assert_eq!(
            t("sk_skb/stream_parser").1,
            Some(AttachType::SkSkbStreamParser)
        );
        assert_eq!(t("classifier").0, ProgType::SchedCls);
        assert_eq!(t("action").0, ProgType::SchedAct);
        assert_eq!(t("syscall").0, ProgType::Syscall);
        assert_eq!(t("netfilter").1, Some(AttachType::Netfilter));
        assert_eq!(t("struct_ops/dctcp_init").2.as_deref(), Some("dctcp_init"));
        assert!(classify("usdt/libc:malloc", false).usdt);
        // `xdp/devmap` comes before `xdp`: the first match wins.
        assert_eq!(t("xdp/devmap").1, Some(AttachType::XdpDevmap));
        let lazy = classify("?tp/sched/sched_switch", false);
        assert_eq!(
            (lazy.prog_type, lazy.autoload),
            (ProgType::Tracepoint, false)
        );
        assert_eq!(lazy.attach_target.as_deref(), Some("sched/sched_switch"));
        // `xdp` is exact: `xdp/other` is not an XDP program.
        assert_eq!(t("xdp/other").0, ProgType::Unspec);
    }

    #[test]
    fn iproute2_sections_default_to_sched_cls() {
        let s = classify("ingress_path", true);
        assert_eq!(s.prog_type, ProgType::SchedCls);
        assert_eq!(s.source, TypeSource::Iproute2);
        assert_eq!(classify("ingress_path", false).source, TypeSource::Unknown);
    }
}
