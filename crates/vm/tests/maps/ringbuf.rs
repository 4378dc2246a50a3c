use std::collections::VecDeque;

use bpfkit_object::kinds::MapType;
use bpfkit_object::map::{Map, MapError};
use bpfkit_vm::maps::attrs::*;
use bpfkit_vm::maps::ringbuf::*;
use bpfkit_vm::maps::RingBuf;
use proptest::prelude::*;

use crate::attrs;

fn ring(size: u32) -> RingBuf {
    RingBuf::new(&attrs(MapType::Ringbuf, 0, 0, size, 0)).unwrap()
}

#[test]
fn create_checks_as_ringbuf_map_alloc() {
    let bad = |k, v, m, f| RingBuf::new(&attrs(MapType::Ringbuf, k, v, m, f)).unwrap_err();
    assert_eq!(bad(0, 0, 4096 * 3, 0), MapError::Invalid);
    assert_eq!(bad(0, 0, 2048, 0), MapError::Invalid);
    assert_eq!(bad(0, 0, 0, 0), MapError::Invalid);
    assert_eq!(bad(4, 0, 4096, 0), MapError::Invalid);
    assert_eq!(bad(0, 4, 4096, 0), MapError::Invalid);
    assert_eq!(bad(0, 0, 4096, BPF_F_RDONLY_PROG), MapError::Invalid);
    assert!(RingBuf::new(&attrs(MapType::Ringbuf, 0, 0, 8192, BPF_F_NUMA_NODE)).is_ok());
}

#[test]
fn records_carry_the_kernels_header() {
    let mut r = ring(4096 * 2);
    let a = r.reserve(5, 0).unwrap();
    assert_eq!(a.offset, 8);
    assert_eq!(a.len, 5);
    // Reserved: length with the busy bit, then the page offset (3 metadata pages).
    let h = r.header_of(a).unwrap();
    assert_eq!(
        u32::from_le_bytes(h[..4].try_into().unwrap()),
        5 | BPF_RINGBUF_BUSY_BIT
    );
    assert_eq!(u32::from_le_bytes(h[4..].try_into().unwrap()), 3);
    r.record_mut(a).unwrap().copy_from_slice(b"hello");
    r.submit(a, 0).unwrap();
    let h = r.header_of(a).unwrap();
    assert_eq!(u32::from_le_bytes(h[..4].try_into().unwrap()), 5);
    // round_up(5 + 8, 8) = 16 bytes.
    assert_eq!(r.query(BPF_RB_PROD_POS), 16);
    assert_eq!(r.query(BPF_RB_AVAIL_DATA), 16);
    assert_eq!(r.query(BPF_RB_RING_SIZE), 8192);
    assert_eq!(r.query(99), 0);
    // A record in the second page has page offset 4.
    r.reserve(4096 - 16 - 8, 0)
        .map(|s| r.discard(s, 0).unwrap())
        .unwrap();
    let b = r.reserve(1, 0).unwrap();
    assert_eq!(b.offset, 4096 + 8);
    assert_eq!(r.header_of(b).unwrap()[4], 4);
    r.discard(b, 0).unwrap();
    let h = r.header_of(b).unwrap();
    assert_eq!(
        u32::from_le_bytes(h[..4].try_into().unwrap()),
        1 | BPF_RINGBUF_DISCARD_BIT
    );
    assert_eq!(r.drain(), [b"hello".to_vec()]);
    assert_eq!(r.query(BPF_RB_CONS_POS), r.query(BPF_RB_PROD_POS));
    // A second commit of the same record is refused.
    assert_eq!(r.submit(a, 0), Err(MapError::Invalid));
}

#[test]
fn space_rules() {
    let mut r = ring(4096);
    // A record may not take the whole ring: the producer must stay less
    // than the ring size ahead of the consumer.
    assert!(r.reserve(4096 - 8, 0).is_none());
    assert!(r.reserve(1 << 40, 0).is_none());
    assert!(r.reserve(8, 1).is_none());
    let big = r.reserve(4096 - 16, 0).unwrap();
    assert!(r.reserve(0, 0).is_none());
    assert_eq!(r.output(b"x", 0), Err(MapError::Errno(11)));
    r.submit(big, 0).unwrap();
    assert_eq!(r.drain().len(), 1);
    // Records wrap and read back contiguously.
    for i in 0..20u8 {
        r.output(&[i; 300], 0).unwrap();
        assert_eq!(r.drain(), [vec![i; 300]]);
    }
    assert_eq!(r.output(b"x", 4), Err(MapError::Invalid));
}

#[test]
fn consumer_stops_at_a_reserved_record() {
    let mut r = ring(4096);
    let a = r.reserve(4, 0).unwrap();
    r.output(b"bbbb", 0).unwrap();
    assert!(r.drain().is_empty());
    r.record_mut(a).unwrap().copy_from_slice(b"aaaa");
    r.submit(a, 0).unwrap();
    assert_eq!(r.drain(), [b"aaaa".to_vec(), b"bbbb".to_vec()]);
}

