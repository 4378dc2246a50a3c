//! Which BTF kinds this kernel accepts, probed by loading the smallest BTF
//! that uses each (libbpf's `probe_kern_btf_*`), once per process.

use std::sync::OnceLock;

use bpfkit_object::btf::{EnumValue, Kind, Param, Type, TypeData, VarSecinfo};

use super::btf_image::{int, BtfImage};
use crate::btf::KernelBtf;

/// The BTF kinds and flags the kernel has (each since a kernel release).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BtfFeatures {
    /// `VAR` and `DATASEC` (5.2).
    pub datasec: bool,
    /// `FUNC` and `FUNC_PROTO` (5.0).
    pub func: bool,
    /// Global `FUNC` linkage (5.6).
    pub func_global: bool,
    /// `FLOAT` (5.13).
    pub float: bool,
    /// `DECL_TAG` (5.16).
    pub decl_tag: bool,
    /// `TYPE_TAG` (5.17).
    pub type_tag: bool,
    /// `ENUM64` (6.0).
    pub enum64: bool,
}

impl BtfFeatures {
    /// A kernel with none of them: what a sanitised BTF must still satisfy.
    pub const NONE: BtfFeatures = BtfFeatures {
        datasec: false,
        func: false,
        func_global: false,
        float: false,
        decl_tag: false,
        type_tag: false,
        enum64: false,
    };
}

/// The running kernel's BTF features, probed once.
pub fn btf_features() -> BtfFeatures {
    static FEATURES: OnceLock<BtfFeatures> = OnceLock::new();
    *FEATURES.get_or_init(|| BtfFeatures {
        datasec: loads(|b, i| {
            let x = b.string("x");
            let var = b.push(typed(Kind::Var, x, i, TypeData::Var { linkage: 1 }));
            let sec = b.string(".data");
            b.push(Type {
                vlen: 1,
                ..typed(
                    Kind::Datasec,
                    sec,
                    4,
                    TypeData::Datasec(vec![VarSecinfo {
                        ty: var,
                        offset: 0,
                        size: 4,
                    }]),
                )
            });
        }),
        func: loads(|b, i| func(b, i, 0)),
        func_global: loads(|b, i| func(b, i, 1)),
        float: loads(|b, _| {
            let f = b.string("float");
            b.push(typed(Kind::Float, f, 4, TypeData::None));
        }),
        decl_tag: loads(|b, i| {
            let x = b.string("x");
            let var = b.push(typed(Kind::Var, x, i, TypeData::Var { linkage: 1 }));
            let tag = b.string("tag");
            b.push(typed(
                Kind::DeclTag,
                tag,
                var,
                TypeData::DeclTag { component_idx: -1 },
            ));
        }),
        type_tag: loads(|b, i| {
            let tag = b.string("tag");
            let t = b.push(typed(Kind::TypeTag, tag, i, TypeData::None));
            b.push(typed(Kind::Ptr, 0, t, TypeData::None));
        }),
        enum64: loads(|b, _| {
            let e = b.string("e");
            let v = b.string("v");
            b.push(Type {
                vlen: 1,
                ..typed(
                    Kind::Enum64,
                    e,
                    8,
                    TypeData::Enum(vec![EnumValue {
                        name_off: v,
                        value: 1,
                    }]),
                )
            });
        }),
    })
}

fn typed(kind: Kind, name_off: u32, size_or_type: u32, data: TypeData) -> Type {
    Type {
        kind,
        name_off,
        kind_flag: false,
        vlen: 0,
        size_or_type,
        data,
    }
}

fn func(b: &mut BtfImage, int_id: u32, linkage: u16) {
    let x = b.string("x");
    let proto = b.push(Type {
        vlen: 1,
        ..typed(
            Kind::FuncProto,
            0,
            int_id,
            TypeData::Params(vec![Param {
                name_off: x,
                ty: int_id,
            }]),
        )
    });
    let a = b.string("a");
    b.push(Type {
        vlen: linkage,
        ..typed(Kind::Func, a, proto, TypeData::None)
    });
}

/// Whether a BTF of an `int` plus what `build` adds loads.
fn loads(build: impl FnOnce(&mut BtfImage, u32)) -> bool {
    let mut b = BtfImage::new();
    let name = b.string("int");
    let int_id = b.push(int(name, 4, 32, 1));
    build(&mut b, int_id);
    KernelBtf::load(&b.encode(), 0).is_ok()
}
