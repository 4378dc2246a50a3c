//! Parser tests on hand-built BTF blobs (both byte orders) and on the
//! running kernel's vmlinux BTF when it is readable.

use bpfkit_object::btf::{dump_c, dump_raw, Btf, BtfError, Endian, Kind, TypeData};

/// Builds BTF blobs record by record.
struct Builder {
    big: bool,
    types: Vec<u8>,
    strings: Vec<u8>,
}

impl Builder {
    fn new(big: bool) -> Self {
        Builder {
            big,
            types: Vec::new(),
            strings: vec![0],
        }
    }
    fn s(&mut self, name: &str) -> u32 {
        if name.is_empty() {
            return 0;
        }
        let off = self.strings.len() as u32;
        self.strings.extend_from_slice(name.as_bytes());
        self.strings.push(0);
        off
    }
    fn w(&mut self, v: u32) {
        let b = if self.big {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        };
        self.types.extend_from_slice(&b);
    }
    fn rec(&mut self, name: &str, kind: u32, kflag: bool, vlen: u32, size_or_type: u32) {
        let n = self.s(name);
        self.w(n);
        self.w((kflag as u32) << 31 | kind << 24 | vlen);
        self.w(size_or_type);
    }
    fn finish(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let w16 = |v: u16| {
            if self.big {
                v.to_be_bytes()
            } else {
                v.to_le_bytes()
            }
        };
        let w32 = |v: u32| {
            if self.big {
                v.to_be_bytes()
            } else {
                v.to_le_bytes()
            }
        };
        out.extend_from_slice(&w16(0xeb9f));
        out.extend_from_slice(&[1, 0]);
        out.extend_from_slice(&w32(24));
        out.extend_from_slice(&w32(0));
        out.extend_from_slice(&w32(self.types.len() as u32));
        out.extend_from_slice(&w32(self.types.len() as u32));
        out.extend_from_slice(&w32(self.strings.len() as u32));
        out.extend_from_slice(&self.types);
        out.extend_from_slice(&self.strings);
        out
    }
}

/// A blob with one type of every kind.
fn every_kind(big: bool) -> Vec<u8> {
    let mut b = Builder::new(big);
    b.rec("int", 1, false, 0, 4); // [1]
    b.w(1 << 24 | 32);
    b.rec("", 2, false, 0, 1); // [2] int *
    b.rec("", 3, false, 0, 0); // [3] int[4]
    b.w(1);
    b.w(1);
    b.w(4);
    b.rec("s", 4, true, 2, 8); // [4] struct s { int a; int b:3; }
    let a = b.s("a");
    b.w(a);
    b.w(1);
    b.w(0);
    let bb = b.s("b");
    b.w(bb);
    b.w(1);
    b.w(3 << 24 | 32);
    b.rec("u", 5, false, 1, 4); // [5]
    let x = b.s("x");
    b.w(x);
    b.w(1);
    b.w(0);
    b.rec("e", 6, true, 1, 4); // [6] signed enum
    let m = b.s("M");
    b.w(m);
    b.w(-5i32 as u32);
    b.rec("f", 7, true, 0, 0); // [7] union fwd
    b.rec("t", 8, false, 0, 1); // [8]
    b.rec("", 9, false, 0, 1); // [9]
    b.rec("", 10, false, 0, 1); // [10]
    b.rec("", 11, false, 0, 2); // [11]
    b.rec("", 13, false, 2, 1); // [12] int (int, ...)
    let p = b.s("p");
    b.w(p);
    b.w(1);
    b.w(0);
    b.w(0);
    b.rec("fn", 12, false, 1, 12); // [13] global func
    b.rec("v", 14, false, 0, 1); // [14]
    b.w(1);
    b.rec(".data", 15, false, 1, 4); // [15]
    b.w(14);
    b.w(0);
    b.w(4);
    b.rec("double", 16, false, 0, 8); // [16]
    b.rec("tag", 17, false, 0, 4); // [17]
    b.w(1);
    b.rec("user", 18, false, 0, 1); // [18]
    b.rec("e64", 19, false, 1, 8); // [19]
    let big_v = b.s("BIG");
    b.w(big_v);
    b.w(0x89ab_cdef);
    b.w(0x0123_4567);
    b.finish()
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
    // Unknown kind 20 as the second type.
    let mut b = Builder::new(false);
    b.rec("int", 1, false, 0, 4);
    b.w(32);
    b.rec("", 20, false, 0, 0);
    assert_eq!(
        Btf::parse(&b.finish()).unwrap_err(),
        BtfError::UnknownKind {
            type_id: 2,
            offset: 24 + 16,
            kind: 20
        }
    );
    // A struct whose vlen runs past the section.
    let mut b = Builder::new(false);
    b.rec("s", 4, false, 0xffff, 4);
    assert!(matches!(
        Btf::parse(&b.finish()),
        Err(BtfError::TruncatedType {
            type_id: 1,
            offset: 24,
            ..
        })
    ));
    // A pointer to a type that does not exist.
    let mut b = Builder::new(false);
    b.rec("", 2, false, 0, 7);
    assert_eq!(
        Btf::parse(&b.finish()).unwrap_err(),
        BtfError::TypeIdOutOfRange {
            type_id: 1,
            target: 7,
            count: 2
        }
    );
    // A name past the strings.
    let mut b = Builder::new(false);
    b.w(1000);
    b.w(2 << 24);
    b.w(0);
    assert_eq!(
        Btf::parse(&b.finish()).unwrap_err(),
        BtfError::StringOffset {
            type_id: 1,
            offset: 1000
        }
    );
    // An int wider than its size.
    let mut b = Builder::new(false);
    b.rec("int", 1, false, 0, 1);
    b.w(32);
    assert!(matches!(
        Btf::parse(&b.finish()),
        Err(BtfError::InvalidType { type_id: 1, .. })
    ));
}

#[test]
fn size_of_detects_cycles() {
    // [1] typedef -> [2] const -> [1]
    let mut b = Builder::new(false);
    b.rec("t", 8, false, 0, 2);
    b.rec("", 10, false, 0, 1);
    let btf = Btf::parse(&b.finish()).unwrap();
    assert_eq!(btf.size_of(1), Err(BtfError::TooDeep(1)));
    assert_eq!(btf.resolve(2).unwrap_err(), BtfError::TooDeep(2));
}

#[test]
fn split_btf_continues_ids_and_strings() {
    let base = Btf::parse(&every_kind(false)).unwrap();
    // A split blob: [20] ptr to base's struct s, named with a new string.
    let mut b = Builder::new(false);
    b.strings.clear();
    let off_in_split = b.s("sp");
    b.w(base.header().str_len + off_in_split);
    b.w(8 << 24);
    b.w(2);
    let split = Btf::parse_split(&b.finish(), &base).unwrap();
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
    let mut b = Builder::new(false);
    b.rec("a", 4, false, 1, 4);
    let x = b.s("x");
    b.w(x);
    b.w(2);
    b.w(0);
    b.rec("b", 4, false, 1, 4);
    let y = b.s("y");
    b.w(y);
    b.w(1);
    b.w(0);
    let btf = Btf::parse(&b.finish()).unwrap();
    assert!(matches!(
        dump_c(&btf),
        Err(BtfError::InvalidType { type_id: 1, .. })
    ));
    // [1] ptr -> [2] ptr -> [1]: no panic, no stack overflow.
    let mut b = Builder::new(false);
    b.rec("", 2, false, 0, 2);
    b.rec("", 2, false, 0, 1);
    let btf = Btf::parse(&b.finish()).unwrap();
    assert!(dump_c(&btf).is_err());
}
