//! `devmap` as Linux 6.18 answers (measured with bpftool on a devmap of
//! 4 slots: NOEXIST is EEXIST, an index past the end E2BIG on update and
//! EINVAL on delete, an empty slot ENOENT on lookup and 0 on delete,
//! ifindex 0 empties a slot, the dump walks every index).

use bpfkit_object::kinds::MapType;
use bpfkit_object::map::{entries, Map, MapError, BPF_NOEXIST};
use bpfkit_vm::maps::{DevMap, MapAttrs};

use super::spec;

fn devmap() -> DevMap {
    DevMap::new(&MapAttrs::new(spec(MapType::Devmap, 4, 4, 4, 0))).unwrap()
}

#[test]
fn creation_checks() {
    for (k, v, n, f) in [(8, 4, 4, 0), (4, 6, 4, 0), (4, 4, 0, 0), (4, 4, 4, 1 << 7)] {
        let r = DevMap::new(&MapAttrs::new(spec(MapType::Devmap, k, v, n, f)));
        assert_eq!(
            r.err(),
            Some(MapError::Invalid),
            "key {k} value {v} entries {n} flags {f:#x}"
        );
    }
    assert!(DevMap::new(&MapAttrs::new(spec(MapType::Devmap, 4, 8, 4, 0))).is_ok());
}

#[test]
fn the_kernels_answers() {
    let mut m = devmap();
    let k = |i: u32| i.to_le_bytes();
    m.update(&k(1), &1u32.to_le_bytes(), 0).unwrap();
    assert_eq!(
        m.update(&k(1), &1u32.to_le_bytes(), BPF_NOEXIST),
        Err(MapError::Exists)
    );
    m.update(&k(2), &0u32.to_le_bytes(), 0).unwrap();
    assert_eq!(
        m.update(&k(9), &1u32.to_le_bytes(), 0),
        Err(MapError::TooBig)
    );
    assert_eq!(
        m.update(&k(1), &1u32.to_le_bytes(), 3),
        Err(MapError::Invalid)
    );
    assert_eq!(m.lookup(&k(0)), Err(MapError::NotFound));
    assert_eq!(
        m.lookup(&k(2)),
        Err(MapError::NotFound),
        "ifindex 0 leaves the slot empty"
    );
    assert_eq!(m.lookup(&k(1)).unwrap(), 1u32.to_le_bytes());
    assert_eq!(m.delete(&k(0)), Ok(()));
    assert_eq!(m.delete(&k(9)), Err(MapError::Invalid));
    assert_eq!(
        entries(&m).unwrap(),
        vec![(k(1).to_vec(), 1u32.to_le_bytes().to_vec())]
    );
    assert_eq!(m.redirect_target(1), Some(1));
    assert_eq!(m.redirect_target(0), None);
    assert_eq!(m.redirect_target(7), None);
}
