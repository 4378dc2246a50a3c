use bpfkit_object::kinds::MapType;
use bpfkit_object::map::{Map, MapError, BPF_ANY, BPF_EXIST};
use bpfkit_vm::maps::attrs::*;
use bpfkit_vm::maps::perf_event_array::*;
use bpfkit_vm::maps::PerfEventArray;

use crate::{attrs, k32};

fn pea(max: u32, ncpus: u32) -> PerfEventArray {
    PerfEventArray::new(&attrs(MapType::PerfEventArray, 4, 4, max, 0).with_ncpus(ncpus)).unwrap()
}

#[test]
fn create_and_slots() {
    assert!(PerfEventArray::new(&attrs(
        MapType::PerfEventArray,
        4,
        4,
        2,
        BPF_F_PRESERVE_ELEMS
    ))
    .is_ok());
    let bad = PerfEventArray::new(&attrs(MapType::PerfEventArray, 4, 8, 2, 0)).unwrap_err();
    assert_eq!(bad, MapError::Invalid);
    let mut m = pea(2, 2);
    // Linux 6.18: a syscall lookup of a perf event array is ENOTSUPP.
    assert_eq!(m.lookup(&k32(0)), Err(MapError::NotSupported));
    assert_eq!(
        m.update(&k32(0), &k32(0), BPF_EXIST),
        Err(MapError::Invalid)
    );
    assert_eq!(m.update(&k32(2), &k32(0), BPF_ANY), Err(MapError::TooBig));
    assert_eq!(m.update(&k32(0), &k32(5), BPF_ANY), Err(MapError::Invalid));
    m.update(&k32(0), &k32(0), BPF_ANY).unwrap();
    assert_eq!(m.delete(&k32(1)), Err(MapError::NotFound));
    assert_eq!(m.delete(&k32(0)), Ok(()));
    assert_eq!(m.open(0, 0, 3), Err(MapError::Invalid));
}

#[test]
fn output_by_index_and_current_cpu() {
    let mut m = pea(2, 2);
    m.open(0, 0, 1).unwrap();
    m.open(1, 1, 1).unwrap();
    m.output(1, BPF_F_CURRENT_CPU, b"abc").unwrap();
    m.output(0, 0, b"12345678").unwrap();
    // Raw data padded so that the u32 size plus data is a multiple of 8.
    assert_eq!(m.consume(1), [PerfRecord::Sample(b"abc\0".to_vec())]);
    assert_eq!(
        m.consume(0),
        [PerfRecord::Sample(b"12345678\0\0\0\0".to_vec())]
    );
    assert_eq!(m.output(0, 1, b"x"), Err(MapError::NotSupported));
    assert_eq!(m.output(0, 2, b"x"), Err(MapError::TooBig));
    assert_eq!(m.output(0, 1 << 32, b"x"), Err(MapError::Invalid));
    m.delete(&k32(1)).unwrap();
    assert_eq!(
        m.output(1, BPF_F_CURRENT_CPU, b"x"),
        Err(MapError::NotFound)
    );
}

#[test]
fn packet_bytes_follow_the_sample() {
    let mut m = pea(1, 1);
    m.open(0, 0, 1).unwrap();
    let flags = (3u64 << 32) | BPF_F_CURRENT_CPU;
    m.output_with_packet(0, flags, b"m", b"PACKET").unwrap();
    assert_eq!(m.consume(0), [PerfRecord::Sample(b"mPAC".to_vec())]);
    assert_eq!(
        m.output_with_packet(0, (9u64 << 32) | BPF_F_CURRENT_CPU, b"m", b"PACKET"),
        Err(MapError::Fault)
    );
    assert_eq!(m.output(0, flags, b"m"), Err(MapError::Invalid));
}

#[test]
fn a_full_ring_loses_samples_and_says_so() {
    let mut m = pea(1, 1);
    m.open(0, 0, 1).unwrap();
    // Each 1012-byte sample takes 8 + 4 + 1012 = 1024 bytes of the 4096.
    for _ in 0..3 {
        m.output(0, 0, &[7; 1012]).unwrap();
    }
    assert_eq!(m.output(0, 0, &[7; 1012]), Err(MapError::Errno(28)));
    assert_eq!(m.output(0, 0, &[7; 1012]), Err(MapError::Errno(28)));
    assert_eq!(m.consume(0).len(), 3);
    m.output(0, 0, b"ok").unwrap();
    assert_eq!(
        m.consume(0),
        [PerfRecord::Lost(2), PerfRecord::Sample(b"ok\0\0".to_vec())]
    );
}

