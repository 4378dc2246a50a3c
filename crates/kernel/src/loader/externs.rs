//! Extern values: `.kconfig` variables from the kernel's version and
//! configuration, `.ksyms` variables and kfuncs by vmlinux BTF id (or by
//! kallsyms address for typeless ones), as libbpf resolves them.

use std::collections::HashMap;
use std::path::PathBuf;

use bpfkit_object::btf::{Btf, Kind};
use bpfkit_object::read::{Extern, ExternKind, MapSource, Object};

use super::error::LoadError;

/// What a `.ksyms` extern resolved to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ksym {
    /// A vmlinux BTF id (a typed variable's VAR, a kfunc's FUNC).
    BtfId(u32),
    /// A typeless variable's kallsyms address.
    Address(u64),
    /// A `__weak` extern this kernel lacks: the loader leaves 0.
    Missing,
}

/// `KERNEL_VERSION(a, b, c)` of a release string (`6.18.0-1-amd64`), as
/// libbpf computes `LINUX_KERNEL_VERSION` (the sublevel capped at 255).
pub fn kernel_version_code(release: &str) -> Option<u32> {
    let mut parts = release.split(|c: char| !c.is_ascii_digit());
    let a: u32 = parts.next()?.parse().ok()?;
    let b: u32 = parts.next()?.parse().ok()?;
    let c: u32 = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    Some((a << 16) | (b << 8) | c.min(255))
}

/// The running kernel's `KERNEL_VERSION` code.
pub fn running_kernel_version() -> Result<u32, LoadError> {
    let path = "/proc/sys/kernel/osrelease";
    let release = std::fs::read_to_string(path).map_err(|e| LoadError::Read {
        path: PathBuf::from(path),
        message: e.to_string(),
    })?;
    kernel_version_code(release.trim()).ok_or_else(|| LoadError::Read {
        path: PathBuf::from(path),
        message: format!("cannot read a version from {:?}", release.trim()),
    })
}

/// The `CONFIG_X=value` lines of a kernel configuration.
pub fn parse_config(text: &str) -> HashMap<String, String> {
    text.lines()
        .filter(|l| l.starts_with("CONFIG_"))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.trim().to_string()))
        .collect()
}

/// The bytes of the `.kconfig` map: each kconfig extern at its offset.
/// `config` is the kernel configuration's text (read only when a
/// `CONFIG_*` extern needs it).
pub fn kconfig_value(
    obj: &Object,
    config: &mut dyn FnMut() -> Result<String, LoadError>,
) -> Result<Option<Vec<u8>>, LoadError> {
    let Some(map) = obj.maps.iter().find(|m| m.source == MapSource::Kconfig) else {
        return Ok(None);
    };
    let mut value = vec![0u8; map.value_size as usize];
    let mut options: Option<HashMap<String, String>> = None;
    for e in obj.externs.iter().filter(|e| e.kind == ExternKind::Kconfig) {
        let (Some(off), Some(size)) = (e.kconfig_offset, e.size) else {
            return Err(LoadError::ext(&e.name, "has no place in .kconfig"));
        };
        let (off, size) = (off as usize, size as usize);
        let Some(slot) = value.get_mut(off..off + size) else {
            return Err(LoadError::ext(&e.name, "lies outside the .kconfig map"));
        };
        if let Some(rest) = e.name.strip_prefix("LINUX_") {
            let v = match rest {
                "KERNEL_VERSION" => u64::from(running_kernel_version()?),
                _ if e.weak => continue,
                _ => return Err(LoadError::ext(&e.name, "not a value this loader provides")),
            };
            put_int(slot, v, &e.name)?;
            continue;
        }
        if !e.name.starts_with("CONFIG_") {
            return Err(LoadError::ext(
                &e.name,
                "a .kconfig extern must be CONFIG_* or LINUX_*",
            ));
        }
        if options.is_none() {
            options = Some(parse_config(&config()?));
        }
        let Some(raw) = options.as_ref().and_then(|o| o.get(&e.name)) else {
            if e.weak {
                continue;
            }
            return Err(LoadError::ext(
                &e.name,
                "not set in the kernel configuration",
            ));
        };
        put_config(e, slot, raw)?;
    }
    Ok(Some(value))
}

fn put_int(slot: &mut [u8], v: u64, name: &str) -> Result<(), LoadError> {
    let n = slot.len();
    if n > 8 || (n < 8 && v >> (n * 8) != 0 && (v as i64) >= 0) {
        return Err(LoadError::ext(
            name,
            format!("value {v} does not fit {n} bytes"),
        ));
    }
    slot.copy_from_slice(&v.to_ne_bytes()[..n]);
    Ok(())
}

/// One `CONFIG_` value into its slot by the extern's type: tristate (`y`
/// 1, `m` 2), bool and char (`y` 1 / the letter), a string into a `char`
/// array, otherwise an integer (decimal or hex).
fn put_config(e: &Extern, slot: &mut [u8], raw: &str) -> Result<(), LoadError> {
    let ty = e.type_name.as_str();
    let letter = matches!(raw, "y" | "m" | "n");
    if ty.contains("tristate") {
        let v = match raw {
            "y" => 1,
            "m" => 2,
            "n" => 0,
            _ => {
                return Err(LoadError::ext(
                    &e.name,
                    format!("'{raw}' is not a tristate"),
                ))
            }
        };
        return put_int(slot, v, &e.name);
    }
    if ty == "_Bool" || ty == "bool" {
        return match raw {
            "y" => put_int(slot, 1, &e.name),
            "n" => put_int(slot, 0, &e.name),
            _ => Err(LoadError::ext(
                &e.name,
                format!("'{raw}' is not a bool value"),
            )),
        };
    }
    if ty == "char" && letter {
        let (Some(first), Some(byte)) = (slot.first_mut(), raw.bytes().next()) else {
            return Err(LoadError::ext(&e.name, "has no room for a char"));
        };
        *first = byte;
        return Ok(());
    }
    if ty.starts_with("char[") {
        let Some(text) = raw.strip_prefix('"').and_then(|r| r.strip_suffix('"')) else {
            return Err(LoadError::ext(&e.name, format!("{raw} is not a string")));
        };
        let n = text.len().min(slot.len().saturating_sub(1));
        slot[..n].copy_from_slice(&text.as_bytes()[..n]);
        return Ok(());
    }
    let v = if let Some(hex) = raw.strip_prefix("0x") {
        u64::from_str_radix(hex, 16).ok()
    } else {
        raw.parse::<i64>().ok().map(|v| v as u64)
    };
    match v {
        Some(v) => put_int(slot, v, &e.name),
        None => Err(LoadError::ext(&e.name, format!("'{raw}' is not a number"))),
    }
}

