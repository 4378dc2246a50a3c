//! Shared by the CO-RE test crates: the local and target BTF most tests
//! relocate between (written with [`BtfBuilder`]), and small helpers.
// Each test crate uses a different part of this module.
#![allow(dead_code)]

use bpfkit_object::btf::int_encoding::SIGNED;
use bpfkit_object::btf::{
    Btf, BtfBuilder, CoreRelo, CoreReloKind, Endian, IntInfo, Type, TypeData,
};

/// The blob `b` holds, parsed.
pub fn parsed(b: &BtfBuilder) -> Btf {
    Btf::parse(&b.encode(Endian::Little)).expect("built BTF parses")
}

/// A legacy bitfield int: `bits` value bits at bit `offset` of `size`
/// bytes (the typed [`BtfBuilder::int`] only writes whole-storage ints).
pub fn legacy_int(b: &mut BtfBuilder, name: &str, size: u32, offset: u8, bits: u8) -> u32 {
    let name_off = b.string(name);
    let mut t = Type::int(name_off, size, 0);
    t.data = TypeData::Int(IntInfo {
        encoding: 0,
        offset,
        bits,
    });
    b.push(t)
}

/// The local side used by most tests:
/// [1] int, [2] unsigned int, [3] long, [4] char, [5] char[16], [6] struct inner { int x; int y; },
/// [7] struct task { int pid; unsigned int flags; char comm[16]; struct inner in; struct task *parent; },
/// [8] struct task *, [9] enum st { A = 1, B = 2, GONE = 3 }, [10] struct anon_holder (anonymous struct at [11]),
/// [12] int[0] flex in struct flex.
pub fn local() -> (Btf, Ids) {
    let mut b = BtfBuilder::new();
    let int = b.int("int", 4, SIGNED);
    let uint = b.int("unsigned int", 4, 0);
    let long = b.int("long", 8, SIGNED);
    let chr = b.int("char", 1, SIGNED);
    let comm = b.array(chr, int, 16);
    let inner = b.struct_type("inner", 8, &[("x", int, 0, 0), ("y", int, 32, 0)]);
    let task = b.struct_type(
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
    let flex = b.struct_type("flex", 4, &[("n", int, 0, 0), ("data", flex_arr, 32, 0)]);
    let bits = b.struct_type(
        "bits",
        8,
        &[("a", uint, 0, 3), ("b", uint, 3, 5), ("c", int, 8, 7)],
    );
    let _ = long;
    let _ = (task_ptr, inner);
    (
        parsed(&b),
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
    let mut b = BtfBuilder::new();
    let int = b.int("int", 4, SIGNED);
    let ulong = b.int("unsigned long", 8, 0);
    let long = b.int("long", 8, SIGNED);
    let chr = b.int("char", 1, SIGNED);
    let comm = b.array(chr, int, 8);
    let inner = b.struct_type("inner", 8, &[("y", int, 0, 0), ("x", int, 32, 0)]);
    let anon = b.union_type("", 8, &[("in", inner, 0, 0), ("raw", long, 0, 0)]);
    let _task = b.struct_type(
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
    parsed(&b)
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
