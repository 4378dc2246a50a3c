//! The target side: the BTF that relocations resolve against (vmlinux, or
//! any BTF blob, plus kernel-module split BTF), and libbpf's candidate
//! search (`bpf_core_find_cands`): target types of a compatible kind whose
//! essential name equals the local type's.

use super::compat::kind_core_compat;
use super::names::essential_name;
use crate::btf::Btf;

/// What CO-RE relocations resolve against: a main BTF (the kernel's
/// vmlinux, or a custom BTF as libbpf's `btf_custom_path`), and optionally
/// split BTF of kernel modules on top of it.
///
/// As in libbpf, modules are searched only when the main BTF has no
/// candidate for a type.
#[derive(Debug, Clone, Copy)]
pub struct CoreTarget<'t> {
    main: &'t Btf,
    main_name: &'t str,
    modules: &'t [(String, Btf)],
}

impl<'t> CoreTarget<'t> {
    /// A target of one BTF, named "vmlinux" in reports (as libbpf names
    /// the main target BTF even when it is a custom file).
    pub fn new(main: &'t Btf) -> CoreTarget<'t> {
        CoreTarget {
            main,
            main_name: "vmlinux",
            modules: &[],
        }
    }

    /// The same target under another name in reports.
    pub fn named(self, name: &'t str) -> CoreTarget<'t> {
        CoreTarget {
            main_name: name,
            ..self
        }
    }

    /// Adds module BTFs (each parsed with [`Btf::parse_split`] on top of
    /// the main BTF), by module name.
    pub fn with_modules(self, modules: &'t [(String, Btf)]) -> CoreTarget<'t> {
        CoreTarget { modules, ..self }
    }

    /// The main BTF.
    pub fn main(&self) -> &'t Btf {
        self.main
    }
}

/// One candidate target type for a local type.
#[derive(Debug, Clone, Copy)]
pub struct Candidate<'t> {
    /// The BTF it is in.
    pub btf: &'t Btf,
    /// That BTF's name ("vmlinux" or the module's).
    pub btf_name: &'t str,
    /// Its type id.
    pub id: u32,
}

/// Adds the candidates from `btf`, ids `start..`, to `out`.
fn add_candidates<'t>(
    local: &Btf,
    local_id: u32,
    btf: &'t Btf,
    btf_name: &'t str,
    start: u32,
    out: &mut Vec<Candidate<'t>>,
) {
    let Some(lt) = local.type_by_id(local_id) else {
        return;
    };
    let want = essential_name(local.name(lt));
    let strings = btf.strings().as_bytes();
    for (id, t) in btf.types().skip(start as usize) {
        if !kind_core_compat(t, lt) {
            continue;
        }
        // A candidate's name starts with the essential name: most types
        // fail on their first bytes, before their name's end is searched.
        let head = strings.get(t.name_off as usize..).unwrap_or_default();
        if !head.starts_with(want.as_bytes()) {
            continue;
        }
        let name = btf.name(t);
        if name.is_empty() || essential_name(name) != want {
            continue;
        }
        out.push(Candidate { btf, btf_name, id });
    }
}

/// `bpf_core_find_cands`: every target type that may be the local type
/// `local_id`, in id order, main BTF first; modules only when the main BTF
/// has none. The local type must be named (the caller checks).
pub fn find_candidates<'t>(
    local: &Btf,
    local_id: u32,
    target: &CoreTarget<'t>,
) -> Vec<Candidate<'t>> {
    let mut out = Vec::new();
    add_candidates(local, local_id, target.main, target.main_name, 1, &mut out);
    if !out.is_empty() {
        return out;
    }
    for (name, btf) in target.modules {
        add_candidates(local, local_id, btf, name, btf.first_id(), &mut out);
    }
    out
}
