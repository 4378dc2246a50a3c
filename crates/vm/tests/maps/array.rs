use bpfkit_object::kinds::MapType;
use bpfkit_object::map::{entries, Map, MapError, BPF_ANY, BPF_EXIST, BPF_F_LOCK, BPF_NOEXIST};
use bpfkit_vm::maps::attrs::*;
use bpfkit_vm::maps::ArrayMap;
use proptest::prelude::*;

use crate::{attrs, k32};

fn array(max: u32, value: u32) -> ArrayMap {
    ArrayMap::new(&attrs(MapType::Array, 4, value, max, 0)).unwrap()
}

#[test]
fn create_checks_as_array_map_alloc_check() {
    let bad = |t, k, v, m, f| ArrayMap::new(&attrs(t, k, v, m, f)).unwrap_err();
    assert_eq!(bad(MapType::Array, 4, 4, 0, 0), MapError::Invalid);
    assert_eq!(bad(MapType::Array, 8, 4, 1, 0), MapError::Invalid);
    assert_eq!(bad(MapType::Array, 4, 0, 1, 0), MapError::Invalid);
    assert_eq!(
        bad(MapType::Array, 4, 4, 1, BPF_F_NO_PREALLOC),
        MapError::Invalid
    );
    assert_eq!(
        bad(
            MapType::Array,
            4,
            4,
            1,
            BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG
        ),
        MapError::Invalid
    );
    assert_eq!(
        bad(MapType::PercpuArray, 4, 4, 1, BPF_F_MMAPABLE),
        MapError::Invalid
    );
    assert_eq!(
        bad(MapType::PercpuArray, 4, 4, 1, BPF_F_NUMA_NODE),
        MapError::Invalid
    );
    assert_eq!(
        bad(MapType::Array, 4, 4, 1, BPF_F_PRESERVE_ELEMS),
        MapError::Invalid
    );
    assert_eq!(
        bad(MapType::PercpuArray, 4, 32 * 1024 + 1, 1, 0),
        MapError::TooBig
    );
    assert_eq!(
        bad(MapType::Array, 4, 1 << 20, 1 << 20, 0),
        MapError::NoMemory
    );
    // A spin lock needs a 4-aligned place inside the value; none in per-CPU arrays.
    let lock = |t, off| ArrayMap::new(&attrs(t, 4, 8, 1, 0).with_lock(off)).map(|_| ());
    assert_eq!(lock(MapType::Array, 2), Err(MapError::Invalid));
    assert_eq!(lock(MapType::Array, 8), Err(MapError::Invalid));
    assert_eq!(lock(MapType::Array, 4), Ok(()));
    assert_eq!(lock(MapType::PercpuArray, 0), Err(MapError::NotSupported));
    let rdonly = ArrayMap::new(&attrs(MapType::Array, 4, 8, 1, BPF_F_RDONLY_PROG).with_lock(0));
    assert_eq!(rdonly.unwrap_err(), MapError::Errno(13));
}

#[test]
fn elements_exist_zeroed_and_indices_bound() {
    let mut m = array(3, 4);
    assert_eq!(m.lookup(&k32(2)).unwrap(), vec![0; 4]);
    assert_eq!(m.lookup(&k32(3)), Err(MapError::NotFound));
    assert_eq!(m.update(&k32(3), &[1; 4], BPF_ANY), Err(MapError::TooBig));
    assert_eq!(
        m.update(&k32(1), &[1; 4], BPF_NOEXIST),
        Err(MapError::Exists)
    );
    assert_eq!(m.update(&k32(1), &[1; 4], BPF_EXIST), Ok(()));
    assert_eq!(m.update(&k32(1), &[1; 4], 3), Err(MapError::Invalid));
    assert_eq!(
        m.update(&k32(1), &[1; 4], BPF_F_LOCK),
        Err(MapError::Invalid)
    );
    assert_eq!(m.lookup_flags(&k32(1), BPF_F_LOCK), Err(MapError::Invalid));
    assert_eq!(m.lookup_flags(&k32(1), 8), Err(MapError::Invalid));
    assert_eq!(m.lookup(&k32(1)).unwrap(), vec![1; 4]);
    assert_eq!(m.delete(&k32(1)), Err(MapError::Invalid));
    assert_eq!(m.delete(&k32(7)), Err(MapError::Invalid));
    assert_eq!(m.lookup_and_delete(&k32(1)), Err(MapError::NotSupported));
    // Wrong sizes cannot cross the syscall.
    assert_eq!(m.lookup(&[0; 3]), Err(MapError::Invalid));
    assert_eq!(m.update(&k32(0), &[0; 5], BPF_ANY), Err(MapError::Invalid));
}

