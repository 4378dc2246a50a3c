//! `bpfkit prog list|show|dump|pin|run`: kernel programs, as bpftool's
//! `prog` noun shows and handles them.

use std::path::Path;
use std::process::ExitCode;

use bpfkit_isa::disasm::{lines, DisasmOptions, ListingContext};
use bpfkit_kernel::info::{self, ProgInfo, ProgInfoArrays};
use bpfkit_kernel::prog::Program;
use bpfkit_kernel::test_run::TestRun;
use bpfkit_kernel::IdKind;
use serde_json::{json, Map, Value};

use super::kernel_args::{one, prog_ids, selector, Words};
use super::kernel_pins::Pins;
use super::kernel_render::{hex_bytes, hex_dump, iso_time, print_json, print_shown};
use crate::failure::{fail, CmdResult, Failure};
use crate::files;
use bpfkit_kernel::fd::ObjKind;

/// The verbs of `bpfkit prog`.
#[derive(clap::Subcommand)]
pub enum Command {
    /// Show every loaded program, or those a selector names
    /// (`id N | pinned PATH | name NAME | tag TAG`).
    #[command(visible_alias = "list")]
    Show(Args),
    /// `dump xlated PROG [file FILE] [opcodes]` (disassembled) or
    /// `dump jited PROG [file FILE]` (machine code bytes).
    Dump(Args),
    /// `pin PROG FILE`: pin a program on bpffs.
    Pin(Args),
    /// `run PROG data_in FILE|- [data_out FILE|-] [data_size_out N]
    /// [ctx_in FILE|-] [ctx_out FILE|-] [ctx_size_out N] [repeat N]`.
    Run(Args),
    /// `load OBJ PATH [type T] [map name NAME PATH]... [pinmaps DIR]`:
    /// load an object with bpfkit's loader, pin its first program.
    Load(super::prog_load::LoadArgs),
    /// `loadall OBJ DIR [type T] [map name NAME PATH]... [pinmaps DIR]
    /// [--keep-going] [--json]`: load an object, pin every program in DIR.
    Loadall(super::prog_load::LoadArgs),
}

/// The words after the verb, bpftool style.
#[derive(clap::Args)]
pub struct Args {
    /// Selector and options, as bpftool takes them (`-` alone is stdin
    /// or stdout).
    words: Vec<String>,
    /// Print JSON with bpftool's field names.
    #[arg(long, short = 'j')]
    json: bool,
    /// Also show where each object is pinned on bpffs (bpftool's `-f`).
    #[arg(long, short = 'f')]
    bpffs: bool,
}

/// Runs `bpfkit prog ...`.
pub fn run(c: Command) -> CmdResult {
    match c {
        Command::Show(a) => show(a),
        Command::Dump(a) => dump(a),
        Command::Pin(a) => pin(a),
        Command::Run(a) => test_run(a),
        Command::Load(a) => super::prog_load::load_one(a),
        Command::Loadall(a) => super::prog_load::load_all(a),
    }
}

fn show(a: Args) -> CmdResult {
    let mut w = Words::new(a.words);
    let (ids, all) = if w.is_empty() {
        (info::ids(IdKind::Prog).map_err(fail)?, true)
    } else {
        (prog_ids(&selector(&mut w, true)?)?, false)
    };
    w.finish()?;
    let mut infos = Vec::new();
    for id in ids {
        match ProgInfo::of_id(id, ProgInfoArrays::default()) {
            Ok(i) => infos.push(i),
            // A program can go away between listing and opening.
            Err(_) if all => {}
            Err(e) => return Err(fail(format!("program id {id}: {e}"))),
        }
    }
    let pins = Pins::of(ObjKind::Prog, a.bpffs);
    print_shown(
        &infos,
        all,
        a.json,
        |i| prog_json(i, pins.get(i.id).as_deref()),
        |i| prog_text(i, pins.get(i.id).as_deref()),
    );
    Ok(ExitCode::SUCCESS)
}

/// A program as `bpftool -j prog show` prints it.
pub fn prog_json(i: &ProgInfo, pins: Option<&[String]>) -> Value {
    let mut m = Map::new();
    m.insert("id".into(), json!(i.id));
    m.insert(
        "type".into(),
        match i.prog_type {
            Some(t) => json!(t.name()),
            None => json!(i.prog_type_raw),
        },
    );
    if !i.name.is_empty() {
        m.insert("name".into(), json!(i.display_name()));
    }
    m.insert("tag".into(), json!(i.tag_hex()));
    m.insert("gpl_compatible".into(), json!(i.gpl_compatible));
    if i.run_time_ns != 0 {
        m.insert("run_time_ns".into(), json!(i.run_time_ns));
        m.insert("run_cnt".into(), json!(i.run_cnt));
    }
    if i.recursion_misses != 0 {
        m.insert("recursion_misses".into(), json!(i.recursion_misses));
    }
    if i.load_time_ns != 0 {
        m.insert("loaded_at".into(), json!(i.loaded_at_unix()));
        m.insert("uid".into(), json!(i.uid));
    }
    m.insert("bytes_xlated".into(), json!(i.bytes_xlated));
    m.insert("jited".into(), json!(i.bytes_jited != 0));
    if i.bytes_jited != 0 {
        m.insert("bytes_jited".into(), json!(i.bytes_jited));
    }
    m.insert("bytes_memlock".into(), json!(i.bytes_memlock));
    if !i.map_ids.is_empty() {
        m.insert("map_ids".into(), json!(i.map_ids));
    }
    if let Some(p) = pins {
        m.insert("pinned".into(), json!(p));
    }
    if i.btf_id != 0 {
        m.insert("btf_id".into(), json!(i.btf_id));
    }
    Value::Object(m)
}

