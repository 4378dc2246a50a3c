//! C declarations from BTF, as `bpftool btf dump file F format c` prints
//! them (libbpf's `btf_dump` as of bpftool 7.1 / libbpf 1.1).
//!
//! Two passes per top-level type, in id order: a topological ordering that
//! knows which dependencies must be complete definitions (embedded) and
//! which can be forward declarations (behind a pointer), then emission of
//! the ordered definitions with forward declarations where a cycle needs
//! them. Anonymous structs, unions and enums are written inline where used.

mod decl;
mod names;

use std::collections::HashMap;

use super::error::BtfError;
use super::types::{Kind, Type};
use super::Btf;

/// Most nested calls the emitter makes before it calls the BTF malformed
/// (real types nest a few dozen levels; a hostile chain could nest 1M).
const MAX_DEPTH: u32 = 512;

const HEADER: &str = "#ifndef __VMLINUX_H__\n#define __VMLINUX_H__\n\n\
#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n\
#pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)\n\
#endif\n\n";

const FOOTER: &str = "#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n\
#pragma clang attribute pop\n#endif\n\n#endif /* __VMLINUX_H__ */\n";

/// All types as a C header, byte for byte what `bpftool btf dump file F
/// format c` prints (for split BTF, the split types and what they need).
///
/// Fails on BTF that cannot be written as C: an unsatisfiable type cycle
/// (libbpf's `-ELOOP`) or absurd nesting.
pub fn dump_c(btf: &Btf) -> Result<String, BtfError> {
    let mut d = CDump::new(btf);
    d.out.push_str(HEADER);
    for id in btf.first_id()..btf.len() as u32 {
        d.dump_type(id)?;
    }
    d.out.push_str(FOOTER);
    Ok(d.out)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Order {
    NotOrdered,
    Ordering,
    Ordered,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Emit {
    NotEmitted,
    Emitting,
    Emitted,
}

/// Per-type state of the two passes.
#[derive(Clone, Copy)]
struct State {
    order: Order,
    emit: Emit,
    /// A forward declaration (or, for typedefs, the typedef) was written.
    fwd_emitted: bool,
    /// Some other type refers to this one.
    referenced: bool,
}

/// The dumper: per-type state, name de-duplication and the output.
pub(super) struct CDump<'a> {
    btf: &'a Btf,
    ptr_sz: u32,
    state: Vec<State>,
    queue: Vec<u32>,
    /// Resolved (possibly `___N`-suffixed) names; `None` until resolved.
    cached_names: Vec<Option<Box<str>>>,
    /// Occurrences of struct/union/enum names.
    type_names: HashMap<String, usize>,
    /// Occurrences of typedef and enumerator names.
    ident_names: HashMap<String, usize>,
    align_cache: Vec<Option<u32>>,
    /// The struct whose body is being written (for errors).
    current_struct: u32,
    out: String,
}

impl<'a> CDump<'a> {
    fn new(btf: &'a Btf) -> Self {
        let n = btf.len();
        let mut state = vec![
            State {
                order: Order::NotOrdered,
                emit: Emit::NotEmitted,
                fwd_emitted: false,
                referenced: false,
            };
            n
        ];
        state[0].order = Order::Ordered;
        state[0].emit = Emit::Emitted;
        let mut mark = |id: u32| state[id as usize].referenced = true;
        for (_, t) in btf.types().skip(1) {
            if let Some(r) = t.ref_type() {
                if t.kind != Kind::FuncProto {
                    mark(r);
                }
            }
            if let Some(a) = t.array() {
                mark(a.index);
                mark(a.elem);
            }
            t.members().iter().for_each(|m| mark(m.ty));
            t.params().iter().for_each(|p| mark(p.ty));
            t.datasec_entries().iter().for_each(|e| mark(e.ty));
        }
        CDump {
            btf,
            ptr_sz: btf.ptr_size(),
            state,
            queue: Vec::new(),
            cached_names: vec![None; n],
            type_names: HashMap::new(),
            ident_names: HashMap::new(),
            align_cache: vec![None; n],
            current_struct: 0,
            out: String::new(),
        }
    }

    fn ty(&self, id: u32) -> &'a Type {
        let btf: &'a Btf = self.btf;
        // Ids were validated by the parser; void stands in for the rest.
        btf.types.get(id as usize).unwrap_or(&btf.types[0])
    }

    fn dump_type(&mut self, id: u32) -> Result<(), BtfError> {
        self.queue.clear();
        self.order_type(id, false, 0)?;
        let queue = std::mem::take(&mut self.queue);
        for &q in &queue {
            self.emit_type(q, 0, 0)?;
        }
        self.queue = queue;
        Ok(())
    }

    /// Topological ordering; returns whether the link to `id` is strong
    /// (needs a complete definition) rather than weak (a forward
    /// declaration does).
    fn order_type(&mut self, id: u32, through_ptr: bool, depth: u32) -> Result<bool, BtfError> {
        if depth > MAX_DEPTH {
            return Err(BtfError::TooDeep(id));
        }
        let depth = depth + 1;
        let st = self.state[id as usize];
        if st.order == Order::Ordered {
            return Ok(true);
        }
        let t = self.ty(id);
        if st.order == Order::Ordering {
            if t.is_composite() && through_ptr && t.name_off != 0 {
                return Ok(false);
            }
            return Err(BtfError::InvalidType {
                type_id: id,
                reason: "unsatisfiable type cycle",
            });
        }
        let set = |s: &mut Self, o| s.state[id as usize].order = o;
        match t.kind {
            Kind::Int | Kind::Float => {
                set(self, Order::Ordered);
                Ok(false)
            }
            Kind::Ptr => {
                let r = self.order_type(t.size_or_type, true, depth);
                set(self, Order::Ordered);
                r
            }
            Kind::Array => {
                let elem = t.array().map_or(0, |a| a.elem);
                self.order_type(elem, false, depth)
            }
            Kind::Struct | Kind::Union => {
                if through_ptr && t.name_off != 0 {
                    return Ok(false);
                }
                set(self, Order::Ordering);
                for m in t.members() {
                    self.order_type(m.ty, false, depth)?;
                }
                if t.name_off != 0 {
                    self.queue.push(id);
                }
                set(self, Order::Ordered);
                Ok(true)
            }
            Kind::Enum | Kind::Enum64 | Kind::Fwd => {
                if t.name_off != 0 || !st.referenced {
                    self.queue.push(id);
                }
                set(self, Order::Ordered);
                Ok(true)
            }
            Kind::Typedef => {
                let strong = self.order_type(t.size_or_type, through_ptr, depth)?;
                if through_ptr && !strong {
                    return Ok(false);
                }
                self.queue.push(id);
                set(self, Order::Ordered);
                Ok(true)
            }
            Kind::Volatile | Kind::Const | Kind::Restrict | Kind::TypeTag => {
                self.order_type(t.size_or_type, through_ptr, depth)
            }
            Kind::FuncProto => {
                let mut strong = self.order_type(t.size_or_type, through_ptr, depth)?;
                for p in t.params() {
                    strong |= self.order_type(p.ty, through_ptr, depth)?;
                }
                Ok(strong)
            }
            Kind::Func | Kind::Var | Kind::Datasec | Kind::DeclTag | Kind::Void => {
                set(self, Order::Ordered);
                Ok(false)
            }
        }
    }

    /// `__builtin_va_list` is the compiler's own; never redefine it.
    fn is_blacklisted(&self, id: u32) -> bool {
        let t = self.ty(id);
        t.name_off != 0 && self.btf.name(t) == "__builtin_va_list"
    }

    /// Emits `id` and, first, what it needs; `cont_id` is the containing
    /// struct (0 at top level).
    fn emit_type(&mut self, id: u32, cont_id: u32, depth: u32) -> Result<(), BtfError> {
        if depth > MAX_DEPTH {
            return Err(BtfError::TooDeep(id));
        }
        let depth = depth + 1;
        let st = self.state[id as usize];
        if st.emit == Emit::Emitted {
            return Ok(());
        }
        let t = self.ty(id);
        let top_level = cont_id == 0;
        if st.emit == Emit::Emitting {
            if st.fwd_emitted {
                return Ok(());
            }
            match t.kind {
                Kind::Struct | Kind::Union => {
                    if id == cont_id || t.name_off == 0 {
                        return Ok(());
                    }
                    self.emit_struct_fwd(id, t);
                    self.out.push_str(";\n\n");
                    self.state[id as usize].fwd_emitted = true;
                }
                Kind::Typedef => {
                    if !self.is_blacklisted(id) {
                        self.emit_typedef_def(id, t, 0, depth)?;
                        self.out.push_str(";\n\n");
                    }
                    self.state[id as usize].fwd_emitted = true;
                }
                _ => {}
            }
            return Ok(());
        }
        match t.kind {
            Kind::Int => {
                self.emit_missing_aliases(id);
                self.state[id as usize].emit = Emit::Emitted;
            }
            Kind::Enum | Kind::Enum64 => {
                if top_level {
                    self.emit_enum_def(id, t, 0);
                    self.out.push_str(";\n\n");
                }
                self.state[id as usize].emit = Emit::Emitted;
            }
            Kind::Ptr | Kind::Volatile | Kind::Const | Kind::Restrict | Kind::TypeTag => {
                self.emit_type(t.size_or_type, cont_id, depth)?;
            }
            Kind::Array => {
                let elem = t.array().map_or(0, |a| a.elem);
                self.emit_type(elem, cont_id, depth)?;
            }
            Kind::Fwd => {
                self.emit_fwd_def(id, t);
                self.out.push_str(";\n\n");
                self.state[id as usize].emit = Emit::Emitted;
            }
            Kind::Typedef => {
                self.state[id as usize].emit = Emit::Emitting;
                self.emit_type(t.size_or_type, id, depth)?;
                if !self.state[id as usize].fwd_emitted && !self.is_blacklisted(id) {
                    self.emit_typedef_def(id, t, 0, depth)?;
                    self.out.push_str(";\n\n");
                }
                self.state[id as usize].emit = Emit::Emitted;
            }
            Kind::Struct | Kind::Union => {
                self.state[id as usize].emit = Emit::Emitting;
                if top_level || t.name_off == 0 {
                    let new_cont = if t.name_off == 0 { cont_id } else { id };
                    for m in t.members() {
                        self.emit_type(m.ty, new_cont, depth)?;
                    }
                } else if !self.state[id as usize].fwd_emitted && id != cont_id {
                    self.emit_struct_fwd(id, t);
                    self.out.push_str(";\n\n");
                    self.state[id as usize].fwd_emitted = true;
                }
                if top_level {
                    self.emit_struct_def(id, t, 0, depth)?;
                    self.out.push_str(";\n\n");
                    self.state[id as usize].emit = Emit::Emitted;
                } else {
                    self.state[id as usize].emit = Emit::NotEmitted;
                }
            }
            Kind::FuncProto => {
                self.emit_type(t.size_or_type, cont_id, depth)?;
                for p in t.params() {
                    self.emit_type(p.ty, cont_id, depth)?;
                }
            }
            _ => {}
        }
        Ok(())
    }
}
