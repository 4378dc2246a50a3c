//! `bpfkit inspect OBJ [--json]`: what a BPF ELF object holds: sections,
//! programs, maps, global data, externs, relocations, BTF and CO-RE
//! records. A raw BTF file (`/sys/kernel/btf/vmlinux`) gets its BTF summary.

use crate::failure::{fail, CmdResult};
use bpfkit_object::btf::{Btf, CoreRelo};
use bpfkit_object::read::listing::describe;
use bpfkit_object::read::{
    Extern, MapDef, NormalisedValue, Object, Relocation, Section, TypeSource,
};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `bpfkit inspect`.
#[derive(clap::Args)]
pub struct Args {
    /// A BPF ELF object (`clang -target bpf -c`), or a raw BTF file.
    file: PathBuf,
    /// Print JSON for programs instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct JsonProgram<'a> {
    name: &'a str,
    section: &'a str,
    prog_type: &'static str,
    expected_attach_type: Option<&'static str>,
    attach_target: Option<&'a str>,
    prog_flags: u32,
    autoload: bool,
    type_source: &'a bpfkit_object::read::TypeSource,
    insn_count: usize,
    subprograms: Vec<&'a str>,
    license: Option<&'a str>,
    relocations: &'a [Relocation],
    func_info: usize,
    line_info: usize,
    core_relos: usize,
}

#[derive(Serialize)]
struct JsonCore<'a> {
    section: &'a str,
    #[serde(flatten)]
    relo: &'a CoreRelo,
    type_name: &'a str,
}

#[derive(Serialize)]
struct JsonObject<'a> {
    file: String,
    big_endian: bool,
    machine: u16,
    license: Option<&'a str>,
    kernel_version: Option<u32>,
    sections: &'a [Section],
    programs: Vec<JsonProgram<'a>>,
    maps: &'a [MapDef],
    externs: &'a [Extern],
    btf_types_by_kind: BTreeMap<&'static str, usize>,
    core_relos_by_kind: BTreeMap<&'static str, usize>,
    core_relos: Vec<JsonCore<'a>>,
}

/// What `inspect` says of a raw BTF file.
#[derive(Serialize)]
struct JsonBtf<'a> {
    file: String,
    format: &'static str,
    header: &'a bpfkit_object::btf::Header,
    types: usize,
    btf_types_by_kind: BTreeMap<&'static str, usize>,
}

/// BTF's magic, in either byte order.
fn is_raw_btf(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0x9f, 0xeb]) || bytes.starts_with(&[0xeb, 0x9f])
}