#[test]
fn next_key_walks_indices() {
    let m = array(3, 4);
    assert_eq!(m.next_key(None).unwrap(), k32(0));
    assert_eq!(m.next_key(Some(&k32(0))).unwrap(), k32(1));
    assert_eq!(m.next_key(Some(&k32(1))).unwrap(), k32(2));
    assert_eq!(m.next_key(Some(&k32(2))), Err(MapError::NotFound));
    assert_eq!(m.next_key(Some(&k32(99))).unwrap(), k32(0));
    assert_eq!(entries(&m).unwrap().len(), 3);
}

#[test]
fn freeze_blocks_syscall_writes_not_program_writes() {
    // Measured on Linux 6.18 with a socket filter under BPF_PROG_TEST_RUN:
    // a program's update of a frozen array succeeds; with BPF_F_LOCK (no
    // spin lock) it is EINVAL, BPF_NOEXIST EEXIST, past the end E2BIG.
    let mut m = array(2, 4);
    m.update(&k32(0), &[7; 4], BPF_ANY).unwrap();
    m.freeze().unwrap();
    // A second freeze finds no write permission left: EPERM, as the kernel says.
    assert_eq!(m.freeze(), Err(MapError::Permission));
    assert_eq!(
        m.update(&k32(0), &[1; 4], BPF_ANY),
        Err(MapError::Permission)
    );
    assert_eq!(m.delete(&k32(0)), Err(MapError::Permission));
    assert_eq!(m.lookup(&k32(0)).unwrap(), vec![7; 4]);
    m.prog_update(&k32(0), &[9; 4], BPF_ANY, 0).unwrap();
    assert_eq!(m.lookup(&k32(0)).unwrap(), vec![9; 4]);
    assert_eq!(
        m.prog_update(&k32(0), &[9; 4], BPF_F_LOCK, 0),
        Err(MapError::Invalid)
    );
    assert_eq!(
        m.prog_update(&k32(0), &[9; 4], BPF_NOEXIST, 0),
        Err(MapError::Exists)
    );
    assert_eq!(
        m.prog_update(&k32(5), &[9; 4], BPF_ANY, 0),
        Err(MapError::TooBig)
    );
}

#[test]
fn rdonly_and_wronly_syscall_flags() {
    let mut ro = ArrayMap::new(&attrs(MapType::Array, 4, 4, 1, BPF_F_RDONLY)).unwrap();
    assert_eq!(
        ro.update(&k32(0), &[1; 4], BPF_ANY),
        Err(MapError::Permission)
    );
    assert!(ro.lookup(&k32(0)).is_ok());
    let mut wo = ArrayMap::new(&attrs(MapType::Array, 4, 4, 1, BPF_F_WRONLY)).unwrap();
    assert_eq!(wo.lookup(&k32(0)), Err(MapError::Permission));
    assert_eq!(wo.next_key(None), Err(MapError::Permission));
    assert!(wo.update(&k32(0), &[1; 4], BPF_ANY).is_ok());
    assert_eq!(
        ArrayMap::new(&attrs(MapType::Array, 4, 4, 1, BPF_F_RDONLY | BPF_F_WRONLY)).unwrap_err(),
        MapError::Invalid
    );
}

