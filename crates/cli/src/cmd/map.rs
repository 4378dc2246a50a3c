//! `bpfkit map list|show|dump|lookup|update|delete|create|pin|freeze`:
//! kernel maps, with bpftool's selectors and argument forms.

use std::path::Path;
use std::process::ExitCode;

use bpfkit_kernel::info::{self, MapInfo};
use bpfkit_kernel::map::{KernelMap, MapCreateExtra};
use bpfkit_kernel::prog::Program;
use bpfkit_kernel::IdKind;
use bpfkit_object::kinds::MapType;
use bpfkit_object::map::{MapSpec, BPF_ANY};
use serde_json::{json, Map, Value};

use super::btf_value::{PrettyText, Sink};
use super::kernel_args::{bytes, map_ids, number, one, prog_ids, selector, update_flag, Words};
use super::kernel_pins::Pins;
use super::kernel_render::{hex_bytes, print_json, print_shown};
use super::map_entry::{entry_btf, entry_error, entry_json, entry_text, map_btf, walk, Elem};
use crate::failure::{fail, CmdResult, Failure};
use bpfkit_kernel::fd::ObjKind;

/// The verbs of `bpfkit map`.
#[derive(clap::Subcommand)]
pub enum Command {
    /// Show every map, or those a selector names (`id N | pinned PATH | name NAME`).
    #[command(visible_alias = "list")]
    Show(Args),
    /// `dump MAP`: every element.
    Dump(Args),
    /// `lookup MAP key [hex] BYTES`.
    Lookup(Args),
    /// `update MAP key [hex] BYTES value [hex] BYTES|PROG|MAP [any|exist|noexist]`
    /// (a program for program arrays, a map for maps of maps).
    Update(Args),
    /// `delete MAP key [hex] BYTES`.
    Delete(Args),
    /// `create PATH type TYPE key KEY_SIZE value VALUE_SIZE entries N name NAME
    /// [flags F] [inner_map MAP]`:
    /// create a map and pin it.
    Create(Args),
    /// `pin MAP FILE`.
    Pin(Args),
    /// `freeze MAP`: no more writes from userspace.
    Freeze(Args),
    /// `getnext MAP [key BYTES]`: the next key.
    Getnext(Args),
    /// `peek MAP`: a queue's head or a stack's top, kept.
    Peek(Args),
    /// `push MAP value BYTES`: onto a queue, stack or bloom filter.
    #[command(visible_alias = "enqueue")]
    Push(Args),
    /// `pop MAP`: a queue's head or a stack's top, removed.
    #[command(visible_alias = "dequeue")]
    Pop(Args),
}

/// The words after the verb, bpftool style.
#[derive(clap::Args)]
pub struct Args {
    /// Selector and arguments, as bpftool takes them.
    pub words: Vec<String>,
    /// Print JSON with bpftool's field names.
    #[arg(long, short = 'j')]
    pub json: bool,
    /// Also show where each map is pinned on bpffs (bpftool's `-f`).
    #[arg(long, short = 'f')]
    pub bpffs: bool,
}

/// Runs `bpfkit map ...`.
pub fn run(c: Command) -> CmdResult {
    match c {
        Command::Show(a) => show(a),
        Command::Dump(a) => dump(a),
        Command::Lookup(a) => lookup(a),
        Command::Update(a) => update(a),
        Command::Delete(a) => delete(a),
        Command::Create(a) => create(a),
        Command::Pin(a) => pin(a),
        Command::Freeze(a) => freeze(a),
        Command::Getnext(a) => super::map_queue::getnext(a),
        Command::Peek(a) => super::map_queue::peek(a),
        Command::Push(a) => super::map_queue::push(a),
        Command::Pop(a) => super::map_queue::pop(a),
    }
}

/// The one map a selector names.
pub fn open_one(w: &mut Words) -> Result<KernelMap, Failure> {
    let sel = selector(w, false)?;
    let id = one(map_ids(&sel)?, &sel)?;
    KernelMap::from_id(id).map_err(|e| fail(format!("map id {id}: {e}")))
}

