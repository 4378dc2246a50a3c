//! `bpfkit map list|show|dump|lookup|update|delete|create|pin|freeze`:
//! kernel maps, with bpftool's selectors and argument forms.

use std::path::Path;
use std::process::ExitCode;

use bpfkit_kernel::btf::KernelBtf;
use bpfkit_kernel::info::{self, MapInfo};
use bpfkit_kernel::map::{KernelMap, MapCreateExtra};
use bpfkit_kernel::prog::Program;
use bpfkit_kernel::{possible_cpus, IdKind};
use bpfkit_object::btf::Btf;
use bpfkit_object::kinds::MapType;
use bpfkit_object::map::{MapSpec, BPF_ANY};
use serde_json::{json, Map, Value};

use super::btf_value::{self, PrettyText, Sink, ValueSink};
use super::kernel_args::{bytes, map_ids, number, one, prog_ids, selector, update_flag, Words};
use super::kernel_render::{hex_bytes, json_bytes, print_json};
use crate::failure::{fail, CmdResult, Failure};

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
}

/// The words after the verb, bpftool style.
#[derive(clap::Args)]
pub struct Args {
    /// Selector and arguments, as bpftool takes them.
    words: Vec<String>,
    /// Print JSON with bpftool's field names.
    #[arg(long, short = 'j')]
    json: bool,
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
    }
}

