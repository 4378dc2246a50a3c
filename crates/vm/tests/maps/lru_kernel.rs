//! The LRU hash maps replay what Linux 6.18 did with the same operations:
//! fixtures/lru_linux.txt was recorded by fixtures/lru_linux.py on a
//! 2-CPU machine (each operation pinned to the CPU it names, program
//! lookups by a socket filter under BPF_PROG_TEST_RUN). Every return value
//! and the set of keys present after every operation must match.

use bpfkit_object::kinds::MapType;
use bpfkit_object::map::{Map, MapError};
use bpfkit_vm::maps::{MapDirectory, UserMap};

use crate::{attrs, k32};

const FIXTURE: &str = include_str!("fixtures/lru_linux.txt");

fn errno(r: Result<(), MapError>) -> i64 {
    match r {
        Ok(()) => 0,
        Err(e) => -(e.errno() as i64),
    }
}

/// Bit `i` of a hex number of any length.
fn bit(hex: &str, i: usize) -> bool {
    let digits = hex.trim_start_matches("0x").as_bytes();
    let Some(pos) = digits.len().checked_sub(1 + i / 4) else {
        return false;
    };
    let d = (digits[pos] as char).to_digit(16).expect("hex digit");
    d >> (i % 4) & 1 == 1
}

#[test]
fn lru_maps_evict_as_linux_does() {
    let mut map: Option<(UserMap, usize, usize)> = None;
    let mut replayed = 0;
    for (n, line) in FIXTURE.lines().enumerate() {
        let f: Vec<&str> = line.split_whitespace().collect();
        match f.first().copied() {
            None | Some("#") => continue,
            Some("config") => {
                let num = |i: usize| f[i].parse::<u32>().expect("number");
                let t = MapType::from_raw(num(1)).expect("map type");
                let ncpus = num(5);
                let a = attrs(t, 4, num(4), num(3), num(2)).with_ncpus(ncpus);
                let m = UserMap::create(&a, &MapDirectory::new()).unwrap();
                let value = if t == MapType::LruPercpuHash {
                    num(4).div_ceil(8) as usize * 8 * ncpus as usize
                } else {
                    num(4) as usize
                };
                map = Some((m, value, num(6) as usize));
                continue;
            }
            _ => {}
        }
        let (m, value_size, nkeys) = map.as_mut().expect("config first");
        let num = |i: usize| f[i].parse::<i64>().expect("number");
        let (key, cpu, flags, want) = (num(1) as u32, num(2) as u32, num(3) as u64, num(4));
        let got = match f[0] {
            "U" => {
                m.set_syscall_cpu(cpu);
                errno(m.update(&k32(key), &vec![0; *value_size], flags))
            }
            "L" => m.prog_lookup(&k32(key), cpu).unwrap().is_some() as i64,
            "D" => errno(m.delete(&k32(key))),
            other => panic!("line {}: unknown op {other}", n + 1),
        };
        assert_eq!(got, want, "line {}: {line}", n + 1);
        for k in 0..*nkeys {
            let present = m.lookup(&k32(k as u32)).is_ok();
            assert_eq!(
                present,
                bit(f[5], k),
                "line {}: key {k} after {line}",
                n + 1
            );
        }
        replayed += 1;
    }
    assert_eq!(replayed, 1400);
}
