use std::collections::BTreeMap;

use bpfkit_object::kinds::MapType;
use bpfkit_object::map::{entries, Map, MapError, BPF_ANY, BPF_EXIST, BPF_F_LOCK, BPF_NOEXIST};
use bpfkit_vm::maps::attrs::*;
use bpfkit_vm::maps::HashMap;
use proptest::prelude::*;

use crate::{attrs, k32};

fn hash(t: MapType, max: u32, flags: u32) -> HashMap {
    HashMap::new(&attrs(t, 4, 4, max, flags)).unwrap()
}

fn keys(m: &HashMap) -> Vec<u32> {
    entries(m)
        .unwrap()
        .into_iter()
        .map(|(k, _)| u32::from_le_bytes(k.try_into().unwrap()))
        .collect()
}

#[test]
fn create_checks_as_htab_map_alloc_check() {
    let bad = |t, k, v, m, f| HashMap::new(&attrs(t, k, v, m, f)).unwrap_err();
    assert_eq!(bad(MapType::Hash, 0, 4, 1, 0), MapError::Invalid);
    assert_eq!(bad(MapType::Hash, 4, 0, 1, 0), MapError::Invalid);
    assert_eq!(bad(MapType::Hash, 4, 4, 0, 0), MapError::Invalid);
    // Linux 6.18 (measured): key + value must stay below 4 MiB - 48.
    assert_eq!(
        bad(MapType::Hash, 4, (4 << 20) - 52, 1, 0),
        MapError::TooBig
    );
    assert!(HashMap::new(&attrs(MapType::Hash, 4, (4 << 20) - 53, 1, 0)).is_ok());
    assert!(HashMap::new(&attrs(MapType::Hash, 10000, 4, 1, 0)).is_ok());
    assert_eq!(
        bad(MapType::PercpuHash, 4, 32 * 1024 + 1, 1, 0),
        MapError::TooBig
    );
    assert_eq!(
        bad(MapType::Hash, 4, 4, 1, BPF_F_MMAPABLE),
        MapError::Invalid
    );
    assert_eq!(
        bad(MapType::Hash, 4, 4, 1, BPF_F_NO_COMMON_LRU),
        MapError::Invalid
    );
    assert_eq!(
        bad(MapType::LruHash, 4, 4, 1, BPF_F_NO_PREALLOC),
        MapError::NotSupported
    );
    assert_eq!(
        bad(MapType::PercpuHash, 4, 4, 1, BPF_F_NUMA_NODE),
        MapError::Invalid
    );
    assert_eq!(
        bad(
            MapType::LruHash,
            4,
            4,
            1,
            BPF_F_NO_COMMON_LRU | BPF_F_NUMA_NODE
        ),
        MapError::Invalid
    );
    assert_eq!(bad(MapType::Hash, 4, 4, u32::MAX, 0), MapError::TooBig);
    let lock = |t, off| HashMap::new(&attrs(t, 4, 8, 1, 0).with_lock(off)).map(|_| ());
    assert_eq!(lock(MapType::Hash, 4), Ok(()));
    assert_eq!(lock(MapType::PercpuHash, 0), Err(MapError::NotSupported));
    assert_eq!(lock(MapType::LruHash, 0), Err(MapError::NotSupported));
    assert!(HashMap::new(&attrs(MapType::Hash, 4, 4, 1, BPF_F_NO_PREALLOC)).is_ok());
}

