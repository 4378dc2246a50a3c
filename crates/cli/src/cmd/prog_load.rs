//! `bpfkit prog load` and `bpfkit prog loadall`: an ELF object into the
//! kernel with bpfkit's own loader (no libbpf), as bpftool's verbs take
//! their words: `load OBJ PATH [type T] [map name NAME [pinned] PATH]...
//! [pinmaps DIR]` pins the first program at PATH; `loadall OBJ DIR
//! [type T] [map ...] [pinmaps DIR]` pins every program at `DIR/NAME`.
//!
//! bpftool's loads are all or nothing; `--keep-going` (loadall) loads
//! every program the kernel accepts, pins those, and reports each
//! program's verdict (`--json`: one object per program).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use bpfkit_kernel::loader::{self, LoadError, LoadOptions, LoadType, LoadedObject};
use bpfkit_object::read::{section_defs, Object};
use serde_json::{json, Value};

use super::kernel_args::Words;
use super::kernel_render::print_json;
use crate::failure::{fail, CmdResult, Failure};

/// The words of `load` and `loadall`.
#[derive(clap::Args)]
pub struct LoadArgs {
    /// `OBJ PATH [type T] [map name NAME [pinned] PATH]... [pinmaps DIR]`.
    words: Vec<String>,
    /// Load every program the kernel accepts and report each verdict,
    /// instead of failing the whole object at the first refusal.
    #[arg(long)]
    keep_going: bool,
    /// Print each program's verdict as JSON.
    #[arg(long, short = 'j')]
    json: bool,
}

struct Parsed {
    object: PathBuf,
    pin: PathBuf,
    options: LoadOptions,
    pinmaps: Option<PathBuf>,
}

fn parse(words: Vec<String>) -> Result<Parsed, Failure> {
    let mut w = Words::new(words);
    let object = PathBuf::from(w.expect("OBJ")?);
    let pin = PathBuf::from(w.expect("PATH")?);
    // iproute2's object namespace is named by the file's SHA-1.
    let bytes = std::fs::read(&object).map_err(|e| fail(format!("{}: {e}", object.display())))?;
    let mut options = LoadOptions {
        object_ns: Some(loader::object_ns_of(&bytes)),
        ..LoadOptions::default()
    };
    let mut pinmaps = None;
    while let Some(word) = w.next() {
        match word.as_str() {
            "type" => {
                let t = w.expect("a program type")?;
                let s = section_defs::classify(&t, false);
                if s.prog_type == bpfkit_object::kinds::ProgType::Unspec {
                    return Err(fail(format!(
                        "type {t}: not a program type libbpf's section names know"
                    )));
                }
                options.prog_type = Some(LoadType {
                    prog_type: s.prog_type,
                    expected_attach_type: s.expected_attach_type,
                });
            }
            "map" => {
                if !w.eat("name") {
                    return Err(fail(
                        "map: expected 'name NAME PATH' (maps are replaced by name)",
                    ));
                }
                let name = w.expect("a map name")?;
                w.eat("pinned");
                let path = PathBuf::from(w.expect("the pinned map's PATH")?);
                options.reuse_maps.push((name, path));
            }
            "pinmaps" => pinmaps = Some(PathBuf::from(w.expect("a directory")?)),
            other => return Err(fail(format!("unexpected '{other}'"))),
        }
    }
    Ok(Parsed {
        object,
        pin,
        options,
        pinmaps,
    })
}

/// `prog load`: the object loaded, its first program pinned at PATH.
pub fn load_one(a: LoadArgs) -> CmdResult {
    let p = parse(a.words)?;
    let obj = Object::open(&p.object).map_err(fail)?;
    let mut options = p.options;
    options.keep_going = a.keep_going;
    let mut loaded = loader::load(&obj, &options).map_err(render)?;
    let result = (|| {
        let first = loaded
            .programs
            .first()
            .ok_or_else(|| fail(format!("{}: no programs", p.object.display())))?;
        match &first.result {
            Ok(prog) => prog.pin(&p.pin).map_err(fail)?,
            Err(LoadError::Rejected(r)) => return Err(fail(r.render().trim_end())),
            Err(e) => return Err(fail(e)),
        }
        pin_maps(&mut loaded, p.pinmaps.as_deref())
    })();
    if result.is_err() {
        loaded.unpin();
    }
    result?;
    Ok(ExitCode::SUCCESS)
}

