//! Which BTF kinds this kernel accepts, probed by loading the smallest BTF
//! that uses each (libbpf's `probe_kern_btf_*`), once per process.

use std::sync::OnceLock;

use bpfkit_object::btf::{int_encoding, BtfBuilder, Endian, VarSecinfo};

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

    /// A kernel with all of them (6.0 and later).
    pub const ALL: BtfFeatures = BtfFeatures {
        datasec: true,
        func: true,
        func_global: true,
        float: true,
        decl_tag: true,
        type_tag: true,
        enum64: true,
    };
}

/// The running kernel's BTF features, probed once.
pub fn btf_features() -> BtfFeatures {
    static FEATURES: OnceLock<BtfFeatures> = OnceLock::new();
    *FEATURES.get_or_init(|| BtfFeatures {
        datasec: loads(|b, int| {
            let ty = b.var("x", int, 1);
            let entry = VarSecinfo {
                ty,
                offset: 0,
                size: 4,
            };
            b.datasec(".data", 4, &[entry]);
        }),
        func: loads(|b, int| func(b, int, 0)),
        func_global: loads(|b, int| func(b, int, 1)),
        float: loads(|b, _| {
            b.float("float", 4);
        }),
        decl_tag: loads(|b, int| {
            let var = b.var("x", int, 1);
            b.decl_tag("tag", var, -1);
        }),
        type_tag: loads(|b, int| {
            let tag = b.type_tag("tag", int);
            b.ptr(tag);
        }),
        enum64: loads(|b, _| {
            b.enum64("e", false, &[("v", 1)]);
        }),
    })
}

fn func(b: &mut BtfBuilder, int: u32, linkage: u16) {
    let proto = b.func_proto(int, &[("x", int)]);
    b.func("a", proto, linkage);
}

/// Whether a BTF of an `int` plus what `build` adds loads.
fn loads(build: impl FnOnce(&mut BtfBuilder, u32)) -> bool {
    let mut b = BtfBuilder::new();
    let int = b.int("int", 4, int_encoding::SIGNED);
    build(&mut b, int);
    KernelBtf::load(&b.encode(Endian::HOST), 0).is_ok()
}
