//! Kernel maps: every element and batch command, freeze, the shared `Map`
//! trait, by id and by pin.

mod support;

use bpfkit_kernel::map::{BatchCursor, KernelMap};
use bpfkit_kernel::{info, Error, IdKind};
use bpfkit_object::kinds::MapType;
use bpfkit_object::map::{entries, Map, MapError, MapSpec, BPF_ANY, BPF_EXIST, BPF_NOEXIST};
use support::{kernel_or_skip, PinGuard};

fn spec(map_type: MapType, key: u32, value: u32, n: u32) -> MapSpec {
    MapSpec {
        name: "bpfkit_t".into(),
        map_type,
        key_size: key,
        value_size: value,
        max_entries: n,
        map_flags: 0,
    }
}

#[test]
fn hash_elements_with_kernel_errnos() {
    if !kernel_or_skip("hash_elements_with_kernel_errnos") {
        return;
    }
    let mut m = KernelMap::create(&spec(MapType::Hash, 4, 8, 2)).unwrap();
    assert_eq!(m.spec().map_type, MapType::Hash);
    assert_eq!(m.spec().name, "bpfkit_t");
    let k1 = 1u32.to_ne_bytes();
    let k2 = 2u32.to_ne_bytes();
    let k3 = 3u32.to_ne_bytes();
    assert_eq!(m.lookup(&k1), Err(MapError::NotFound));
    assert_eq!(m.update(&k1, &[1; 8], BPF_EXIST), Err(MapError::NotFound));
    m.update(&k1, &[1; 8], BPF_NOEXIST).unwrap();
    assert_eq!(m.update(&k1, &[2; 8], BPF_NOEXIST), Err(MapError::Exists));
    m.update(&k1, &[3; 8], BPF_EXIST).unwrap();
    assert_eq!(m.lookup(&k1).unwrap(), vec![3; 8]);
    m.update(&k2, &[4; 8], BPF_ANY).unwrap();
    assert_eq!(m.update(&k3, &[5; 8], BPF_ANY), Err(MapError::TooBig));
    // Wrong sizes never reach the kernel.
    let e = m.update_elem(&[0; 3], &[0; 8], 0).unwrap_err();
    assert!(
        matches!(e, Error::Invalid(ref s) if s.contains("key is 3 bytes")),
        "{e}"
    );

    let mut all = entries(&m).unwrap();
    all.sort();
    assert_eq!(
        all,
        vec![(k1.to_vec(), vec![3; 8]), (k2.to_vec(), vec![4; 8])]
    );
    let first = m.next_key(None).unwrap();
    let second = m.next_key(Some(&first)).unwrap();
    assert_eq!(m.next_key(Some(&second)), Err(MapError::NotFound));

    assert_eq!(m.lookup_and_delete(&k1).unwrap(), vec![3; 8]);
    assert_eq!(m.lookup(&k1), Err(MapError::NotFound));
    m.delete(&k2).unwrap();
    assert_eq!(m.delete(&k2), Err(MapError::NotFound));
    let e = m.delete_elem(&k2).unwrap_err();
    assert_eq!(
        e.to_string(),
        "BPF_MAP_DELETE_ELEM: No such file or directory (ENOENT)"
    );
}

#[test]
fn array_freeze_and_info() {
    if !kernel_or_skip("array_freeze_and_info") {
        return;
    }
    let mut m = KernelMap::create(&spec(MapType::Array, 4, 4, 4)).unwrap();
    m.update(&0u32.to_ne_bytes(), &7u32.to_ne_bytes(), BPF_ANY)
        .unwrap();
    assert_eq!(
        m.update(&4u32.to_ne_bytes(), &[0; 4], BPF_ANY),
        Err(MapError::TooBig)
    );
    assert_eq!(m.delete(&0u32.to_ne_bytes()), Err(MapError::Invalid));
    let i = m.info().unwrap();
    assert!(!i.frozen);
    assert_eq!((i.key_size, i.value_size, i.max_entries), (4, 4, 4));
    assert!(i.bytes_memlock > 0);
    m.freeze().unwrap();
    assert!(m.info().unwrap().frozen);
    assert_eq!(
        m.update(&0u32.to_ne_bytes(), &[0; 4], BPF_ANY),
        Err(MapError::Permission)
    );
    assert_eq!(m.lookup(&0u32.to_ne_bytes()).unwrap(), 7u32.to_ne_bytes());
}

#[test]
fn queue_push_pop() {
    if !kernel_or_skip("queue_push_pop") {
        return;
    }
    let mut q = KernelMap::create(&spec(MapType::Queue, 0, 4, 2)).unwrap();
    q.update(&[], &1u32.to_ne_bytes(), BPF_ANY).unwrap();
    q.update(&[], &2u32.to_ne_bytes(), BPF_ANY).unwrap();
    assert_eq!(
        q.update(&[], &3u32.to_ne_bytes(), BPF_ANY),
        Err(MapError::TooBig)
    );
    assert_eq!(q.lookup_and_delete(&[]).unwrap(), 1u32.to_ne_bytes());
    assert_eq!(q.lookup_and_delete(&[]).unwrap(), 2u32.to_ne_bytes());
    assert_eq!(q.lookup_and_delete(&[]), Err(MapError::NotFound));
}

