use bpfkit_object::kinds::MapType;
use bpfkit_object::map::{entries, Map, MapError, BPF_ANY, BPF_EXIST, BPF_NOEXIST};
use bpfkit_vm::maps::attrs::*;
use bpfkit_vm::maps::{ProgArray, MAX_TAIL_CALL_CNT};
use proptest::prelude::*;

use crate::{attrs, k32};

#[test]
fn create_checks_as_fd_array_map_alloc_check() {
    let bad = |k, v, m, f| ProgArray::new(&attrs(MapType::ProgArray, k, v, m, f)).unwrap_err();
    assert_eq!(bad(4, 8, 4, 0), MapError::Invalid);
    assert_eq!(bad(8, 4, 4, 0), MapError::Invalid);
    assert_eq!(bad(4, 4, 0, 0), MapError::Invalid);
    assert_eq!(bad(4, 4, 4, BPF_F_RDONLY_PROG), MapError::Invalid);
    assert_eq!(bad(4, 4, 4, BPF_F_WRONLY_PROG), MapError::Invalid);
    assert_eq!(bad(4, 4, 4, BPF_F_MMAPABLE), MapError::Invalid);
    assert_eq!(bad(4, 4, 4, BPF_F_PRESERVE_ELEMS), MapError::Invalid);
}

#[test]
fn slots_hold_program_ids() {
    // Linux 6.18: lookup of an empty slot ENOENT, delete past the end E2BIG.
    let mut m = ProgArray::new(&attrs(MapType::ProgArray, 4, 4, 4, 0)).unwrap();
    assert_eq!(m.lookup(&k32(0)), Err(MapError::NotFound));
    assert_eq!(
        m.update(&k32(1), &k32(42), BPF_NOEXIST),
        Err(MapError::Invalid)
    );
    assert_eq!(
        m.update(&k32(1), &k32(42), BPF_EXIST),
        Err(MapError::Invalid)
    );
    assert_eq!(m.update(&k32(4), &k32(42), BPF_ANY), Err(MapError::TooBig));
    m.update(&k32(1), &k32(42), BPF_ANY).unwrap();
    assert_eq!(m.lookup(&k32(1)).unwrap(), k32(42));
    assert_eq!(m.tail_call_target(1), Some(42));
    assert_eq!(m.tail_call_target(0), None);
    assert_eq!(m.tail_call_target(99), None);
    assert_eq!(m.delete(&k32(9)), Err(MapError::TooBig));
    assert_eq!(m.delete(&k32(0)), Err(MapError::NotFound));
    assert_eq!(entries(&m).unwrap(), [(k32(1), k32(42))]);
    m.delete(&k32(1)).unwrap();
    assert_eq!(m.tail_call_target(1), None);
    assert_eq!(m.lookup_and_delete(&k32(1)), Err(MapError::NotSupported));
    assert_eq!(m.next_key(Some(&k32(3))), Err(MapError::NotFound));
    assert_eq!(MAX_TAIL_CALL_CNT, 33);
}

proptest! {
    #[test]
    fn prog_array_matches_a_slot_vector(ops in proptest::collection::vec((0u32..6, proptest::option::of(any::<u32>()), 0u64..2), 1..60)) {
        let max = 4u32;
        let mut m = ProgArray::new(&attrs(MapType::ProgArray, 4, 4, max, 0)).unwrap();
        let mut model: Vec<Option<u32>> = vec![None; max as usize];
        for (i, id, flags) in ops {
            match id {
                Some(id) => {
                    let want = if flags != BPF_ANY { Err(MapError::Invalid) }
                        else if i >= max { Err(MapError::TooBig) }
                        else { model[i as usize] = Some(id); Ok(()) };
                    prop_assert_eq!(m.update(&k32(i), &k32(id), flags), want);
                }
                None => {
                    let want = if i >= max { Err(MapError::TooBig) }
                        else { model[i as usize].take().map(|_| ()).ok_or(MapError::NotFound) };
                    prop_assert_eq!(m.delete(&k32(i)), want);
                }
            }
            for j in 0..max + 2 {
                prop_assert_eq!(m.tail_call_target(j), model.get(j as usize).copied().flatten());
            }
        }
    }
}