#[test]
fn flags_and_errnos() {
    let mut m = hash(MapType::Hash, 2, 0);
    assert_eq!(m.lookup(&k32(1)), Err(MapError::NotFound));
    assert_eq!(
        m.update(&k32(1), &[1; 4], BPF_EXIST),
        Err(MapError::NotFound)
    );
    assert_eq!(m.update(&k32(1), &[1; 4], BPF_NOEXIST), Ok(()));
    assert_eq!(
        m.update(&k32(1), &[2; 4], BPF_NOEXIST),
        Err(MapError::Exists)
    );
    assert_eq!(m.update(&k32(1), &[2; 4], BPF_EXIST), Ok(()));
    assert_eq!(m.update(&k32(1), &[2; 4], 3), Err(MapError::Invalid));
    assert_eq!(
        m.update(&k32(1), &[2; 4], BPF_F_LOCK),
        Err(MapError::Invalid)
    );
    assert_eq!(m.lookup(&k32(1)).unwrap(), vec![2; 4]);
    assert_eq!(m.update(&k32(2), &[3; 4], BPF_ANY), Ok(()));
    // Full: a new key is E2BIG, an existing one is still replaced.
    assert_eq!(m.update(&k32(3), &[3; 4], BPF_ANY), Err(MapError::TooBig));
    assert_eq!(m.update(&k32(2), &[4; 4], BPF_ANY), Ok(()));
    assert_eq!(m.delete(&k32(3)), Err(MapError::NotFound));
    assert_eq!(m.delete(&k32(2)), Ok(()));
    assert_eq!(m.update(&k32(3), &[3; 4], BPF_ANY), Ok(()));
    assert_eq!(m.lookup_and_delete(&k32(3)).unwrap(), vec![3; 4]);
    assert_eq!(m.lookup_and_delete(&k32(3)), Err(MapError::NotFound));
    assert_eq!(m.len(), 1);
    m.freeze().unwrap();
    assert_eq!(
        m.update(&k32(1), &[0; 4], BPF_ANY),
        Err(MapError::Permission)
    );
    assert_eq!(m.delete(&k32(1)), Err(MapError::Permission));
    assert_eq!(m.lookup_and_delete(&k32(1)), Err(MapError::Permission));
    // Programs still write a frozen map.
    assert_eq!(m.prog_update(&k32(5), &[5; 4], BPF_ANY, 0), Ok(()));
    assert_eq!(m.prog_delete(&k32(5)), Ok(()));
}

#[test]
fn zero_seed_iterates_in_the_kernels_order() {
    // Measured on Linux 6.18: hash, key 4, value 4, 8 entries,
    // BPF_F_ZERO_SEED, keys 0..8 inserted in order then key 3 replaced;
    // `bpftool map dump` lists [0, 4, 7, 2, 1, 6, 5, 3].
    let mut m = hash(MapType::Hash, 8, BPF_F_ZERO_SEED);
    for i in 0..8 {
        m.update(&k32(i), &k32(i), BPF_ANY).unwrap();
    }
    m.update(&k32(3), &k32(9), BPF_ANY).unwrap();
    assert_eq!(keys(&m), [0, 4, 7, 2, 1, 6, 5, 3]);
    // Same kernel, 3-byte keys [x, 1, 2] for x in 10, 20, 30, 40, 50 (jhash, not jhash2).
    let mut m = HashMap::new(&attrs(MapType::Hash, 3, 4, 5, BPF_F_ZERO_SEED)).unwrap();
    for x in [10u8, 20, 30, 40, 50] {
        m.update(&[x, 1, 2], &[0; 4], BPF_ANY).unwrap();
    }
    let order: Vec<u8> = entries(&m)
        .unwrap()
        .into_iter()
        .map(|(k, _)| k[0])
        .collect();
    assert_eq!(order, [40, 30, 20, 50, 10]);
}

#[test]
fn next_key_of_a_missing_key_restarts() {
    let mut m = hash(MapType::Hash, 8, BPF_F_ZERO_SEED);
    for i in 0..4 {
        m.update(&k32(i), &k32(i), BPF_ANY).unwrap();
    }
    let first = m.next_key(None).unwrap();
    assert_eq!(m.next_key(Some(&k32(100))).unwrap(), first);
    let all = keys(&m);
    assert_eq!(all.len(), 4);
    let last = k32(*all.last().unwrap());
    assert_eq!(m.next_key(Some(&last)), Err(MapError::NotFound));
    assert_eq!(
        HashMap::new(&attrs(MapType::Hash, 4, 4, 1, 0))
            .unwrap()
            .next_key(None),
        Err(MapError::NotFound)
    );
}

#[test]
fn spin_lock_updates_in_place() {
    let mut m = HashMap::new(&attrs(MapType::Hash, 4, 8, 2, 0).with_lock(0)).unwrap();
    assert_eq!(
        m.update(&k32(1), &[1; 8], BPF_F_LOCK | BPF_EXIST),
        Err(MapError::NotFound)
    );
    m.update(&k32(1), &[1; 8], BPF_F_LOCK).unwrap();
    let slot = m.prog_lookup(&k32(1), 0).unwrap().unwrap();
    assert_eq!(
        m.update(&k32(1), &[2; 8], BPF_F_LOCK | BPF_NOEXIST),
        Err(MapError::Exists)
    );
    m.update(&k32(1), &[2; 8], BPF_F_LOCK).unwrap();
    // In place: the program's slot sees the new value, lock word untouched.
    assert_eq!(m.slot(slot).unwrap(), &[0, 0, 0, 0, 2, 2, 2, 2]);
    assert_eq!(
        m.lookup_flags(&k32(1), BPF_F_LOCK).unwrap(),
        [0, 0, 0, 0, 2, 2, 2, 2]
    );
    // Without BPF_F_LOCK the element is replaced by a new one.
    m.update(&k32(1), &[3; 8], BPF_ANY).unwrap();
    assert_ne!(m.prog_lookup(&k32(1), 0).unwrap().unwrap(), slot);
    assert_eq!(m.freeze(), Err(MapError::NotSupported));
}