#[test]
fn an_old_reserved_record_limits_the_producer() {
    let mut r = ring(4096);
    let old = r.reserve(8, 0).unwrap();
    // The consumer cannot pass the reserved record; neither can the producer
    // get a ring ahead of it.
    let mut n = 0;
    while r.output(&[0; 56], 0).is_ok() {
        n += 1;
    }
    assert_eq!(n, (4096 - 16) / 64);
    r.discard(old, 0).unwrap();
    assert_eq!(r.drain().len(), n);
}

#[test]
fn wakeups() {
    let mut r = ring(4096);
    r.output(b"a", 0).unwrap();
    assert_eq!(r.wakeups(), 1);
    // The consumer has not caught up with the second record: no wake-up.
    r.output(b"b", 0).unwrap();
    assert_eq!(r.wakeups(), 1);
    r.output(b"c", BPF_RB_FORCE_WAKEUP).unwrap();
    assert_eq!(r.wakeups(), 2);
    r.drain();
    r.output(b"d", BPF_RB_NO_WAKEUP).unwrap();
    assert_eq!(r.wakeups(), 2);
    r.drain();
    let rec = r.reserve(1, 0).unwrap();
    r.submit(rec, 0).unwrap();
    assert_eq!(r.wakeups(), 3);
}

#[test]
fn map_operations_are_not_supported() {
    let mut r = ring(4096);
    assert_eq!(r.lookup(&[]), Err(MapError::NotSupported));
    assert_eq!(r.update(&[], &[], 0), Err(MapError::NotSupported));
    assert_eq!(r.delete(&[]), Err(MapError::NotSupported));
    assert_eq!(r.next_key(None), Err(MapError::NotSupported));
    assert_eq!(r.lookup_and_delete(&[]), Err(MapError::NotSupported));
}

proptest! {
    #[test]
    fn ring_matches_a_byte_count_model(ops in proptest::collection::vec((0u8..4, 0usize..900), 1..120)) {
        let size = 4096u64;
        let mut r = ring(size as u32);
        let mut model: VecDeque<Vec<u8>> = VecDeque::new();
        let mut used = 0u64;
        let mut seq = 0u8;
        for (what, n) in ops {
            if what < 3 {
                let len = (n as u64 + 8 + 7) & !7;
                seq = seq.wrapping_add(1);
                let data = vec![seq; n];
                let fits = used + len < size;
                prop_assert_eq!(r.output(&data, 0).is_ok(), fits);
                if fits { used += len; model.push_back(data); }
            } else {
                let got = r.drain();
                prop_assert_eq!(got, model.drain(..).collect::<Vec<_>>());
                used = 0;
            }
            prop_assert_eq!(r.query(BPF_RB_AVAIL_DATA), used);
        }
    }
}

fn header(r: &RingBuf, rec: bpfkit_vm::maps::ValueSlot) -> (u32, u32) {
    let h = r.header_of(rec).unwrap();
    (
        u32::from_le_bytes(h[..4].try_into().unwrap()),
        u32::from_le_bytes(h[4..].try_into().unwrap()),
    )
}

#[test]
fn sequence_measured_on_linux() {
    // Linux 6.18, an 8192-byte ring, a socket filter calling
    // bpf_ringbuf_reserve then submit or discard, the headers read through
    // the ring's mmap: a reservation of 8184 bytes fails, of 8176 succeeds
    // (header 0x1ff0, page offset 3); then 1 byte fails; once the consumer
    // has moved to 8184, 100 bytes go at ring offset 8184 with page offset
    // 4 and wrap; a discarded 5-byte record then has header 0x40000005 and
    // page offset 3.
    let mut r = ring(8192);
    assert!(r.reserve(8184, 0).is_none());
    let a = r.reserve(8176, 0).unwrap();
    assert_eq!(header(&r, a), (8176 | BPF_RINGBUF_BUSY_BIT, 3));
    r.submit(a, 0).unwrap();
    assert_eq!(header(&r, a), (0x1ff0, 3));
    assert!(r.reserve(1, 0).is_none());
    assert_eq!(r.drain().len(), 1);
    assert_eq!(r.query(BPF_RB_CONS_POS), 8184);
    let b = r.reserve(100, 0).unwrap();
    assert_eq!(b.offset - 8, 8184);
    r.record_mut(b).unwrap().copy_from_slice(&[0xab; 100]);
    r.submit(b, 0).unwrap();
    assert_eq!(header(&r, b), (100, 4));
    let c = r.reserve(5, 0).unwrap();
    r.discard(c, 0).unwrap();
    assert_eq!(header(&r, c), (0x4000_0005, 3));
    assert_eq!(r.query(BPF_RB_PROD_POS), 8312);
    assert_eq!(r.drain(), [vec![0xab; 100]]);
}
