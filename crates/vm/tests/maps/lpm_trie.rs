use std::collections::BTreeMap;

use bpfkit_object::kinds::MapType;
use bpfkit_object::map::{entries, Map, MapError, BPF_ANY, BPF_EXIST, BPF_NOEXIST};
use bpfkit_vm::maps::attrs::*;
use bpfkit_vm::maps::LpmTrie;
use proptest::prelude::*;

use crate::attrs;

fn key(len: u32, data: [u8; 4]) -> Vec<u8> {
    let mut k = len.to_le_bytes().to_vec();
    k.extend_from_slice(&data);
    k
}

fn trie(max: u32) -> LpmTrie {
    LpmTrie::new(&attrs(MapType::LpmTrie, 8, 4, max, BPF_F_NO_PREALLOC)).unwrap()
}

#[test]
fn create_checks_as_trie_alloc() {
    let bad = |k, v, m, f| LpmTrie::new(&attrs(MapType::LpmTrie, k, v, m, f)).unwrap_err();
    assert_eq!(bad(8, 4, 1, 0), MapError::Invalid);
    assert_eq!(bad(8, 4, 0, BPF_F_NO_PREALLOC), MapError::Invalid);
    assert_eq!(bad(4, 4, 1, BPF_F_NO_PREALLOC), MapError::Invalid);
    assert_eq!(bad(261, 4, 1, BPF_F_NO_PREALLOC), MapError::Invalid);
    assert_eq!(bad(8, 0, 1, BPF_F_NO_PREALLOC), MapError::Invalid);
    assert_eq!(
        bad(8, 4, 1, BPF_F_NO_PREALLOC | BPF_F_ZERO_SEED),
        MapError::Invalid
    );
    let t = LpmTrie::new(&attrs(MapType::LpmTrie, 260, 1, 1, BPF_F_NO_PREALLOC)).unwrap();
    assert_eq!(t.max_prefixlen(), 2048);
}

#[test]
fn iteration_and_lookup_as_linux_6_18() {
    // Measured with bpftool on Linux 6.18 (key 8, value 4): the dump order
    // and the raw data bits kept past the prefix (10.255.0.0/8).
    let mut t = trie(16);
    for (len, d) in [
        (16, [192, 168, 0, 0]),
        (24, [192, 168, 0, 0]),
        (24, [192, 168, 1, 0]),
        (24, [192, 168, 128, 0]),
        (8, [10, 255, 0, 0]),
        (32, [10, 1, 2, 3]),
        (0, [1, 2, 3, 4]),
        (1, [128, 0, 0, 0]),
    ] {
        t.update(&key(len, d), &[len as u8, 0, 0, 0], BPF_ANY)
            .unwrap();
    }
    let order: Vec<Vec<u8>> = entries(&t).unwrap().into_iter().map(|(k, _)| k).collect();
    assert_eq!(
        order,
        [
            key(32, [10, 1, 2, 3]),
            key(8, [10, 255, 0, 0]),
            key(24, [192, 168, 0, 0]),
            key(24, [192, 168, 1, 0]),
            key(24, [192, 168, 128, 0]),
            key(16, [192, 168, 0, 0]),
            key(1, [128, 0, 0, 0]),
            key(0, [1, 2, 3, 4]),
        ]
    );
    assert_eq!(t.lookup(&key(17, [192, 168, 200, 1])).unwrap()[0], 16);
    assert_eq!(t.lookup(&key(32, [192, 168, 1, 77])).unwrap()[0], 24);
    assert_eq!(t.lookup(&key(32, [10, 1, 2, 3])).unwrap()[0], 32);
    assert_eq!(t.lookup(&key(31, [10, 1, 2, 3])).unwrap()[0], 8);
    assert_eq!(t.lookup(&key(32, [9, 0, 0, 0])).unwrap()[0], 0);
    assert_eq!(t.lookup(&key(33, [10, 1, 2, 3])), Err(MapError::NotFound));
    assert_eq!(t.delete(&key(33, [10, 1, 2, 3])), Err(MapError::Invalid));
    assert_eq!(t.delete(&key(8, [11, 0, 0, 0])), Err(MapError::NotFound));
    // The next key of a key that is not stored exactly is the first key.
    assert_eq!(t.next_key(Some(&key(8, [11, 0, 0, 0]))).unwrap(), order[0]);
    assert_eq!(t.next_key(Some(&key(40, [0; 4]))).unwrap(), order[0]);
    assert_eq!(t.next_key(Some(&key(0, [9; 4]))), Err(MapError::NotFound));
    // Delete needs the exact prefix; bits past it do not matter.
    t.delete(&key(8, [10, 0, 0, 0])).unwrap();
    assert_eq!(t.lookup(&key(31, [10, 1, 2, 3])).unwrap()[0], 0);
}

