//! The CO-RE rule functions on hand-built BTF: access spec parsing and
//! rendering, field and type compatibility, and TYPE_MATCHES.

mod co_re_common;

use bpfkit_object::btf::int_encoding::SIGNED;
use bpfkit_object::btf::{BtfBuilder, CoreReloKind, Kind};
use bpfkit_object::co_re::{fields_are_compat, parse_spec, types_are_compat, types_match};
use co_re_common::{legacy_int, local, parsed};

#[test]
fn parse_spec_walks_fields_and_arrays() {
    let (btf, ids) = local();
    let s = parse_spec(&btf, ids.task, "0:2:10", CoreReloKind::FieldByteOffset).unwrap();
    assert_eq!(s.raw, vec![0, 2, 10]);
    assert_eq!(s.bit_offset, (8 + 10) * 8);
    assert_eq!(s.accessors.len(), 3);
    assert_eq!(s.accessors[1].name.as_deref(), Some("comm"));
    assert_eq!(s.accessors[2].name, None);
    assert_eq!(
        s.render(&btf),
        format!("[{}] struct task.comm[10] (0:2:10 @ offset 18)", ids.task)
    );
    // p[1].in.y: the first index scales by the root's size.
    let s = parse_spec(&btf, ids.task, "1:3:1", CoreReloKind::FieldByteOffset).unwrap();
    assert_eq!(s.bit_offset, (40 + 24 + 4) * 8);
    assert_eq!(
        s.render(&btf),
        format!("[{}] struct task[1].in.y (1:3:1 @ offset 68)", ids.task)
    );
    // A flexible array member may be indexed past its zero length.
    let s = parse_spec(&btf, ids.flex, "0:1:5", CoreReloKind::FieldByteOffset).unwrap();
    assert_eq!(s.bit_offset, (4 + 20) * 8);
    // Bitfields have bit offsets that are not byte multiples.
    let s = parse_spec(&btf, ids.bits, "0:1", CoreReloKind::FieldByteOffset).unwrap();
    assert_eq!(
        s.render(&btf),
        format!("[{}] struct bits.b (0:1 @ offset 0.3)", ids.bits)
    );
    // Enumerators and types.
    let s = parse_spec(&btf, ids.st, "2", CoreReloKind::EnumvalValue).unwrap();
    assert_eq!(s.accessors[0].name.as_deref(), Some("GONE"));
    assert_eq!(s.render(&btf), format!("[{}] enum st::GONE = 3", ids.st));
    let s = parse_spec(&btf, ids.task, "0", CoreReloKind::TypeSize).unwrap();
    assert!(s.accessors.is_empty());
    assert_eq!(s.render(&btf), format!("[{}] struct task", ids.task));
}

#[test]
fn parse_spec_rejects_bad_access_strings() {
    let (btf, ids) = local();
    let bad = |access: &str, kind| parse_spec(&btf, ids.task, access, kind).unwrap_err();
    use CoreReloKind::*;
    for a in [
        "",
        ":0",
        "0:",
        "0::1",
        "x",
        "0:-1",
        "0: 1",
        "+0",
        "0:99999999999",
    ] {
        assert!(!bad(a, FieldByteOffset).is_empty(), "{a:?} accepted");
    }
    assert!(bad("0:9", FieldByteOffset).contains("member index 9"));
    assert!(bad("0:2:16", FieldByteOffset).contains("array index 16"));
    assert!(bad("0:0:1", FieldByteOffset).contains("unexpected kind int"));
    assert!(bad("1", TypeExists).contains("needs access \"0\""));
    assert!(bad("0", EnumvalValue).contains("not an enum"));
    let too_long = vec!["0"; 65].join(":");
    assert!(bad(&too_long, FieldExists).contains("more than 64"));
    assert!(parse_spec(&btf, ids.st, "3", EnumvalExists)
        .unwrap_err()
        .contains("past the enum"));
    assert!(parse_spec(&btf, ids.st, "0:1", EnumvalExists)
        .unwrap_err()
        .contains("more than one step"));
    assert!(parse_spec(&btf, 999, "0", FieldExists)
        .unwrap_err()
        .contains("does not resolve"));
}

#[test]
fn field_compatibility_rules() {
    let mut b = BtfBuilder::new();
    let int = b.int("int", 4, SIGNED);
    let u8t = b.int("u8", 1, 0);
    let legacy = legacy_int(&mut b, "int", 4, 2, 10);
    let s1 = b.struct_type("a", 4, &[("x", int, 0, 0)]);
    let u1 = b.union_type("b", 4, &[("x", int, 0, 0)]);
    let p_int = b.ptr(int);
    let p_s1 = b.ptr(s1);
    let e1 = b.enum32("color", false, &[("R", 0)]);
    let e2 = b.enum32("color___v2", false, &[("G", 1)]);
    let e3 = b.enum32("shape", false, &[("S", 1)]);
    let e_anon = b.enum32("", false, &[("Z", 1)]);
    let e64 = b.enum64("color", false, &[("R", 0)]);
    let arr_int = b.array(int, int, 4);
    let arr_u8 = b.array(u8t, int, 100);
    let arr_p = b.array(p_int, int, 4);
    let td = b.typedef("int_t", int);
    let c_td = b.qualifier(Kind::Const, td);
    let f = b.float("double", 8);
    let f2 = b.float("float", 4);
    let fwd1 = b.fwd("a", false);
    let fwd2 = b.fwd("a___x", false);
    let fwd3 = b.fwd("z", false);
    let btf = parsed(&b);
    let c = |a, b| fields_are_compat(&btf, a, &btf, b).unwrap();
    assert!(c(int, u8t), "ints of any size and sign");
    assert!(!c(int, legacy), "legacy bitfield ints are rejected");
    assert!(c(s1, u1), "any struct/union pair");
    assert!(c(p_int, p_s1), "any two pointers");
    assert!(!c(int, p_int));
    assert!(c(e1, e2), "enums by essential name");
    assert!(!c(e1, e3));
    assert!(c(e3, e_anon), "an anonymous enum matches any");
    assert!(c(e1, e64), "enum and enum64 mix");
    assert!(c(arr_int, arr_u8), "arrays by element, any length");
    assert!(!c(arr_int, arr_p));
    assert!(c(c_td, u8t), "modifiers and typedefs are skipped");
    assert!(c(f, f2));
    assert!(c(fwd1, fwd2));
    assert!(!c(fwd1, fwd3));
    assert!(
        fields_are_compat(&btf, 500, &btf, int).is_err(),
        "a dangling id is an error"
    );
}

