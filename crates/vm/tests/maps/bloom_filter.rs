use bpfkit_object::kinds::MapType;
use bpfkit_object::map::{Map, MapError, BPF_ANY, BPF_EXIST, BPF_F_LOCK};
use bpfkit_vm::maps::attrs::*;
use bpfkit_vm::maps::BloomFilter;
use proptest::prelude::*;

use crate::{attrs, k32};

fn bloom(value: u32, max: u32, flags: u32, extra: u64) -> BloomFilter {
    BloomFilter::new(&attrs(MapType::BloomFilter, 0, value, max, flags).with_map_extra(extra))
        .unwrap()
}

#[test]
fn create_checks_and_sizes() {
    let bad = |k, v, m, f, e| {
        BloomFilter::new(&attrs(MapType::BloomFilter, k, v, m, f).with_map_extra(e)).unwrap_err()
    };
    assert_eq!(bad(4, 4, 1, 0, 0), MapError::Invalid);
    assert_eq!(bad(0, 0, 1, 0, 0), MapError::Invalid);
    assert_eq!(bad(0, 4, 0, 0, 0), MapError::Invalid);
    assert_eq!(bad(0, 4, 1, BPF_F_NO_PREALLOC, 0), MapError::Invalid);
    assert_eq!(bad(0, 4, 1, 0, 16), MapError::Invalid);
    assert_eq!(bloom(4, 1, 0, 0).nr_hash_funcs(), 5);
    assert_eq!(bloom(4, 1, 0, 3).nr_hash_funcs(), 3);
    // max_entries * nr_hash_funcs / 5 * 7 bits, a power of two, at least 64.
    assert_eq!(bloom(4, 1, 0, 0).nr_bits(), 64);
    assert_eq!(bloom(4, 100, 0, 0).nr_bits(), 1024);
    assert_eq!(bloom(4, 1000, 0, 5).nr_bits(), 8192);
    // map_extra is for bloom filters only.
    let hash = bpfkit_vm::maps::HashMap::new(&attrs(MapType::Hash, 4, 4, 1, 0).with_map_extra(1));
    assert_eq!(hash.unwrap_err(), MapError::Invalid);
}

#[test]
fn zero_seed_bits_are_the_kernels() {
    // Measured on Linux 6.18 with BPF_F_ZERO_SEED through bpf(2):
    // 1 hash function, value 4, 1 entry (64 bits), push 1 and 2: among
    // 0..64 the values 1, 2 and 13 peek as present.
    let mut b = bloom(4, 1, BPF_F_ZERO_SEED, 1);
    b.update(&[], &k32(1), BPF_ANY).unwrap();
    b.update(&[], &k32(2), BPF_ANY).unwrap();
    let hits: Vec<u32> = (0..64).filter(|&i| b.lookup(&k32(i)).is_ok()).collect();
    assert_eq!(hits, [1, 2, 13]);
    // 2 hash functions, value 3 (jhash rather than jhash2): push [7,7,7];
    // among [i,7,7] for i in 0..128 only 7 is present.
    let mut b = bloom(3, 1, BPF_F_ZERO_SEED, 2);
    b.push(&[7, 7, 7], BPF_ANY).unwrap();
    let hits: Vec<u8> = (0..128).filter(|&i| b.peek(&[i, 7, 7]).is_ok()).collect();
    assert_eq!(hits, [7]);
    // 5 hash functions, 100 entries: push the multiples of 3 below 300;
    // the false positives among the others are 8 and 89.
    let mut b = bloom(4, 100, BPF_F_ZERO_SEED, 0);
    for i in (0..300).step_by(3) {
        b.push(&k32(i), BPF_ANY).unwrap();
    }
    let fp: Vec<u32> = (0..300)
        .filter(|i| i % 3 != 0 && b.peek(&k32(*i)).is_ok())
        .collect();
    assert_eq!(fp, [8, 89]);
}

#[test]
fn operations_and_errnos() {
    let mut b = bloom(4, 10, 0, 0);
    assert_eq!(b.lookup(&k32(5)), Err(MapError::NotFound));
    assert_eq!(b.update(&[], &k32(5), BPF_EXIST), Err(MapError::Invalid));
    b.update(&[], &k32(5), BPF_ANY).unwrap();
    assert_eq!(b.lookup(&k32(5)).unwrap(), k32(5));
    // map_lookup_elem: BPF_F_LOCK needs a spin lock, which no bloom
    // filter's value has; other flags are EINVAL before anything.
    assert_eq!(b.lookup_flags(&k32(5), 0).unwrap(), k32(5));
    assert_eq!(b.lookup_flags(&k32(5), BPF_F_LOCK), Err(MapError::Invalid));
    assert_eq!(b.lookup_flags(&k32(5), 8), Err(MapError::Invalid));
    assert_eq!(b.delete(&[]), Err(MapError::NotSupported));
    assert_eq!(b.next_key(None), Err(MapError::NotSupported));
    assert_eq!(b.lookup_and_delete(&[]), Err(MapError::NotSupported));
    assert_eq!(b.lookup(&[0; 3]), Err(MapError::Invalid));
    b.freeze().unwrap();
    assert_eq!(b.update(&[], &k32(6), BPF_ANY), Err(MapError::Permission));
}

proptest! {
    #[test]
    fn no_false_negatives(values in proptest::collection::vec(any::<u32>(), 1..50), zero in any::<bool>(), extra in 0u64..16) {
        let mut b = bloom(4, 16, if zero { BPF_F_ZERO_SEED } else { 0 }, extra);
        for v in &values {
            b.push(&k32(*v), BPF_ANY).unwrap();
        }
        for v in &values {
            prop_assert!(b.peek(&k32(*v)).is_ok());
        }
    }
}
