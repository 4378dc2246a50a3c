use bpfkit_object::kinds::MapType;
use bpfkit_object::map::{entries, Map, MapError, BPF_ANY, BPF_F_LOCK};
use bpfkit_vm::maps::attrs::*;
use bpfkit_vm::maps::{ArrayMap, MapDirectory, MapRegistry, UserMap};

use crate::{attrs, k32};

#[test]
fn create_dispatches_and_checks_common_attributes() {
    let dir = MapDirectory::new();
    let ok = |t, k, v, m, f| UserMap::create(&attrs(t, k, v, m, f), &dir).map(|_| ());
    assert_eq!(ok(MapType::Array, 4, 4, 1, 0), Ok(()));
    assert_eq!(ok(MapType::PercpuHash, 4, 4, 1, 0), Ok(()));
    assert_eq!(ok(MapType::LpmTrie, 8, 4, 1, BPF_F_NO_PREALLOC), Ok(()));
    assert_eq!(ok(MapType::Ringbuf, 0, 0, 4096, 0), Ok(()));
    assert_eq!(ok(MapType::Stack, 0, 4, 1, 0), Ok(()));
    assert_eq!(ok(MapType::BloomFilter, 0, 4, 1, 0), Ok(()));
    assert_eq!(ok(MapType::PerfEventArray, 4, 4, 1, 0), Ok(()));
    assert_eq!(ok(MapType::ProgArray, 4, 4, 1, 0), Ok(()));
    // Types the userspace VM does not provide.
    assert_eq!(ok(MapType::Sockmap, 4, 4, 1, 0), Err(MapError::Invalid));
    assert_eq!(
        ok(MapType::Hash, 4, 4, 1, BPF_F_RDONLY | BPF_F_WRONLY),
        Err(MapError::Invalid)
    );
    let mut a = attrs(MapType::Array, 4, 4, 1, 0);
    a.spec.name = "bad name".into();
    assert_eq!(
        UserMap::create(&a, &dir).map(|_| ()),
        Err(MapError::Invalid)
    );
    let zero_cpus = attrs(MapType::PercpuArray, 4, 4, 1, 0).with_ncpus(0);
    assert_eq!(
        UserMap::create(&zero_cpus, &dir).map(|_| ()),
        Err(MapError::Invalid)
    );
}

#[test]
fn program_side_through_the_enum() {
    let mut reg = MapRegistry::new();
    let h = reg
        .create(&attrs(MapType::Hash, 4, 8, 4, 0).with_lock(0))
        .unwrap();
    let q = reg.create(&attrs(MapType::Queue, 0, 4, 2, 0)).unwrap();
    let b = reg
        .create(&attrs(MapType::BloomFilter, 0, 4, 2, 0))
        .unwrap();
    let r = reg.create(&attrs(MapType::Ringbuf, 0, 0, 4096, 0)).unwrap();
    let data = reg.insert(UserMap::Array(
        ArrayMap::global_data(".data", &[1, 2], false).unwrap(),
    ));
    assert_eq!(reg.ids().collect::<Vec<_>>(), [1, 2, 3, 4, 5]);

    let m = reg.get_mut(h).unwrap();
    assert_eq!(m.lock_offset(), Some(0));
    m.prog_update(&k32(1), &[9; 8], BPF_F_LOCK, 0).unwrap();
    let slot = m.prog_lookup(&k32(1), 0).unwrap().unwrap();
    assert_eq!(m.slot(slot).unwrap(), &[0, 0, 0, 0, 9, 9, 9, 9]);
    m.slot_mut(slot).unwrap()[4] = 1;
    assert_eq!(
        m.lookup_flags(&k32(1), BPF_F_LOCK).unwrap(),
        [0, 0, 0, 0, 1, 9, 9, 9]
    );
    assert_eq!(m.push(&[0; 8], BPF_ANY), Err(MapError::NotSupported));
    m.prog_delete(&k32(1)).unwrap();
    assert_eq!(m.prog_lookup(&k32(1), 0).unwrap(), None);

    let m = reg.get_mut(q).unwrap();
    m.push(&k32(5), BPF_ANY).unwrap();
    let mut v = [0u8; 4];
    m.peek(&mut v).unwrap();
    assert_eq!(v, 5u32.to_le_bytes());
    m.pop(&mut v).unwrap();
    assert_eq!(m.pop(&mut v), Err(MapError::NotFound));
    assert_eq!(m.prog_lookup(&[], 0), Err(MapError::NotSupported));

    let m = reg.get_mut(b).unwrap();
    m.push(&k32(5), BPF_ANY).unwrap();
    assert_eq!(m.peek(&mut k32(5)), Ok(()));
    assert_eq!(m.pop(&mut [0; 4]), Err(MapError::NotSupported));

    let m = reg.get_mut(r).unwrap();
    let ring = m.as_ringbuf_mut().unwrap();
    let rec = ring.reserve(4, 0).unwrap();
    ring.record_mut(rec).unwrap().copy_from_slice(b"evnt");
    ring.submit(rec, 0).unwrap();
    assert_eq!(ring.drain(), [b"evnt".to_vec()]);

    let m = reg.get_mut(data).unwrap();
    m.freeze().unwrap();
    // Frozen .data: programs still write it, userspace cannot.
    m.prog_update(&k32(0), &[3, 4], BPF_ANY, 0).unwrap();
    assert_eq!(
        m.update(&k32(0), &[5, 6], BPF_ANY),
        Err(MapError::Permission)
    );
    assert_eq!(entries(m).unwrap(), [(k32(0), vec![3, 4])]);
}

#[test]
fn for_each_visits_in_the_kernels_order() {
    let dir = MapDirectory::new();
    let mut h = UserMap::create(
        &attrs(MapType::PercpuHash, 4, 4, 8, BPF_F_ZERO_SEED).with_ncpus(2),
        &dir,
    )
    .unwrap();
    for i in 0..8u32 {
        let mut v = vec![0u8; 16];
        v[8] = i as u8;
        h.update(&k32(i), &v, BPF_ANY).unwrap();
    }
    let order: Vec<Vec<u8>> = entries(&h).unwrap().into_iter().map(|(k, _)| k).collect();
    let visited = h.prog_elements(1).unwrap();
    assert_eq!(
        visited.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>(),
        order
    );
    for (k, slot) in &visited {
        assert_eq!(h.slot(*slot).unwrap(), &[k[0], 0, 0, 0]);
    }
    let a = UserMap::create(&attrs(MapType::Array, 4, 4, 3, 0), &dir).unwrap();
    let keys: Vec<Vec<u8>> = a
        .prog_elements(0)
        .unwrap()
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    assert_eq!(keys, [k32(0), k32(1), k32(2)]);
    let q = UserMap::create(&attrs(MapType::Queue, 0, 4, 3, 0), &dir).unwrap();
    assert_eq!(q.prog_elements(0).unwrap_err(), MapError::NotSupported);
}
