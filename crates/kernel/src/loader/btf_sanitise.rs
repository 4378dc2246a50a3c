//! Sanitising BTF for the running kernel: the kinds it lacks rewritten
//! into ones it has, every id kept, as libbpf's
//! `bpf_object__sanitize_btf` does before `BPF_BTF_LOAD`.

use bpfkit_object::btf::int_encoding::{BOOL, CHAR, SIGNED};
use bpfkit_object::btf::{BtfBuilder, IntInfo, Kind, Member, Type, TypeData};

use super::btf_features::BtfFeatures;

/// Rewrites the kinds this kernel's BTF lacks into ones it has, keeping
/// every id (so map and program references stay valid), as libbpf's
/// `bpf_object__sanitize_btf` does.
pub fn sanitise(img: &mut BtfBuilder, f: &BtfFeatures) {
    let mut enum64_placeholder = None;
    for id in 1..img.len() as u32 {
        let Some(t) = img.get(id).cloned() else {
            continue;
        };
        let new = match t.kind {
            Kind::Var if !f.datasec => Some(Type::int(t.name_off, 1, 0)),
            Kind::Datasec if !f.datasec => {
                // A struct of the variables, named after the section with
                // its dots turned into underscores.
                let name = img.str_at(t.name_off).replace('.', "_");
                let name_off = img.string(&name);
                let members = t
                    .datasec_entries()
                    .iter()
                    .map(|v| Member {
                        name_off: img.get(v.ty).map_or(0, |var| var.name_off),
                        ty: v.ty,
                        bit_offset: v.offset * 8,
                        bitfield_size: 0,
                    })
                    .collect();
                Some(Type {
                    kind: Kind::Struct,
                    name_off,
                    kind_flag: false,
                    vlen: t.vlen,
                    size_or_type: t.size_or_type,
                    data: TypeData::Members(members),
                })
            }
            Kind::FuncProto if !f.func => {
                // Enumerators need names where parameters may have none.
                let unnamed = img.string("param");
                Some(Type {
                    kind: Kind::Enum,
                    name_off: 0,
                    kind_flag: false,
                    vlen: t.vlen,
                    size_or_type: 4,
                    data: TypeData::Enum(
                        t.params()
                            .iter()
                            .map(|p| bpfkit_object::btf::EnumValue {
                                name_off: if p.name_off == 0 { unnamed } else { p.name_off },
                                value: u64::from(p.ty),
                            })
                            .collect(),
                    ),
                })
            }
            Kind::Func if !f.func => Some(Type {
                kind: Kind::Typedef,
                vlen: 0,
                ..t
            }),
            Kind::Func if !f.func_global && t.vlen != 0 => Some(Type { vlen: 0, ..t }),
            Kind::Float if !f.float => Some(Type {
                kind: Kind::Struct,
                vlen: 0,
                data: TypeData::Members(Vec::new()),
                ..t
            }),
            // GCC 12 writes `char` as SIGNED | CHAR, which every kernel
            // refuses ("Unsupported encoding": one of the three bits at
            // most), and libbpf then loads no BTF at all. The first bit
            // set is kept: the sign, for a char.
            Kind::Int => t
                .int_info()
                .filter(|i| !int_encoding_ok(i.encoding))
                .map(|i| {
                    // The lowest bit set, of the three the kernel knows.
                    let known = i.encoding & (SIGNED | CHAR | BOOL);
                    let encoding = known & known.wrapping_neg();
                    Type {
                        data: TypeData::Int(IntInfo { encoding, ..i }),
                        ..t
                    }
                }),
            Kind::DeclTag if !f.decl_tag => Some(Type::int(t.name_off, 1, 0)),
            Kind::TypeTag if !f.type_tag => Some(Type {
                kind: Kind::Const,
                name_off: 0,
                ..t
            }),
            Kind::Enum64 if !f.enum64 => {
                let placeholder =
                    *enum64_placeholder.get_or_insert_with(|| img.int("enum64_placeholder", 4, 0));
                let members = t
                    .enum_values()
                    .iter()
                    .map(|v| Member {
                        name_off: v.name_off,
                        ty: placeholder,
                        bit_offset: 0,
                        bitfield_size: 0,
                    })
                    .collect();
                Some(Type {
                    kind: Kind::Union,
                    kind_flag: false,
                    data: TypeData::Members(members),
                    ..t
                })
            }
            _ => None,
        };
        if let (Some(new), Some(slot)) = (new, img.get_mut(id)) {
            *slot = new;
        }
    }
}

/// Whether the kernel takes an INT's encoding (`btf_int_check_meta`): none,
/// or exactly one of SIGNED (1), CHAR (2) and BOOL (4).
fn int_encoding_ok(encoding: u8) -> bool {
    encoding == 0 || encoding == SIGNED || encoding == CHAR || encoding == BOOL
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loader::btf_image::fixed_up;
    use bpfkit_object::btf::{Btf, Endian};
    use bpfkit_object::read::Object;

    fn fixture(name: &str) -> Object {
        let path = format!(
            "{}/../object/tests/fixtures/{name}.o",
            env!("CARGO_MANIFEST_DIR")
        );
        Object::open(path).expect("fixture")
    }

    #[test]
    fn gcc_chars_get_one_encoding_bit() {
        // gcc_xdp_count.o (bpf-gcc 12): `char` is SIGNED | CHAR.
        let obj = fixture("gcc_xdp_count");
        let btf = obj.btf.as_ref().expect("btf");
        let encodings = |b: &Btf| -> Vec<(String, u8)> {
            b.types()
                .filter_map(|(_, t)| Some((b.name(t).to_string(), t.int_info()?.encoding)))
                .collect()
        };
        assert!(encodings(btf).contains(&("char".into(), 3)));
        let mut img = fixed_up(&obj, btf);
        // With every kind the kernel may have: only the encoding changes.
        sanitise(&mut img, &BtfFeatures::ALL);
        let out = Btf::parse(&img.encode(Endian::HOST)).expect("parses");
        let got = encodings(&out);
        assert!(got.contains(&("char".into(), 1)), "{got:?}");
        assert!(got.iter().all(|(_, e)| int_encoding_ok(*e)), "{got:?}");
        assert_eq!(out.len(), btf.len());
    }

    #[test]
    fn sanitising_leaves_only_old_kinds() {
        for name in ["btf_shapes", "btf_corners", "global_data", "subprog_calls"] {
            let obj = fixture(name);
            let btf = obj.btf.as_ref().expect("btf");
            let mut img = fixed_up(&obj, btf);
            let before = img.len();
            sanitise(&mut img, &BtfFeatures::NONE);
            let out = Btf::parse(&img.encode(Endian::HOST)).expect("parses");
            assert!(out.len() >= before);
            for (id, t) in out.types() {
                let new = matches!(
                    t.kind,
                    Kind::Var
                        | Kind::Datasec
                        | Kind::Func
                        | Kind::FuncProto
                        | Kind::Float
                        | Kind::DeclTag
                        | Kind::TypeTag
                        | Kind::Enum64
                );
                assert!(!new, "{name}: [{id}] is still {}", t.kind.name());
            }
        }
    }
}