#[test]
fn per_cpu_values_span_every_cpu() {
    if !kernel_or_skip("per_cpu_values_span_every_cpu") {
        return;
    }
    let ncpu = bpfkit_kernel::possible_cpus().unwrap();
    let mut m = KernelMap::create(&spec(MapType::PercpuArray, 4, 4, 1)).unwrap();
    assert_eq!(m.value_len(), 8 * ncpu);
    let v: Vec<u8> = (0..m.value_len()).map(|i| i as u8).collect();
    m.update(&0u32.to_ne_bytes(), &v, BPF_ANY).unwrap();
    let got = m.lookup(&0u32.to_ne_bytes()).unwrap();
    // Each CPU's slot is 8 bytes of which the value's 4 are kept.
    for cpu in 0..ncpu {
        assert_eq!(got[cpu * 8..cpu * 8 + 4], v[cpu * 8..cpu * 8 + 4]);
    }
}

#[test]
fn batch_commands() {
    if !kernel_or_skip("batch_commands") {
        return;
    }
    let m = KernelMap::create(&spec(MapType::Hash, 4, 4, 64)).unwrap();
    let keys: Vec<[u8; 4]> = (0..10u32).map(|i| i.to_ne_bytes()).collect();
    let vals: Vec<[u8; 4]> = (0..10u32).map(|i| (i * 100).to_ne_bytes()).collect();
    let pairs: Vec<(&[u8], &[u8])> = keys
        .iter()
        .zip(&vals)
        .map(|(k, v)| (&k[..], &v[..]))
        .collect();
    assert_eq!(m.update_batch(&pairs, 0).unwrap(), 10);
    // A batch into a map with room for two stops after two: the error says
    // how far it got. Element flags other than BPF_F_LOCK are refused
    // before any element.
    let small = KernelMap::create(&spec(MapType::Hash, 4, 4, 2)).unwrap();
    match small.update_batch(&pairs[..3], 0).unwrap_err() {
        Error::Batch {
            errno, done, total, ..
        } => assert_eq!((errno, done, total), (libc::E2BIG, 2, 3)),
        other => panic!("{other:?}"),
    }
    let e = small.update_batch(&pairs[2..4], BPF_NOEXIST).unwrap_err();
    assert!(
        matches!(
            e,
            Error::Syscall {
                errno: libc::EINVAL,
                ..
            }
        ),
        "{e:?}"
    );

    let mut cursor = BatchCursor::new();
    let mut seen = Vec::new();
    while !cursor.is_done() {
        seen.extend(m.lookup_batch(&mut cursor, 3, 0).unwrap());
    }
    seen.sort();
    let mut want: Vec<(Vec<u8>, Vec<u8>)> = keys
        .iter()
        .zip(&vals)
        .map(|(k, v)| (k.to_vec(), v.to_vec()))
        .collect();
    want.sort();
    assert_eq!(seen, want);

    let del: Vec<&[u8]> = keys[..4].iter().map(|k| &k[..]).collect();
    assert_eq!(m.delete_batch(&del).unwrap(), 4);
    let mut cursor = BatchCursor::new();
    let mut popped = Vec::new();
    while !cursor.is_done() {
        popped.extend(m.lookup_and_delete_batch(&mut cursor, 4, 0).unwrap());
    }
    assert_eq!(popped.len(), 6);
    assert_eq!(m.get_next_key(None).unwrap(), None);
}

#[test]
fn by_id_and_by_pin() {
    if !kernel_or_skip("by_id_and_by_pin") {
        return;
    }
    let m = KernelMap::create(&spec(MapType::Hash, 4, 4, 4)).unwrap();
    m.update_elem(&9u32.to_ne_bytes(), &1u32.to_ne_bytes(), 0)
        .unwrap();
    assert!(info::ids(IdKind::Map).unwrap().contains(&m.id()));
    let again = KernelMap::from_id(m.id()).unwrap();
    assert_eq!(
        again.lookup_elem(&9u32.to_ne_bytes(), 0).unwrap(),
        1u32.to_ne_bytes()
    );

    let pin = PinGuard::new("map");
    m.pin(pin.path()).unwrap();
    let e = m.pin(pin.path()).unwrap_err();
    assert_eq!(e.errno(), Some(libc::EEXIST));
    let pinned = KernelMap::from_pin(pin.path()).unwrap();
    assert_eq!(pinned.id(), m.id());
    let missing = KernelMap::from_pin(std::path::Path::new("/sys/fs/bpf/bpfkit_no_such_pin"));
    assert_eq!(missing.unwrap_err().errno(), Some(libc::ENOENT));
    let e = m
        .pin(std::path::Path::new("/tmp/bpfkit_not_bpffs"))
        .unwrap_err();
    assert!(e.to_string().contains("not on a bpf filesystem"), "{e}");
}

#[test]
fn bloom_filter_tests_values() {
    if !kernel_or_skip("bloom_filter_tests_values") {
        return;
    }
    let mut b = KernelMap::create(&spec(MapType::BloomFilter, 0, 4, 16)).unwrap();
    b.update(&[], &7u32.to_ne_bytes(), BPF_ANY).unwrap();
    assert_eq!(b.lookup(&7u32.to_ne_bytes()).unwrap(), 7u32.to_ne_bytes());
    assert_eq!(b.lookup(&8u32.to_ne_bytes()), Err(MapError::NotFound));
    assert_eq!(
        b.lookup_flags(&7u32.to_ne_bytes(), 1 << 10),
        Err(MapError::Invalid)
    );
}