#[test]
fn percpu_hash_values() {
    let mut m = HashMap::new(&attrs(MapType::PercpuHash, 4, 4, 4, 0).with_ncpus(2)).unwrap();
    assert_eq!(m.sys_value_size(), 16);
    let v: Vec<u8> = (0..16).collect();
    m.update(&k32(1), &v, BPF_ANY).unwrap();
    assert_eq!(m.lookup(&k32(1)).unwrap(), v);
    assert_eq!(m.update(&k32(1), &v, BPF_F_LOCK), Err(MapError::Invalid));
    // A program's new element: its CPU's value, the others zero.
    m.prog_update(&k32(2), &[7; 4], BPF_ANY, 1).unwrap();
    assert_eq!(
        m.lookup(&k32(2)).unwrap(),
        [0, 0, 0, 0, 0, 0, 0, 0, 7, 7, 7, 7, 0, 0, 0, 0]
    );
    let s0 = m.prog_lookup(&k32(1), 0).unwrap().unwrap();
    let s1 = m.prog_lookup(&k32(1), 1).unwrap().unwrap();
    assert_eq!(m.slot(s0).unwrap(), &[0, 1, 2, 3]);
    assert_eq!(m.slot(s1).unwrap(), &[8, 9, 10, 11]);
    assert_eq!(m.prog_lookup(&k32(1), 2).unwrap(), None);
    // Updated in place: the slots stay.
    m.prog_update(&k32(1), &[5; 4], BPF_EXIST, 0).unwrap();
    assert_eq!(m.slot(s0).unwrap(), &[5; 4]);
    assert_eq!(m.slot(s1).unwrap(), &[8, 9, 10, 11]);
}

#[test]
fn lru_evicts_the_least_recently_used() {
    let mut m = hash(MapType::LruHash, 3, 0);
    for i in 1..=3 {
        m.update(&k32(i), &[i as u8; 4], BPF_ANY).unwrap();
    }
    // A program's lookup marks key 1 used; a syscall lookup of 2 does not.
    m.prog_lookup(&k32(1), 0).unwrap().unwrap();
    m.lookup(&k32(2)).unwrap();
    m.update(&k32(4), &[4; 4], BPF_ANY).unwrap();
    assert_eq!(m.lookup(&k32(2)), Err(MapError::NotFound));
    assert_eq!(m.len(), 3);
    // The node is taken before the flags are checked: a refused
    // BPF_NOEXIST update of a full map still evicts (key 3 now).
    assert_eq!(
        m.update(&k32(1), &[0; 4], BPF_NOEXIST),
        Err(MapError::Exists)
    );
    assert_eq!(m.lookup(&k32(3)), Err(MapError::NotFound));
    assert_eq!(m.len(), 2);
    assert_eq!(m.update(&k32(9), &[0; 4], 4), Err(MapError::Invalid));
}

#[test]
fn lru_sequence_measured_on_linux() {
    // Linux 6.18, 2 CPUs, lru_hash of 3: keys 1, 2, 3; a BPF_NOEXIST update
    // of key 1 succeeds (the node taken first evicts key 1 itself, so the
    // key is new again, with value 0); then adding 4..8 one by one leaves
    // [1,3,4], [1,4,5], [4,5,6], [5,6,7], [6,7,8].
    let mut m = hash(MapType::LruHash, 3, 0);
    for i in 1..=3 {
        m.update(&k32(i), &k32(i), BPF_ANY).unwrap();
    }
    assert_eq!(m.update(&k32(1), &k32(0), BPF_NOEXIST), Ok(()));
    assert_eq!(m.lookup(&k32(1)).unwrap(), k32(0));
    let present = |m: &HashMap| {
        (1..=8)
            .filter(|&j| m.lookup(&k32(j)).is_ok())
            .collect::<Vec<_>>()
    };
    assert_eq!(present(&m), [1, 2, 3]);
    let want: [&[u32]; 5] = [&[1, 3, 4], &[1, 4, 5], &[4, 5, 6], &[5, 6, 7], &[6, 7, 8]];
    for (i, w) in (4..=8).zip(want) {
        m.update(&k32(i), &k32(i), BPF_ANY).unwrap();
        assert_eq!(present(&m), w);
    }
}