/// A program as `bpftool prog show` prints it.
pub fn prog_text(i: &ProgInfo, pins: Option<&[String]>) -> String {
    let mut s = format!("{}: ", i.id);
    match i.prog_type {
        Some(t) => s.push_str(&format!("{}  ", t.name())),
        None => s.push_str(&format!("type {}  ", i.prog_type_raw)),
    }
    if !i.name.is_empty() {
        s.push_str(&format!("name {}  ", i.display_name()));
    }
    s.push_str(&format!("tag {}", i.tag_hex()));
    if i.gpl_compatible {
        s.push_str("  gpl");
    }
    if i.run_time_ns != 0 {
        s.push_str(&format!(
            " run_time_ns {} run_cnt {}",
            i.run_time_ns, i.run_cnt
        ));
    }
    if i.recursion_misses != 0 {
        s.push_str(&format!(" recursion_misses {}", i.recursion_misses));
    }
    s.push('\n');
    if i.load_time_ns != 0 {
        s.push_str(&format!(
            "\tloaded_at {}  uid {}\n",
            iso_time(i.loaded_at_unix()),
            i.uid
        ));
    }
    s.push_str(&format!("\txlated {}B", i.bytes_xlated));
    if i.bytes_jited != 0 {
        s.push_str(&format!("  jited {}B", i.bytes_jited));
    } else {
        s.push_str("  not jited");
    }
    s.push_str(&format!("  memlock {}B", i.bytes_memlock));
    if !i.map_ids.is_empty() {
        let ids: Vec<String> = i.map_ids.iter().map(u32::to_string).collect();
        s.push_str(&format!("  map_ids {}", ids.join(",")));
    }
    for p in pins.unwrap_or_default() {
        s.push_str(&format!("\n\tpinned {p}"));
    }
    if i.btf_id != 0 {
        s.push_str(&format!("\n\tbtf_id {}", i.btf_id));
    }
    s.push('\n');
    s
}