/// Whether a ksym variable's type is `void` under modifiers (libbpf's
/// typeless ksym, resolved through kallsyms).
fn typeless(btf: Option<&Btf>, e: &Extern) -> bool {
    let Some(btf) = btf else { return true };
    let mut id = e.type_id;
    for _ in 0..32 {
        match btf.type_by_id(id) {
            Some(t) if t.kind == Kind::Void => return true,
            Some(t) if t.is_modifier_or_typedef() => id = t.size_or_type,
            _ => return false,
        }
    }
    false
}

/// Resolves every `.ksyms` extern: by name in vmlinux BTF (a VAR for a
/// typed variable, a FUNC for a kfunc) or in `/proc/kallsyms`.
pub fn resolve_ksyms(
    obj: &Object,
    vmlinux: &mut dyn FnMut() -> Result<std::sync::Arc<Btf>, LoadError>,
) -> Result<HashMap<usize, Ksym>, LoadError> {
    let mut out = HashMap::new();
    let mut kallsyms: Option<HashMap<String, u64>> = None;
    let typeless_names: Vec<&str> = obj
        .externs
        .iter()
        .filter(|e| e.kind == ExternKind::KsymVar && typeless(obj.btf.as_ref(), e))
        .map(|e| e.name.as_str())
        .collect();
    for (i, e) in obj.externs.iter().enumerate() {
        let found = match e.kind {
            ExternKind::Kconfig => continue,
            ExternKind::KsymVar if typeless(obj.btf.as_ref(), e) => {
                if kallsyms.is_none() {
                    kallsyms = Some(read_kallsyms(&typeless_names)?);
                }
                kallsyms
                    .as_ref()
                    .and_then(|k| k.get(&e.name))
                    .map(|&a| Ksym::Address(a))
            }
            ExternKind::KsymVar => first(&*vmlinux()?, &e.name, Kind::Var),
            ExternKind::Kfunc => first(&*vmlinux()?, &e.name, Kind::Func),
        };
        match found {
            Some(k) => out.insert(i, k),
            None if e.weak => out.insert(i, Ksym::Missing),
            None => {
                let place = match e.kind {
                    ExternKind::KsymVar if typeless(obj.btf.as_ref(), e) => {
                        "no symbol of this name in /proc/kallsyms"
                    }
                    ExternKind::KsymVar => "no VAR of this name in the kernel's BTF",
                    _ => "no FUNC of this name in the kernel's BTF",
                };
                return Err(LoadError::ext(&e.name, place));
            }
        };
    }
    Ok(out)
}

fn first(btf: &Btf, name: &str, kind: Kind) -> Option<Ksym> {
    btf.find_by_name(name, kind)
        .first()
        .map(|&id| Ksym::BtfId(id))
}

/// The kallsyms addresses of `wanted` (vmlinux's symbols come first; a
/// module's copy of a name does not replace them). The file is read line
/// by line and only until every wanted name is found: it has hundreds of
/// thousands of lines.
fn read_kallsyms(wanted: &[&str]) -> Result<HashMap<String, u64>, LoadError> {
    use std::io::BufRead;
    let path = "/proc/kallsyms";
    let err = |e: std::io::Error| LoadError::Read {
        path: PathBuf::from(path),
        message: e.to_string(),
    };
    let file = std::fs::File::open(path).map_err(err)?;
    let mut out = HashMap::new();
    for line in std::io::BufReader::with_capacity(1 << 16, file).lines() {
        let line = line.map_err(err)?;
        let mut f = line.split_whitespace();
        if let (Some(addr), Some(_), Some(name)) = (f.next(), f.next(), f.next()) {
            if wanted.contains(&name) && !out.contains_key(name) {
                if let Ok(a) = u64::from_str_radix(addr, 16) {
                    out.insert(name.to_string(), a);
                }
                if out.len() == wanted.len() {
                    break;
                }
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_codes_follow_libbpf() {
        assert_eq!(kernel_version_code("6.18.0-1-amd64"), Some(0x061200));
        assert_eq!(kernel_version_code("5.4.300"), Some(0x0504ff));
        assert_eq!(kernel_version_code("6.1"), Some(0x060100));
        assert_eq!(kernel_version_code("x"), None);
    }

    #[test]
    fn config_lines_are_read() {
        let c = parse_config("# comment\nCONFIG_HZ=250\n# CONFIG_X is not set\nCONFIG_S=\"a b\"\n");
        assert_eq!(c.get("CONFIG_HZ").map(String::as_str), Some("250"));
        assert_eq!(c.get("CONFIG_S").map(String::as_str), Some("\"a b\""));
        assert!(!c.contains_key("CONFIG_X"));
    }
}
