//! The names of program return values: XDP actions (`enum xdp_action`),
//! TC actions (`TC_ACT_*` of `linux/pkt_cls.h`), and for socket filters
//! the number of bytes kept.

use bpfkit_object::kinds::ProgType;

/// The name of `retval` for a program of `prog_type`: `XDP_PASS`,
/// `TC_ACT_SHOT`, `keep 60` (socket filter), or the number for other
/// types and unknown values (the kernel treats an unknown XDP action as
/// `XDP_ABORTED` after a warning, and an unknown TC action as `TC_ACT_OK`).
pub fn verdict_name(prog_type: ProgType, retval: u64) -> String {
    let r = retval as u32;
    match prog_type {
        ProgType::Xdp => match r {
            0 => "XDP_ABORTED",
            1 => "XDP_DROP",
            2 => "XDP_PASS",
            3 => "XDP_TX",
            4 => "XDP_REDIRECT",
            _ => return format!("XDP_UNKNOWN({r})"),
        }
        .to_string(),
        ProgType::SchedCls | ProgType::SchedAct => match r as i32 {
            -1 => "TC_ACT_UNSPEC",
            0 => "TC_ACT_OK",
            1 => "TC_ACT_RECLASSIFY",
            2 => "TC_ACT_SHOT",
            3 => "TC_ACT_PIPE",
            4 => "TC_ACT_STOLEN",
            5 => "TC_ACT_QUEUED",
            6 => "TC_ACT_REPEAT",
            7 => "TC_ACT_REDIRECT",
            8 => "TC_ACT_TRAP",
            _ => return format!("TC_ACT({})", r as i32),
        }
        .to_string(),
        ProgType::SocketFilter => {
            if r == 0 {
                "drop".to_string()
            } else {
                format!("keep {r}")
            }
        }
        ProgType::CgroupSkb => match r & 1 {
            1 => "allow".to_string(),
            _ => "deny".to_string(),
        },
        _ => retval.to_string(),
    }
}
