//! `bpfkit run OBJ --data HEX [--ctx HEX] [--repeat N]`: one buffer run
//! the way `BPF_PROG_TEST_RUN` runs it (net/bpf/test_run.c): the context
//! taken from `ctx_in` with the kernel's checks, and `data_out`,
//! `ctx_out`, `retval` and the mean `duration` reported.
//!
//! XDP: `ctx_in` is a `struct xdp_md` whose `data` is the length of the
//! metadata at the start of the buffer and `data_end` the buffer's length
//! (`data_meta` and `egress_ifindex` 0); `data_out` runs from `data_meta`.
//! skb programs: `ctx_in` is a `struct __sk_buff` in which only `mark`,
//! `priority`, `ingress_ifindex`, `ifindex`, `cb`, `tstamp`, `wire_len`,
//! `gso_segs`, `gso_size` and `hwtstamp` may be set. Socket filters see
//! the frame from its Ethernet header, as on a packet socket (the
//! kernel's test run starts them at the network header).

use std::process::ExitCode;
use std::time::Instant;

use bpfkit_object::kinds::ProgType;
use bpfkit_vm::ctx::XdpMd;
use bpfkit_vm::runtime::{verdict_name, Runtime};
use bpfkit_vm::Packet;
use serde_json::json;

use super::{Args, Input};
use crate::failure::{fail, CmdResult, Failure};
use crate::{files, hex};

