//! Externs: undefined symbols that BTF places in the `.kconfig` or
//! `.ksyms` DATASEC, as libbpf reads them (kconfig values, kernel
//! variables, kernel functions).

use serde::Serialize;

use crate::btf::{Btf, Kind};

use super::elf::ElfView;
use super::error::ObjectError;

/// `STB_WEAK`.
const STB_WEAK: u8 = 2;

/// What an extern is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ExternKind {
    /// A `__kconfig` variable: its value comes from the kernel config
    /// (`CONFIG_*`) or from libbpf (`LINUX_KERNEL_VERSION`, ...), read
    /// from the `.kconfig` map.
    Kconfig,
    /// A `__ksym` variable: a kernel variable by BTF id.
    KsymVar,
    /// A `__ksym` function: a kfunc, called by BTF id.
    Kfunc,
}

impl ExternKind {
    /// A short name for listings.
    pub fn name(self) -> &'static str {
        match self {
            ExternKind::Kconfig => "kconfig",
            ExternKind::KsymVar => "ksym",
            ExternKind::Kfunc => "kfunc",
        }
    }
}

/// One extern.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Extern {
    /// The symbol name.
    pub name: String,
    /// What it is.
    pub kind: ExternKind,
    /// `__weak`: the loader may leave it unresolved (zero).
    pub weak: bool,
    /// The BTF `VAR` or `FUNC` id.
    pub btf_id: u32,
    /// The variable's type, or the function's prototype (a BTF id).
    pub type_id: u32,
    /// The type in C-like words (`int`, `_Bool`, `void (void)`).
    pub type_name: String,
    /// A kconfig variable's offset in the `.kconfig` map.
    pub kconfig_offset: Option<u32>,
    /// A kconfig variable's size in bytes.
    pub size: Option<u32>,
}

/// The externs of an object, in symbol table order.
pub(crate) fn collect(view: &ElfView<'_>, btf: Option<&Btf>) -> Result<Vec<Extern>, ObjectError> {
    let mut out = Vec::new();
    for sym in &view.symbols {
        if !sym.is_undefined() || sym.name.is_empty() || sym.index == 0 {
            continue;
        }
        let err = |message: &str| ObjectError::Extern {
            name: sym.name.clone(),
            message: message.to_string(),
        };
        let btf = btf.ok_or_else(|| err("the object has no .BTF to say what it is"))?;
        let (kind, btf_id, type_id, offset, size) = find(btf, &sym.name)
            .ok_or_else(|| err("no VAR or FUNC of this name in the .kconfig or .ksyms DATASEC"))?;
        out.push(Extern {
            name: sym.name.clone(),
            kind,
            weak: sym.bind == STB_WEAK,
            btf_id,
            type_id,
            type_name: type_words(btf, type_id),
            kconfig_offset: offset,
            size,
        });
    }
    layout_kconfig(btf, &mut out);
    Ok(out)
}

/// Places the kconfig externs in the `.kconfig` map as libbpf does: by
/// descending alignment, then ascending size, then name, each at its
/// alignment (the compiler leaves every DATASEC offset 0).
fn layout_kconfig(btf: Option<&Btf>, externs: &mut [Extern]) {
    let Some(btf) = btf else { return };
    let mut order: Vec<usize> = (0..externs.len())
        .filter(|&i| externs[i].kind == ExternKind::Kconfig)
        .collect();
    let align = |e: &Extern| align_of(btf, e.type_id).max(1);
    order.sort_by(|&a, &b| {
        let (ea, eb) = (&externs[a], &externs[b]);
        align(eb)
            .cmp(&align(ea))
            .then(ea.size.cmp(&eb.size))
            .then(ea.name.cmp(&eb.name))
    });
    let mut off: u32 = 0;
    for i in order {
        let a = align(&externs[i]);
        let start = off.div_ceil(a).saturating_mul(a);
        externs[i].kconfig_offset = Some(start);
        off = start.saturating_add(externs[i].size.unwrap_or(0));
    }
}

