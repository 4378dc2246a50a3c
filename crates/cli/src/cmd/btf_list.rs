//! `bpfkit btf list|show [id N] [--json]`: the kernel's BTF objects, as
//! bpftool shows them.

use std::collections::BTreeMap;
use std::process::ExitCode;

use bpfkit_kernel::btf::KernelBtf;
use bpfkit_kernel::info::{self, BtfInfo, MapInfo, ProgInfo, ProgInfoArrays};
use bpfkit_kernel::IdKind;
use serde_json::{json, Map, Value};

use super::kernel_args::{number, Words};
use super::kernel_render::print_json;
use crate::failure::{fail, CmdResult};

/// The words after the verb, bpftool style.
#[derive(clap::Args)]
pub struct Args {
    /// `id N`.
    words: Vec<String>,
    /// Print JSON with bpftool's field names.
    #[arg(long, short = 'j')]
    json: bool,
}

/// Which programs and maps use each BTF object.
#[derive(Default)]
struct Users {
    progs: BTreeMap<u32, Vec<u32>>,
    maps: BTreeMap<u32, Vec<u32>>,
}

fn users() -> Users {
    let mut u = Users::default();
    for id in info::ids(IdKind::Prog).unwrap_or_default() {
        if let Ok(i) = ProgInfo::of_id(id, ProgInfoArrays::default()) {
            if i.btf_id != 0 {
                u.progs.entry(i.btf_id).or_default().push(id);
            }
        }
    }
    for id in info::ids(IdKind::Map).unwrap_or_default() {
        let i = info::fd_by_id(IdKind::Map, id)
            .and_then(|fd| MapInfo::of_fd(std::os::fd::AsFd::as_fd(&fd)));
        if let Ok(i) = i {
            if i.btf_id != 0 {
                u.maps.entry(i.btf_id).or_default().push(id);
            }
        }
    }
    u
}

/// Runs `bpfkit btf show`.
pub fn run(a: Args) -> CmdResult {
    let mut w = Words::new(a.words);
    let all = w.is_empty();
    let ids = if all {
        info::ids(IdKind::Btf).map_err(fail)?
    } else {
        if !w.eat("id") {
            return Err(fail("expected 'id N'"));
        }
        vec![number(&w.expect("an id")?, "id")?]
    };
    w.finish()?;
    let mut infos = Vec::new();
    for id in ids {
        match KernelBtf::from_id(id).and_then(|b| b.info(false)) {
            Ok(i) => infos.push(i),
            Err(_) if all => {}
            Err(e) => return Err(fail(format!("BTF id {id}: {e}"))),
        }
    }
    let u = users();
    if a.json {
        let v: Vec<Value> = infos.iter().map(|i| btf_json(i, &u)).collect();
        if all {
            print_json(&Value::Array(v));
        } else {
            print_json(&v[0]);
        }
    } else {
        for i in &infos {
            print!("{}", btf_text(i, &u));
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn btf_json(i: &BtfInfo, u: &Users) -> Value {
    let mut m = Map::new();
    m.insert("id".into(), json!(i.id));
    m.insert("size".into(), json!(i.size));
    m.insert(
        "prog_ids".into(),
        json!(u.progs.get(&i.id).cloned().unwrap_or_default()),
    );
    m.insert(
        "map_ids".into(),
        json!(u.maps.get(&i.id).cloned().unwrap_or_default()),
    );
    m.insert("kernel".into(), json!(i.kernel));
    if !i.name.is_empty() {
        m.insert("name".into(), json!(i.name));
    }
    Value::Object(m)
}

fn btf_text(i: &BtfInfo, u: &Users) -> String {
    let mut s = format!("{}: ", i.id);
    if i.kernel {
        s.push_str(&format!("name [{}]  ", i.name));
    } else if !i.name.is_empty() {
        s.push_str(&format!("name {}  ", i.name));
    } else {
        s.push_str("name <anon>  ");
    }
    s.push_str(&format!("size {}B", i.size));
    for (label, ids) in [
        ("prog_ids", u.progs.get(&i.id)),
        ("map_ids", u.maps.get(&i.id)),
    ] {
        if let Some(ids) = ids {
            let list: Vec<String> = ids.iter().map(u32::to_string).collect();
            s.push_str(&format!("  {label} {}", list.join(",")));
        }
    }
    s.push('\n');
    s
}