#[test]
fn spin_lock_is_never_copied() {
    // Measured on Linux 6.18 with a BTF value struct { int x; struct
    // bpf_spin_lock lock; int y; }: an update writing 0xffffffff into the
    // lock reads back zeros there, with or without BPF_F_LOCK; freeze is
    // ENOTSUPP; an mmapable array with a lock cannot be mapped (ENOTSUPP);
    // the lock in a per-CPU or LRU map is EOPNOTSUPP, with
    // BPF_F_RDONLY_PROG or BPF_F_WRONLY_PROG EACCES.
    let mut mm =
        ArrayMap::new(&attrs(MapType::Array, 4, 12, 1, BPF_F_MMAPABLE).with_lock(4)).unwrap();
    assert_eq!(mm.mmap().unwrap_err(), MapError::NotSupported);
    assert_eq!(mm.mmap_mut().unwrap_err(), MapError::NotSupported);
    let wronly = ArrayMap::new(&attrs(MapType::Array, 4, 12, 1, BPF_F_WRONLY_PROG).with_lock(4));
    assert_eq!(wronly.unwrap_err(), MapError::Errno(13));
    let mut m = ArrayMap::new(&attrs(MapType::Array, 4, 12, 1, 0).with_lock(4)).unwrap();
    m.update(
        &k32(0),
        &[5, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 6, 0, 0, 0],
        0,
    )
    .unwrap();
    assert_eq!(
        m.lookup(&k32(0)).unwrap(),
        [5, 0, 0, 0, 0, 0, 0, 0, 6, 0, 0, 0]
    );
    m.update(&k32(0), &[1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3], BPF_F_LOCK)
        .unwrap();
    assert_eq!(
        m.lookup_flags(&k32(0), BPF_F_LOCK).unwrap(),
        [1, 1, 1, 1, 0, 0, 0, 0, 3, 3, 3, 3]
    );
    assert_eq!(
        m.lookup(&k32(0)).unwrap(),
        [1, 1, 1, 1, 0, 0, 0, 0, 3, 3, 3, 3]
    );
    // A program sees the lock word itself, still zero (unlocked).
    let slot = m.prog_lookup(&k32(0), 0).unwrap().unwrap();
    assert_eq!(m.slot(slot).unwrap(), &[1, 1, 1, 1, 0, 0, 0, 0, 3, 3, 3, 3]);
    // Values with special fields cannot be frozen.
    assert_eq!(m.freeze(), Err(MapError::NotSupported));
}

#[test]
fn percpu_values_cross_as_the_syscall_moves_them() {
    let mut m = ArrayMap::new(&attrs(MapType::PercpuArray, 4, 4, 2, 0).with_ncpus(3)).unwrap();
    assert_eq!(m.sys_value_size(), 24);
    assert_eq!(m.lookup(&k32(0)).unwrap(), vec![0; 24]);
    assert_eq!(m.update(&k32(0), &[1; 4], BPF_ANY), Err(MapError::Invalid));
    let v: Vec<u8> = (0..24).collect();
    m.update(&k32(1), &v, BPF_ANY).unwrap();
    // Padding bytes travel too (copy_map_value_long).
    assert_eq!(m.lookup(&k32(1)).unwrap(), v);
    assert_eq!(m.update(&k32(1), &v, BPF_F_LOCK), Err(MapError::Invalid));
    // A program writes its own CPU's value only.
    m.prog_update(&k32(0), &[9; 4], BPF_ANY, 2).unwrap();
    let got = m.lookup(&k32(0)).unwrap();
    assert_eq!(&got[16..20], &[9; 4]);
    assert_eq!(&got[..16], &[0; 16]);
    let slot = m.prog_lookup(&k32(1), 1).unwrap().unwrap();
    assert_eq!(m.slot(slot).unwrap(), &[8, 9, 10, 11]);
    assert_eq!(m.prog_lookup(&k32(1), 3).unwrap(), None);
    assert_eq!(
        m.prog_update(&k32(0), &[9; 4], BPF_F_LOCK, 0),
        Err(MapError::Invalid)
    );
}

#[test]
fn program_side_lookup_slots_are_stable_and_writable() {
    let mut m = array(4, 8);
    assert_eq!(m.prog_lookup(&k32(4), 0).unwrap(), None);
    let slot = m.prog_lookup(&k32(2), 0).unwrap().unwrap();
    m.slot_mut(slot).unwrap().copy_from_slice(&[5; 8]);
    m.update(&k32(3), &[6; 8], BPF_ANY).unwrap();
    assert_eq!(m.prog_lookup(&k32(2), 0).unwrap(), Some(slot));
    assert_eq!(m.lookup(&k32(2)).unwrap(), vec![5; 8]);
    assert_eq!(
        m.prog_update(&k32(4), &[0; 8], BPF_ANY, 0),
        Err(MapError::TooBig)
    );
    assert_eq!(
        m.prog_update(&k32(0), &[0; 8], BPF_NOEXIST, 0),
        Err(MapError::Exists)
    );
}

