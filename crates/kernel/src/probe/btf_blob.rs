//! The BTF object the probes that need one load (local-storage maps want a
//! value type with a `struct bpf_spin_lock`).

use bpfkit_object::btf::{int_encoding, BtfBuilder, Endian};

/// `int` [1] (anonymous); `struct bpf_spin_lock { int val; }` [2];
/// `struct val { int cnt; struct bpf_spin_lock l; }` [3]: the value type a
/// local-storage map is created with.
pub fn local_storage_btf() -> Vec<u8> {
    let mut b = BtfBuilder::new();
    let int = b.int("", 4, int_encoding::SIGNED);
    let lock = b.struct_type("bpf_spin_lock", 4, &[("val", int, 0, 0)]);
    b.struct_type("val", 8, &[("cnt", int, 0, 0), ("l", lock, 32, 0)]);
    b.encode(Endian::HOST)
}

#[cfg(test)]
mod tests {
    use bpfkit_object::btf::{Btf, Kind};

    #[test]
    fn local_storage_btf_parses_as_described() {
        let btf = Btf::parse(&super::local_storage_btf()).unwrap();
        let lock = btf.get(2).unwrap();
        assert_eq!((lock.kind, btf.name(lock)), (Kind::Struct, "bpf_spin_lock"));
        let val = btf.get(3).unwrap();
        assert_eq!(
            (val.kind, btf.name(val), val.size()),
            (Kind::Struct, "val", Some(8))
        );
        let m = val.members();
        assert_eq!((m[1].ty, m[1].bit_offset), (2, 32));
        assert_eq!(btf.str_at(m[1].name_off), Some("l"));
    }
}
