//! `BPF_MAP_TYPE_PROG_ARRAY`: the jump table of `bpf_tail_call`.
//!
//! In userspace a slot holds a program id, the number the VM's program
//! table gives a loaded program (the kernel takes a program fd and reports
//! the program's id on lookup, so the syscall view is the same). The VM
//! resolves a tail call with [`ProgArray::tail_call_target`] and counts
//! tail calls against [`MAX_TAIL_CALL_CNT`]. The kernel also pins the
//! array to the first program type that uses it (`bpf_prog_map_compatible`);
//! that check belongs to the loader, which knows the programs.

use bpfkit_object::kinds::MapType;
use bpfkit_object::map::{Map, MapError, MapSpec};

use super::attrs::MapAttrs;
use super::fd_array::FdArray;
use super::value::index_key;

/// `MAX_TAIL_CALL_CNT`: how many tail calls one run may make; the 34th
/// `bpf_tail_call` falls through as a failed one.
pub const MAX_TAIL_CALL_CNT: u32 = 33;

/// A program array.
#[derive(Debug, Clone)]
pub struct ProgArray {
    slots: FdArray<u32>,
}

impl ProgArray {
    /// Creates a program array (`value_size` 4, the fd array checks).
    pub fn new(attrs: &MapAttrs) -> Result<ProgArray, MapError> {
        if attrs.spec.map_type != MapType::ProgArray {
            return Err(MapError::Invalid);
        }
        Ok(ProgArray {
            slots: FdArray::new(attrs)?,
        })
    }

    /// The program a `bpf_tail_call(ctx, map, index)` jumps to, `None` when
    /// the index is out of range or the slot empty (the call falls through).
    pub fn tail_call_target(&self, index: u32) -> Option<u32> {
        self.slots.get(index).copied()
    }
}

impl Map for ProgArray {
    fn spec(&self) -> &MapSpec {
        &self.slots.spec
    }

    /// The program id in the slot.
    fn lookup(&self, key: &[u8]) -> Result<Vec<u8>, MapError> {
        self.slots.lookup(key).map(|id| id.to_le_bytes().to_vec())
    }

    /// Stores a program id (`BPF_ANY` only).
    fn update(&mut self, key: &[u8], value: &[u8], flags: u64) -> Result<(), MapError> {
        let index = self.slots.sys_update_checks(key, value, flags)?;
        self.slots.set(index, index_key(value)?);
        Ok(())
    }

    fn delete(&mut self, key: &[u8]) -> Result<(), MapError> {
        self.slots.sys_delete(key)
    }

    fn next_key(&self, key: Option<&[u8]>) -> Result<Vec<u8>, MapError> {
        self.slots.next_key(key)
    }

    fn lookup_and_delete(&mut self, key: &[u8]) -> Result<Vec<u8>, MapError> {
        self.slots.sys_lookup_and_delete(key)
    }

    fn freeze(&mut self) -> Result<(), MapError> {
        self.slots.freeze()
    }
}