use proptest::prelude::*;

#[test]
fn sequence_measured_on_linux() {
    // Linux 6.18: a socket filter's bpf_perf_event_output into a
    // PERF_COUNT_SW_BPF_OUTPUT event with one data page, read through the
    // event's mmap: 3 bytes give a 16-byte record with raw size 4, 8 bytes
    // 24 with raw size 12, 0 bytes 16 with raw size 4; an empty slot is
    // ENOENT, index 5 of 2 E2BIG, another CPU's event EOPNOTSUPP; 127
    // samples of 16 bytes fit, three more are ENOSPC, and after the
    // consumer drains, a PERF_RECORD_LOST of 3 precedes the next sample.
    let mut m = pea(2, 2);
    m.open(0, 0, 1).unwrap();
    m.output(0, BPF_F_CURRENT_CPU, b"EFG").unwrap();
    m.output(0, BPF_F_CURRENT_CPU, b"EFGH\0\0\0\0").unwrap();
    m.output(0, BPF_F_CURRENT_CPU, b"").unwrap();
    assert_eq!(
        m.consume(0),
        [
            PerfRecord::Sample(b"EFG\0".to_vec()),
            PerfRecord::Sample(b"EFGH\0\0\0\0\0\0\0\0".to_vec()),
            PerfRecord::Sample(vec![0; 4]),
        ]
    );
    assert_eq!(m.output(0, 1, b"EFG"), Err(MapError::NotFound));
    assert_eq!(m.output(0, 5, b"EFG"), Err(MapError::TooBig));
    m.open(1, 1, 1).unwrap();
    assert_eq!(m.output(0, 1, b"EFG"), Err(MapError::NotSupported));
    let mut fit = 0;
    while m.output(0, BPF_F_CURRENT_CPU, &[1; 16]).is_ok() {
        fit += 1;
    }
    assert_eq!(fit, 127);
    assert_eq!(
        m.output(0, BPF_F_CURRENT_CPU, &[1; 16]),
        Err(MapError::Errno(28))
    );
    assert_eq!(
        m.output(0, BPF_F_CURRENT_CPU, &[1; 16]),
        Err(MapError::Errno(28))
    );
    assert_eq!(m.consume(0).len(), 127);
    m.output(0, BPF_F_CURRENT_CPU, b"EFG").unwrap();
    assert_eq!(
        m.consume(0),
        [PerfRecord::Lost(3), PerfRecord::Sample(b"EFG\0".to_vec())]
    );
}

proptest! {
    #[test]
    fn rings_match_a_byte_count_model(ops in proptest::collection::vec((0u8..4, 0usize..700), 1..80)) {
        // One page: 4096 bytes, one always free; a sample takes 8 + 4 +
        // padded bytes, a lost record 24.
        let mut m = pea(1, 1);
        m.open(0, 0, 1).unwrap();
        let (mut used, mut lost) = (0usize, 0u64);
        let mut want: Vec<PerfRecord> = Vec::new();
        for (what, n) in ops {
            if what < 3 {
                let padded = (n + 4).div_ceil(8) * 8 - 4;
                let need = 12 + padded + if lost > 0 { 24 } else { 0 };
                let got = m.output(0, BPF_F_CURRENT_CPU, &vec![what; n]);
                if 4096 - used - 1 < need {
                    lost += 1;
                    prop_assert_eq!(got, Err(MapError::Errno(28)));
                } else {
                    prop_assert_eq!(got, Ok(()));
                    if lost > 0 {
                        want.push(PerfRecord::Lost(lost));
                        lost = 0;
                    }
                    let mut sample = vec![what; n];
                    sample.resize(padded, 0);
                    want.push(PerfRecord::Sample(sample));
                    used += need;
                }
            } else {
                prop_assert_eq!(m.consume(0), std::mem::take(&mut want));
                used = 0;
            }
        }
    }
}