#[test]
fn lru_percpu_exist_update_takes_no_node() {
    let mut m = HashMap::new(&attrs(MapType::LruPercpuHash, 4, 4, 2, 0).with_ncpus(2)).unwrap();
    m.update(&k32(1), &[1; 16], BPF_ANY).unwrap();
    m.update(&k32(2), &[2; 16], BPF_ANY).unwrap();
    m.update(&k32(1), &[3; 16], BPF_EXIST).unwrap();
    assert_eq!(m.len(), 2);
    assert_eq!(m.lookup(&k32(1)).unwrap()[..8], [3; 8]);
    // BPF_ANY takes a node first: key 2 (least recently used) goes.
    m.update(&k32(1), &[4; 16], BPF_ANY).unwrap();
    assert_eq!(m.lookup(&k32(2)), Err(MapError::NotFound));
}

#[test]
fn no_common_lru_rounds_and_splits_per_cpu() {
    let m =
        HashMap::new(&attrs(MapType::LruHash, 4, 4, 5, BPF_F_NO_COMMON_LRU).with_ncpus(2)).unwrap();
    assert_eq!(m.spec().max_entries, 6);
    let mut m =
        HashMap::new(&attrs(MapType::LruHash, 4, 4, 4, BPF_F_NO_COMMON_LRU).with_ncpus(2)).unwrap();
    for i in 0..2 {
        m.prog_update(&k32(i), &[0; 4], BPF_ANY, 0).unwrap();
    }
    m.prog_update(&k32(10), &[0; 4], BPF_ANY, 1).unwrap();
    // CPU 0's list is full: it refills 4 nodes at a time from its own
    // inactive elements (both), never from CPU 1's.
    m.prog_update(&k32(2), &[0; 4], BPF_ANY, 0).unwrap();
    assert_eq!(m.lookup(&k32(0)), Err(MapError::NotFound));
    assert_eq!(m.lookup(&k32(1)), Err(MapError::NotFound));
    assert!(m.lookup(&k32(10)).is_ok());
    assert_eq!(m.len(), 2);
}

#[test]
fn program_slots_outlive_deletes() {
    let mut m = hash(MapType::Hash, 4, 0);
    m.update(&k32(1), &[1; 4], BPF_ANY).unwrap();
    let slot = m.prog_lookup(&k32(1), 0).unwrap().unwrap();
    m.slot_mut(slot).unwrap().copy_from_slice(&[8; 4]);
    assert_eq!(m.lookup(&k32(1)).unwrap(), vec![8; 4]);
    m.delete(&k32(1)).unwrap();
    // Still addressable after the delete, as under the kernel's RCU.
    assert!(m.slot(slot).is_some());
    let ro = HashMap::new(&attrs(MapType::Hash, 4, 4, 1, BPF_F_RDONLY_PROG)).unwrap();
    let mut ro = ro;
    ro.update(&k32(1), &[1; 4], BPF_ANY).unwrap();
    assert_eq!(
        ro.prog_update(&k32(1), &[1; 4], BPF_ANY, 0),
        Err(MapError::Permission)
    );
    let slot = ro.prog_lookup(&k32(1), 0).unwrap().unwrap();
    assert!(ro.slot_mut(slot).is_none());
}

#[derive(Debug, Clone)]
enum Op {
    Update(u8, u8, u64),
    Delete(u8),
    Lookup(u8),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0u8..12, any::<u8>(), 0u64..3).prop_map(|(k, v, f)| Op::Update(k, v, f)),
        (0u8..12).prop_map(Op::Delete),
        (0u8..12).prop_map(Op::Lookup),
    ]
}

proptest! {
    #[test]
    fn hash_matches_a_btreemap_model(ops in proptest::collection::vec(op(), 1..80), zero_seed in any::<bool>()) {
        let max = 6u32;
        let flags = if zero_seed { BPF_F_ZERO_SEED } else { 0 };
        let mut m = HashMap::new(&attrs(MapType::Hash, 1, 1, max, flags)).unwrap();
        let mut model = BTreeMap::new();
        for op in ops {
            match op {
                Op::Update(k, v, f) => {
                    let exists = model.contains_key(&k);
                    let want = if exists && f == BPF_NOEXIST { Err(MapError::Exists) }
                        else if !exists && f == BPF_EXIST { Err(MapError::NotFound) }
                        else if !exists && model.len() as u32 == max { Err(MapError::TooBig) }
                        else { model.insert(k, v); Ok(()) };
                    prop_assert_eq!(m.update(&[k], &[v], f), want);
                }
                Op::Delete(k) => {
                    let want = model.remove(&k).map(|_| ()).ok_or(MapError::NotFound);
                    prop_assert_eq!(m.delete(&[k]), want);
                }
                Op::Lookup(k) => {
                    prop_assert_eq!(m.lookup(&[k]), model.get(&k).map(|v| vec![*v]).ok_or(MapError::NotFound));
                }
            }
            // Iteration visits every element exactly once.
            let mut seen: Vec<(u8, u8)> = entries(&m).unwrap().into_iter().map(|(k, v)| (k[0], v[0])).collect();
            seen.sort();
            let want: Vec<(u8, u8)> = model.iter().map(|(k, v)| (*k, *v)).collect();
            prop_assert_eq!(seen, want);
        }
    }
}

