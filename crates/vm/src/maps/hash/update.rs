//! The update paths of the hash maps: `htab_map_update_elem`, the per-CPU
//! and LRU variants, and the flag checks they share.

use bpfkit_object::map::{MapError, BPF_EXIST, BPF_F_LOCK, BPF_NOEXIST};

use super::HashMap;

impl HashMap {
    /// `check_flags`.
    pub(super) fn check_flags(exists: bool, flags: u64) -> Result<(), MapError> {
        let f = flags & !BPF_F_LOCK;
        if exists && f == BPF_NOEXIST {
            Err(MapError::Exists)
        } else if !exists && f == BPF_EXIST {
            Err(MapError::NotFound)
        } else {
            Ok(())
        }
    }

    /// Writes a value into a slot: every CPU's share from a syscall value,
    /// or one CPU's (`Some(cpu)`) from a program, the other CPUs of a new
    /// element staying zero (`pcpu_init_value`).
    pub(super) fn store(&mut self, slot: u32, value: &[u8], cpu: Option<usize>) {
        let layout = self.layout;
        let stride = self.stride;
        let dst = self.arena.slot_mut(slot);
        if !self.percpu {
            layout.copy_in(dst, value);
        } else if let Some(c) = cpu {
            dst[c * stride..c * stride + layout.size].copy_from_slice(&value[..layout.size]);
        } else {
            dst.copy_from_slice(value);
        }
    }

    /// A new element's slot, or `E2BIG` when the map is full.
    pub(super) fn alloc(&mut self) -> Result<u32, MapError> {
        if self.count >= self.spec.max_entries {
            return Err(MapError::TooBig);
        }
        Ok(self.arena.alloc())
    }

    /// The update of every type; `cpu` is `Some` for a program's update.
    pub(super) fn update_at(
        &mut self,
        key: &[u8],
        value: &[u8],
        flags: u64,
        cpu: Option<usize>,
    ) -> Result<(), MapError> {
        if self.lru.is_some() {
            return self.update_lru(key, value, flags, cpu);
        }
        if self.percpu {
            if flags > BPF_EXIST {
                return Err(MapError::Invalid);
            }
        } else if flags & !BPF_F_LOCK > BPF_EXIST {
            return Err(MapError::Invalid);
        }
        self.layout.check_lock_flag(flags)?;
        let old = self.find(key);
        Self::check_flags(old.is_some(), flags)?;
        match old {
            // In place: a per-CPU value, or a value under its lock.
            Some(slot) if self.percpu || flags & BPF_F_LOCK != 0 => {
                self.store(slot, value, cpu);
                Ok(())
            }
            Some(old) => {
                // The replacing element is another one (the kernel's extra
                // element), linked at the head before the old one goes.
                let slot = self.arena.alloc();
                self.store(slot, value, cpu);
                self.unlink(old);
                self.link(slot, key);
                Ok(())
            }
            None => {
                let slot = self.alloc()?;
                self.store(slot, value, cpu);
                self.link(slot, key);
                Ok(())
            }
        }
    }

    /// `htab_lru_map_update_elem` and `__htab_lru_percpu_map_update_elem`:
    /// a node is taken from the LRU lists of the updating CPU (which may
    /// evict, even the key being updated) before the flags are checked,
    /// except for a per-CPU `BPF_EXIST` update; no node is `ENOMEM`.
    pub(super) fn update_lru(
        &mut self,
        key: &[u8],
        value: &[u8],
        flags: u64,
        cpu: Option<usize>,
    ) -> Result<(), MapError> {
        if flags > BPF_EXIST {
            return Err(MapError::Invalid);
        }
        let list_cpu = cpu.map_or(self.sys_cpu, |c| c as u32);
        let mut new_node = None;
        if !(self.percpu && flags == BPF_EXIST) {
            let Some(lru) = &mut self.lru else {
                return Err(MapError::Invalid);
            };
            let (node, evicted) = lru.pop_free(list_cpu);
            for victim in evicted {
                self.detach(victim);
            }
            let node = node.ok_or(MapError::NoMemory)?;
            self.arena.slot_mut(node).fill(0);
            new_node = Some(node);
        }
        let old = self.find(key);
        if let Err(e) = Self::check_flags(old.is_some(), flags) {
            if let (Some(node), Some(lru)) = (new_node, &mut self.lru) {
                lru.push_free(node);
            }
            return Err(e);
        }
        match (old, new_node) {
            (Some(old), new) if self.percpu => {
                if let Some(lru) = &mut self.lru {
                    lru.set_ref(old);
                }
                self.store(old, value, cpu);
                if let (Some(node), Some(lru)) = (new, &mut self.lru) {
                    lru.push_free(node);
                }
            }
            (old, Some(node)) => {
                self.store(node, value, cpu);
                self.link(node, key);
                if let Some(old) = old {
                    if let Some(lru) = &mut self.lru {
                        lru.set_ref(node);
                    }
                    self.unlink(old);
                }
            }
            // A per-CPU BPF_EXIST update of a missing key failed above.
            (_, None) => return Err(MapError::NotFound),
        }
        Ok(())
    }
}
