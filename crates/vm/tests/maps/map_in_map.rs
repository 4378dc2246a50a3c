use bpfkit_object::kinds::MapType;
use bpfkit_object::map::{Map, MapError, BPF_ANY, BPF_NOEXIST};
use bpfkit_vm::maps::attrs::*;
use bpfkit_vm::maps::{InnerMapMeta, MapRegistry};

use crate::{attrs, k32, spec};

fn template(t: MapType, max: u32, flags: u32) -> InnerMapMeta {
    InnerMapMeta {
        spec: spec(t, 4, 4, max, flags),
        lock_offset: None,
    }
}

#[test]
fn templates_as_bpf_map_meta_alloc() {
    let mut reg = MapRegistry::new();
    let no_inner = reg.create(&attrs(MapType::ArrayOfMaps, 4, 4, 2, 0));
    assert_eq!(no_inner, Err(MapError::Invalid));
    // Linux 6.18: a map-in-map template is EINVAL, a program array ENOTSUPP.
    let nested =
        attrs(MapType::HashOfMaps, 4, 4, 2, 0).with_inner(template(MapType::ArrayOfMaps, 2, 0));
    assert_eq!(reg.create(&nested), Err(MapError::Invalid));
    let pa = attrs(MapType::ArrayOfMaps, 4, 4, 2, 0).with_inner(template(MapType::ProgArray, 2, 0));
    assert_eq!(reg.create(&pa), Err(MapError::NotSupported));
    let big_value =
        attrs(MapType::HashOfMaps, 4, 8, 2, 0).with_inner(template(MapType::Array, 2, 0));
    assert_eq!(reg.create(&big_value), Err(MapError::Invalid));
}

#[test]
fn array_of_maps_holds_matching_maps() {
    let mut reg = MapRegistry::new();
    let a2 = reg.create(&attrs(MapType::Array, 4, 4, 2, 0)).unwrap();
    let a3 = reg.create(&attrs(MapType::Array, 4, 4, 3, 0)).unwrap();
    let h = reg.create(&attrs(MapType::Hash, 4, 4, 2, 0)).unwrap();
    let outer = reg
        .create(&attrs(MapType::ArrayOfMaps, 4, 4, 2, 0).with_inner(template(MapType::Array, 2, 0)))
        .unwrap();
    let m = reg.get_mut(outer).unwrap();
    // Linux 6.18: another max_entries EINVAL, flags other than BPF_ANY EINVAL,
    // index past the end E2BIG, empty slot ENOENT.
    assert_eq!(m.update(&k32(0), &k32(a3), BPF_ANY), Err(MapError::Invalid));
    assert_eq!(m.update(&k32(0), &k32(h), BPF_ANY), Err(MapError::Invalid));
    assert_eq!(
        m.update(&k32(0), &k32(a2), BPF_NOEXIST),
        Err(MapError::Invalid)
    );
    assert_eq!(m.update(&k32(5), &k32(a2), BPF_ANY), Err(MapError::TooBig));
    assert_eq!(
        m.update(&k32(0), &k32(999), BPF_ANY),
        Err(MapError::Errno(9))
    );
    assert_eq!(m.lookup(&k32(1)), Err(MapError::NotFound));
    m.update(&k32(0), &k32(a2), BPF_ANY).unwrap();
    assert_eq!(m.lookup(&k32(0)).unwrap(), k32(a2));
    assert_eq!(m.prog_lookup_inner(&k32(0)).unwrap(), Some(a2));
    assert_eq!(m.prog_lookup_inner(&k32(1)).unwrap(), None);
    assert_eq!(
        m.prog_update(&k32(1), &k32(a2), BPF_ANY, 0),
        Err(MapError::NotSupported)
    );
    assert_eq!(m.delete(&k32(1)), Err(MapError::NotFound));
    assert_eq!(m.delete(&k32(9)), Err(MapError::TooBig));
    // The inner map is reached through the registry.
    reg.get_mut(a2)
        .unwrap()
        .update(&k32(1), &k32(7), BPF_ANY)
        .unwrap();
    assert_eq!(reg.get(a2).unwrap().lookup(&k32(1)).unwrap(), k32(7));
}

