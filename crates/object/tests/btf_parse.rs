//! Parser tests on BTF blobs written with [`BtfBuilder`] (both byte
//! orders; malformed ones by raw records or corrupted bytes) and on the
//! running kernel's vmlinux BTF when it is readable.

use bpfkit_object::btf::int_encoding::SIGNED;
use bpfkit_object::btf::{
    dump_c, dump_raw, Btf, BtfBuilder, BtfError, Endian, IntInfo, Kind, Type, TypeData, VarSecinfo,
};

/// A blob with one type of every kind.
fn every_kind(big: bool) -> Vec<u8> {
    let mut b = BtfBuilder::new();
    let int = b.int("int", 4, SIGNED); // [1]
    let ptr = b.ptr(int); // [2] int *
    b.array(int, int, 4); // [3] int[4]
    let s = b.struct_type("s", 8, &[("a", int, 0, 0), ("b", int, 32, 3)]); // [4]
    b.union_type("u", 4, &[("x", int, 0, 0)]); // [5]
    b.enum32("e", true, &[("M", -5)]); // [6] signed enum
    b.fwd("f", true); // [7] union fwd
    b.typedef("t", int); // [8]
    b.qualifier(Kind::Volatile, int); // [9]
    b.qualifier(Kind::Const, int); // [10]
    b.qualifier(Kind::Restrict, ptr); // [11]
    let proto = b.func_proto(int, &[("p", int), ("", 0)]); // [12] int (int, ...)
    b.func("fn", proto, 1); // [13] global func
    let v = b.var("v", int, 1); // [14]
    let entry = VarSecinfo {
        ty: v,
        offset: 0,
        size: 4,
    };
    b.datasec(".data", 4, &[entry]); // [15]
    b.float("double", 8); // [16]
    b.decl_tag("tag", s, 1); // [17]
    b.type_tag("user", int); // [18]
    b.enum64("e64", false, &[("BIG", 0x0123_4567_89ab_cdef)]); // [19]
    b.encode(if big { Endian::Big } else { Endian::Little })
}

fn encode(b: &BtfBuilder) -> Vec<u8> {
    b.encode(Endian::Little)
}

/// A type pushed as written, for records the typed methods would not write.
fn raw(kind: Kind, name_off: u32, vlen: u16, size_or_type: u32, data: TypeData) -> Type {
    Type {
        kind,
        name_off,
        kind_flag: false,
        vlen,
        size_or_type,
        data,
    }
}

#[test]
fn every_kind_both_byte_orders() {
    for big in [false, true] {
        let btf = Btf::parse(&every_kind(big)).unwrap();
        assert_eq!(
            btf.endianness(),
            if big { Endian::Big } else { Endian::Little }
        );
        assert_eq!(btf.len(), 20);
        let kinds: Vec<Kind> = btf.types().map(|(_, t)| t.kind).collect();
        assert_eq!(kinds[1], Kind::Int);
        assert_eq!(kinds[19], Kind::Enum64);
        let s = btf.type_by_id(4).unwrap();
        assert_eq!(btf.name(s), "s");
        assert_eq!(s.members()[1].bit_offset, 32);
        assert_eq!(s.members()[1].bitfield_size, 3);
        assert_eq!(btf.str_at(s.members()[1].name_off), Some("b"));
        let e = btf.type_by_id(6).unwrap();
        assert!(e.is_signed_enum());
        assert_eq!(e.enum_values()[0].value as i64, -5);
        assert_eq!(
            btf.type_by_id(19).unwrap().enum_values()[0].value,
            0x0123_4567_89ab_cdef
        );
        assert_eq!(btf.type_by_id(12).unwrap().params().len(), 2);
        assert_eq!(btf.type_by_id(13).unwrap().linkage(), Some(1));
        assert_eq!(
            btf.type_by_id(17).unwrap().data,
            TypeData::DeclTag { component_idx: 1 }
        );
        assert_eq!(btf.size_of(3).unwrap(), 16);
        assert_eq!(btf.size_of(11).unwrap(), 8);
        assert_eq!(btf.size_of(14).unwrap(), 4);
        assert_eq!(btf.size_of(13), Err(BtfError::NotSized(13)));
        assert_eq!(btf.resolve(10).unwrap().0, 1);
        assert_eq!(btf.resolve(18).unwrap().0, 1);
        assert_eq!(btf.find_by_name("s", Kind::Struct), vec![4]);
        assert!(btf.find_by_name("s", Kind::Union).is_empty());
    }
}

fn set_u32(blob: &mut [u8], off: usize, v: u32) {
    blob[off..off + 4].copy_from_slice(&v.to_le_bytes());
}

