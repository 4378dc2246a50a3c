use std::collections::VecDeque;

use bpfkit_object::kinds::MapType;
use bpfkit_object::map::{Map, MapError, BPF_ANY, BPF_EXIST, BPF_F_LOCK, BPF_NOEXIST};
use bpfkit_vm::maps::attrs::*;
use bpfkit_vm::maps::QueueStack;
use proptest::prelude::*;

use crate::{attrs, k32};

fn qs(t: MapType, max: u32) -> QueueStack {
    QueueStack::new(&attrs(t, 0, 4, max, 0)).unwrap()
}

#[test]
fn create_checks() {
    let bad = |t, k, v, m, f| QueueStack::new(&attrs(t, k, v, m, f)).unwrap_err();
    assert_eq!(bad(MapType::Queue, 4, 4, 1, 0), MapError::Invalid);
    assert_eq!(bad(MapType::Queue, 0, 0, 1, 0), MapError::Invalid);
    assert_eq!(bad(MapType::Stack, 0, 4, 0, 0), MapError::Invalid);
    assert_eq!(
        bad(MapType::Stack, 0, 4, 1, BPF_F_NO_PREALLOC),
        MapError::Invalid
    );
    assert_eq!(
        bad(MapType::Queue, 0, (4 << 20) + 1, 1, 0),
        MapError::TooBig
    );
}

#[test]
fn queue_is_fifo_and_stack_lifo() {
    let mut q = qs(MapType::Queue, 3);
    let mut s = qs(MapType::Stack, 3);
    for m in [&mut q, &mut s] {
        assert_eq!(m.lookup(&[]), Err(MapError::NotFound));
        assert_eq!(m.lookup_and_delete(&[]), Err(MapError::NotFound));
        for i in 1..=3 {
            m.update(&[], &k32(i), BPF_ANY).unwrap();
        }
        assert_eq!(m.update(&[], &k32(4), BPF_ANY), Err(MapError::TooBig));
        assert_eq!(m.update(&[], &k32(4), BPF_NOEXIST), Err(MapError::Invalid));
        assert_eq!(m.update(&[], &k32(4), 4), Err(MapError::Invalid));
        assert_eq!(m.update(&[], &k32(4), BPF_F_LOCK), Err(MapError::Invalid));
        assert_eq!(m.delete(&[]), Err(MapError::Invalid));
        assert_eq!(m.next_key(None), Err(MapError::Invalid));
        assert_eq!(m.lookup(&k32(0)), Err(MapError::Invalid));
    }
    assert_eq!(q.lookup(&[]).unwrap(), k32(1));
    assert_eq!(s.lookup(&[]).unwrap(), k32(3));
    // map_lookup_elem: BPF_F_LOCK needs a spin lock (none here), other
    // flags are EINVAL.
    for m in [&q, &s] {
        assert_eq!(m.lookup_flags(&[], 0).unwrap(), m.lookup(&[]).unwrap());
        assert_eq!(m.lookup_flags(&[], BPF_F_LOCK), Err(MapError::Invalid));
        assert_eq!(m.lookup_flags(&[], 8), Err(MapError::Invalid));
    }
    // BPF_EXIST on a full map drops the oldest value, for a stack too
    // (Linux 6.18: stack of 2, push 1, 2, then 3 with BPF_EXIST pops 3, 2).
    q.update(&[], &k32(4), BPF_EXIST).unwrap();
    s.update(&[], &k32(4), BPF_EXIST).unwrap();
    let drain = |m: &mut QueueStack| {
        std::iter::from_fn(|| m.lookup_and_delete(&[]).ok()).collect::<Vec<_>>()
    };
    assert_eq!(drain(&mut q), [k32(2), k32(3), k32(4)]);
    assert_eq!(drain(&mut s), [k32(4), k32(3), k32(2)]);
}

#[test]
fn program_push_pop_peek_and_freeze() {
    let mut q = qs(MapType::Queue, 2);
    q.push(&k32(1), BPF_ANY).unwrap();
    assert_eq!(q.peek().unwrap(), k32(1));
    assert_eq!(q.len(), 1);
    q.freeze().unwrap();
    assert_eq!(q.update(&[], &k32(2), BPF_ANY), Err(MapError::Permission));
    assert_eq!(q.lookup_and_delete(&[]), Err(MapError::Permission));
    // Programs still push and pop a frozen queue.
    q.push(&k32(2), BPF_ANY).unwrap();
    assert_eq!(q.pop().unwrap(), k32(1));
    assert_eq!(q.pop().unwrap(), k32(2));
    assert_eq!(q.pop(), Err(MapError::NotFound));
    assert_eq!(q.push(&[0; 3], BPF_ANY), Err(MapError::Invalid));
}

proptest! {
    #[test]
    fn queue_and_stack_match_a_deque(ops in proptest::collection::vec((0u8..3, any::<u8>(), any::<bool>()), 1..60), lifo in any::<bool>()) {
        let t = if lifo { MapType::Stack } else { MapType::Queue };
        let max = 4;
        let mut m = QueueStack::new(&attrs(t, 0, 1, max as u32, 0)).unwrap();
        let mut model: VecDeque<u8> = VecDeque::new();
        for (what, v, exist) in ops {
            match what {
                0 => {
                    let flags = if exist { BPF_EXIST } else { BPF_ANY };
                    let want = if model.len() == max && !exist { Err(MapError::TooBig) } else {
                        if model.len() == max { model.pop_front(); }
                        model.push_back(v);
                        Ok(())
                    };
                    prop_assert_eq!(m.update(&[], &[v], flags), want);
                }
                1 => {
                    let want = if lifo { model.pop_back() } else { model.pop_front() };
                    prop_assert_eq!(m.lookup_and_delete(&[]).ok(), want.map(|v| vec![v]));
                }
                _ => {
                    let want = if lifo { model.back() } else { model.front() };
                    prop_assert_eq!(m.lookup(&[]).ok(), want.map(|v| vec![*v]));
                }
            }
        }
    }
}