fn show(a: Args) -> CmdResult {
    let mut w = Words::new(a.words);
    let (ids, all) = if w.is_empty() {
        (info::ids(IdKind::Map).map_err(fail)?, true)
    } else {
        (map_ids(&selector(&mut w, false)?)?, false)
    };
    w.finish()?;
    let mut infos = Vec::new();
    for id in ids {
        let i = info::fd_by_id(IdKind::Map, id)
            .and_then(|fd| MapInfo::of_fd(std::os::fd::AsFd::as_fd(&fd)));
        match i {
            Ok(i) => infos.push(i),
            Err(_) if all => {}
            Err(e) => return Err(fail(format!("map id {id}: {e}"))),
        }
    }
    let pins = Pins::of(ObjKind::Map, a.bpffs);
    print_shown(
        &infos,
        all,
        a.json,
        |i| map_json(i, pins.get(i.id).as_deref()),
        |i| map_text(i, pins.get(i.id).as_deref()),
    );
    Ok(ExitCode::SUCCESS)
}

fn type_name(i: &MapInfo) -> Value {
    match i.map_type {
        Some(t) => json!(t.name()),
        None => json!(i.map_type_raw),
    }
}

fn prog_type_name(raw: u32) -> Value {
    match bpfkit_object::kinds::ProgType::from_raw(raw) {
        Some(t) => json!(t.name()),
        None => json!(raw),
    }
}

/// A map as `bpftool -j map show` prints it.
pub fn map_json(i: &MapInfo, pins: Option<&[String]>) -> Value {
    let mut m = Map::new();
    m.insert("id".into(), json!(i.id));
    m.insert("type".into(), type_name(i));
    if !i.name.is_empty() {
        m.insert("name".into(), json!(i.name));
    }
    m.insert("flags".into(), json!(i.map_flags));
    m.insert("bytes_key".into(), json!(i.key_size));
    m.insert("bytes_value".into(), json!(i.value_size));
    m.insert("max_entries".into(), json!(i.max_entries));
    m.insert("bytes_memlock".into(), json!(i.bytes_memlock));
    if i.map_type == Some(MapType::ProgArray) {
        if let Some(t) = i.owner_prog_type {
            m.insert("owner_prog_type".into(), prog_type_name(t));
        }
        if let Some(j) = i.owner_jited {
            m.insert("owner_jited".into(), json!(j));
        }
    }
    m.insert("frozen".into(), json!(u8::from(i.frozen)));
    if i.btf_id != 0 {
        m.insert("btf_id".into(), json!(i.btf_id));
    }
    if let Some(p) = pins {
        m.insert("pinned".into(), json!(p));
    }
    Value::Object(m)
}

/// A map as `bpftool map show` prints it.
pub fn map_text(i: &MapInfo, pins: Option<&[String]>) -> String {
    let mut s = format!("{}: ", i.id);
    match i.map_type {
        Some(t) => s.push_str(&format!("{}  ", t.name())),
        None => s.push_str(&format!("type {}  ", i.map_type_raw)),
    }
    if !i.name.is_empty() {
        s.push_str(&format!("name {}  ", i.name));
    }
    s.push_str(&format!("flags 0x{:x}\n", i.map_flags));
    s.push_str(&format!(
        "\tkey {}B  value {}B  max_entries {}  memlock {}B",
        i.key_size, i.value_size, i.max_entries, i.bytes_memlock
    ));
    if i.map_type == Some(MapType::ProgArray) {
        if i.owner_prog_type.is_some() || i.owner_jited.is_some() {
            s.push_str("\n\t");
        }
        if let Some(t) = i.owner_prog_type {
            match prog_type_name(t) {
                Value::String(n) => s.push_str(&format!("owner_prog_type {n}  ")),
                v => s.push_str(&format!("owner_prog_type {v}  ")),
            }
        }
        if let Some(j) = i.owner_jited {
            s.push_str(if j { "owner jited" } else { "owner not jited" });
        }
    }
    for p in pins.unwrap_or_default() {
        s.push_str(&format!("\n\tpinned {p}"));
    }
    if i.btf_id != 0 || i.frozen {
        s.push_str("\n\t");
    }
    if i.btf_id != 0 {
        s.push_str(&format!("btf_id {}", i.btf_id));
    }
    if i.frozen {
        s.push_str(if i.btf_id != 0 { "  frozen" } else { "frozen" });
    }
    s.push('\n');
    s
}