#[test]
fn header_errors() {
    let good = every_kind(false);
    assert!(matches!(
        Btf::parse(&good[..10]),
        Err(BtfError::Truncated { .. })
    ));
    let mut b = good.clone();
    b[0] = 0;
    assert!(matches!(Btf::parse(&b), Err(BtfError::BadMagic { .. })));
    let mut b = good.clone();
    b[2] = 2;
    assert_eq!(Btf::parse(&b).unwrap_err(), BtfError::BadVersion(2));
    let mut b = good.clone();
    b[3] = 1;
    assert_eq!(Btf::parse(&b).unwrap_err(), BtfError::BadFlags(1));
    let mut b = good.clone();
    set_u32(&mut b, 4, 16);
    assert!(matches!(
        Btf::parse(&b),
        Err(BtfError::BadHeaderLen { hdr_len: 16, .. })
    ));
    let mut b = good.clone();
    set_u32(&mut b, 20, 1 << 30);
    assert!(matches!(
        Btf::parse(&b),
        Err(BtfError::SectionOutOfRange {
            section: "string",
            ..
        })
    ));
    let mut b = good.clone();
    set_u32(&mut b, 8, 2);
    assert!(matches!(
        Btf::parse(&b),
        Err(BtfError::MisalignedTypes(2)) | Err(BtfError::SectionOutOfRange { .. })
    ));
    let mut b = good.clone();
    let last = b.len() - 1;
    b[last] = b'x';
    assert!(matches!(Btf::parse(&b), Err(BtfError::BadStrings(_))));
}

#[test]
fn record_errors_name_the_type() {
    // Unknown kind 20 as the second type: a pointer's kind byte replaced.
    let mut b = BtfBuilder::new();
    b.int("int", 4, 0);
    b.ptr(0);
    let mut blob = encode(&b);
    set_u32(&mut blob, 24 + 16 + 4, 20 << 24);
    assert_eq!(
        Btf::parse(&blob).unwrap_err(),
        BtfError::UnknownKind {
            type_id: 2,
            offset: 24 + 16,
            kind: 20
        }
    );
    // A struct whose vlen runs past the section.
    let mut b = BtfBuilder::new();
    let s = b.string("s");
    b.push(raw(
        Kind::Struct,
        s,
        0xffff,
        4,
        TypeData::Members(Vec::new()),
    ));
    assert!(matches!(
        Btf::parse(&encode(&b)),
        Err(BtfError::TruncatedType {
            type_id: 1,
            offset: 24,
            ..
        })
    ));
    // A pointer to a type that does not exist.
    let mut b = BtfBuilder::new();
    b.ptr(7);
    assert_eq!(
        Btf::parse(&encode(&b)).unwrap_err(),
        BtfError::TypeIdOutOfRange {
            type_id: 1,
            target: 7,
            count: 2
        }
    );
    // A name past the strings.
    let mut b = BtfBuilder::new();
    b.push(raw(Kind::Ptr, 1000, 0, 0, TypeData::None));
    assert_eq!(
        Btf::parse(&encode(&b)).unwrap_err(),
        BtfError::StringOffset {
            type_id: 1,
            offset: 1000
        }
    );
    // An int wider than its size.
    let mut b = BtfBuilder::new();
    let name = b.string("int");
    let wide = IntInfo {
        encoding: 0,
        offset: 0,
        bits: 32,
    };
    b.push(raw(Kind::Int, name, 0, 1, TypeData::Int(wide)));
    assert!(matches!(
        Btf::parse(&encode(&b)),
        Err(BtfError::InvalidType { type_id: 1, .. })
    ));
}

#[test]
fn size_of_detects_cycles() {
    // [1] typedef -> [2] const -> [1]
    let mut b = BtfBuilder::new();
    b.typedef("t", 2);
    b.qualifier(Kind::Const, 1);
    let btf = Btf::parse(&encode(&b)).unwrap();
    assert_eq!(btf.size_of(1), Err(BtfError::TooDeep(1)));
    assert_eq!(btf.resolve(2).unwrap_err(), BtfError::TooDeep(2));
}

#[test]
fn split_btf_continues_ids_and_strings() {
    let base = Btf::parse(&every_kind(false)).unwrap();
    // A split blob: [20] typedef of base's int *, named with a new string
    // (at the base's string length: the split strings start empty).
    let mut b = BtfBuilder::split(&base);
    let sp = b.typedef("sp", 2);
    assert_eq!(b.get(sp).unwrap().name_off, base.header().str_len);
    let split = Btf::parse_split(&encode(&b), &base).unwrap();
    assert_eq!(split.first_id(), 20);
    assert_eq!(split.len(), 21);
    assert_eq!(split.name_of(20), "sp");
    assert_eq!(split.name_of(4), "s");
    assert_eq!(split.size_of(20).unwrap(), 8);
}

fn vmlinux() -> Option<Vec<u8>> {
    match std::fs::read("/sys/kernel/btf/vmlinux") {
        Ok(b) => Some(b),
        Err(e) => {
            eprintln!("skipped: /sys/kernel/btf/vmlinux not readable: {e}");
            None
        }
    }
}

