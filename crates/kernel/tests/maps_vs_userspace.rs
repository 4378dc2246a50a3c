//! Random map operations on kernel maps ([`KernelMap`]) and on bpfkit-vm's
//! userspace maps ([`UserMap`]) through the one `Map` trait: the same
//! results, errnos and final contents, for the LRU maps with eviction
//! (each operation on a CPU picked at random, this thread pinned to it:
//! the kernel takes an LRU node from the running CPU's lists, and the
//! userspace map is told the same CPU) and
//! for the other hash and array configurations.
//!
//! (`crates/cli/tests/maps_vs_kernel.rs` drives hash, array, per-CPU, LRU
//! without eviction, LPM trie, queue, stack and bloom filter maps the same
//! way.) Root and BPF needed: skipped visibly otherwise, failing under
//! `BPFKIT_REQUIRE_KERNEL=1`. Kernel maps close when dropped.

mod support;

use bpfkit_kernel::map::KernelMap;
use bpfkit_object::kinds::MapType;
use bpfkit_object::map::{entries, Map, MapError, MapSpec, BPF_ANY, BPF_EXIST, BPF_NOEXIST};
use bpfkit_vm::maps::{MapAttrs, MapDirectory, UserMap};

/// `BPF_F_NO_PREALLOC`.
const NO_PREALLOC: u32 = 1;
/// `BPF_F_NO_COMMON_LRU`.
const NO_COMMON_LRU: u32 = 1 << 1;
/// `BPF_F_ZERO_SEED`: both sides hash with seed 0.
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
}

fn check<T: PartialEq + std::fmt::Debug>(
    what: &str,
    step: usize,
    op: &str,
    user: Result<T, MapError>,
    kernel: Result<T, MapError>,
) -> bool {
    assert_eq!(
        user, kernel,
        "{what}: step {step}: {op}: userspace (left), kernel (right)"
    );
    kernel.is_ok()
}

/// `steps` operations over `keys` keys on a fresh pair of maps; returns
/// (successes, evictions seen as a key going missing).
fn drive(
    map_type: MapType,
    flags: u32,
    max_entries: u32,
    keys: u64,
    steps: usize,
    seed: u64,
) -> usize {
    let spec = MapSpec {
        name: "diff".into(),
        map_type,
        key_size: 4,
        value_size: 8,
        max_entries,
        map_flags: flags,
    };
    let what = format!("{} max {max_entries} flags {flags:#x}", map_type.name());
    let mut attrs = MapAttrs::new(spec.clone());
    attrs.ncpus = bpfkit_kernel::possible_cpus().expect("cpus") as u32;
    let mut user = UserMap::create(&attrs, &MapDirectory::new()).expect("userspace map");
    bpfkit_kernel::run_on_cpu(0).expect("pin to CPU 0");
    user.set_syscall_cpu(0);
    let mut kernel = KernelMap::create(&spec).expect("kernel map");
    let vlen = kernel.value_len();
    let mut rng = Rng(seed);
    let mut ok = 0;
    let cpus = online_cpus();
    for step in 0..steps {
        if cpus > 1 {
            // Each step on a random CPU, told to both sides: LRU nodes
            // move between the CPUs' lists as they do in the kernel.
            let cpu = rng.below(cpus as u64) as u32;
            bpfkit_kernel::run_on_cpu(cpu as usize).expect("pin to a CPU");
            user.set_syscall_cpu(cpu);
        }
        let key = (rng.below(keys) as u32).to_ne_bytes();
        let succeeded = match rng.below(8) {
            0..=3 => {
                let flags = [BPF_ANY, BPF_ANY, BPF_NOEXIST, BPF_EXIST][rng.below(4) as usize];
                let value: Vec<u8> = (0..vlen).map(|_| rng.next() as u8).collect();
                check(
                    &what,
                    step,
                    &format!("update {key:?} {flags}"),
                    user.update(&key, &value, flags),
                    kernel.update(&key, &value, flags),
                )
            }
            4 | 5 => check(
                &what,
                step,
                &format!("lookup {key:?}"),
                user.lookup(&key),
                kernel.lookup(&key),
            ),
            6 => check(
                &what,
                step,
                &format!("delete {key:?}"),
                user.delete(&key),
                kernel.delete(&key),
            ),
            _ => check(
                &what,
                step,
                &format!("next_key {key:?}"),
                user.next_key(Some(&key)),
                kernel.next_key(Some(&key)),
            ),
        };
        ok += usize::from(succeeded);
    }
    assert_eq!(entries(&user), entries(&kernel), "{what}: final contents");
    assert!(
        ok > steps / 10 && ok < steps,
        "{what}: {ok} of {steps} succeeded"
    );
    ok
}

/// The CPUs this thread may run on, at most 2 (0 and 1), from
/// `/sys/devices/system/cpu/online` (`0-1`, `0`...).
fn online_cpus() -> usize {
    let text = std::fs::read_to_string("/sys/devices/system/cpu/online").unwrap_or_default();
    let first = text.trim().split(',').next().unwrap_or("0");
    match first.split_once('-') {
        Some(("0", hi)) => hi.parse::<usize>().map_or(1, |h| (h + 1).min(2)),
        _ => 1,
    }
}

#[test]
fn lru_maps_evict_what_the_kernel_evicts() {
    if !support::kernel_or_skip("lru maps vs userspace") {
        return;
    }
    let configs = [
        (MapType::LruHash, ZERO_SEED, 16),
        (MapType::LruHash, ZERO_SEED | NO_COMMON_LRU, 16),
        (MapType::LruPercpuHash, ZERO_SEED, 16),
        (MapType::LruPercpuHash, ZERO_SEED | NO_COMMON_LRU, 12),
        (MapType::LruHash, ZERO_SEED, 300),
    ];
    for (i, (t, flags, max)) in configs.into_iter().enumerate() {
        // More keys than entries: updates of new keys evict.
        let keys = u64::from(max) * 2;
        drive(t, flags, max, keys, 600, 0x51ed_2701 + i as u64);
    }
}

#[test]
fn hash_and_array_maps_agree_with_the_kernel() {
    if !support::kernel_or_skip("hash maps vs userspace") {
        return;
    }
    let configs = [
        (MapType::Hash, ZERO_SEED | NO_PREALLOC, 10),
        (MapType::PercpuHash, ZERO_SEED | NO_PREALLOC, 10),
        (MapType::PercpuHash, ZERO_SEED, 7),
        (MapType::Array, 0, 9),
        (MapType::PercpuArray, 0, 9),
    ];
    for (i, (t, flags, max)) in configs.into_iter().enumerate() {
        drive(
            t,
            flags,
            max,
            u64::from(max) + 4,
            500,
            0x0dd_ba11 + i as u64,
        );
    }
}