/// `inspect` of a raw BTF file: its header and types by kind.
fn inspect_btf(a: &Args, bytes: &[u8]) -> CmdResult {
    let btf = Btf::parse(bytes).map_err(|e| fail(format!("{}: {e}", a.file.display())))?;
    let kinds = types_by_kind(&btf);
    let h = btf.header();
    if a.json {
        let out = JsonBtf {
            file: a.file.display().to_string(),
            format: "btf",
            header: h,
            types: btf.len() - 1,
            btf_types_by_kind: kinds,
        };
        println!("{}", serde_json::to_string_pretty(&out).map_err(fail)?);
    } else {
        let list: Vec<String> = kinds.iter().map(|(k, n)| format!("{k} {n}")).collect();
        println!(
            "{}: raw BTF, {:?} endian, {} bytes of types, {} bytes of strings\n\nBTF:\n  {} types: {}",
            a.file.display(),
            h.endian,
            h.type_len,
            h.str_len,
            btf.len() - 1,
            list.join(", ")
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs `bpfkit inspect`.
pub fn run(a: Args) -> CmdResult {
    let bytes = crate::files::read(&a.file)?;
    if is_raw_btf(&bytes) {
        return inspect_btf(&a, &bytes);
    }
    let obj = Object::open(&a.file).map_err(fail)?;
    let core: Vec<JsonCore> = obj
        .btf_ext
        .iter()
        .flat_map(|e| &e.core_relos)
        .flat_map(|s| s.records.iter().map(move |r| (s.section.as_str(), r)))
        .map(|(section, relo)| JsonCore {
            section,
            relo,
            type_name: obj.btf.as_ref().map_or("", |b| b.name_of(relo.type_id)),
        })
        .collect();
    let mut core_by_kind = BTreeMap::new();
    for c in &core {
        *core_by_kind.entry(c.relo.kind.name()).or_insert(0) += 1;
    }
    let kinds = obj.btf.as_ref().map(types_by_kind).unwrap_or_default();
    if a.json {
        let programs = obj
            .programs
            .iter()
            .map(|p| JsonProgram {
                name: &p.name,
                section: &p.section,
                prog_type: p.section_type.prog_type.name(),
                expected_attach_type: p.section_type.expected_attach_type.map(|t| t.name()),
                attach_target: p.section_type.attach_target.as_deref(),
                prog_flags: p.section_type.prog_flags,
                autoload: p.section_type.autoload,
                type_source: &p.section_type.source,
                insn_count: p.insns.len(),
                subprograms: p.subprograms().iter().map(|f| f.name.as_str()).collect(),
                license: obj.license.as_deref(),
                relocations: &p.relocations,
                func_info: p.func_info.len(),
                line_info: p.line_info.len(),
                core_relos: p.core_relos.len(),
            })
            .collect();
        let out = JsonObject {
            file: a.file.display().to_string(),
            big_endian: obj.big_endian,
            machine: obj.machine,
            license: obj.license.as_deref(),
            kernel_version: obj.kernel_version,
            sections: &obj.sections,
            programs,
            maps: &obj.maps,
            externs: &obj.externs,
            btf_types_by_kind: kinds,
            core_relos_by_kind: core_by_kind,
            core_relos: core,
        };
        println!("{}", serde_json::to_string_pretty(&out).map_err(fail)?);
        return Ok(ExitCode::SUCCESS);
    }
    print!("{}", text(&a, &obj, &kinds, &core_by_kind, &core));
    Ok(ExitCode::SUCCESS)
}

fn types_by_kind(btf: &Btf) -> BTreeMap<&'static str, usize> {
    let mut m = BTreeMap::new();
    for (id, t) in btf.types() {
        if id != 0 {
            *m.entry(t.kind.name()).or_insert(0) += 1;
        }
    }
    m
}

fn version(v: u32) -> String {
    format!("{}.{}.{} ({v:#x})", v >> 16, (v >> 8) & 0xff, v & 0xff)
}

fn text(
    a: &Args,
    obj: &Object,
    kinds: &BTreeMap<&'static str, usize>,
    core_by_kind: &BTreeMap<&'static str, usize>,
    core: &[JsonCore],
) -> String {
    let mut o = String::new();
    let endian = if obj.big_endian {
        "big-endian"
    } else {
        "little-endian"
    };
    let _ = writeln!(
        o,
        "{}: BPF ELF object, {endian}, e_machine {}",
        a.file.display(),
        obj.machine
    );
    let _ = writeln!(o, "license: {}", obj.license.as_deref().unwrap_or("(none)"));
    if let Some(v) = obj.kernel_version {
        let _ = writeln!(o, "kernel version: {}", version(v));
    }

    let _ = writeln!(o, "\nsections ({}):", obj.sections.len());
    let _ = writeln!(
        o,
        "  {:>3}  {:<28} {:<12} {:<5} {:>8}",
        "idx", "name", "type", "flags", "size"
    );
    for s in obj.sections.iter().skip(1) {
        let _ = writeln!(
            o,
            "  {:>3}  {:<28} {:<12} {:<5} {:>8}",
            s.index,
            s.name,
            s.type_name(),
            s.flag_letters(),
            s.size
        );
    }

    let _ = writeln!(o, "\nprograms ({}):", obj.programs.len());
    for p in &obj.programs {
        let t = &p.section_type;
        let _ = writeln!(o, "  {} (section {})", p.name, p.section);
        let _ = writeln!(
            o,
            "    type {}, expected attach type {}",
            t.prog_type.name(),
            t.expected_attach_type.map_or("-", |x| x.name())
        );
        let from = match &t.source {
            TypeSource::Libbpf(p) => format!("libbpf section pattern \"{p}\""),
            TypeSource::Iproute2 => "iproute2: any section of a tc object".into(),
            TypeSource::Unknown => "no known section name: the loader must be told".into(),
        };
        let _ = writeln!(o, "    type from {from}");
        if let Some(target) = &t.attach_target {
            let _ = writeln!(o, "    attach target {target}");
        }
        if !t.autoload {
            let _ = writeln!(
                o,
                "    not loaded by default (section name starts with '?')"
            );
        }
        if t.prog_flags != 0 {
            let _ = writeln!(o, "    prog flags {:#x}", t.prog_flags);
        }
        let subs: Vec<String> = p
            .subprograms()
            .iter()
            .map(|f| format!("{} @{}", f.name, f.start))
            .collect();
        let _ = writeln!(
            o,
            "    {} instructions; subprograms: {}",
            p.insns.len(),
            if subs.is_empty() {
                "none".into()
            } else {
                subs.join(", ")
            }
        );
        let _ = writeln!(
            o,
            "    func_info {}, line_info {}, CO-RE relocations {}",
            p.func_info.len(),
            p.line_info.len(),
            p.core_relos.len()
        );
        for r in &p.relocations {
            let _ = writeln!(
                o,
                "    reloc insn {:>4}: {:<14} {}",
                r.insn,
                r.r_type.name(),
                describe(&r.target)
            );
        }
    }

    let _ = writeln!(o, "\nmaps ({}):", obj.maps.len());
    for m in &obj.maps {
        map_text(&mut o, m, "  ");
    }

    let globals: Vec<&MapDef> = obj
        .maps
        .iter()
        .filter(|m| !m.variables.is_empty())
        .collect();
    let _ = writeln!(o, "\nglobals:");
    if globals.is_empty() {
        let _ = writeln!(o, "  (none)");
    }
    for m in globals {
        for v in &m.variables {
            let _ = writeln!(
                o,
                "  {:<16} {}+{:#x} size {} : {}{}",
                v.name,
                m.name,
                v.offset,
                v.size,
                v.type_name,
                if v.is_static { " (static)" } else { "" }
            );
        }
    }
    let _ = writeln!(o, "\nexterns ({}):", obj.externs.len());
    for e in &obj.externs {
        let weak = if e.weak { " weak" } else { "" };
        let at = e
            .kconfig_offset
            .map(|off| format!(" at .kconfig+{off:#x}"))
            .unwrap_or_default();
        let _ = writeln!(
            o,
            "  {:<24} {}{weak} : {}{at}",
            e.name,
            e.kind.name(),
            e.type_name
        );
    }

    let _ = writeln!(o, "\nBTF:");
    match &obj.btf {
        None => {
            let _ = writeln!(o, "  (no .BTF)");
        }
        Some(b) => {
            let list: Vec<String> = kinds.iter().map(|(k, n)| format!("{k} {n}")).collect();
            let _ = writeln!(o, "  {} types: {}", b.len() - 1, list.join(", "));
        }
    }
    let _ = writeln!(o, "\nCO-RE relocations ({}):", core.len());
    if !core.is_empty() {
        let list: Vec<String> = core_by_kind
            .iter()
            .map(|(k, n)| format!("{k} {n}"))
            .collect();
        let _ = writeln!(o, "  by kind: {}", list.join(", "));
    }
    for c in core {
        let _ = writeln!(
            o,
            "  {} insn {}: {} [{}] {} access {}",
            c.section,
            c.relo.insn_off / 8,
            c.relo.kind.name(),
            c.relo.type_id,
            c.type_name,
            c.relo.access
        );
    }
    o
}

fn map_text(o: &mut String, m: &MapDef, indent: &str) {
    let ty = m.map_type.map_or_else(
        || format!("type {}", m.map_type_raw),
        |t| t.name().to_string(),
    );
    let _ = writeln!(
        o,
        "{indent}{} ({ty}, from {} at {}+{:#x})",
        m.name,
        m.source.name(),
        m.section,
        m.offset
    );
    let _ = writeln!(
        o,
        "{indent}  key {} value {} max_entries {} flags {:#x} numa_node {} map_extra {} pinning {}",
        m.key_size, m.value_size, m.max_entries, m.map_flags, m.numa_node, m.map_extra, m.pinning
    );
    if m.key_type.is_some() || m.value_type.is_some() {
        let id = |t: Option<u32>| t.map_or("-".to_string(), |t| format!("[{t}]"));
        let _ = writeln!(
            o,
            "{indent}  btf key {} value {}",
            id(m.key_type),
            id(m.value_type)
        );
    }
    if let Some([id, inner_id, inner_idx]) = m.iproute2_ids {
        let _ = writeln!(
            o,
            "{indent}  iproute2 id {id} inner_id {inner_id} inner_idx {inner_idx}"
        );
    }
    if let Some(i) = m.legacy_inner_idx {
        let _ = writeln!(o, "{indent}  inner_map_idx {i}");
    }
    if m.frozen {
        let _ = writeln!(o, "{indent}  frozen after load");
    }
    let initial = match (&m.data, m.source) {
        (Some(d), _) => Some((d.len(), d.iter().take(16).copied().collect::<Vec<u8>>())),
        // A `.bss` or `.kconfig` map as read has no bytes: its zeros.
        (None, bpfkit_object::read::MapSource::Bss | bpfkit_object::read::MapSource::Kconfig) => {
            let n = m.value_size as usize;
            Some((n, vec![0; n.min(16)]))
        }
        (None, _) => None,
    };
    if let Some((len, head)) = initial {
        let shown: Vec<String> = head.iter().map(|b| format!("{b:02x}")).collect();
        let more = if len > 16 { " ..." } else { "" };
        let _ = writeln!(
            o,
            "{indent}  initial data ({len} bytes): {}{more}",
            shown.join(" ")
        );
    }
    for s in &m.initial_slots {
        let _ = writeln!(o, "{indent}  [{}] = {}", s.index, s.target);
    }
    for s in &m.struct_ops {
        let _ = writeln!(
            o,
            "{indent}  .{} (member {}, +{:#x}) = program {}",
            s.member, s.index, s.offset, s.program
        );
    }
    for n in &m.normalisations {
        let to = match n.to {
            NormalisedValue::Value(v) => v.to_string(),
            NormalisedValue::PossibleCpus => "the number of possible CPUs (at load)".into(),
        };
        let _ = writeln!(
            o,
            "{indent}  normalised {}: {} -> {to} ({})",
            n.field, n.from, n.reason
        );
    }
    if let Some(inner) = &m.inner {
        let _ = writeln!(o, "{indent}  inner map:");
        map_text(o, inner, &format!("{indent}    "));
    }
}
