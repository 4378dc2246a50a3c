//! Value storage whose slots never move: a value is addressed by its
//! offset in one growable byte buffer, so a program that holds a pointer to
//! it (the VM maps the slot as a checked region) keeps pointing at the same
//! bytes however the map changes. A freed slot is reused by a later
//! insertion, as the kernel reuses preallocated elements: a program still
//! holding the old pointer then sees the new element's value, exactly the
//! kernel's behaviour for preallocated hash maps.

/// Slots of `stride` bytes in one buffer, with a free list.
#[derive(Debug, Clone)]
pub(crate) struct Arena {
    stride: usize,
    bytes: Vec<u8>,
    free: Vec<u32>,
}

impl Arena {
    pub(crate) fn new(stride: usize) -> Arena {
        Arena {
            stride,
            bytes: Vec::new(),
            free: Vec::new(),
        }
    }

    /// A zeroed slot.
    pub(crate) fn alloc(&mut self) -> u32 {
        if let Some(slot) = self.free.pop() {
            self.slot_mut(slot).fill(0);
            return slot;
        }
        let slot = (self.bytes.len() / self.stride.max(1)) as u32;
        self.bytes.resize(self.bytes.len() + self.stride, 0);
        slot
    }

    pub(crate) fn free(&mut self, slot: u32) {
        self.free.push(slot);
    }

    /// Byte offset of a slot in the buffer.
    pub(crate) fn offset(&self, slot: u32) -> usize {
        slot as usize * self.stride
    }

    pub(crate) fn slot(&self, slot: u32) -> &[u8] {
        let off = self.offset(slot);
        &self.bytes[off..off + self.stride]
    }

    pub(crate) fn slot_mut(&mut self, slot: u32) -> &mut [u8] {
        let off = self.offset(slot);
        &mut self.bytes[off..off + self.stride]
    }

    /// `len` bytes at `offset`, if inside the buffer.
    pub(crate) fn get(&self, offset: usize, len: usize) -> Option<&[u8]> {
        self.bytes.get(offset..offset.checked_add(len)?)
    }

    pub(crate) fn get_mut(&mut self, offset: usize, len: usize) -> Option<&mut [u8]> {
        self.bytes.get_mut(offset..offset.checked_add(len)?)
    }
}
