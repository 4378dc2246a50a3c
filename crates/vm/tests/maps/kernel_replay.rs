//! Userspace maps answer random syscall operations exactly as Linux 6.18
//! did: fixtures/maps_linux.txt was recorded by fixtures/maps_linux.py
//! (hash and per-CPU hash under BPF_F_ZERO_SEED, array, per-CPU array, LPM
//! trie, queue, stack, bloom filter; 2 CPUs). Every errno, every value
//! read back, every next key and the full iteration order must match.

use bpfkit_object::kinds::MapType;
use bpfkit_object::map::{Map, MapError, MapSpec};
use bpfkit_vm::maps::{MapAttrs, MapDirectory, UserMap};

const FIXTURE: &str = include_str!("fixtures/maps_linux.txt");

fn bytes(hex: &str) -> Vec<u8> {
    if hex == "-" {
        return Vec::new();
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex byte"))
        .collect()
}

/// The outcome as the kernel's return value; `ENOTSUPP` (524) and
/// `EOPNOTSUPP` (95) are one [`MapError::NotSupported`], so both read 95.
fn code<T>(r: &Result<T, MapError>) -> i64 {
    match r {
        Ok(_) => 0,
        Err(e) => -(e.errno() as i64),
    }
}

fn kernel(ret: i64) -> i64 {
    if ret == 0 {
        0
    } else {
        -(MapError::from_errno(-ret as i32).errno() as i64)
    }
}

#[test]
fn maps_answer_as_linux_does() {
    let dir = MapDirectory::new();
    let mut map: Option<UserMap> = None;
    let mut checked = 0;
    for (n, line) in FIXTURE.lines().enumerate() {
        let f: Vec<&str> = line.split_whitespace().collect();
        let at = || format!("line {}: {line}", n + 1);
        match f.first().copied() {
            None | Some("#") => continue,
            Some("config") => {
                let num = |i: usize| f[i].parse::<u64>().expect("number");
                let spec = MapSpec {
                    name: "replay".into(),
                    map_type: MapType::from_raw(num(1) as u32).expect("map type"),
                    key_size: num(2) as u32,
                    value_size: num(3) as u32,
                    max_entries: num(4) as u32,
                    map_flags: num(5) as u32,
                };
                let attrs = MapAttrs::new(spec)
                    .with_map_extra(num(6))
                    .with_ncpus(num(7) as u32);
                map = Some(UserMap::create(&attrs, &dir).unwrap());
                continue;
            }
            _ => {}
        }
        let m = map.as_mut().expect("config first");
        let ret = |i: usize| kernel(f[i].parse::<i64>().expect("errno"));
        match f[0] {
            "U" => {
                let got = m.update(&bytes(f[1]), &bytes(f[2]), f[3].parse().unwrap());
                assert_eq!(code(&got), ret(4), "{}", at());
            }
            "L" => {
                let got = m.lookup(&bytes(f[1]));
                assert_eq!(code(&got), ret(2), "{}", at());
                if let Ok(v) = got {
                    assert_eq!(v, bytes(f[3]), "{}", at());
                }
            }
            "D" => assert_eq!(code(&m.delete(&bytes(f[1]))), ret(2), "{}", at()),
            "P" => {
                let got = m.lookup_and_delete(&bytes(f[1]));
                assert_eq!(code(&got), ret(2), "{}", at());
                if let Ok(v) = got {
                    assert_eq!(v, bytes(f[3]), "{}", at());
                }
            }
            "N" => {
                let key = (f[1] != "-").then(|| bytes(f[1]));
                let got = m.next_key(key.as_deref());
                assert_eq!(code(&got), ret(2), "{}", at());
                if let Ok(k) = got {
                    assert_eq!(k, bytes(f[3]), "{}", at());
                }
            }
            "K" => {
                let want: Vec<Vec<u8>> = f[1..].iter().map(|k| bytes(k)).collect();
                let mut got = Vec::new();
                let mut key: Option<Vec<u8>> = None;
                while let Ok(k) = m.next_key(key.as_deref()) {
                    got.push(k.clone());
                    key = Some(k);
                    assert!(got.len() <= want.len() + 1, "{}", at());
                }
                assert_eq!(got, want, "{}", at());
            }
            other => panic!("line {}: unknown op {other}", n + 1),
        }
        checked += 1;
    }
    assert_eq!(checked, 1575);
}
