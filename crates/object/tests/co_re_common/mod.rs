//! Shared by the CO-RE test crates: a builder of little-endian BTF blobs,
//! and the local and target BTF most tests relocate between.
// Each test crate uses a different part of this module.
#![allow(dead_code)]

use bpfkit_object::btf::{Btf, CoreRelo, CoreReloKind};

/// Builds little-endian BTF blobs type by type; ids start at 1.
#[derive(Default)]
pub struct B {
    pub words: Vec<u32>,
    pub strings: Vec<u8>,
    pub next: u32,
    /// Added to string offsets (split BTF continues the base's strings).
    pub str_base: u32,
}

impl B {
    pub fn new() -> B {
        B {
            words: Vec::new(),
            strings: vec![0],
            next: 1,
            str_base: 0,
        }
    }
    pub fn s(&mut self, name: &str) -> u32 {
        if name.is_empty() {
            return 0;
        }
        let off = self.str_base + self.strings.len() as u32;
        self.strings.extend_from_slice(name.as_bytes());
        self.strings.push(0);
        off
    }
    pub fn push(
        &mut self,
        name: &str,
        kind: u32,
        kflag: bool,
        vlen: u32,
        size_or_type: u32,
        extra: &[u32],
    ) -> u32 {
        let n = self.s(name);
        self.words
            .extend([n, kind << 24 | (kflag as u32) << 31 | vlen, size_or_type]);
        self.words.extend_from_slice(extra);
        self.next += 1;
        self.next - 1
    }
    pub fn int(&mut self, name: &str, size: u32, signed: bool) -> u32 {
        self.push(
            name,
            1,
            false,
            0,
            size,
            &[((signed as u32) << 24) | (size * 8)],
        )
    }
    pub fn int_offset(&mut self, name: &str, size: u32, offset: u32, bits: u32) -> u32 {
        self.push(name, 1, false, 0, size, &[offset << 16 | bits])
    }
    pub fn ptr(&mut self, to: u32) -> u32 {
        self.push("", 2, false, 0, to, &[])
    }
    pub fn array(&mut self, elem: u32, index: u32, n: u32) -> u32 {
        self.push("", 3, false, 0, 0, &[elem, index, n])
    }
    /// Members: (name, type, bit offset, bitfield size); kind_flag set
    /// when any member is a bitfield.
    pub fn comp(
        &mut self,
        union: bool,
        name: &str,
        size: u32,
        members: &[(&str, u32, u32, u32)],
    ) -> u32 {
        let kflag = members.iter().any(|m| m.3 > 0);
        let mut extra = Vec::new();
        for &(n, t, off, bits) in members {
            let n = self.s(n);
            extra.extend([n, t, if kflag { bits << 24 | off } else { off }]);
        }
        self.push(
            name,
            if union { 5 } else { 4 },
            kflag,
            members.len() as u32,
            size,
            &extra,
        )
    }
    pub fn st(&mut self, name: &str, size: u32, members: &[(&str, u32, u32, u32)]) -> u32 {
        self.comp(false, name, size, members)
    }
    pub fn enum32(&mut self, name: &str, signed: bool, values: &[(&str, i32)]) -> u32 {
        let mut extra = Vec::new();
        for &(n, v) in values {
            let n = self.s(n);
            extra.extend([n, v as u32]);
        }
        self.push(name, 6, signed, values.len() as u32, 4, &extra)
    }
    pub fn enum64(&mut self, name: &str, values: &[(&str, u64)]) -> u32 {
        let mut extra = Vec::new();
        for &(n, v) in values {
            let n = self.s(n);
            extra.extend([n, v as u32, (v >> 32) as u32]);
        }
        self.push(name, 19, false, values.len() as u32, 8, &extra)
    }
    pub fn fwd(&mut self, name: &str, union: bool) -> u32 {
        self.push(name, 7, union, 0, 0, &[])
    }
    pub fn typedef(&mut self, name: &str, to: u32) -> u32 {
        self.push(name, 8, false, 0, to, &[])
    }
    pub fn konst(&mut self, to: u32) -> u32 {
        self.push("", 10, false, 0, to, &[])
    }
    pub fn proto(&mut self, ret: u32, params: &[u32]) -> u32 {
        let extra: Vec<u32> = params.iter().flat_map(|&p| [0, p]).collect();
        self.push("", 13, false, params.len() as u32, ret, &extra)
    }
    pub fn float(&mut self, name: &str, size: u32) -> u32 {
        self.push(name, 16, false, 0, size, &[])
    }
    /// The blob's bytes.
    pub fn bytes(&self) -> Vec<u8> {
        let types: Vec<u8> = self.words.iter().flat_map(|w| w.to_le_bytes()).collect();
        let mut out = Vec::new();
        out.extend_from_slice(&0xeb9fu16.to_le_bytes());
        out.extend_from_slice(&[1, 0]);
        for w in [
            24u32,
            0,
            types.len() as u32,
            types.len() as u32,
            self.strings.len() as u32,
        ] {
            out.extend_from_slice(&w.to_le_bytes());
        }
        out.extend_from_slice(&types);
        out.extend_from_slice(&self.strings);
        out
    }