#[test]
fn inner_map_flag_relaxes_array_sizes() {
    let mut reg = MapRegistry::new();
    let small = reg
        .create(&attrs(MapType::Array, 4, 4, 2, BPF_F_INNER_MAP))
        .unwrap();
    let large = reg
        .create(&attrs(MapType::Array, 4, 4, 64, BPF_F_INNER_MAP))
        .unwrap();
    let outer = reg
        .create(&attrs(MapType::HashOfMaps, 4, 4, 4, 0).with_inner(template(
            MapType::Array,
            8,
            BPF_F_INNER_MAP,
        )))
        .unwrap();
    let m = reg.get_mut(outer).unwrap();
    m.update(&k32(10), &k32(small), BPF_ANY).unwrap();
    m.update(&k32(20), &k32(large), BPF_NOEXIST).unwrap();
    assert_eq!(
        m.update(&k32(20), &k32(large), BPF_NOEXIST),
        Err(MapError::Exists)
    );
    assert_eq!(m.lookup(&k32(20)).unwrap(), k32(large));
    assert_eq!(m.prog_lookup_inner(&k32(10)).unwrap(), Some(small));
    assert_eq!(m.delete(&k32(10)), Ok(()));
    assert_eq!(m.lookup_and_delete(&k32(20)), Err(MapError::NotSupported));
    // A hash template compares no max_entries; the lock is part of the record.
    let t = InnerMapMeta {
        spec: spec(MapType::Hash, 4, 8, 1, 0),
        lock_offset: Some(0),
    };
    assert!(t.matches(&spec(MapType::Hash, 4, 8, 100, 0), Some(0)));
    assert!(!t.matches(&spec(MapType::Hash, 4, 8, 100, 0), None));
    assert!(!t.matches(&spec(MapType::Hash, 4, 8, 1, BPF_F_NO_PREALLOC), Some(0)));
}

use proptest::prelude::*;

proptest! {
    #[test]
    fn array_of_maps_matches_a_slot_model(ops in proptest::collection::vec((0u32..5, 0usize..4, any::<bool>()), 1..60)) {
        // Inner candidates: two matching arrays, one of another size, one hash.
        let mut reg = MapRegistry::new();
        let ids = [
            reg.create(&attrs(MapType::Array, 4, 4, 2, 0)).unwrap(),
            reg.create(&attrs(MapType::Array, 4, 4, 2, 0)).unwrap(),
            reg.create(&attrs(MapType::Array, 4, 4, 3, 0)).unwrap(),
            reg.create(&attrs(MapType::Hash, 4, 4, 2, 0)).unwrap(),
        ];
        let outer = reg
            .create(&attrs(MapType::ArrayOfMaps, 4, 4, 3, 0).with_inner(template(MapType::Array, 2, 0)))
            .unwrap();
        let m = reg.get_mut(outer).unwrap();
        let mut model: Vec<Option<u32>> = vec![None; 3];
        for (index, which, delete) in ops {
            if delete {
                let want = if index >= 3 { Err(MapError::TooBig) }
                    else { model[index as usize].take().map(|_| ()).ok_or(MapError::NotFound) };
                prop_assert_eq!(m.delete(&k32(index)), want);
            } else {
                let id = ids[which];
                let want = if index >= 3 { Err(MapError::TooBig) }
                    else if which >= 2 { Err(MapError::Invalid) }
                    else { model[index as usize] = Some(id); Ok(()) };
                prop_assert_eq!(m.update(&k32(index), &k32(id), BPF_ANY), want);
            }
            for i in 0..3 {
                prop_assert_eq!(m.prog_lookup_inner(&k32(i)).unwrap(), model[i as usize]);
            }
        }
    }
}