fn dump(a: Args) -> CmdResult {
    let mut w = Words::new(a.words);
    let what = w.expect("'xlated' or 'jited'")?;
    let arrays = match what.as_str() {
        "xlated" => ProgInfoArrays {
            xlated: true,
            jited: false,
        },
        "jited" => ProgInfoArrays {
            xlated: false,
            jited: true,
        },
        other => return Err(fail(format!("expected 'xlated' or 'jited', got {other:?}"))),
    };
    let sel = selector(&mut w, true)?;
    let id = one(prog_ids(&sel)?, &sel)?;
    let mut file = None;
    let mut opcodes = false;
    while let Some(opt) = w.next() {
        match opt.as_str() {
            "file" => file = Some(w.expect("a file after 'file'")?),
            "opcodes" => opcodes = true,
            other => return Err(fail(format!("unexpected argument {other:?}"))),
        }
    }
    let i = ProgInfo::of_id(id, arrays).map_err(fail)?;
    let raw: Vec<u8> = if arrays.xlated {
        bpfkit_isa::encode_slots(&i.xlated)
    } else {
        i.jited.clone()
    };
    if raw.is_empty() {
        return Err(fail(format!(
            "program id {id}: the kernel returned no {what} code (hidden or not JITed)"
        )));
    }
    if let Some(f) = file {
        files::write_atomic(Path::new(&f), &raw)?;
        return Ok(ExitCode::SUCCESS);
    }
    if arrays.xlated {
        let opts = DisasmOptions {
            annotate: true,
            ..DisasmOptions::default()
        };
        let mut ls = lines(&i.xlated, &opts, &ListingContext::default());
        for l in &mut ls {
            if let Some(t) = map_reference(&l.bytes) {
                l.text = t;
            }
        }
        if a.json {
            let v: Vec<Value> = ls
                .iter()
                .map(|l| json!({"pc": l.pc, "opcode": format!("0x{:02x}", l.bytes[0]), "disasm": l.text}))
                .collect();
            print_json(&Value::Array(v));
        } else {
            for l in ls {
                println!("{:>4}: ({:02x}) {}", l.pc, l.bytes[0], l.text);
                if opcodes {
                    // bpftool's opcodes line: each 8-byte slot in hex.
                    let slots: Vec<String> = l.bytes.chunks(8).map(|c| hex_bytes(c, " ")).collect();
                    println!("       {}", slots.join(" "));
                }
            }
        }
    } else if a.json {
        print_json(
            &json!({"bytes_jited": i.jited.len(), "opcodes": super::kernel_render::json_bytes(&i.jited)}),
        );
    } else {
        // No machine-code disassembler here: the bytes, per JITed function.
        let lens = if i.jited_func_lens.is_empty() {
            vec![i.jited.len() as u32]
        } else {
            i.jited_func_lens.clone()
        };
        let mut at = 0usize;
        for (n, len) in lens.iter().enumerate() {
            let end = (at + *len as usize).min(i.jited.len());
            println!("func {n}:");
            for (row, chunk) in i.jited[at..end].chunks(16).enumerate() {
                println!("{:>4x}:\t{}", row * 16, hex_bytes(chunk, " "));
            }
            at = end;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// An `lddw` the kernel resolved to a map, as bpftool prints it: in
/// translated code `imm` holds the map's id (`BPF_PSEUDO_MAP_FD`, src 1)
/// and, for a value address (`BPF_PSEUDO_MAP_VALUE`, src 2), the second
/// slot's `imm` the offset.
fn map_reference(bytes: &[u8]) -> Option<String> {
    if bytes.len() != 16 || bytes[0] != 0x18 {
        return None;
    }
    let dst = bytes[1] & 0x0f;
    let id = u32::from_le_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]);
    let off = u32::from_le_bytes([bytes[12], bytes[13], bytes[14], bytes[15]]);
    match bytes[1] >> 4 {
        1 => Some(format!("r{dst} = map[id:{id}]")),
        2 => Some(format!("r{dst} = map[id:{id}][0]+{off}")),
        _ => None,
    }
}

fn pin(a: Args) -> CmdResult {
    let mut w = Words::new(a.words);
    let sel = selector(&mut w, true)?;
    let id = one(prog_ids(&sel)?, &sel)?;
    let path = w.expect("the pin path")?;
    w.finish()?;
    let p = Program::from_id(id).map_err(fail)?;
    p.pin(Path::new(&path)).map_err(fail)?;
    Ok(ExitCode::SUCCESS)
}

fn read_input(arg: &str) -> Result<Vec<u8>, Failure> {
    if arg == "-" {
        let mut v = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut v)
            .map_err(|e| fail(format!("stdin: {e}")))?;
        Ok(v)
    } else {
        files::read(Path::new(arg))
    }
}

fn test_run(a: Args) -> CmdResult {
    let mut w = Words::new(a.words);
    let sel = selector(&mut w, true)?;
    let id = one(prog_ids(&sel)?, &sel)?;
    let mut data_in = None;
    let mut data_out = None;
    let mut ctx_in = None;
    let mut ctx_out = None;
    let mut run = TestRun::default();
    let mut data_size_out = None;
    let mut ctx_size_out = None;
    while let Some(kw) = w.next() {
        let val = w.expect(&format!("a value after {kw:?}"))?;
        match kw.as_str() {
            "data_in" => data_in = Some(read_input(&val)?),
            "ctx_in" => ctx_in = Some(read_input(&val)?),
            "data_out" => data_out = Some(val),
            "ctx_out" => ctx_out = Some(val),
            "data_size_out" => {
                data_size_out = Some(super::kernel_args::number(&val, &kw)? as usize)
            }
            "ctx_size_out" => ctx_size_out = Some(super::kernel_args::number(&val, &kw)? as usize),
            "repeat" => run.repeat = super::kernel_args::number(&val, &kw)?,
            other => return Err(fail(format!("unexpected argument {other:?}"))),
        }
    }
    let data_in = data_in.unwrap_or_default();
    run.data_in = &data_in;
    run.ctx_in = ctx_in.as_deref();
    run.data_size_out = data_size_out;
    run.ctx_size_out = ctx_size_out;
    let p = Program::from_id(id).map_err(fail)?;
    let r = run.run(p.fd()).map_err(fail)?;
    let mut m = Map::new();
    for (key, dest, bytes) in [
        ("data_out", &data_out, &r.data_out),
        ("ctx_out", &ctx_out, &r.ctx_out),
    ] {
        match dest.as_deref() {
            None => {}
            Some("-") if a.json => {
                m.insert(key.into(), json!(bytes));
            }
            Some("-") => print!("{}", hex_dump(bytes)),
            Some(f) => files::write_atomic(Path::new(f), bytes)?,
        }
    }
    if a.json {
        m.insert("retval".into(), json!(r.retval));
        m.insert("duration".into(), json!(r.duration_ns));
        print_json(&Value::Object(m));
    } else {
        println!(
            "Return value: {}, duration{}: {}ns",
            r.retval,
            if run.repeat > 1 { " (average)" } else { "" },
            r.duration_ns
        );
    }
    Ok(ExitCode::SUCCESS)
}
