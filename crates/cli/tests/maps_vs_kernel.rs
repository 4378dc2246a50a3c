//! Differential test of the one map abstraction: the same operations, in
//! the same order, on a userspace map (`bpfkit-vm`) and a kernel map
//! (`bpfkit-kernel`), through `bpfkit_object::map::Map`; every result
//! (value or errno) and the final iteration must be the kernel's.
//!
//! Needs root and bpf(2): skipped visibly without, failed when
//! `BPFKIT_REQUIRE_KERNEL=1`. The kernel maps close when dropped.

mod kernel_support;

use bpfkit_kernel::map::{KernelMap, MapCreateExtra};
use bpfkit_object::kinds::MapType;
use bpfkit_object::map::{entries, Map, MapError, MapSpec, BPF_ANY, BPF_EXIST, BPF_NOEXIST};
use bpfkit_vm::maps::{MapAttrs, MapDirectory, UserMap};
use kernel_support::kernel_or_skip;

/// `BPF_F_NO_PREALLOC`.
const NO_PREALLOC: u32 = 1;
/// `BPF_F_ZERO_SEED`: both sides hash with seed 0, so iteration orders
/// can be compared as they are.
const ZERO_SEED: u32 = 1 << 6;

/// xorshift64: the same sequence on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

struct Pair {
    user: UserMap,
    kernel: KernelMap,
    what: String,
}

fn pair(map_type: MapType, key: u32, value: u32, n: u32, flags: u32) -> Pair {
    let spec = MapSpec {
        name: "diff".into(),
        map_type,
        key_size: key,
        value_size: value,
        max_entries: n,
        map_flags: flags,
    };
    let mut attrs = MapAttrs::new(spec.clone());
    attrs.ncpus = bpfkit_kernel::possible_cpus().unwrap() as u32;
    let user = UserMap::create(&attrs, &MapDirectory::new()).unwrap();
    let kernel = KernelMap::create_with(&spec, &MapCreateExtra::default()).unwrap();
    Pair {
        user,
        kernel,
        what: format!("{} k{key} v{value} n{n} flags {flags:#x}", map_type.name()),
    }
}

/// Asserts both sides answered alike; returns whether they succeeded.
fn same<T: PartialEq + std::fmt::Debug>(
    what: &str,
    step: usize,
    op: &str,
    u: Result<T, MapError>,
    k: Result<T, MapError>,
) -> bool {
    assert_eq!(
        u, k,
        "{what}: step {step}: {op}: userspace (left) vs kernel (right)"
    );
    k.is_ok()
}

/// `steps` random operations over a small key space (so updates meet full
/// maps, lookups meet missing keys), then the whole iteration.
fn drive(
    p: &mut Pair,
    rng: &mut Rng,
    steps: usize,
    key_of: &dyn Fn(&mut Rng) -> Vec<u8>,
    keyless: bool,
) {
    let vlen = p.kernel.value_len();
    let mut ok = 0;
    for step in 0..steps {
        let key = if keyless { Vec::new() } else { key_of(rng) };
        let succeeded = match rng.below(6) {
            0 | 1 => {
                let flags = [BPF_ANY, BPF_NOEXIST, BPF_EXIST][rng.below(3) as usize];
                let value = rng.bytes(vlen);
                let op = format!("update {key:02x?} flags {flags}");
                same(
                    &p.what,
                    step,
                    &op,
                    p.user.update(&key, &value, flags),
                    p.kernel.update(&key, &value, flags),
                )
            }
            2 => {
                let op = format!("lookup {key:02x?}");
                same(
                    &p.what,
                    step,
                    &op,
                    p.user.lookup(&key),
                    p.kernel.lookup(&key),
                )
            }
            3 => {
                let op = format!("delete {key:02x?}");
                same(
                    &p.what,
                    step,
                    &op,
                    p.user.delete(&key),
                    p.kernel.delete(&key),
                )
            }
            4 => {
                let op = format!("lookup_and_delete {key:02x?}");
                same(
                    &p.what,
                    step,
                    &op,
                    p.user.lookup_and_delete(&key),
                    p.kernel.lookup_and_delete(&key),
                )
            }
            _ => {
                let from = (rng.below(4) != 0).then_some(key);
                let op = format!("next_key {from:02x?}");
                same(
                    &p.what,
                    step,
                    &op,
                    p.user.next_key(from.as_deref()),
                    p.kernel.next_key(from.as_deref()),
                )
            }
        };
        ok += usize::from(succeeded);
    }
    // Both outcomes must have been exercised for the run to mean anything.
    assert!(
        ok > steps / 10 && ok < steps,
        "{}: {ok} of {steps} operations succeeded",
        p.what
    );
    if !keyless {
        assert_eq!(
            entries(&p.user),
            entries(&p.kernel),
            "{}: final iteration",
            p.what
        );
    }
    same(&p.what, steps, "freeze", p.user.freeze(), p.kernel.freeze());
    let value = rng.bytes(vlen);
    let key = if keyless { Vec::new() } else { key_of(rng) };
    same(
        &p.what,
        steps + 1,
        "update after freeze",
        p.user.update(&key, &value, BPF_ANY),
        p.kernel.update(&key, &value, BPF_ANY),
    );
}