/// The alignment of a kconfig value's type (libbpf's `btf__align_of` for
/// the scalar and array types kconfig allows).
fn align_of(btf: &Btf, id: u32) -> u32 {
    let mut cur = id;
    for _ in 0..32 {
        let Ok((rid, t)) = btf.resolve(cur) else {
            return 1;
        };
        match t.kind {
            Kind::Array => match t.array() {
                Some(a) => cur = a.elem,
                None => return 1,
            },
            Kind::Int | Kind::Enum | Kind::Enum64 | Kind::Float => {
                return t.size_or_type.clamp(1, btf.ptr_size())
            }
            Kind::Ptr => return btf.ptr_size(),
            _ => return btf.size_of(rid).map_or(1, |s| s.clamp(1, 8) as u32),
        }
    }
    1
}

/// Bytes the kconfig externs take in the `.kconfig` map.
pub(crate) fn kconfig_size(externs: &[Extern]) -> u64 {
    externs
        .iter()
        .filter(|e| e.kind == ExternKind::Kconfig)
        .map(|e| u64::from(e.kconfig_offset.unwrap_or(0)) + u64::from(e.size.unwrap_or(0)))
        .max()
        .unwrap_or(0)
}

type Found = (ExternKind, u32, u32, Option<u32>, Option<u32>);

fn find(btf: &Btf, name: &str) -> Option<Found> {
    for sec in [".kconfig", ".ksyms"] {
        for id in btf.find_by_name(sec, Kind::Datasec) {
            let t = btf.type_by_id(id)?;
            for entry in t.datasec_entries() {
                let Some(v) = btf.type_by_id(entry.ty) else {
                    continue;
                };
                if btf.name(v) != name {
                    continue;
                }
                let target = v.ref_type().unwrap_or(0);
                return Some(match (sec, v.kind) {
                    (".kconfig", _) => (
                        ExternKind::Kconfig,
                        entry.ty,
                        target,
                        Some(entry.offset),
                        Some(entry.size),
                    ),
                    (_, Kind::Func) => (ExternKind::Kfunc, entry.ty, target, None, None),
                    _ => (ExternKind::KsymVar, entry.ty, target, None, None),
                });
            }
        }
    }
    None
}

/// A short rendering of a BTF type for listings.
pub(crate) fn type_words(btf: &Btf, id: u32) -> String {
    words(btf, id, 0, &mut 64)
}

/// [`type_words`] with the depth reached so far and a budget of types
/// to visit, so that cycles and wide prototypes in corrupt BTF end.
fn words(btf: &Btf, id: u32, start_depth: usize, budget: &mut u32) -> String {
    let mut depth = start_depth;
    let mut cur = id;
    let mut suffix = String::new();
    loop {
        depth += 1;
        let Some(t) = btf.type_by_id(cur) else {
            return format!("type #{id}");
        };
        if depth > 16 || *budget == 0 {
            return format!("type #{id}");
        }
        *budget -= 1;
        let name = btf.name(t);
        match t.kind {
            Kind::Void => return format!("void{suffix}"),
            Kind::Ptr => {
                suffix = format!(" *{suffix}");
                cur = t.size_or_type;
            }
            Kind::Const | Kind::Volatile | Kind::Restrict | Kind::TypeTag => {
                let q = match t.kind {
                    Kind::Const => "const ",
                    Kind::Volatile => "volatile ",
                    Kind::Restrict => "restrict ",
                    _ => "",
                };
                return format!("{q}{}{suffix}", words(btf, t.size_or_type, depth, budget));
            }
            Kind::Struct => return format!("struct {name}{suffix}"),
            Kind::Union => return format!("union {name}{suffix}"),
            Kind::Enum | Kind::Enum64 => return format!("enum {name}{suffix}"),
            Kind::Array => {
                let a = t.array();
                let n = a.map_or(0, |a| a.nelems);
                let elem = a.map_or(0, |a| a.elem);
                return format!("{}{suffix}[{n}]", words(btf, elem, depth, budget));
            }
            Kind::FuncProto => {
                let params: Vec<String> = t
                    .params()
                    .iter()
                    .map(|p| {
                        if p.ty == 0 {
                            "...".to_string()
                        } else {
                            words(btf, p.ty, depth, budget)
                        }
                    })
                    .collect();
                let params = if params.is_empty() {
                    "void".to_string()
                } else {
                    params.join(", ")
                };
                return format!(
                    "{} ({params}){suffix}",
                    words(btf, t.size_or_type, depth, budget)
                );
            }
            _ if !name.is_empty() => return format!("{name}{suffix}"),
            _ => return format!("{}{suffix}", t.kind.name().to_ascii_lowercase()),
        }
    }
}