    /// The blob, parsed.
    pub fn build(&self) -> Btf {
        Btf::parse(&self.bytes()).expect("built BTF parses")
    }
}

/// The local side used by most tests:
/// [1] int, [2] unsigned int, [3] long, [4] char, [5] char[16], [6] struct inner { int x; int y; },
/// [7] struct task { int pid; unsigned int flags; char comm[16]; struct inner in; struct task *parent; },
/// [8] struct task *, [9] enum st { A = 1, B = 2, GONE = 3 }, [10] struct anon_holder (anonymous struct at [11]),
/// [12] int[0] flex in struct flex.
pub fn local() -> (Btf, Ids) {
    let mut b = B::new();
    let int = b.int("int", 4, true);
    let uint = b.int("unsigned int", 4, false);
    let long = b.int("long", 8, true);
    let chr = b.int("char", 1, true);
    let comm = b.array(chr, int, 16);
    let inner = b.st("inner", 8, &[("x", int, 0, 0), ("y", int, 32, 0)]);
    let task = b.st(
        "task",
        40,
        &[
            ("pid", int, 0, 0),
            ("flags", uint, 32, 0),
            ("comm", comm, 64, 0),
            ("in", inner, 192, 0),
            ("parent", 8, 256, 0),
        ],
    );
    let task_ptr = b.ptr(task);
    let st = b.enum32("st", false, &[("A", 1), ("B", 2), ("GONE", 3)]);
    let flex_arr = b.array(int, int, 0);
    let flex = b.st("flex", 4, &[("n", int, 0, 0), ("data", flex_arr, 32, 0)]);
    let bits = b.st(
        "bits",
        8,
        &[("a", uint, 0, 3), ("b", uint, 3, 5), ("c", int, 8, 7)],
    );
    let _ = long;
    let _ = (task_ptr, inner);
    (
        b.build(),
        Ids {
            task,
            st,
            flex,
            bits,
        },
    )
}

pub struct Ids {
    pub task: u32,
    pub st: u32,
    pub flex: u32,
    pub bits: u32,
}

/// A target with two flavors of `task` and other layouts.
pub fn target() -> Btf {
    let mut b = B::new();
    let int = b.int("int", 4, true);
    let ulong = b.int("unsigned long", 8, false);
    let long = b.int("long", 8, true);
    let chr = b.int("char", 1, true);
    let comm = b.array(chr, int, 8);
    let inner = b.st("inner", 8, &[("y", int, 0, 0), ("x", int, 32, 0)]);
    let anon = b.comp(true, "", 8, &[("in", inner, 0, 0), ("raw", long, 0, 0)]);
    let _task = b.st(
        "task",
        48,
        &[
            ("parent", 0, 0, 0),
            ("flags", ulong, 64, 0),
            ("", anon, 128, 0),
            ("comm", comm, 192, 0),
            ("pid", int, 256, 0),
        ],
    );
    let _st = b.enum32("st", false, &[("B", 20), ("A", -5)]);
    b.build()
}

pub fn relo(kind: CoreReloKind, type_id: u32, access: &str, insn_off: u32) -> CoreRelo {
    CoreRelo {
        insn_off,
        type_id,
        access: access.into(),
        kind,
    }
}

pub const LDX_W: u8 = 0x61;
pub const LDX_B: u8 = 0x71;
pub const MOV64_K: u8 = 0xb7;
pub const LDDW: u8 = 0x18;