/// `prog loadall`: every program pinned under DIR.
pub fn load_all(a: LoadArgs) -> CmdResult {
    let p = parse(a.words)?;
    let obj = Object::open(&p.object).map_err(fail)?;
    let mut options = p.options;
    options.keep_going = a.keep_going;
    let mut loaded = match loader::load(&obj, &options) {
        Ok(l) => l,
        Err(e) if a.json => {
            print_json(&Value::Array(failed_object(&obj, &e)));
            return Err(render(e));
        }
        Err(e) => return Err(render(e)),
    };
    let result = loaded
        .pin_programs(&p.pin)
        .map_err(render)
        .and_then(|()| pin_maps(&mut loaded, p.pinmaps.as_deref()));
    if result.is_err() {
        loaded.unpin();
    }
    if a.json {
        print_json(&Value::Array(verdicts(&loaded)));
    } else if a.keep_going {
        for prog in &loaded.programs {
            match &prog.result {
                Ok(pr) => println!(
                    "{} ({}): loaded, id {}",
                    prog.name,
                    prog.section,
                    pr.id().map_or_else(|_| "?".into(), |i| i.to_string())
                ),
                Err(e) => println!(
                    "{} ({}): not loaded: {}",
                    prog.name,
                    prog.section,
                    indent(&e.to_string())
                ),
            }
        }
    }
    result?;
    let refused = loaded.programs.iter().any(|p| p.result.is_err());
    Ok(if refused {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn pin_maps(loaded: &mut LoadedObject, dir: Option<&Path>) -> Result<(), Failure> {
    match dir {
        Some(d) => loaded.pin_maps(d).map_err(render),
        None => Ok(()),
    }
}

fn indent(s: &str) -> String {
    s.trim_end().replace('\n', "\n    ")
}

/// A load error as the user sees it: a rejection with its whole log.
fn render(e: LoadError) -> Failure {
    match e {
        LoadError::Rejected(r) => fail(r.render().trim_end()),
        e => fail(e),
    }
}

fn verdict(name: &str, section: &str, prog_type: &str, result: Result<u32, &LoadError>) -> Value {
    let mut v = json!({ "name": name, "section": section, "type": prog_type });
    match result {
        Ok(id) => {
            v["loaded"] = json!(true);
            v["id"] = json!(id);
        }
        Err(e) => {
            v["loaded"] = json!(false);
            v["error"] = json!(match e {
                LoadError::Rejected(r) => bpfkit_kernel::error::Errno(r.errno).to_string(),
                other => other.to_string(),
            });
            if let LoadError::Rejected(r) = e {
                v["errno"] = json!(r.errno);
                v["verifier_last_line"] = json!(r.last_log_line());
                if let Some(f) = &r.failing {
                    v["insn"] = json!(f.index);
                    v["disasm"] = json!(f.disasm);
                    if let Some(s) = &f.source {
                        v["source"] = json!(format!("{}:{}", s.file, s.line));
                    }
                }
            }
        }
    }
    v
}

fn verdicts(loaded: &LoadedObject) -> Vec<Value> {
    loaded
        .programs
        .iter()
        .map(|p| {
            let r = match &p.result {
                Ok(prog) => Ok(prog.id().unwrap_or(0)),
                Err(e) => Err(e),
            };
            verdict(&p.name, &p.section, p.load_type.prog_type.name(), r)
        })
        .collect()
}

/// Every program of an object whose load failed as a whole (nothing was
/// loaded), each with the object's error.
fn failed_object(obj: &Object, e: &LoadError) -> Vec<Value> {
    obj.programs
        .iter()
        .filter(|p| p.section_type.autoload)
        .map(|p| verdict(&p.name, &p.section, p.section_type.prog_type.name(), Err(e)))
        .collect()
}
