//! Writing one declaration: type chains (pointers, arrays, function
//! prototypes, modifiers) in C's inside-out syntax, struct/union/enum
//! bodies, typedefs, and the padding and `packed` markers that keep a
//! struct's layout when recompiled.

use std::fmt::Write;

use super::names::Namespace;
use super::{CDump, MAX_DEPTH};
use crate::btf::error::BtfError;
use crate::btf::types::{Kind, Type, TypeData};

/// Largest gap the dumper fills with padding members.
const MAX_PADDING_BITS: u64 = 1 << 24;

/// Tabs for indentation level `lvl` (libbpf caps it at 13).
fn pfx(lvl: u32) -> &'static str {
    const TABS: &str = "\t\t\t\t\t\t\t\t\t\t\t\t\t";
    &TABS[..(lvl as usize).min(TABS.len())]
}

/// Typedef names GCC emits for Arm SIMD types, aliased to base types.
const MISSING_BASE_TYPES: [(&str, &str); 4] = [
    ("__Poly8_t", "unsigned char"),
    ("__Poly16_t", "unsigned short"),
    ("__Poly64_t", "unsigned long long"),
    ("__Poly128_t", "unsigned __int128"),
];

impl CDump<'_> {
    pub(super) fn emit_missing_aliases(&mut self, id: u32) {
        let name = self.type_name(id);
        if let Some((_, base)) = MISSING_BASE_TYPES.iter().find(|(n, _)| *n == name) {
            let _ = write!(self.out, "typedef {base} {name};\n\n");
        }
    }

    /// The alignment of a type in bytes (0 when it has none), taking
    /// packed layouts into account as libbpf's `btf__align_of` does.
    pub(super) fn align_of(&mut self, id: u32, depth: u32) -> u32 {
        if let Some(a) = self.align_cache[id as usize] {
            return a;
        }
        if depth > MAX_DEPTH {
            return 0;
        }
        let t = self.ty(id);
        let a = match t.kind {
            Kind::Int | Kind::Enum | Kind::Enum64 | Kind::Float => self.ptr_sz.min(t.size_or_type),
            Kind::Ptr => self.ptr_sz,
            Kind::Typedef | Kind::Volatile | Kind::Const | Kind::Restrict | Kind::TypeTag => {
                self.align_of(t.size_or_type, depth + 1)
            }
            Kind::Array => self.align_of(t.array().map_or(0, |a| a.elem), depth + 1),
            Kind::Struct | Kind::Union => self.struct_align(t, depth),
            _ => 0,
        };
        self.align_cache[id as usize] = Some(a);
        a
    }

    fn struct_align(&mut self, t: &Type, depth: u32) -> u32 {
        let mut max_align = 1;
        for m in t.members() {
            let align = self.align_of(m.ty, depth + 1);
            if align == 0 {
                return 0;
            }
            max_align = max_align.max(align);
            // A misaligned plain field means the struct is packed.
            if m.bitfield_size == 0 && m.bit_offset as u64 % (8 * align as u64) != 0 {
                return 1;
            }
        }
        if t.size_or_type % max_align != 0 {
            return 1;
        }
        max_align
    }

    /// Whether a struct needs `__attribute__((packed))` to keep its layout.
    fn is_struct_packed(&mut self, t: &Type) -> bool {
        let mut max_align = 1;
        for m in t.members() {
            let align = self.align_of(m.ty, 0);
            if align != 0 && m.bitfield_size == 0 && m.bit_offset as u64 % (8 * align as u64) != 0 {
                return true;
            }
            max_align = max_align.max(align);
        }
        t.size_or_type % max_align != 0
    }

    /// Explicit `type: N;` fillers from bit `cur` to bit `next`.
    fn emit_bit_padding(
        &mut self,
        cur: u32,
        next: u32,
        next_align: u32,
        in_bf: bool,
        lvl: u32,
    ) -> Result<(), BtfError> {
        let pads: [(&str, u32); 4] = [
            ("long", self.ptr_sz * 8),
            ("int", 32),
            ("short", 16),
            ("char", 8),
        ];
        let (mut cur, next) = (cur as u64, next as u64);
        if cur >= next {
            return Ok(());
        }
        // Real layouts never have megabytes of padding; corrupt sizes would
        // otherwise make millions of filler lines.
        if next - cur > MAX_PADDING_BITS {
            return Err(BtfError::InvalidType {
                type_id: self.current_struct,
                reason: "padding gap larger than 2 MiB",
            });
        }
        // Alignment 0 (a malformed member type) rounds like 1.
        let roundup = |x: u64, y: u64| x.div_ceil(y.max(1)) * y.max(1);
        let (mut pad_type, mut pad_bits, mut new_off) = ("char", 8u64, 0u64);
        for (name, bits) in pads {
            pad_type = name;
            pad_bits = bits as u64;
            new_off = roundup(cur, pad_bits);
            if new_off <= next {
                break;
            }
        }
        if new_off > cur && new_off <= next {
            if in_bf
                || (new_off == next && roundup(cur, next_align as u64 * 8) != new_off)
                || (new_off != next && next - new_off <= new_off - cur)
            {
                let n = if in_bf { new_off - cur } else { 0 };
                let _ = write!(self.out, "\n{}{pad_type}: {n};", pfx(lvl));
            }
            cur = new_off;
        }
        while cur != next {
            let bits = (next - cur).min(pad_bits);
            if bits == pad_bits {
                let _ = write!(self.out, "\n{}{pad_type}: {pad_bits};", pfx(lvl));
                cur += bits;
                continue;
            }
            // The remainder: the smallest type that holds it.
            for (name, pb) in pads.iter().rev() {
                pad_type = name;
                pad_bits = *pb as u64;
                if pad_bits < bits {
                    continue;
                }
                let _ = write!(self.out, "\n{}{pad_type}: {bits};", pfx(lvl));
                cur += bits;
                break;
            }
        }
        Ok(())
    }

    pub(super) fn emit_struct_fwd(&mut self, id: u32, t: &Type) {
        let kw = if t.kind == Kind::Struct {
            "struct"
        } else {
            "union"
        };
        let name = self.type_name(id);
        let sep = if t.name_off != 0 { " " } else { "" };
        let _ = write!(self.out, "{kw}{sep}{name}");
    }

    pub(super) fn emit_struct_def(
        &mut self,
        id: u32,
        t: &Type,
        lvl: u32,
        depth: u32,
    ) -> Result<(), BtfError> {
        let is_struct = t.kind == Kind::Struct;
        let align = self.align_of(id, 0);
        let packed = is_struct && self.is_struct_packed(t);
        self.emit_struct_fwd(id, t);
        self.out.push_str(" {");
        let (mut off, mut prev_bitfield) = (0u64, false);
        for m in t.members() {
            let fname = self.btf.str_at(m.name_off).unwrap_or("");
            let m_sz = m.bitfield_size as u64;
            let m_off = m.bit_offset as u64;
            let m_align = if packed { 1 } else { self.align_of(m.ty, 0) };
            let in_bf = prev_bitfield && m_sz != 0;
            self.current_struct = id;
            self.emit_bit_padding(off as u32, m_off as u32, m_align, in_bf, lvl + 1)?;
            let _ = write!(self.out, "\n{}", pfx(lvl + 1));
            self.emit_type_decl(m.ty, fname, lvl + 1, depth)?;
            if m_sz != 0 {
                let _ = write!(self.out, ": {m_sz}");
                off = m_off + m_sz;
                prev_bitfield = true;
            } else {
                let sz = self.btf.size_of(m.ty).unwrap_or(0);
                off = m_off.saturating_add(sz.saturating_mul(8));
                prev_bitfield = false;
            }
            self.out.push(';');
        }
        if is_struct {
            let end = (t.size_or_type as u64 * 8).min(u32::MAX as u64) as u32;
            self.current_struct = id;
            self.emit_bit_padding(off.min(u32::MAX as u64) as u32, end, align, false, lvl + 1)?;
        }
        if t.vlen != 0 || t.size_or_type != 0 {
            let _ = write!(self.out, "\n{}}}", pfx(lvl));
        } else {
            self.out.push('}');
        }
        if packed {
            self.out.push_str(" __attribute__((packed))");
        }
        Ok(())
    }

    fn emit_enum_fwd(&mut self, id: u32) {
        let name = self.type_name(id);
        let _ = write!(self.out, "enum {name}");
    }

    pub(super) fn emit_enum_def(&mut self, id: u32, t: &Type, lvl: u32) {
        let name = self.type_name(id);
        let sep = if t.name_off != 0 { " " } else { "" };
        let _ = write!(self.out, "enum{sep}{name}");
        let TypeData::Enum(values) = &t.data else {
            return;
        };
        if values.is_empty() {
            return;
        }
        self.out.push_str(" {");
        let signed = t.kind_flag;
        for v in values {
            let vname = self.btf.str_at(v.name_off).unwrap_or("");
            let dups = self.name_dups(Namespace::Idents, vname);
            let p = pfx(lvl + 1);
            let _ = write!(self.out, "\n{p}{vname}");
            if dups > 1 {
                let _ = write!(self.out, "___{dups}");
            }
            let _ = match (t.kind, signed) {
                (Kind::Enum, true) => write!(self.out, " = {},", v.value as i64 as i32),
                (Kind::Enum, false) => write!(self.out, " = {},", v.value as u32),
                (_, true) => write!(self.out, " = {}LL,", v.value as i64),
                (_, false) => write!(self.out, " = {}ULL,", v.value),
            };
        }
        // bpftool 7.1 (libbpf 1.1) writes no mode(byte)/mode(word) for
        // enums of unusual size; later libbpf does.
        let _ = write!(self.out, "\n{}}}", pfx(lvl));
    }

    pub(super) fn emit_fwd_def(&mut self, id: u32, t: &Type) {
        let name = self.type_name(id);
        let kw = if t.kind_flag { "union" } else { "struct" };
        let _ = write!(self.out, "{kw} {name}");
    }

    pub(super) fn emit_typedef_def(
        &mut self,
        id: u32,
        t: &Type,
        lvl: u32,
        depth: u32,
    ) -> Result<(), BtfError> {
        let name = self.ident_name(id);
        if t.size_or_type == 0 && name == "__gnuc_va_list" {
            self.out
                .push_str("typedef __builtin_va_list __gnuc_va_list");
            return Ok(());
        }
        self.out.push_str("typedef ");
        self.emit_type_decl(t.size_or_type, &name, lvl, depth)
    }

    /// Writes the declaration of `fname` with type `id` (e.g. a member).
    pub(super) fn emit_type_decl(
        &mut self,
        id: u32,
        fname: &str,
        lvl: u32,
        depth: u32,
    ) -> Result<(), BtfError> {
        if depth > MAX_DEPTH {
            return Err(BtfError::TooDeep(id));
        }
        let mut stack = Vec::new();
        let mut id = id;
        loop {
            stack.push(id);
            if id == 0 || stack.len() > MAX_DEPTH as usize {
                break;
            }
            let t = self.ty(id);
            id = match t.kind {
                Kind::Ptr
                | Kind::Volatile
                | Kind::Const
                | Kind::Restrict
                | Kind::FuncProto
                | Kind::TypeTag => t.size_or_type,
                Kind::Array => t.array().map_or(0, |a| a.elem),
                _ => break,
            };
        }
        self.emit_type_chain(&mut stack, fname, lvl, depth + 1)
    }

    fn emit_mods(&mut self, decls: &mut Vec<u32>) {
        while let Some(&id) = decls.last() {
            let kw = match self.ty(id).kind {
                Kind::Volatile => "volatile ",
                Kind::Const => "const ",
                Kind::Restrict => "restrict ",
                _ => return,
            };
            self.out.push_str(kw);
            decls.pop();
        }
    }

    fn drop_mods(&mut self, decls: &mut Vec<u32>) {
        while let Some(&id) = decls.last() {
            if !matches!(
                self.ty(id).kind,
                Kind::Volatile | Kind::Const | Kind::Restrict | Kind::TypeTag
            ) {
                return;
            }
            decls.pop();
        }
    }

    fn emit_name(&mut self, name: &str, last_was_ptr: bool) {
        if !name.is_empty() && !last_was_ptr {
            self.out.push(' ');
        }
        self.out.push_str(name);
    }

    fn emit_type_chain(
        &mut self,
        decls: &mut Vec<u32>,
        fname: &str,
        lvl: u32,
        depth: u32,
    ) -> Result<(), BtfError> {
        if depth > MAX_DEPTH {
            return Err(BtfError::TooDeep(decls.last().copied().unwrap_or(0)));
        }
        let mut last_was_ptr = true;
        while let Some(id) = decls.pop() {
            if id == 0 {
                self.emit_mods(decls);
                self.out.push_str("void");
                last_was_ptr = false;
                continue;
            }
            let t = self.ty(id);
            match t.kind {
                Kind::Int | Kind::Float => {
                    self.emit_mods(decls);
                    self.out.push_str(self.btf.name(t));
                }
                Kind::Struct | Kind::Union => {
                    self.emit_mods(decls);
                    if t.name_off == 0 {
                        self.emit_struct_def(id, t, lvl, depth)?;
                    } else {
                        self.emit_struct_fwd(id, t);
                    }
                }
                Kind::Enum | Kind::Enum64 => {
                    self.emit_mods(decls);
                    if t.name_off == 0 {
                        self.emit_enum_def(id, t, lvl);
                    } else {
                        self.emit_enum_fwd(id);
                    }
                }
                Kind::Fwd => {
                    self.emit_mods(decls);
                    self.emit_fwd_def(id, t);
                }
                Kind::Typedef => {
                    self.emit_mods(decls);
                    let name = self.ident_name(id);
                    self.out.push_str(&name);
                }
                Kind::Ptr => self.out.push_str(if last_was_ptr { "*" } else { " *" }),
                Kind::Volatile => self.out.push_str(" volatile"),
                Kind::Const => self.out.push_str(" const"),
                Kind::Restrict => self.out.push_str(" restrict"),
                Kind::TypeTag => {
                    self.emit_mods(decls);
                    let _ = write!(
                        self.out,
                        " __attribute__((btf_type_tag(\"{}\")))",
                        self.btf.name(t)
                    );
                }
                Kind::Array => {
                    let nelems = t.array().map_or(0, |a| a.nelems);
                    self.drop_mods(decls);
                    let Some(&next) = decls.last() else {
                        self.emit_name(fname, last_was_ptr);
                        let _ = write!(self.out, "[{nelems}]");
                        return Ok(());
                    };
                    let multidim = self.ty(next).kind == Kind::Array;
                    if !fname.is_empty() && !last_was_ptr {
                        self.out.push(' ');
                    }
                    if !multidim {
                        self.out.push('(');
                    }
                    self.emit_type_chain(decls, fname, lvl, depth + 1)?;
                    if !multidim {
                        self.out.push(')');
                    }
                    let _ = write!(self.out, "[{nelems}]");
                    return Ok(());
                }
                Kind::FuncProto => {
                    self.drop_mods(decls);
                    if decls.is_empty() {
                        self.emit_name(fname, last_was_ptr);
                    } else {
                        self.out.push_str(" (");
                        self.emit_type_chain(decls, fname, lvl, depth + 1)?;
                        self.out.push(')');
                    }
                    self.out.push('(');
                    let params = t.params();
                    if params.is_empty() || (params.len() == 1 && params[0].ty == 0) {
                        self.out.push_str("void)");
                        return Ok(());
                    }
                    for (i, p) in params.iter().enumerate() {
                        if i > 0 {
                            self.out.push_str(", ");
                        }
                        if i == params.len() - 1 && p.ty == 0 {
                            self.out.push_str("...");
                            break;
                        }
                        let pname = self.btf.str_at(p.name_off).unwrap_or("");
                        self.emit_type_decl(p.ty, pname, lvl, depth + 1)?;
                    }
                    self.out.push(')');
                    return Ok(());
                }
                _ => return Ok(()),
            }
            last_was_ptr = t.kind == Kind::Ptr;
        }
        self.emit_name(fname, last_was_ptr);
        Ok(())
    }
}
