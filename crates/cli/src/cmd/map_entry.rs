//! One map element as bpftool prints it: raw bytes (text and JSON), per
//! CPU, through the map's BTF, and the failures of a lookup.

use bpfkit_kernel::btf::KernelBtf;
use bpfkit_kernel::map::KernelMap;
use bpfkit_kernel::possible_cpus;
use bpfkit_object::btf::Btf;
use bpfkit_object::kinds::MapType;
use serde_json::{json, Map, Value};

use super::btf_value::{self, Sink, ValueSink};
use super::kernel_render::{hex_bytes, json_bytes};
use crate::failure::{fail, Failure};

/// Whether values are one slot per CPU.
pub fn is_per_cpu(t: MapType) -> bool {
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

/// The map's BTF, fetched from the kernel, if bpftool would format with it.
pub fn map_btf(m: &KernelMap) -> Result<Option<MapBtf>, Failure> {
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
pub fn entry_btf(
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
pub fn entry_json(
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

/// The element's bytes as bpftool's JSON, without `formatted`.
pub fn entry_json_raw(m: &KernelMap, key: &[u8], value: &[u8]) -> Result<Value, Failure> {
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
pub fn entry_text(m: &KernelMap, key: &[u8], value: &[u8]) -> Result<String, Failure> {
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
pub enum Elem {
    /// The key and its value.
    Value(Vec<u8>, Vec<u8>),
    /// The key and the errno of its lookup.
    Error(Vec<u8>, i32),
}

/// Every key in iteration order with its lookup's outcome. Bounded, so a
/// map whose keys change under the walk (restarting `get_next_key`)
/// cannot keep it going forever.
pub fn walk(m: &KernelMap) -> Result<Vec<Elem>, Failure> {
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
pub fn strerror(errno: i32) -> String {
    let t = std::io::Error::from_raw_os_error(errno).to_string();
    t.split(" (os error").next().unwrap_or("").to_string()
}

/// A failed lookup as bpftool shows it; `None` where bpftool is silent
/// (an empty slot of a program array or map of maps).
pub fn entry_error(
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
