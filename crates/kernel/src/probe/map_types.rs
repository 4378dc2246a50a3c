//! Map type probes: create the smallest map of the type that the kernel
//! accepts (libbpf's `libbpf_probe_bpf_map_type`).

use std::os::fd::AsFd;

use bpfkit_object::kinds::MapType;
use bpfkit_object::map::MapSpec;

use super::{btf_blob, Cache};
use crate::btf::KernelBtf;
use crate::map::{KernelMap, MapCreateExtra};

/// `BPF_F_NO_PREALLOC`.
const BPF_F_NO_PREALLOC: u32 = 1 << 0;
/// `BPF_F_MMAPABLE`.
const BPF_F_MMAPABLE: u32 = 1 << 10;
/// `ENOTSUPP`.
const ENOTSUPP: i32 = 524;

/// Whether the kernel creates maps of `t`.
pub fn map_type(t: MapType) -> bool {
    static CACHE: Cache<MapType, bool> = Cache::new();
    CACHE.get(t, || probe(t))
}

fn page_size() -> u32 {
    // A ring buffer's size must be a power-of-two multiple of the page
    // size; the probe only needs one page, and 4 KiB pages are everywhere
    // bpfkit runs (a larger page size makes the probe answer false).
    4096
}

fn probe(t: MapType) -> bool {
    let mut spec = MapSpec {
        name: String::new(),
        map_type: t,
        key_size: 4,
        value_size: 4,
        max_entries: 1,
        map_flags: 0,
    };
    let mut expect_errno = None;
    let mut local_storage = false;
    let mut vmlinux_value_type_id = 0;
    match t {
        MapType::Unspec => return false,
        MapType::StackTrace => spec.value_size = 8,
        MapType::LpmTrie => {
            spec.key_size = 8;
            spec.value_size = 8;
            spec.map_flags = BPF_F_NO_PREALLOC;
        }
        MapType::CgroupStorage | MapType::PercpuCgroupStorage => {
            // struct bpf_cgroup_storage_key { __u64 cgroup_inode_id; __u32 attach_type; }
            spec.key_size = 16;
            spec.value_size = 8;
            spec.max_entries = 0;
        }
        MapType::Queue | MapType::Stack => spec.key_size = 0,
        MapType::SkStorage
        | MapType::InodeStorage
        | MapType::TaskStorage
        | MapType::CgrpStorage => {
            spec.value_size = 8;
            spec.max_entries = 0;
            spec.map_flags = BPF_F_NO_PREALLOC;
            local_storage = true;
        }
        MapType::Ringbuf | MapType::UserRingbuf => {
            spec.key_size = 0;
            spec.value_size = 0;
            spec.max_entries = page_size();
        }
        MapType::StructOps => {
            vmlinux_value_type_id = 1;
            expect_errno = Some(ENOTSUPP);
        }
        MapType::BloomFilter => spec.key_size = 0,
        MapType::Arena => {
            spec.key_size = 0;
            spec.value_size = 0;
            spec.map_flags = BPF_F_MMAPABLE;
        }
        _ => {}
    }
    let inner = if t.is_map_in_map() {
        let inner_spec = MapSpec {
            map_type: MapType::Hash,
            ..spec.clone()
        };
        match KernelMap::create(&inner_spec) {
            Ok(m) => Some(m),
            Err(_) => return false,
        }
    } else {
        None
    };
    let btf = if local_storage {
        match KernelBtf::load(&btf_blob::local_storage_btf(), 0) {
            Ok(b) => Some(b),
            Err(_) => return false,
        }
    } else {
        None
    };
    let extra = MapCreateExtra {
        inner_map_fd: inner.as_ref().map(|m| m.as_fd()),
        btf_fd: btf.as_ref().map(|b| b.as_fd()),
        btf_key_type_id: if local_storage { 1 } else { 0 },
        btf_value_type_id: if local_storage { 3 } else { 0 },
        btf_vmlinux_value_type_id: vmlinux_value_type_id,
        ..Default::default()
    };
    let r = KernelMap::create_with(&spec, &extra);
    match expect_errno {
        Some(errno) => r.err().and_then(|e| e.errno()) == Some(errno),
        None => r.is_ok(),
    }
}
