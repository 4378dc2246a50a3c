//! Unique C names: the second struct named `foo` becomes `foo___2`, as
//! libbpf's btf_dump does, separately for tags (struct/union/enum) and
//! ordinary identifiers (typedefs, enumerators).

use super::CDump;
use crate::btf::types::Kind;

/// Which C namespace a name lives in.
#[derive(Clone, Copy)]
pub(super) enum Namespace {
    /// struct, union and enum tags.
    Tags,
    /// typedef names and enumerators.
    Idents,
}

impl CDump<'_> {
    /// Counts one more use of `name` in `ns`; returns the new count.
    pub(super) fn name_dups(&mut self, ns: Namespace, name: &str) -> usize {
        let map = match ns {
            Namespace::Tags => &mut self.type_names,
            Namespace::Idents => &mut self.ident_names,
        };
        let n = map.entry(name.to_owned()).or_insert(0);
        *n += 1;
        *n
    }

    fn resolve_name(&mut self, id: u32, ns: Namespace) -> String {
        let t = self.ty(id);
        if t.name_off == 0 {
            return String::new();
        }
        let orig = self.btf.name(t);
        if let Some(n) = &self.cached_names[id as usize] {
            return n.to_string();
        }
        let name = if t.kind == Kind::Fwd || (t.kind == Kind::Enum && t.vlen == 0) {
            orig.to_owned()
        } else {
            match self.name_dups(ns, orig) {
                1 => orig.to_owned(),
                n => format!("{orig}___{n}"),
            }
        };
        self.cached_names[id as usize] = Some(name.as_str().into());
        name
    }

    /// The tag name of a struct, union, enum or forward declaration.
    pub(super) fn type_name(&mut self, id: u32) -> String {
        self.resolve_name(id, Namespace::Tags)
    }

    /// The name of a typedef.
    pub(super) fn ident_name(&mut self, id: u32) -> String {
        self.resolve_name(id, Namespace::Idents)
    }
}