#[test]
fn global_data_maps() {
    // The mmap rules measured on Linux 6.18: a writable mapping of a frozen
    // array is EPERM, of a BPF_F_RDONLY_PROG array EACCES, any mapping of
    // an array without BPF_F_MMAPABLE EINVAL.
    let mut rodata = ArrayMap::global_data(".rodata", &[1, 2, 3], true).unwrap();
    assert!(rodata.is_frozen());
    assert_eq!(rodata.spec().map_flags, BPF_F_MMAPABLE | BPF_F_RDONLY_PROG);
    assert_eq!(rodata.lookup(&k32(0)).unwrap(), vec![1, 2, 3]);
    assert_eq!(
        rodata.update(&k32(0), &[0; 3], BPF_ANY),
        Err(MapError::Permission)
    );
    assert_eq!(
        rodata.prog_update(&k32(0), &[0; 3], BPF_ANY, 0),
        Err(MapError::Permission)
    );
    let slot = rodata.prog_lookup(&k32(0), 0).unwrap().unwrap();
    assert!(!slot.writable);
    assert!(rodata.slot_mut(slot).is_none());
    assert_eq!(rodata.mmap().unwrap(), &[1, 2, 3, 0, 0, 0, 0, 0]);
    assert_eq!(rodata.mmap_mut().unwrap_err(), MapError::Permission);

    let mut data = ArrayMap::global_data(".data", &[4, 5], false).unwrap();
    assert!(!data.is_frozen());
    data.mmap_mut().unwrap()[0] = 6;
    assert_eq!(data.lookup(&k32(0)).unwrap(), vec![6, 5]);
    let slot = data.prog_lookup(&k32(0), 0).unwrap().unwrap();
    data.slot_mut(slot).unwrap()[1] = 7;
    assert_eq!(data.lookup(&k32(0)).unwrap(), vec![6, 7]);
    let bss = ArrayMap::global_data(".bss", &[0; 16], false).unwrap();
    assert_eq!(bss.lookup(&k32(0)).unwrap(), vec![0; 16]);
    assert_eq!(
        ArrayMap::global_data(".data", &[], false).unwrap_err(),
        MapError::Invalid
    );
    assert_eq!(array(1, 4).mmap().unwrap_err(), MapError::Invalid);
}

#[derive(Debug, Clone)]
enum Op {
    Update(u32, u8, u64),
    Lookup(u32),
    Next(Option<u32>),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0u32..6, any::<u8>(), 0u64..4).prop_map(|(k, v, f)| Op::Update(k, v, f)),
        (0u32..6).prop_map(Op::Lookup),
        proptest::option::of(0u32..6).prop_map(Op::Next),
    ]
}

proptest! {
    #[test]
    fn array_matches_a_vector_model(ops in proptest::collection::vec(op(), 1..64)) {
        let max = 4u32;
        let mut m = array(max, 2);
        let mut model = vec![[0u8; 2]; max as usize];
        for op in ops {
            match op {
                Op::Update(k, v, f) => {
                    let want = if f > BPF_EXIST { Err(MapError::Invalid) }
                        else if k >= max { Err(MapError::TooBig) }
                        else if f == BPF_NOEXIST { Err(MapError::Exists) }
                        else { model[k as usize] = [v, v]; Ok(()) };
                    prop_assert_eq!(m.update(&k32(k), &[v, v], f), want);
                }
                Op::Lookup(k) => {
                    let want = model.get(k as usize).map(|v| v.to_vec()).ok_or(MapError::NotFound);
                    prop_assert_eq!(m.lookup(&k32(k)), want);
                }
                Op::Next(k) => {
                    let want = match k {
                        Some(k) if k < max - 1 => Ok(k32(k + 1)),
                        Some(k) if k == max - 1 => Err(MapError::NotFound),
                        _ => Ok(k32(0)),
                    };
                    prop_assert_eq!(m.next_key(k.map(k32).as_deref()), want);
                }
            }
        }
    }
}
