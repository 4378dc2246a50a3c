//! `bpfkit link list|show|pin|detach`: kernel links, as bpftool has them.

use std::process::ExitCode;

use bpfkit_kernel::info::{self, LinkInfo, LinkTarget};
use bpfkit_kernel::link::Link;
use bpfkit_kernel::IdKind;
use bpfkit_object::kinds::AttachType;
use serde_json::{json, Map, Value};

use super::kernel_args::Words;
use super::kernel_pins::Pins;
use super::kernel_render::print_shown;
use crate::failure::{fail, CmdResult, Failure};
use bpfkit_kernel::fd::ObjKind;

/// The verbs of `bpfkit link`.
#[derive(clap::Subcommand)]
pub enum Command {
    /// Show every link, or one (`id N | pinned PATH`).
    #[command(visible_alias = "list")]
    Show(Args),
    /// `pin LINK FILE`: pin a link on bpffs (it then outlives its holders).
    Pin(Args),
    /// `detach LINK`: detach the program now (`BPF_LINK_DETACH`).
    Detach(Args),
}

/// The words after the verb, bpftool style.
#[derive(clap::Args)]
pub struct Args {
    /// `id N` or `pinned PATH`.
    words: Vec<String>,
    /// Print JSON with bpftool's field names.
    #[arg(long, short = 'j')]
    json: bool,
    /// Also show where each link is pinned on bpffs (bpftool's `-f`).
    #[arg(long, short = 'f')]
    bpffs: bool,
}

/// Runs `bpfkit link ...`.
pub fn run(c: Command) -> CmdResult {
    match c {
        Command::Show(a) => show(a),
        Command::Pin(a) => {
            let mut w = Words::new(a.words);
            let link = open_one(&mut w)?;
            let path = w.expect("the pin path")?;
            w.finish()?;
            link.pin(std::path::Path::new(&path)).map_err(fail)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Detach(a) => {
            let mut w = Words::new(a.words);
            let link = open_one(&mut w)?;
            w.finish()?;
            link.detach().map_err(fail)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `id N` or `pinned PATH`.
fn open_one(w: &mut Words) -> Result<Link, Failure> {
    let kw = w.expect("'id' or 'pinned'")?;
    let val = w.expect(&format!("a value after {kw:?}"))?;
    match kw.as_str() {
        "id" => Link::from_id(super::kernel_args::number(&val, "id")?),
        "pinned" => Link::from_pin(std::path::Path::new(&val)),
        other => return Err(fail(format!("expected 'id' or 'pinned', got {other:?}"))),
    }
    .map_err(fail)
}

fn show(a: Args) -> CmdResult {
    let mut w = Words::new(a.words);
    let mut infos = Vec::new();
    let all = w.is_empty();
    if all {
        for id in info::ids(IdKind::Link).map_err(fail)? {
            if let Ok(i) = Link::from_id(id).and_then(|l| l.info()) {
                infos.push(i);
            }
        }
    } else {
        let link = open_one(&mut w)?;
        infos.push(link.info().map_err(fail)?);
    }
    w.finish()?;
    let pins = Pins::of(ObjKind::Link, a.bpffs);
    let to_json = |i: &LinkInfo| {
        let mut v = link_json(i);
        if let (Some(p), Value::Object(m)) = (pins.get(i.id), &mut v) {
            m.insert("pinned".into(), json!(p));
        }
        v
    };
    let to_text = |i: &LinkInfo| {
        let mut t = link_text(i);
        t.pop();
        for p in pins.get(i.id).unwrap_or_default() {
            t.push_str(&format!("\n\tpinned {p}"));
        }
        t + "\n"
    };
    print_shown(&infos, all, a.json, to_json, to_text);
    Ok(ExitCode::SUCCESS)
}

fn attach_name(raw: u32) -> Value {
    match AttachType::from_raw(raw) {
        Some(t) => json!(t.name()),
        None => json!(raw),
    }
}

/// A link as `bpftool -j link show` prints it.
pub fn link_json(i: &LinkInfo) -> Value {
    let mut m = Map::new();
    m.insert("id".into(), json!(i.id));
    m.insert(
        "type".into(),
        match i.link_type {
            Some(t) => json!(t.name()),
            None => json!(i.link_type_raw),
        },
    );
    m.insert("prog_id".into(), json!(i.prog_id));
    match i.target {
        LinkTarget::Cgroup {
            cgroup_id,
            attach_type,
        } => {
            m.insert("cgroup_id".into(), json!(cgroup_id));
            m.insert("attach_type".into(), attach_name(attach_type));
        }
        LinkTarget::Tracing {
            attach_type,
            target_obj_id,
            target_btf_id,
        } => {
            m.insert("attach_type".into(), attach_name(attach_type));
            m.insert("target_obj_id".into(), json!(target_obj_id));
            m.insert("target_btf_id".into(), json!(target_btf_id));
        }
        LinkTarget::Netns {
            netns_ino,
            attach_type,
        } => {
            m.insert("netns_ino".into(), json!(netns_ino));
            m.insert("attach_type".into(), attach_name(attach_type));
        }
        LinkTarget::Xdp { ifindex } => {
            m.insert("ifindex".into(), json!(ifindex));
        }
        LinkTarget::Device {
            ifindex,
            attach_type,
        } => {
            m.insert("ifindex".into(), json!(ifindex));
            m.insert("attach_type".into(), attach_name(attach_type));
        }
        LinkTarget::Netfilter {
            pf,
            hooknum,
            priority,
            flags,
        } => {
            m.insert("pf".into(), json!(pf));
            m.insert("hook".into(), json!(hooknum));
            m.insert("prio".into(), json!(priority));
            m.insert("flags".into(), json!(flags));
        }
        LinkTarget::Other(_) => {}
    }
    Value::Object(m)
}

/// A link as `bpftool link show` prints it.
pub fn link_text(i: &LinkInfo) -> String {
    let mut s = format!("{}: ", i.id);
    match i.link_type {
        Some(t) => s.push_str(&format!("{}  ", t.name())),
        None => s.push_str(&format!("type {}  ", i.link_type_raw)),
    }
    s.push_str(&format!("prog {}  ", i.prog_id));
    let at = |raw: u32| match AttachType::from_raw(raw) {
        Some(t) => format!("attach_type {}  ", t.name()),
        None => format!("attach_type {raw}  "),
    };
    match i.target {
        LinkTarget::Cgroup {
            cgroup_id,
            attach_type,
        } => s.push_str(&format!("\n\tcgroup_id {cgroup_id}  {}", at(attach_type))),
        LinkTarget::Tracing {
            attach_type,
            target_obj_id,
            target_btf_id,
        } => s.push_str(&format!(
            "\n\t{}target_obj_id {target_obj_id}  target_btf_id {target_btf_id}  ",
            at(attach_type)
        )),
        LinkTarget::Netns {
            netns_ino,
            attach_type,
        } => s.push_str(&format!("\n\tnetns_ino {netns_ino}  {}", at(attach_type))),
        LinkTarget::Xdp { ifindex } => s.push_str(&format!("\n\tifindex {ifindex}  ")),
        LinkTarget::Device {
            ifindex,
            attach_type,
        } => s.push_str(&format!("\n\tifindex {ifindex}  {}", at(attach_type))),
        LinkTarget::Netfilter {
            pf,
            hooknum,
            priority,
            ..
        } => s.push_str(&format!("\n\tpf {pf}  hook {hooknum}  prio {priority}  ")),
        LinkTarget::Other(_) => {}
    }
    s.push('\n');
    s
}