fn u32_key(space: u64) -> impl Fn(&mut Rng) -> Vec<u8> {
    move |r: &mut Rng| (r.below(space) as u32).to_ne_bytes().to_vec()
}

#[test]
fn keyed_maps_agree_with_the_kernel() {
    if !kernel_or_skip("keyed_maps_agree_with_the_kernel") {
        return;
    }
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let configs = [
        (MapType::Hash, 4, 8, 8, ZERO_SEED),
        (MapType::Hash, 4, 3, 8, ZERO_SEED | NO_PREALLOC),
        (MapType::Array, 4, 12, 8, 0),
        (MapType::PercpuArray, 4, 4, 4, 0),
        (MapType::PercpuHash, 4, 12, 6, ZERO_SEED),
        // Room for every key: no eviction, whose choice depends on CPUs.
        (MapType::LruHash, 4, 8, 64, ZERO_SEED),
    ];
    for (t, k, v, n, f) in configs {
        let mut p = pair(t, k, v, n, f);
        drive(&mut p, &mut rng, 400, &u32_key(12), false);
    }
}

#[test]
fn lpm_trie_agrees_with_the_kernel() {
    if !kernel_or_skip("lpm_trie_agrees_with_the_kernel") {
        return;
    }
    let mut rng = Rng(0x1234_5678_9abc_def1);
    let mut p = pair(MapType::LpmTrie, 8, 4, 16, NO_PREALLOC);
    // struct bpf_lpm_trie_key { u32 prefixlen; u8 data[4]; }: few prefixes
    // and addresses, so they nest and collide.
    let key = |r: &mut Rng| {
        let mut k = (r.below(5) as u32 * 8).to_ne_bytes().to_vec();
        k.extend([10, r.below(3) as u8, r.below(2) as u8, 1]);
        k
    };
    drive(&mut p, &mut rng, 400, &key, false);
}

#[test]
fn keyless_maps_agree_with_the_kernel() {
    if !kernel_or_skip("keyless_maps_agree_with_the_kernel") {
        return;
    }
    let mut rng = Rng(0x0bad_cafe_f00d_d00d);
    for t in [MapType::Queue, MapType::Stack] {
        let mut p = pair(t, 0, 4, 5, 0);
        drive(&mut p, &mut rng, 300, &|_| Vec::new(), true);
    }
}

#[test]
fn bloom_filter_agrees_with_the_kernel() {
    if !kernel_or_skip("bloom_filter_agrees_with_the_kernel") {
        return;
    }
    let mut rng = Rng(0x5555_aaaa_3333_cccc);
    // A tiny filter fills up, so false positives show up and must match.
    let mut p = pair(MapType::BloomFilter, 0, 4, 4, ZERO_SEED);
    let mut hits = 0;
    for step in 0..300 {
        let v = (rng.below(40) as u32).to_ne_bytes();
        if rng.below(3) == 0 {
            same(
                &p.what,
                step,
                "push",
                p.user.update(&[], &v, BPF_ANY),
                p.kernel.update(&[], &v, BPF_ANY),
            );
        } else {
            hits += usize::from(same(
                &p.what,
                step,
                "test",
                p.user.lookup(&v),
                p.kernel.lookup(&v),
            ));
        }
    }
    assert!(hits > 0 && hits < 200, "{hits} hits");
}