#[test]
fn vmlinux_parses_with_known_types() {
    let Some(bytes) = vmlinux() else { return };
    let btf = Btf::parse(&bytes).unwrap();
    assert!(btf.len() > 10_000, "{} types", btf.len());
    let ts = btf.find_by_name("task_struct", Kind::Struct);
    assert_eq!(ts.len(), 1);
    let t = btf.type_by_id(ts[0]).unwrap();
    assert!(t
        .members()
        .iter()
        .any(|m| btf.str_at(m.name_off) == Some("pid")));
    assert!(btf.size_of(ts[0]).unwrap() > 1000);
    if let Ok(out) = std::process::Command::new("bpftool")
        .args(["btf", "dump", "file", "/sys/kernel/btf/vmlinux"])
        .output()
    {
        let text = String::from_utf8_lossy(&out.stdout);
        let n = text.lines().filter(|l| l.starts_with('[')).count();
        assert_eq!(n + 1, btf.len());
    } else {
        eprintln!("skipped: bpftool not available for the type count check");
    }
}

/// Truncating and bit-flipping a real blob never panics.
#[test]
fn truncated_and_flipped_blobs_never_panic() {
    let blobs = [every_kind(false), every_kind(true)];
    for blob in &blobs {
        for len in 0..blob.len() {
            let _ = Btf::parse(&blob[..len]);
        }
        for i in 0..blob.len() * 8 {
            let mut b = blob.clone();
            b[i / 8] ^= 1 << (i % 8);
            if let Ok(btf) = Btf::parse(&b) {
                for (id, _) in btf.types() {
                    let _ = btf.size_of(id);
                    let _ = btf.resolve(id);
                }
                let _ = dump_c(&btf);
                let _ = dump_raw(&btf);
            }
        }
    }
}

/// `bpftool btf dump file F` of [`every_kind`] (either byte order).
const EVERY_KIND_RAW: &str = r#"[1] INT 'int' size=4 bits_offset=0 nr_bits=32 encoding=SIGNED
[2] PTR '(anon)' type_id=1
[3] ARRAY '(anon)' type_id=1 index_type_id=1 nr_elems=4
[4] STRUCT 's' size=8 vlen=2
	'a' type_id=1 bits_offset=0
	'b' type_id=1 bits_offset=32 bitfield_size=3
[5] UNION 'u' size=4 vlen=1
	'x' type_id=1 bits_offset=0
[6] ENUM 'e' encoding=SIGNED size=4 vlen=1
	'M' val=-5
[7] FWD 'f' fwd_kind=union
[8] TYPEDEF 't' type_id=1
[9] VOLATILE '(anon)' type_id=1
[10] CONST '(anon)' type_id=1
[11] RESTRICT '(anon)' type_id=2
[12] FUNC_PROTO '(anon)' ret_type_id=1 vlen=2
	'p' type_id=1
	'(anon)' type_id=0
[13] FUNC 'fn' type_id=12 linkage=global
[14] VAR 'v' type_id=1, linkage=global
[15] DATASEC '.data' size=4 vlen=1
	type_id=14 offset=0 size=4 (VAR 'v')
[16] FLOAT 'double' size=8
[17] DECL_TAG 'tag' type_id=4 component_idx=1
[18] TYPE_TAG 'user' type_id=1
[19] ENUM64 'e64' encoding=UNSIGNED size=8 vlen=1
	'BIG' val=81985529216486895ULL
"#;

/// `bpftool btf dump file F format c` of [`every_kind`].
const EVERY_KIND_C: &str = r#"#ifndef __VMLINUX_H__
#define __VMLINUX_H__

#ifndef BPF_NO_PRESERVE_ACCESS_INDEX
#pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)
#endif

struct s {
	int a;
	int b: 3;
};

union u {
	int x;
};

enum e {
	M = -5,
};

union f;

typedef int t;

enum e64 {
	BIG = 81985529216486895ULL,
};

#ifndef BPF_NO_PRESERVE_ACCESS_INDEX
#pragma clang attribute pop
#endif

#endif /* __VMLINUX_H__ */
"#;

#[test]
fn every_kind_dumps_as_bpftool_does() {
    for big in [false, true] {
        let btf = Btf::parse(&every_kind(big)).unwrap();
        assert_eq!(dump_raw(&btf), EVERY_KIND_RAW);
        assert_eq!(dump_c(&btf).unwrap(), EVERY_KIND_C);
    }
}

#[test]
fn unsatisfiable_cycle_is_an_error() {
    // [1] struct a { struct b x; }  [2] struct b { struct a y; }
    let mut b = BtfBuilder::new();
    b.struct_type("a", 4, &[("x", 2, 0, 0)]);
    b.struct_type("b", 4, &[("y", 1, 0, 0)]);
    let btf = Btf::parse(&encode(&b)).unwrap();
    assert!(matches!(
        dump_c(&btf),
        Err(BtfError::InvalidType { type_id: 1, .. })
    ));
    // [1] ptr -> [2] ptr -> [1]: no panic, no stack overflow.
    let mut b = BtfBuilder::new();
    b.ptr(2);
    b.ptr(1);
    let btf = Btf::parse(&encode(&b)).unwrap();
    assert!(dump_c(&btf).is_err());
}
