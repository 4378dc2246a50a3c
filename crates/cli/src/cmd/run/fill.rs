//! The `--map NAME=@FILE.json` and `--set GLOBAL=VALUE` arguments of
//! `bpfkit run`: parsed and encoded through the object's BTF once, then
//! written into the userspace runtime's maps here, or into the kernel's
//! (see [`super::kernel`]).

use std::path::Path;

use bpfkit_object::btf::Btf;
use bpfkit_object::read::MapDef;
use bpfkit_vm::runtime::Runtime;
use serde_json::Value;

use super::encode;
use crate::failure::{fail, Failure};
use crate::files;

pub(crate) fn map_def<'a>(
    defs: impl IntoIterator<Item = &'a MapDef>,
    name: &str,
) -> Result<&'a MapDef, Failure> {
    let defs: Vec<&MapDef> = defs.into_iter().collect();
    defs.iter()
        .find(|d| d.name == name)
        .copied()
        .ok_or_else(|| {
            let all: Vec<&str> = defs.iter().map(|d| d.name.as_str()).collect();
            fail(format!(
                "--map: no map named {name}; the object has: {}",
                all.join(", ")
            ))
        })
}

/// The bytes a map's value crosses the syscall as: per-CPU values are
/// 8-byte aligned, once per CPU (one CPU here).
fn sys_value_size(def: &MapDef) -> usize {
    use bpfkit_object::kinds::MapType;
    let per_cpu = matches!(
        def.map_type,
        Some(MapType::PercpuArray | MapType::PercpuHash | MapType::LruPercpuHash)
    );
    if per_cpu {
        (def.value_size as usize).div_ceil(8) * 8
    } else {
        def.value_size as usize
    }
}

/// A map entry's key and value bytes.
type KeyValue = (Vec<u8>, Vec<u8>);

/// The entries of a `--map NAME=@FILE.json` argument: the map's name,
/// the file, and its (key, value) pairs as JSON.
pub(crate) struct MapFill {
    pub(crate) name: String,
    file: String,
    entries: Vec<(Value, Value)>,
}

impl MapFill {
    pub(crate) fn parse(spec: &str) -> Result<MapFill, Failure> {
        let (name, file) = spec
            .split_once("=@")
            .ok_or_else(|| fail(format!("--map {spec}: expected NAME=@FILE.json")))?;
        let text = files::read_text(Path::new(file))?;
        let doc: Value = serde_json::from_str(&text)
            .map_err(|e| fail(format!("{file}:{}:{}: {e}", e.line(), e.column())))?;
        let entries: Vec<(Value, Value)> = match doc {
            Value::Array(items) => items
                .into_iter()
                .enumerate()
                .map(|(i, item)| match (item.get("key"), item.get("value")) {
                    (Some(k), Some(v)) => Ok((k.clone(), v.clone())),
                    _ => Err(fail(format!(
                        "{file}: entry {i}: expected {{\"key\": ..., \"value\": ...}}"
                    ))),
                })
                .collect::<Result<_, _>>()?,
            Value::Object(m) => m.into_iter().map(|(k, v)| (Value::String(k), v)).collect(),
            _ => {
                return Err(fail(format!(
                    "{file}: expected an array of {{key, value}} objects"
                )))
            }
        };
        Ok(MapFill {
            name: name.to_string(),
            file: file.to_string(),
            entries,
        })
    }

    /// The entries as bytes through the map's BTF types; a per-CPU value
    /// is repeated for each of `cpus` CPUs.
    pub(crate) fn encode(
        &self,
        btf: Option<&Btf>,
        def: &MapDef,
        cpus: usize,
    ) -> Result<Vec<KeyValue>, Failure> {
        let (file, name) = (&self.file, &self.name);
        let mut out = Vec::with_capacity(self.entries.len());
        for (i, (k, v)) in self.entries.iter().enumerate() {
            let at = |what: &str, e: String| {
                fail(format!("{file}: entry {i}: {what} for map {name}: {e}"))
            };
            let key = encode::encode(btf, def.key_type, def.key_size as usize, k)
                .map_err(|e| at("key", e))?;
            let value = encode::encode(btf, def.value_type, sys_value_size(def), v)
                .map_err(|e| at("value", e))?;
            let value = if value.len() == def.value_size as usize {
                value
            } else {
                value.repeat(cpus.max(1))
            };
            out.push((key, value));
        }
        Ok(out)
    }

    /// Where an update of entry `i` failed.
    pub(crate) fn failed(&self, i: usize, e: impl std::fmt::Display) -> Failure {
        fail(format!("{}: entry {i}: {e}", self.file))
    }
}

pub(crate) fn fill_map(rt: &mut Runtime, spec: &str) -> Result<(), Failure> {
    let fill = MapFill::parse(spec)?;
    let def = map_def(rt.map_defs().map(|(d, _)| d), &fill.name)?.clone();
    let entries = fill.encode(rt.btf(), &def, 1)?;
    for (i, (key, value)) in entries.iter().enumerate() {
        rt.map_update(&fill.name, key, value)
            .map_err(|e| fill.failed(i, e))?;
    }
    Ok(())
}

/// A `--set GLOBAL=VALUE` argument: the variable's map, offset and bytes.
pub(crate) struct GlobalSet {
    pub(crate) name: String,
    pub(crate) map: String,
    pub(crate) offset: usize,
    pub(crate) bytes: Vec<u8>,
}

impl GlobalSet {
    /// Encodes `spec` through the BTF type of the variable, found among
    /// the global data maps' variables.
    pub(crate) fn parse<'a>(
        defs: impl Iterator<Item = &'a MapDef>,
        btf: Option<&Btf>,
        spec: &str,
    ) -> Result<GlobalSet, Failure> {
        let (name, text) = spec
            .split_once('=')
            .ok_or_else(|| fail(format!("--set {spec}: expected GLOBAL=VALUE")))?;
        let (map, var) = defs
            .flat_map(|d| d.variables.iter().map(move |v| (d, v)))
            .find(|(_, v)| v.name == name)
            .ok_or_else(|| fail(format!("--set: no global variable named {name}")))?;
        let value = serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_string()));
        let bytes = encode::encode(btf, Some(var.type_id), var.size as usize, &value)
            .map_err(|e| fail(format!("--set {name}: {e}")))?;
        Ok(GlobalSet {
            name: name.to_string(),
            map: map.name.clone(),
            offset: var.offset as usize,
            bytes,
        })
    }
}

pub(crate) fn set_global(rt: &mut Runtime, spec: &str) -> Result<(), Failure> {
    let set = GlobalSet::parse(rt.map_defs().map(|(d, _)| d), rt.btf(), spec)?;
    rt.set_global(&set.name, &set.bytes)
        .map_err(|e| fail(format!("--set: {e}")))
}
