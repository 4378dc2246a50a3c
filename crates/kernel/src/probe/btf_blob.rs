//! Minimal raw BTF, encoded by hand, for the probes that need a BTF object
//! (local-storage maps want a value type with a `struct bpf_spin_lock`).

/// `BTF_KIND_INT`.
const KIND_INT: u32 = 1;
/// `BTF_KIND_STRUCT`.
const KIND_STRUCT: u32 = 4;
/// `BTF_INT_SIGNED`.
const INT_SIGNED: u32 = 1;

/// `int` [1]; `struct bpf_spin_lock { int val; }` [2];
/// `struct val { int cnt; struct bpf_spin_lock l; }` [3]: the value type a
/// local-storage map is created with.
pub fn local_storage_btf() -> Vec<u8> {
    let strings = b"\0bpf_spin_lock\0val\0cnt\0l\0";
    let (lock, val, cnt, l) = (1u32, 15u32, 19u32, 23u32);
    let words: [u32; 19] = [
        // [1] int: 4 bytes, 32 signed bits at offset 0.
        0,
        KIND_INT << 24,
        4,
        (INT_SIGNED << 24) | 32,
        // [2] struct bpf_spin_lock, 4 bytes: `int val` at bit 0.
        lock,
        (KIND_STRUCT << 24) | 1,
        4,
        val,
        1,
        0,
        // [3] struct val, 8 bytes: `int cnt` at bit 0, `l` at bit 32.
        val,
        (KIND_STRUCT << 24) | 2,
        8,
        cnt,
        1,
        0,
        l,
        2,
        32,
    ];
    let types: Vec<u8> = words.iter().flat_map(|w| w.to_ne_bytes()).collect();
    raw(&types, strings)
}

/// A BTF blob: `struct btf_header` (version 1, 24 bytes), types, strings.
pub fn raw(types: &[u8], strings: &[u8]) -> Vec<u8> {
    let mut b = Vec::with_capacity(24 + types.len() + strings.len());
    b.extend_from_slice(&0xeb9fu16.to_ne_bytes());
    b.extend_from_slice(&[1, 0]);
    for w in [
        24u32,
        0,
        types.len() as u32,
        types.len() as u32,
        strings.len() as u32,
    ] {
        b.extend_from_slice(&w.to_ne_bytes());
    }
    b.extend_from_slice(types);
    b.extend_from_slice(strings);
    b
}