#[test]
fn type_compatibility_rules() {
    let mut b = BtfBuilder::new();
    let int = b.int("int", 4, SIGNED);
    let long = b.int("long", 8, SIGNED);
    let legacy = legacy_int(&mut b, "int", 4, 1, 8);
    let s = b.struct_type("s", 4, &[("x", int, 0, 0)]);
    let s2 = b.struct_type("s", 8, &[("y", long, 0, 0)]);
    let p_int = b.ptr(int);
    let p_long = b.ptr(long);
    let p_s = b.ptr(s);
    let f1 = b.func_proto(int, &[("", p_int), ("", long)]);
    let f2 = b.func_proto(long, &[("", p_long), ("", int)]);
    let f3 = b.func_proto(int, &[("", p_int)]);
    let f4 = b.func_proto(int, &[("", p_s), ("", long)]);
    let u = b.union_type("s", 4, &[("x", int, 0, 0)]);
    let td1 = b.typedef("t", s);
    let td2 = b.typedef("t", u);
    let btf = parsed(&b);
    let c = |a, b| types_are_compat(&btf, a, &btf, b).unwrap();
    assert!(c(s, s2), "structs need nothing more than the name");
    assert!(!c(s, u), "but the kind must agree");
    assert!(c(int, long));
    assert!(!c(int, legacy));
    assert!(c(p_int, p_long));
    assert!(!c(p_int, p_s));
    assert!(c(f1, f2), "same arity, compatible params and return");
    assert!(!c(f1, f3), "arity differs");
    assert!(!c(f1, f4), "a parameter differs");
    assert!(!c(td1, td2), "typedefs compare what they name");
}

#[test]
fn type_match_rules() {
    let mut local = BtfBuilder::new();
    let int = local.int("int", 4, SIGNED);
    let uint = local.int("unsigned int", 4, 0);
    let inner_fwd = local.fwd("inner", false);
    let p_inner = local.ptr(inner_fwd);
    let arr = local.array(int, int, 4);
    let s = local.struct_type(
        "s",
        24,
        &[
            ("a", int, 0, 0),
            ("p", p_inner, 64, 0),
            ("arr", arr, 128, 0),
        ],
    );
    let e = local.enum32("e", false, &[("X", 1), ("Y", 2)]);
    let e_small = local.enum32("e", false, &[("X", 1)]);
    let f = local.func_proto(int, &[("", int)]);
    let _ = uint;
    let local = parsed(&local);

    let mut t = BtfBuilder::new();
    let tint = t.int("int", 4, SIGNED);
    let tuint = t.int("unsigned int", 4, 0);
    let tinner = t.struct_type("inner", 4, &[("q", tint, 0, 0)]);
    let tp_inner = t.ptr(tinner);
    let tarr = t.array(tint, tint, 4);
    let tarr5 = t.array(tint, tint, 5);
    // Members in another order, one extra: matches.
    let ok = t.struct_type(
        "s",
        32,
        &[
            ("arr", tarr, 0, 0),
            ("extra", tint, 128, 0),
            ("p", tp_inner, 192, 0),
            ("a", tint, 160, 0),
        ],
    );
    let bad_len = t.struct_type(
        "s",
        32,
        &[
            ("arr", tarr5, 0, 0),
            ("p", tp_inner, 192, 0),
            ("a", tint, 160, 0),
        ],
    );
    let bad_sign = t.struct_type(
        "s",
        32,
        &[
            ("arr", tarr, 0, 0),
            ("p", tp_inner, 192, 0),
            ("a", tuint, 160, 0),
        ],
    );
    let missing = t.struct_type(
        "s",
        32,
        &[
            ("arr", tarr, 0, 0),
            ("p", tp_inner, 192, 0),
            ("b", tint, 160, 0),
        ],
    );
    let te = t.enum64("e", false, &[("Y", 9), ("X", 8), ("Z", 7)]);
    let te32 = t.enum32("e", false, &[("Y", 9), ("X", 8), ("Z", 7)]);
    let te_missing = t.enum32("e", false, &[("Y", 9)]);
    let tf = t.func_proto(tint, &[("", tint)]);
    let tf_bad = t.func_proto(tint, &[("", tuint)]);
    let t = parsed(&t);
    let m = |a, b| types_match(&local, a, &t, b).unwrap();
    assert!(m(s, ok));
    assert!(!m(s, bad_len), "array lengths must agree");
    assert!(!m(s, bad_sign), "int signedness must agree");
    assert!(!m(s, missing), "every local member must exist");
    assert!(!m(e, te), "enum sizes must agree (4 vs 8)");
    assert!(m(e, te32), "enumerators by name, not value");
    assert!(!m(e, te_missing));
    assert!(m(e_small, te32));
    assert!(m(f, tf));
    assert!(!m(f, tf_bad));
    assert!(!m(int, tuint));
}