fn dump(a: Args) -> CmdResult {
    let mut w = Words::new(a.words);
    let m = open_one(&mut w)?;
    w.finish()?;
    let all = walk(&m)?;
    let btf = map_btf(&m)?;
    if a.json {
        let mut v = Vec::new();
        for e in &all {
            match e {
                Elem::Value(k, val) => v.push(entry_json(&m, btf.as_ref(), k, val)?),
                Elem::Error(k, errno) => {
                    if let Some(Ok(j)) = entry_error(&m, k, *errno, true) {
                        v.push(j);
                    }
                }
            }
        }
        print_json(&Value::Array(v));
        return Ok(ExitCode::SUCCESS);
    }
    let mut t = PrettyText::default();
    if btf.is_some() {
        t.start_array();
    }
    let mut n = 0;
    for e in &all {
        match (e, &btf) {
            (Elem::Value(k, v), Some(b)) => {
                entry_btf(&m, b, k, v, true, &mut t)?;
                n += 1;
            }
            (Elem::Value(k, v), None) => {
                print!("{}", entry_text(&m, k, v)?);
                n += 1;
            }
            (Elem::Error(k, errno), _) => {
                if let Some(Err(text)) = entry_error(&m, k, *errno, false) {
                    print!("{text}");
                }
            }
        }
    }
    if btf.is_some() {
        t.end_array();
        println!("{}", t.out);
    } else {
        println!("Found {n} element{}", if n == 1 { "" } else { "s" });
    }
    Ok(ExitCode::SUCCESS)
}

fn key_arg(w: &mut Words, stop: &[&str]) -> Result<Vec<u8>, Failure> {
    match w.next().as_deref() {
        Some("key") => bytes(w, "key", stop),
        Some(other) => Err(fail(format!("expected 'key', got {other:?}"))),
        None => Err(fail("expected 'key BYTES'")),
    }
}