fn le32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn hex_text(b: &[u8]) -> String {
    b.iter()
        .map(|x| format!("{x:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The XDP input from `ctx_in` (`xdp_convert_md_to_buff`'s checks).
fn xdp_input(data: &[u8], ctx: &[u8]) -> Result<(Packet, XdpMd), Failure> {
    if ctx.len() != 24 {
        return Err(fail(format!(
            "--ctx: struct xdp_md is 24 bytes, got {}",
            ctx.len()
        )));
    }
    let (meta, end, data_meta) = (le32(ctx, 0) as usize, le32(ctx, 4) as usize, le32(ctx, 8));
    let md = XdpMd {
        ingress_ifindex: le32(ctx, 12),
        rx_queue_index: le32(ctx, 16),
        ..XdpMd::default()
    };
    if data_meta != 0 || end != data.len() || meta > end || meta % 4 != 0 || meta > 255 {
        return Err(fail(format!(
            "--ctx: EINVAL: xdp_md needs data_meta 0, data_end = the data's length ({}), data (the metadata length) a multiple of 4 up to 252 and at most data_end",
            data.len()
        )));
    }
    if le32(ctx, 20) != 0 {
        return Err(fail("--ctx: EINVAL: egress_ifindex must be 0"));
    }
    if md.ingress_ifindex == 0 && md.rx_queue_index != 0 {
        return Err(fail(
            "--ctx: EINVAL: rx_queue_index needs an ingress_ifindex",
        ));
    }
    // The metadata sits before data, inside the headroom.
    Ok((Packet::xdp_with_meta(&data[..meta], &data[meta..]), md))
}

/// The `__sk_buff` fields `convert___skb_to_skb` accepts, by offset range.
const SKB_ALLOWED: &[(usize, usize)] = &[
    (8, 12),    // mark
    (32, 44),   // priority, ingress_ifindex, ifindex
    (48, 68),   // cb
    (152, 168), // tstamp, wire_len, gso_segs
    (176, 180), // gso_size
    (184, 192), // hwtstamp
];

fn skb_input(prog_type: ProgType, data: &[u8], ctx: Option<&[u8]>) -> Result<Input, Failure> {
    let mut input = Input::new(prog_type, data);
    let (Some(ctx), Input::Skb(_, skb)) = (ctx, &mut input) else {
        return Ok(input);
    };
    if ctx.len() != 192 {
        return Err(fail(format!(
            "--ctx: struct __sk_buff is 192 bytes, got {}",
            ctx.len()
        )));
    }
    if let Some(at) =
        (0..192).find(|&i| ctx[i] != 0 && !SKB_ALLOWED.iter().any(|&(s, e)| (s..e).contains(&i)))
    {
        return Err(fail(format!(
            "--ctx: EINVAL: byte {at} of __sk_buff is not a field BPF_PROG_TEST_RUN accepts"
        )));
    }
    skb.mark = le32(ctx, 8);
    skb.priority = le32(ctx, 32);
    skb.ingress_ifindex = le32(ctx, 36);
    if le32(ctx, 40) != 0 {
        skb.ifindex = le32(ctx, 40);
    }
    skb.cb.copy_from_slice(&ctx[48..68]);
    skb.tstamp = u64::from_le_bytes(ctx[152..160].try_into().unwrap_or([0; 8]));
    if le32(ctx, 160) != 0 {
        skb.wire_len = le32(ctx, 160);
    }
    skb.gso_segs = le32(ctx, 164);
    skb.gso_size = le32(ctx, 176);
    skb.hwtstamp = u64::from_le_bytes(ctx[184..192].try_into().unwrap_or([0; 8]));
    Ok(input)
}

/// `ctx_out` as `convert_skb_to___skb` / `xdp_convert_buff_to_md` write it.
fn ctx_out(input: &Input) -> Vec<u8> {
    match input {
        Input::Xdp(p, md) => {
            let w = p.window();
            let mut o = Vec::with_capacity(24);
            for v in [
                (w.data - w.meta) as u32,
                (w.end - w.meta) as u32,
                0,
                md.ingress_ifindex,
                md.rx_queue_index,
                0,
            ] {
                o.extend_from_slice(&v.to_le_bytes());
            }
            o
        }
        Input::Skb(_, skb) => {
            let mut o = vec![0u8; 192];
            let mut put = |at: usize, v: &[u8]| o[at..at + v.len()].copy_from_slice(v);
            put(8, &skb.mark.to_le_bytes());
            put(32, &skb.priority.to_le_bytes());
            put(36, &skb.ingress_ifindex.to_le_bytes());
            put(40, &skb.ifindex.to_le_bytes());
            put(48, &skb.cb);
            put(152, &skb.tstamp.to_le_bytes());
            put(160, &skb.wire_len.to_le_bytes());
            put(164, &skb.gso_segs.to_le_bytes());
            put(176, &skb.gso_size.to_le_bytes());
            put(184, &skb.hwtstamp.to_le_bytes());
            o
        }
    }
}

/// Runs the `--data` mode.
pub(super) fn run(rt: &mut Runtime, prog: usize, a: &Args) -> CmdResult {
    let data = match (&a.data, &a.data_file) {
        (Some(h), _) => hex::parse_hex(h).map_err(|e| fail(format!("--data: {e}")))?,
        (None, Some(p)) => files::read(p)?,
        (None, None) => return Err(fail("give --pcap, --data or --data-file")),
    };
    let ctx = a
        .ctx
        .as_deref()
        .map(|h| hex::parse_hex(h).map_err(|e| fail(format!("--ctx: {e}"))))
        .transpose()?;
    let prog_type = rt.programs()[prog].prog_type;
    let build = || -> Result<Input, Failure> {
        match (prog_type, &ctx) {
            (ProgType::Xdp, Some(c)) => xdp_input(&data, c).map(|(p, md)| Input::Xdp(p, md)),
            _ => skb_input(prog_type, &data, ctx.as_deref()),
        }
    };
    let mut total = std::time::Duration::ZERO;
    let mut last = None;
    for _ in 0..a.repeat {
        let mut input = build()?;
        let t = Instant::now();
        let r = input.run(rt, prog);
        total += t.elapsed();
        let r = r.map_err(|e| fail(format!("{}: {e}", a.object.display())))?;
        last = Some((input, r));
    }
    let Some((input, r)) = last else {
        return Err(fail("--repeat must be at least 1"));
    };
    let p = input.packet();
    let data_out = match input {
        Input::Xdp(..) => [p.meta(), p.data()].concat(),
        Input::Skb(..) => p.data().to_vec(),
    };
    let duration = total.as_nanos() as u64 / a.repeat.max(1);
    let trace = rt.take_trace();
    if a.json {
        println!(
            "{}",
            json!({
                "retval": r.retval,
                "verdict": verdict_name(prog_type, r.retval),
                "duration": duration,
                "data_out": hex_text(&data_out),
                "ctx_out": hex_text(&ctx_out(&input)),
                "insn_count": r.insn_count,
                "trace": trace,
            })
        );
    } else {
        println!(
            "retval: {} ({})",
            r.retval,
            verdict_name(prog_type, r.retval)
        );
        println!("duration: {duration} ns");
        println!(
            "data_out ({} bytes): {}",
            data_out.len(),
            hex_text(&data_out)
        );
        println!("ctx_out: {}", hex_text(&ctx_out(&input)));
        if a.trace {
            for line in trace {
                println!("trace: {line}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