fn open_one(w: &mut Words) -> Result<KernelMap, Failure> {
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
    if a.json {
        let v: Vec<Value> = infos.iter().map(map_json).collect();
        if all || v.len() != 1 {
            print_json(&Value::Array(v));
        } else {
            print_json(&v[0]);
        }
    } else {
        for i in &infos {
            print!("{}", map_text(i));
        }
    }
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
pub fn map_json(i: &MapInfo) -> Value {
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
    Value::Object(m)
}

/// A map as `bpftool map show` prints it.
pub fn map_text(i: &MapInfo) -> String {
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

fn is_per_cpu(t: MapType) -> bool {
    matches!(
        t,
        MapType::PercpuHash
            | MapType::PercpuArray
            | MapType::LruPercpuHash
            | MapType::PercpuCgroupStorage
    )
}

/// The BTF a map's keys and values are described by, when bpftool would
/// format them with it (not for struct_ops values, which need vmlinux).
pub struct MapBtf {
    btf: Btf,
    key_type_id: u32,
    value_type_id: u32,
}

fn map_btf(m: &KernelMap) -> Result<Option<MapBtf>, Failure> {
    let i = m.info().map_err(fail)?;
    if i.btf_id == 0 || i.btf_value_type_id == 0 || i.btf_vmlinux_value_type_id != 0 {
        return Ok(None);
    }
    let data = KernelBtf::from_id(i.btf_id)
        .and_then(|b| b.info(true))
        .map_err(|e| fail(format!("map id {}: BTF id {}: {e}", i.id, i.btf_id)))?
        .data;
    let btf = Btf::parse(&data)
        .map_err(|e| fail(format!("map id {}: BTF id {}: {e}", i.id, i.btf_id)))?;
    Ok(Some(MapBtf {
        btf,
        key_type_id: i.btf_key_type_id,
        value_type_id: i.btf_value_type_id,
    }))
}

/// bpftool's `do_dump_btf`: one element through its BTF.
fn entry_btf(
    m: &KernelMap,
    b: &MapBtf,
    key: &[u8],
    value: &[u8],
    plain: bool,
    s: &mut dyn Sink,
) -> Result<(), Failure> {
    let spec = bpfkit_object::map::Map::spec(m);
    let ctx = |e: String| fail(format!("map id {}: {e}", m.id()));
    s.start_object();
    if b.key_type_id != 0 {
        s.name("key");
        btf_value::dump(&b.btf, b.key_type_id, key, plain, s).map_err(ctx)?;
    }
    if !is_per_cpu(spec.map_type) {
        s.name("value");
        btf_value::dump(&b.btf, b.value_type_id, value, plain, s).map_err(ctx)?;
    } else {
        let step = (spec.value_size as usize).div_ceil(8) * 8;
        s.name("values");
        s.start_array();
        for cpu in 0..possible_cpus().map_err(fail)? {
            s.start_object();
            s.name("cpu");
            s.raw(&cpu.to_string());
            s.name("value");
            let v = value.get(cpu * step..).unwrap_or(&[]);
            btf_value::dump(&b.btf, b.value_type_id, v, plain, s).map_err(ctx)?;
            s.end_object();
        }
        s.end_array();
    }
    s.end_object();
    Ok(())
}

/// One element as bpftool's JSON (`values` per CPU for per-CPU maps, and
/// `formatted` through the map's BTF).
fn entry_json(
    m: &KernelMap,
    b: Option<&MapBtf>,
    key: &[u8],
    value: &[u8],
) -> Result<Value, Failure> {
    let mut v = entry_json_raw(m, key, value)?;
    if let (Some(b), Value::Object(o)) = (b, &mut v) {
        let mut sink = ValueSink::default();
        entry_btf(m, b, key, value, false, &mut sink)?;
        o.insert("formatted".into(), sink.done.unwrap_or(Value::Null));
    }
    Ok(v)
}

fn entry_json_raw(m: &KernelMap, key: &[u8], value: &[u8]) -> Result<Value, Failure> {
    let spec = bpfkit_object::map::Map::spec(m);
    let mut o = Map::new();
    o.insert("key".into(), json_bytes(key));
    if is_per_cpu(spec.map_type) {
        let step = (spec.value_size as usize).div_ceil(8) * 8;
        let n = possible_cpus().map_err(fail)?;
        let per: Vec<Value> = (0..n)
            .map(|cpu| {
                let v = &value[cpu * step..cpu * step + spec.value_size as usize];
                json!({"cpu": cpu, "value": json_bytes(v)})
            })
            .collect();
        o.insert("values".into(), Value::Array(per));
    } else {
        o.insert("value".into(), json_bytes(value));
    }
    Ok(Value::Object(o))
}

/// One element as bpftool's text (`print_entry_plain`).
fn entry_text(m: &KernelMap, key: &[u8], value: &[u8]) -> Result<String, Failure> {
    let spec = bpfkit_object::map::Map::spec(m);
    let (ks, vs) = (spec.key_size as usize, spec.value_size as usize);
    let mut s = String::new();
    if !is_per_cpu(spec.map_type) {
        let break_names = ks > 16 || vs > 16;
        let single_line = ks + vs <= 24 && !break_names;
        let brk = if break_names { '\n' } else { ' ' };
        if ks > 0 {
            s.push_str(&format!("key:{brk}{}", hex_bytes(key, " ")));
            s.push_str(if single_line { "  " } else { "\n" });
        }
        if vs > 0 {
            s.push_str(&format!("value:{brk}{}", hex_bytes(value, " ")));
        }
        s.push('\n');
    } else {
        let step = vs.div_ceil(8) * 8;
        if ks > 0 {
            s.push_str(&format!("key:\n{}\n", hex_bytes(key, " ")));
        }
        for cpu in 0..possible_cpus().map_err(fail)? {
            let v = &value[cpu * step..cpu * step + vs];
            let brk = if vs > 16 { '\n' } else { ' ' };
            s.push_str(&format!(
                "value (CPU {cpu:02}):{brk}{}\n",
                hex_bytes(v, " ")
            ));
        }
    }
    Ok(s)
}

/// One element as a dump walks it: its value, or the errno its lookup
/// returned (bpftool prints those in place of the value).
enum Elem {
    Value(Vec<u8>, Vec<u8>),
    Error(Vec<u8>, i32),
}

/// Every key in iteration order with its lookup's outcome. Bounded, so a
/// map whose keys change under the walk (restarting `get_next_key`)
/// cannot keep it going forever.
fn walk(m: &KernelMap) -> Result<Vec<Elem>, Failure> {
    let spec = bpfkit_object::map::Map::spec(m);
    let limit = (spec.max_entries as usize)
        .saturating_mul(2)
        .saturating_add(2);
    let mut out = Vec::new();
    let mut key: Option<Vec<u8>> = None;
    while out.len() < limit {
        let next = match m.get_next_key(key.as_deref()) {
            Ok(Some(k)) => k,
            Ok(None) => break,
            Err(e) => return Err(fail(format!("map id {}: {e}", m.id()))),
        };
        match m.lookup_elem(&next, 0) {
            Ok(v) => out.push(Elem::Value(next.clone(), v)),
            Err(e) => match e.errno() {
                Some(errno) => out.push(Elem::Error(next.clone(), errno)),
                None => return Err(fail(format!("map id {}: {e}", m.id()))),
            },
        }
        key = Some(next);
    }
    Ok(out)
}

/// The C library's text for an errno, as bpftool prints it.
fn strerror(errno: i32) -> String {
    let t = std::io::Error::from_raw_os_error(errno).to_string();
    t.split(" (os error").next().unwrap_or("").to_string()
}

/// A failed lookup as bpftool shows it; `None` where bpftool is silent
/// (an empty slot of a program array or map of maps).
fn entry_error(
    m: &KernelMap,
    key: &[u8],
    errno: i32,
    json_out: bool,
) -> Option<Result<Value, String>> {
    let spec = bpfkit_object::map::Map::spec(m);
    let t = spec.map_type;
    let enoent = bpfkit_object::map::MapError::NotFound.errno();
    if errno == enoent && (t.is_map_in_map() || t == MapType::ProgArray) {
        return None;
    }
    if json_out {
        return Some(Ok(
            json!({"key": json_bytes(key), "value": {"error": strerror(errno)}}),
        ));
    }
    let msg = if errno == enoent {
        "<no entry>".to_string()
    } else {
        strerror(errno)
    };
    let ks = spec.key_size as usize;
    let break_names = ks > 16 || msg.len() > 16;
    let single_line = ks + msg.len() <= 24 && !break_names;
    let brk = if break_names { '\n' } else { ' ' };
    Some(Err(format!(
        "key:{brk}{}{}value:{brk}{msg}\n",
        hex_bytes(key, " "),
        if single_line { "  " } else { "\n" }
    )))
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
