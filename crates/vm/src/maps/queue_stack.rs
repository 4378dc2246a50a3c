//! `BPF_MAP_TYPE_QUEUE` and `BPF_MAP_TYPE_STACK`
//! (kernel/bpf/queue_stack_maps.c): keyless FIFO and LIFO of
//! `max_entries` values.
//!
//! - Push (`update` with an empty key, or a program's `bpf_map_push_elem`)
//!   takes `BPF_ANY` or `BPF_EXIST`; `BPF_NOEXIST` or unknown flags are
//!   `EINVAL`. A full map is `E2BIG`, unless `BPF_EXIST`, which drops the
//!   oldest value to make room, for a stack too.
//! - Peek (`lookup`) and pop (`lookup_and_delete`) are `ENOENT` when empty;
//!   a queue yields its oldest value, a stack its newest.
//! - `delete` and `get_next_key` are `EINVAL`.

use std::collections::VecDeque;

use bpfkit_object::kinds::MapType;
use bpfkit_object::map::{Map, MapError, MapSpec, BPF_EXIST, BPF_F_LOCK, BPF_NOEXIST};

use super::access::Access;
use super::attrs::{
    access_ok, check_common, MapAttrs, BPF_F_ACCESS_MASK, BPF_F_NUMA_NODE, KMALLOC_MAX_SIZE,
};
use super::value::{check_len, ValueLayout};

const QUEUE_STACK_CREATE_FLAG_MASK: u32 = BPF_F_NUMA_NODE | BPF_F_ACCESS_MASK;

/// A queue or a stack.
#[derive(Debug, Clone)]
pub struct QueueStack {
    spec: MapSpec,
    access: Access,
    lifo: bool,
    /// Oldest first.
    values: VecDeque<Vec<u8>>,
}

impl QueueStack {
    /// Creates a queue or stack, validated as `queue_stack_map_alloc_check`.
    pub fn new(attrs: &MapAttrs) -> Result<QueueStack, MapError> {
        let s = &attrs.spec;
        if !matches!(s.map_type, MapType::Queue | MapType::Stack) {
            return Err(MapError::Invalid);
        }
        check_common(attrs)?;
        if s.max_entries == 0
            || s.key_size != 0
            || s.value_size == 0
            || s.map_flags & !QUEUE_STACK_CREATE_FLAG_MASK != 0
            || !access_ok(s.map_flags)
        {
            return Err(MapError::Invalid);
        }
        if s.value_size as u64 > KMALLOC_MAX_SIZE {
            return Err(MapError::TooBig);
        }
        ValueLayout::new(s.map_type, s.value_size, s.map_flags, attrs.lock_offset)?;
        Ok(QueueStack {
            spec: s.clone(),
            access: Access::new(s.map_flags),
            lifo: s.map_type == MapType::Stack,
            values: VecDeque::new(),
        })
    }

    /// The number of values held.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether no value is held.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// `bpf_map_push_elem` (from a program or the syscall).
    pub fn push(&mut self, value: &[u8], flags: u64) -> Result<(), MapError> {
        check_len(value, self.spec.value_size as usize)?;
        if flags & BPF_NOEXIST != 0 || flags > BPF_EXIST {
            return Err(MapError::Invalid);
        }
        if self.values.len() >= self.spec.max_entries as usize {
            if flags & BPF_EXIST == 0 {
                return Err(MapError::TooBig);
            }
            self.values.pop_front();
        }
        self.values.push_back(value.to_vec());
        Ok(())
    }

    /// `bpf_map_peek_elem`: the next value `pop` would return.
    pub fn peek(&self) -> Result<Vec<u8>, MapError> {
        let v = if self.lifo {
            self.values.back()
        } else {
            self.values.front()
        };
        v.cloned().ok_or(MapError::NotFound)
    }

    /// `bpf_map_pop_elem`.
    pub fn pop(&mut self) -> Result<Vec<u8>, MapError> {
        let v = if self.lifo {
            self.values.pop_back()
        } else {
            self.values.pop_front()
        };
        v.ok_or(MapError::NotFound)
    }
}

impl Map for QueueStack {
    fn spec(&self) -> &MapSpec {
        &self.spec
    }

    fn lookup(&self, key: &[u8]) -> Result<Vec<u8>, MapError> {
        self.access.sys_read()?;
        check_len(key, 0)?;
        self.peek()
    }

    fn lookup_flags(&self, key: &[u8], flags: u64) -> Result<Vec<u8>, MapError> {
        self.access.lookup_checks(flags, false)?;
        self.lookup(key)
    }

    fn update(&mut self, key: &[u8], value: &[u8], flags: u64) -> Result<(), MapError> {
        self.access.sys_write()?;
        if flags & BPF_F_LOCK != 0 {
            return Err(MapError::Invalid);
        }
        check_len(key, 0)?;
        self.push(value, flags)
    }

    fn delete(&mut self, key: &[u8]) -> Result<(), MapError> {
        self.access.sys_write()?;
        check_len(key, 0)?;
        Err(MapError::Invalid)
    }

    fn next_key(&self, _key: Option<&[u8]>) -> Result<Vec<u8>, MapError> {
        self.access.sys_read()?;
        Err(MapError::Invalid)
    }

    fn lookup_and_delete(&mut self, key: &[u8]) -> Result<Vec<u8>, MapError> {
        self.access.sys_read()?;
        self.access.sys_write()?;
        check_len(key, 0)?;
        self.pop()
    }

    fn freeze(&mut self) -> Result<(), MapError> {
        self.access.freeze(false)
    }
}