#[test]
fn update_flags_and_full_trie_as_linux_6_18() {
    let mut t = trie(1);
    t.update(&key(24, [10, 1, 2, 0]), &[1; 4], BPF_ANY).unwrap();
    assert_eq!(t.update(&key(24, [10, 1, 2, 0]), &[2; 4], BPF_ANY), Ok(()));
    assert_eq!(
        t.update(&key(24, [10, 1, 2, 0]), &[2; 4], BPF_NOEXIST),
        Err(MapError::Exists)
    );
    assert_eq!(
        t.update(&key(16, [10, 1, 2, 0]), &[2; 4], BPF_ANY),
        Err(MapError::Errno(28))
    );
    assert_eq!(
        t.update(&key(16, [10, 1, 2, 0]), &[2; 4], BPF_EXIST),
        Err(MapError::NotFound)
    );
    assert_eq!(
        t.update(&key(33, [10, 1, 2, 0]), &[2; 4], BPF_ANY),
        Err(MapError::Invalid)
    );
    assert_eq!(
        t.update(&key(24, [10, 1, 2, 0]), &[2; 4], 3),
        Err(MapError::Invalid)
    );
    assert_eq!(
        t.lookup_and_delete(&key(24, [10, 1, 2, 0])),
        Err(MapError::NotSupported)
    );
    assert_eq!(t.len(), 1);
}

#[test]
fn program_side() {
    let mut t = trie(4);
    t.prog_update(&key(8, [10, 0, 0, 0]), &[8; 4], BPF_ANY)
        .unwrap();
    let slot = t.prog_lookup(&key(32, [10, 9, 9, 9])).unwrap().unwrap();
    t.slot_mut(slot).unwrap()[0] = 1;
    assert_eq!(t.lookup(&key(8, [10, 0, 0, 0])).unwrap(), [1, 8, 8, 8]);
    assert_eq!(t.prog_lookup(&key(32, [11, 0, 0, 0])).unwrap(), None);
    t.prog_delete(&key(8, [10, 0, 0, 0])).unwrap();
    assert!(t.is_empty());
}

fn model_lookup(model: &BTreeMap<(u32, u8), u8>, len: u32, byte: u8) -> Option<u8> {
    (0..=len.min(8)).rev().find_map(|l| {
        let mask = if l == 0 { 0 } else { 0xffu8 << (8 - l) };
        model.get(&(l, byte & mask)).copied()
    })
}

proptest! {
    #[test]
    fn trie_matches_a_prefix_table(ops in proptest::collection::vec((0u32..10, any::<u8>(), 0u8..3, any::<u8>()), 1..60)) {
        // One data byte: prefixes /0 to /8.
        let mut t = LpmTrie::new(&attrs(MapType::LpmTrie, 5, 1, 6, BPF_F_NO_PREALLOC)).unwrap();
        let mut model: BTreeMap<(u32, u8), u8> = BTreeMap::new();
        for (len, byte, what, v) in ops {
            let mut k = len.to_le_bytes().to_vec();
            k.push(byte);
            let mask = if len == 0 { 0 } else if len >= 8 { 0xff } else { 0xffu8 << (8 - len) };
            match what {
                0 => {
                    let want = if len > 8 { Err(MapError::Invalid) }
                        else if !model.contains_key(&(len, byte & mask)) && model.len() == 6 { Err(MapError::Errno(28)) }
                        else { model.insert((len, byte & mask), v); Ok(()) };
                    prop_assert_eq!(t.update(&k, &[v], BPF_ANY), want);
                }
                1 => {
                    let want = if len > 8 { Err(MapError::Invalid) }
                        else { model.remove(&(len, byte & mask)).map(|_| ()).ok_or(MapError::NotFound) };
                    prop_assert_eq!(t.delete(&k), want);
                }
                _ => {
                    let want = if len > 8 { None } else { model_lookup(&model, len, byte) };
                    prop_assert_eq!(t.lookup(&k).ok().map(|v| v[0]), want);
                }
            }
            // Iteration: every prefix once, each more specific prefix before
            // any prefix containing it.
            let keys: Vec<(u32, u8)> = entries(&t).unwrap().into_iter()
                .map(|(k, _)| { let l = u32::from_le_bytes(k[..4].try_into().unwrap()); (l, k[4] & if l == 0 { 0 } else { 0xffu8 << (8 - l) }) })
                .collect();
            prop_assert_eq!(keys.len(), model.len());
            for (i, a) in keys.iter().enumerate() {
                for b in &keys[i + 1..] {
                    let contains = |outer: &(u32, u8), inner: &(u32, u8)| outer.0 < inner.0 && (inner.1 & if outer.0 == 0 { 0 } else { 0xffu8 << (8 - outer.0) }) == outer.1;
                    prop_assert!(!contains(a, b), "{:?} listed before {:?} inside it", a, b);
                }
            }
        }
    }
}
