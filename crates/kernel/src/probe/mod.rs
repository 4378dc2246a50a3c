//! Feature probes: which program types, map types and helpers this kernel
//! has, found by asking it (loading a minimal program, creating a minimal
//! map), never assumed from its version. Each answer is cached for the
//! life of the process.
//!
//! The probes are libbpf's (`libbpf_probe_bpf_prog_type`,
//! `libbpf_probe_bpf_map_type`, `libbpf_probe_bpf_helper`), which bpftool's
//! `feature probe` prints; see each submodule for the exact programs.

mod btf_blob;
mod helpers;
pub mod kernel_config;
mod map_types;
mod misc;
mod prog_types;
mod system;

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Mutex, OnceLock};

pub use helpers::{available_helpers, helper, HELPERS_SKIPPED_BY_DEFAULT};
pub use map_types::map_type;
pub use misc::{bpf_syscall, misc, Misc};
pub use prog_types::prog_type;
pub use system::{system_config, SystemConfig};

/// A per-process cache of probe answers.
struct Cache<K, V>(OnceLock<Mutex<HashMap<K, V>>>);

impl<K: Eq + Hash, V: Clone> Cache<K, V> {
    const fn new() -> Self {
        Cache(OnceLock::new())
    }

    /// The cached answer for `key`, computing it (outside the lock) once.
    fn get(&self, key: K, probe: impl FnOnce() -> V) -> V {
        let map = self.0.get_or_init(|| Mutex::new(HashMap::new()));
        if let Some(v) = map.lock().ok().and_then(|m| m.get(&key).cloned()) {
            return v;
        }
        let v = probe();
        if let Ok(mut m) = map.lock() {
            m.insert(key, v.clone());
        }
        v
    }
}