proptest! {
    #[test]
    fn percpu_hash_matches_a_model(ops in proptest::collection::vec((0u8..6, 0u32..3, any::<u8>(), any::<bool>()), 1..60)) {
        // Syscall updates write every CPU; program updates one CPU, zeroing
        // the other CPUs of a new element.
        let ncpus = 3usize;
        let mut m = HashMap::new(&attrs(MapType::PercpuHash, 1, 2, 4, 0).with_ncpus(ncpus as u32)).unwrap();
        let mut model: BTreeMap<u8, Vec<[u8; 2]>> = BTreeMap::new();
        for (k, cpu, v, from_prog) in ops {
            let full = model.len() == 4 && !model.contains_key(&k);
            if from_prog {
                let got = m.prog_update(&[k], &[v, v], BPF_ANY, cpu);
                if full { prop_assert_eq!(got, Err(MapError::TooBig)); continue; }
                prop_assert_eq!(got, Ok(()));
                model.entry(k).or_insert_with(|| vec![[0, 0]; ncpus])[cpu as usize] = [v, v];
            } else {
                let value: Vec<u8> = (0..ncpus).flat_map(|c| [v, c as u8, 0, 0, 0, 0, 0, 0]).collect();
                let got = m.update(&[k], &value, BPF_ANY);
                if full { prop_assert_eq!(got, Err(MapError::TooBig)); continue; }
                prop_assert_eq!(got, Ok(()));
                model.insert(k, (0..ncpus).map(|c| [v, c as u8]).collect());
            }
            for (key, per_cpu) in &model {
                for (c, want) in per_cpu.iter().enumerate() {
                    let slot = m.prog_lookup(&[*key], c as u32).unwrap().unwrap();
                    prop_assert_eq!(m.slot(slot).unwrap(), &want[..]);
                }
            }
        }
    }
}

#[test]
fn program_side_measured_on_linux() {
    // Linux 6.18, socket filters run with BPF_PROG_TEST_RUN on CPU 1 of 2.
    // A program's update of a new per-CPU hash key: CPU 1 has the value,
    // CPU 0 zeros; with BPF_F_LOCK it is EINVAL.
    let mut m = HashMap::new(&attrs(MapType::PercpuHash, 4, 8, 4, 0).with_ncpus(2)).unwrap();
    m.prog_update(&k32(1), &[0x55, 0, 0, 0, 0, 0, 0, 0], BPF_ANY, 1)
        .unwrap();
    let mut want = vec![0u8; 16];
    want[8] = 0x55;
    assert_eq!(m.lookup(&k32(1)).unwrap(), want);
    assert_eq!(
        m.prog_update(&k32(1), &[0; 8], BPF_F_LOCK, 1),
        Err(MapError::Invalid)
    );
    // lru_hash of 3 with keys 1, 2, 3: a program's lookup of key 1 protects
    // it; adding 4 then 5 leaves [1, 3, 4] then [1, 4, 5].
    let mut m = HashMap::new(&attrs(MapType::LruHash, 4, 8, 3, 0).with_ncpus(2)).unwrap();
    for i in 1..=3 {
        m.update(&k32(i), &[i as u8; 8], BPF_ANY).unwrap();
    }
    assert!(m.prog_lookup(&k32(1), 1).unwrap().is_some());
    let present = |m: &HashMap| {
        (1..=5)
            .filter(|&j| m.lookup(&k32(j)).is_ok())
            .collect::<Vec<_>>()
    };
    m.update(&k32(4), &[4; 8], BPF_ANY).unwrap();
    assert_eq!(present(&m), [1, 3, 4]);
    m.update(&k32(5), &[5; 8], BPF_ANY).unwrap();
    assert_eq!(present(&m), [1, 4, 5]);
}
