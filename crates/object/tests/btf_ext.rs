//! `.BTF.ext` parsing on hand-built blobs (the `.BTF` beside them written
//! with [`BtfBuilder`]): all three record kinds, larger record sizes from
//! newer compilers, and malformed blocks.

use bpfkit_object::btf::int_encoding::SIGNED;
use bpfkit_object::btf::{Btf, BtfBuilder, BtfError, BtfExt, CoreReloKind, Endian};

/// A tiny `.BTF`: [1] int, [2] func_proto int(void), [3] FUNC "f"; strings
/// "int", "f", "xdp", "a.c", "return 0;", "0:1".
fn base() -> (Vec<u8>, [u32; 6]) {
    let mut b = BtfBuilder::new();
    let int = b.int("int", 4, SIGNED);
    let proto = b.func_proto(int, &[]);
    b.func("f", proto, 1);
    let offs = ["int", "f", "xdp", "a.c", "return 0;", "0:1"].map(|s| b.string(s));
    (b.encode(Endian::Little), offs)
}

/// A `.BTF.ext` with the given record sizes (extra bytes are zero).
fn ext(offs: [u32; 6], sizes: [u32; 3], relo_kind: u32) -> Vec<u8> {
    let block = |size: u32, recs: Vec<Vec<u32>>| {
        let mut b = size.to_le_bytes().to_vec();
        b.extend_from_slice(&offs[2].to_le_bytes());
        b.extend_from_slice(&(recs.len() as u32).to_le_bytes());
        for r in recs {
            let mut rb: Vec<u8> = r.iter().flat_map(|w| w.to_le_bytes()).collect();
            rb.resize(size as usize, 0);
            b.extend_from_slice(&rb);
        }
        b
    };
    let func = block(sizes[0], vec![vec![0, 3], vec![16, 3]]);
    let line = block(sizes[1], vec![vec![8, offs[3], offs[4], 7 << 10 | 5]]);
    let core = block(sizes[2], vec![vec![24, 1, offs[5], relo_kind]]);
    let mut out = Vec::new();
    out.extend_from_slice(&0xeb9fu16.to_le_bytes());
    out.extend_from_slice(&[1, 0]);
    let (f, l) = (func.len() as u32, line.len() as u32);
    for w in [32, 0, f, f, l, f + l, core.len() as u32] {
        out.extend_from_slice(&w.to_le_bytes());
    }
    out.extend_from_slice(&func);
    out.extend_from_slice(&line);
    out.extend_from_slice(&core);
    out
}

#[test]
fn records_grouped_by_section() {
    let (b, offs) = base();
    let btf = Btf::parse(&b).unwrap();
    for sizes in [[8, 16, 16], [12, 20, 24]] {
        let e = BtfExt::parse(&ext(offs, sizes, 2), &btf).unwrap();
        assert_eq!(e.record_sizes, sizes);
        let f = e.func_info("xdp");
        assert_eq!(f.len(), 2);
        assert_eq!((f[1].insn_off, f[1].type_id), (16, 3));
        let l = &e.line_info("xdp")[0];
        assert_eq!(l.file_name, "a.c");
        assert_eq!(l.line_text, "return 0;");
        assert_eq!((l.insn_off, l.line, l.col), (8, 7, 5));
        let c = &e.core_relos("xdp")[0];
        assert_eq!(c.access, "0:1");
        assert_eq!(c.kind, CoreReloKind::FieldExists);
        assert!(e.func_info(".text").is_empty());
    }
}

#[test]
fn every_core_relo_kind_is_known() {
    for raw in 0..13 {
        let k = CoreReloKind::from_raw(raw).unwrap();
        assert_eq!(k as u32, raw);
        assert_eq!(
            k.is_field() as u8 + k.is_type() as u8 + k.is_enumval() as u8,
            1
        );
    }
    assert_eq!(CoreReloKind::from_raw(13), None);
}

#[test]
fn malformed_ext_is_rejected() {
    let (b, offs) = base();
    let btf = Btf::parse(&b).unwrap();
    assert!(matches!(
        BtfExt::parse(&ext(offs, [8, 16, 16], 13), &btf),
        Err(BtfError::UnknownCoreReloKind { kind: 13, .. })
    ));
    assert!(matches!(
        BtfExt::parse(&ext(offs, [4, 16, 16], 0), &btf),
        Err(BtfError::ExtRecordSize {
            section: "func_info",
            ..
        })
    ));
    let good = ext(offs, [8, 16, 16], 0);
    for len in 0..good.len() {
        assert!(BtfExt::parse(&good[..len], &btf).is_err(), "len {len}");
    }
    for i in 0..good.len() * 8 {
        let mut g = good.clone();
        g[i / 8] ^= 1 << (i % 8);
        let _ = BtfExt::parse(&g, &btf);
    }
}