fn lookup(a: Args) -> CmdResult {
    let mut w = Words::new(a.words);
    let m = open_one(&mut w)?;
    let key = key_arg(&mut w, &[])?;
    w.finish()?;
    match m.lookup_elem(&key, 0) {
        Ok(v) => {
            let btf = map_btf(&m)?;
            if a.json {
                print_json(&entry_json(&m, btf.as_ref(), &key, &v)?);
            } else if let Some(b) = &btf {
                let mut t = PrettyText::default();
                entry_btf(&m, b, &key, &v, true, &mut t)?;
                println!("{}", t.out);
            } else {
                print!("{}", entry_text(&m, &key, &v)?);
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) if e.errno() == Some(libc_enoent()) => {
            Err(fail(format!("key {} not found", hex_bytes(&key, " "))))
        }
        Err(e) => Err(fail(e)),
    }
}

/// `ENOENT`, without a libc dependency in the CLI.
fn libc_enoent() -> i32 {
    bpfkit_object::map::MapError::NotFound.errno()
}

fn update(a: Args) -> CmdResult {
    let mut w = Words::new(a.words);
    let m = open_one(&mut w)?;
    let key = key_arg(&mut w, &["value"])?;
    if !w.eat("value") {
        return Err(fail("expected 'value BYTES' after the key"));
    }
    let map_type = bpfkit_object::map::Map::spec(&m).map_type;
    let is_selector = matches!(w.peek(), Some("id" | "pinned" | "name" | "tag"));
    // A program array takes a program, a map of maps a map (bpftool's
    // `value PROG` / `value MAP`): the kernel wants its descriptor, which
    // stays open until the update is done.
    let mut _held_prog = None;
    let mut _held_map = None;
    let value = if map_type == MapType::ProgArray && is_selector {
        let sel = selector(&mut w, true)?;
        let p = Program::from_id(one(prog_ids(&sel)?, &sel)?).map_err(fail)?;
        let fd = std::os::fd::AsRawFd::as_raw_fd(&p.fd()) as u32;
        _held_prog = Some(p);
        fd.to_ne_bytes().to_vec()
    } else if map_type.is_map_in_map() && is_selector {
        let sel = selector(&mut w, false)?;
        let inner = KernelMap::from_id(one(map_ids(&sel)?, &sel)?).map_err(fail)?;
        let fd = std::os::fd::AsRawFd::as_raw_fd(&inner.fd()) as u32;
        _held_map = Some(inner);
        fd.to_ne_bytes().to_vec()
    } else {
        bytes(&mut w, "value", &["any", "exist", "noexist"])?
    };
    let flags = match w.next() {
        None => BPF_ANY,
        Some(f) => update_flag(&f)
            .ok_or_else(|| fail(format!("expected any, exist or noexist, got {f:?}")))?,
    };
    w.finish()?;
    m.update_elem(&key, &value, flags).map_err(fail)?;
    Ok(ExitCode::SUCCESS)
}

fn delete(a: Args) -> CmdResult {
    let mut w = Words::new(a.words);
    let m = open_one(&mut w)?;
    let key = key_arg(&mut w, &[])?;
    w.finish()?;
    m.delete_elem(&key).map_err(fail)?;
    Ok(ExitCode::SUCCESS)
}

fn create(a: Args) -> CmdResult {
    let mut w = Words::new(a.words);
    let path = w.expect("the pin path")?;
    let mut spec = MapSpec {
        name: String::new(),
        map_type: MapType::Unspec,
        key_size: 0,
        value_size: 0,
        max_entries: 0,
        map_flags: 0,
    };
    let mut have_type = false;
    let mut inner = None;
    while let Some(kw) = w.next() {
        if kw == "inner_map" {
            let sel = selector(&mut w, false)?;
            inner = Some(KernelMap::from_id(one(map_ids(&sel)?, &sel)?).map_err(fail)?);
            continue;
        }
        let val = w.expect(&format!("a value after {kw:?}"))?;
        match kw.as_str() {
            "type" => {
                spec.map_type = *MapType::ALL
                    .iter()
                    .find(|t| t.name() == val)
                    .ok_or_else(|| fail(format!("unknown map type {val:?}")))?;
                have_type = true;
            }
            "key" => spec.key_size = number(&val, "key size")?,
            "value" => spec.value_size = number(&val, "value size")?,
            "entries" => spec.max_entries = number(&val, "entries")?,
            "name" => spec.name = val,
            "flags" => spec.map_flags = number(&val, "flags")?,
            other => return Err(fail(format!("unexpected argument {other:?}"))),
        }
    }
    if !have_type {
        return Err(fail("map create needs 'type TYPE'"));
    }
    let extra = MapCreateExtra {
        inner_map_fd: inner.as_ref().map(|m| m.fd()),
        ..Default::default()
    };
    let m = KernelMap::create_with(&spec, &extra).map_err(fail)?;
    m.pin(Path::new(&path)).map_err(fail)?;
    Ok(ExitCode::SUCCESS)
}

fn pin(a: Args) -> CmdResult {
    let mut w = Words::new(a.words);
    let m = open_one(&mut w)?;
    let path = w.expect("the pin path")?;
    w.finish()?;
    m.pin(Path::new(&path)).map_err(fail)?;
    Ok(ExitCode::SUCCESS)
}

fn freeze(a: Args) -> CmdResult {
    let mut w = Words::new(a.words);
    let m = open_one(&mut w)?;
    w.finish()?;
    m.freeze_map().map_err(fail)?;
    Ok(ExitCode::SUCCESS)
}
