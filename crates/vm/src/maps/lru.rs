//! The LRU lists of the LRU hash maps, as kernel/bpf/bpf_lru_list.c keeps
//! them, so that one thread's sequence of operations evicts exactly the
//! elements the kernel evicts when it runs them on the same CPUs.
//!
//! The kernel's LRU is approximate by design: nodes live on an active and
//! an inactive list with a reference bit (set by a program's lookup, or by
//! replacing an element; a syscall lookup does not set it), and each CPU
//! keeps a local free list and a local pending list of nodes it handed out.
//! When a CPU finds no local free node it flushes its pending nodes to the
//! global lists, rotates them (referenced inactive nodes become active,
//! unreferenced active ones inactive, at most `nr_scans` at a time), and
//! refills its free list with up to `target_free` nodes, evicting the
//! oldest unreferenced inactive elements when the global free list runs
//! dry (`target_free = clamp(max_entries / ncpus / 2, 1, 128)`), so
//! eviction comes in batches and can begin before the map is full. As a
//! last resort it steals free or pending nodes from other CPUs.
//! `BPF_F_NO_COMMON_LRU` gives each CPU a list of `max_entries / ncpus`
//! nodes of its own, refilled 4 at a time.
//!
//! This module replays those lists exactly: same lists, same order, same
//! rotation cursor, same batch sizes, node ids standing for the kernel's
//! elements. What it cannot replay is concurrency: the kernel's result for
//! operations racing on several CPUs depends on timing. With one thread
//! whose operations name their CPU (a program's CPU, or the CPU the caller
//! says its syscalls run on), the evictions are the kernel's.

const LOCAL_FREE_TARGET: u32 = 128;
const LOCAL_NR_SCANS: u32 = LOCAL_FREE_TARGET;
const PERCPU_FREE_TARGET: u32 = 4;
const PERCPU_NR_SCANS: u32 = PERCPU_FREE_TARGET;

/// `enum bpf_lru_list_type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Active,
    Inactive,
    Free,
    LocalFree,
    LocalPending,
    /// A list head.
    Head,
}

#[derive(Debug, Clone)]
struct Node {
    prev: u32,
    next: u32,
    cpu: u32,
    kind: Kind,
    referenced: bool,
}

/// `struct bpf_lru_list`: list heads, counts, the inactive rotation cursor.
#[derive(Debug, Clone)]
struct GlobalList {
    active: u32,
    inactive: u32,
    free: u32,
    n_active: u32,
    n_inactive: u32,
    next_inactive_rotation: u32,
}

/// `struct bpf_lru_locallist`.
#[derive(Debug, Clone)]
struct LocalList {
    free: u32,
    pending: u32,
    next_steal: u32,
}

/// The LRU state of one map.
#[derive(Debug, Clone)]
pub(crate) struct Lru {
    nodes: Vec<Node>,
    /// One global list (common LRU) or one per CPU (`BPF_F_NO_COMMON_LRU`).
    lists: Vec<GlobalList>,
    /// Per-CPU local lists of the common LRU.
    locals: Vec<LocalList>,
    percpu: bool,
    ncpus: u32,
    nr_scans: u32,
    target_free: u32,
    /// Elements taken out of the hash table by the current `pop_free`.
    evicted: Vec<u32>,
}

impl Lru {
    /// `bpf_lru_init` and `bpf_lru_populate` for `nr_elems` elements.
    pub(crate) fn new(nr_elems: u32, ncpus: u32, percpu: bool) -> Lru {
        let mut lru = Lru {
            nodes: Vec::new(),
            lists: Vec::new(),
            locals: Vec::new(),
            percpu,
            ncpus,
            nr_scans: if percpu {
                PERCPU_NR_SCANS
            } else {
                LOCAL_NR_SCANS
            },
            target_free: (nr_elems / ncpus / 2).clamp(1, LOCAL_FREE_TARGET),
            evicted: Vec::new(),
        };
        for _ in 0..nr_elems {
            lru.nodes.push(Node {
                prev: 0,
                next: 0,
                cpu: 0,
                kind: Kind::Free,
                referenced: false,
            });
        }
        let nlists = if percpu { ncpus } else { 1 };
        for _ in 0..nlists {
            let (active, inactive, free) = (lru.head(), lru.head(), lru.head());
            lru.lists.push(GlobalList {
                active,
                inactive,
                free,
                n_active: 0,
                n_inactive: 0,
                next_inactive_rotation: inactive,
            });
        }
        if !percpu {
            for cpu in 0..ncpus {
                let (free, pending) = (lru.head(), lru.head());
                lru.locals.push(LocalList {
                    free,
                    pending,
                    next_steal: cpu,
                });
            }
            let free = lru.lists[0].free;
            for n in 0..nr_elems {
                lru.list_add(n, free);
            }
        } else {
            let per_cpu = (nr_elems / ncpus).max(1);
            for n in 0..nr_elems {
                let cpu = (n / per_cpu).min(ncpus - 1);
                lru.nodes[n as usize].cpu = cpu;
                let free = lru.lists[cpu as usize].free;
                lru.list_add(n, free);
            }
        }
        lru
    }

    fn head(&mut self) -> u32 {
        let id = self.nodes.len() as u32;
        self.nodes.push(Node {
            prev: id,
            next: id,
            cpu: 0,
            kind: Kind::Head,
            referenced: false,
        });
        id
    }

    fn n(&self, id: u32) -> &Node {
        &self.nodes[id as usize]
    }

    fn n_mut(&mut self, id: u32) -> &mut Node {
        &mut self.nodes[id as usize]
    }

    /// `list_add`: `id` right after `head`.
    fn list_add(&mut self, id: u32, head: u32) {
        let next = self.n(head).next;
        self.n_mut(id).next = next;
        self.n_mut(id).prev = head;
        self.n_mut(next).prev = id;
        self.n_mut(head).next = id;
    }

    fn list_del(&mut self, id: u32) {
        let (prev, next) = (self.n(id).prev, self.n(id).next);
        self.n_mut(prev).next = next;
        self.n_mut(next).prev = prev;
    }

    fn list_move(&mut self, id: u32, head: u32) {
        self.list_del(id);
        self.list_add(id, head);
    }

    fn is_empty(&self, head: u32) -> bool {
        self.n(head).next == head
    }

    fn count_inc(&mut self, l: usize, kind: Kind) {
        match kind {
            Kind::Active => self.lists[l].n_active += 1,
            Kind::Inactive => self.lists[l].n_inactive += 1,
            _ => {}
        }
    }

    fn count_dec(&mut self, l: usize, kind: Kind) {
        match kind {
            Kind::Active => self.lists[l].n_active -= 1,
            Kind::Inactive => self.lists[l].n_inactive -= 1,
            _ => {}
        }
    }

    fn head_of(&self, l: usize, kind: Kind) -> u32 {
        match kind {
            Kind::Active => self.lists[l].active,
            Kind::Inactive => self.lists[l].inactive,
            _ => self.lists[l].free,
        }
    }

    /// `__bpf_lru_node_move`.
    fn node_move(&mut self, l: usize, id: u32, tgt: Kind) {
        let kind = self.n(id).kind;
        if kind != tgt {
            self.count_dec(l, kind);
            self.count_inc(l, tgt);
            self.n_mut(id).kind = tgt;
        }
        self.n_mut(id).referenced = false;
        if self.lists[l].next_inactive_rotation == id {
            self.lists[l].next_inactive_rotation = self.n(id).prev;
        }
        let head = self.head_of(l, tgt);
        self.list_move(id, head);
    }

    /// `__bpf_lru_node_move_to_free`.
    fn node_move_to_free(&mut self, l: usize, id: u32, free_head: u32, tgt: Kind) {
        if self.lists[l].next_inactive_rotation == id {
            self.lists[l].next_inactive_rotation = self.n(id).prev;
        }
        let kind = self.n(id).kind;
        self.count_dec(l, kind);
        self.n_mut(id).kind = tgt;
        self.list_move(id, free_head);
    }

    /// `__bpf_lru_node_move_in`: from a local list to a global one.
    fn node_move_in(&mut self, l: usize, id: u32, tgt: Kind) {
        self.count_inc(l, tgt);
        self.n_mut(id).kind = tgt;
        self.n_mut(id).referenced = false;
        let head = self.head_of(l, tgt);
        self.list_move(id, head);
    }

    /// `__bpf_lru_list_rotate_active`.
    fn rotate_active(&mut self, l: usize) {
        let active = self.lists[l].active;
        let first = self.n(active).next;
        let mut i = 0;
        let mut node = self.n(active).prev;
        while node != active {
            let prev = self.n(node).prev;
            let tgt = if self.n(node).referenced {
                Kind::Active
            } else {
                Kind::Inactive
            };
            self.node_move(l, node, tgt);
            i += 1;
            if i == self.nr_scans || node == first {
                break;
            }
            node = prev;
        }
    }

    /// `__bpf_lru_list_rotate_inactive`.
    fn rotate_inactive(&mut self, l: usize) {
        let inactive = self.lists[l].inactive;
        if self.is_empty(inactive) {
            return;
        }
        let mut last = self.n(self.lists[l].next_inactive_rotation).next;
        if last == inactive {
            last = self.n(last).next;
        }
        let mut cur = self.lists[l].next_inactive_rotation;
        let mut next = inactive;
        let mut i = 0;
        while i < self.nr_scans {
            if cur == inactive {
                cur = self.n(cur).prev;
                continue;
            }
            next = self.n(cur).prev;
            if self.n(cur).referenced {
                self.node_move(l, cur, Kind::Active);
            }
            if cur == last {
                break;
            }
            cur = next;
            i += 1;
        }
        self.lists[l].next_inactive_rotation = next;
    }

    /// `__bpf_lru_list_rotate`.
    fn rotate(&mut self, l: usize) {
        if self.lists[l].n_inactive < self.lists[l].n_active {
            self.rotate_active(l);
        }
        self.rotate_inactive(l);
    }

    /// Evicts an element: the kernel's `del_from_htab` callback, which
    /// always finds the element here (a node on these lists is always
    /// linked in the table).
    fn evict(&mut self, id: u32) {
        self.evicted.push(id);
    }

    /// `__bpf_lru_list_shrink_inactive`.
    fn shrink_inactive(&mut self, l: usize, target: u32, free_head: u32, tgt: Kind) -> u32 {
        let inactive = self.lists[l].inactive;
        let (mut i, mut shrunk) = (0, 0);
        let mut node = self.n(inactive).prev;
        while node != inactive {
            let prev = self.n(node).prev;
            if self.n(node).referenced {
                self.node_move(l, node, Kind::Active);
            } else {
                self.evict(node);
                self.node_move_to_free(l, node, free_head, tgt);
                shrunk += 1;
                if shrunk == target {
                    break;
                }
            }
            i += 1;
            if i == self.nr_scans {
                break;
            }
            node = prev;
        }
        shrunk
    }

    /// `__bpf_lru_list_shrink`: inactive unreferenced elements first, else
    /// one element regardless of its reference bit.
    fn shrink(&mut self, l: usize, target: u32, free_head: u32, tgt: Kind) -> u32 {
        let shrunk = self.shrink_inactive(l, target, free_head, tgt);
        if shrunk > 0 {
            return shrunk;
        }
        let inactive = self.lists[l].inactive;
        let list = if !self.is_empty(inactive) {
            inactive
        } else {
            self.lists[l].active
        };
        let last = self.n(list).prev;
        if last != list {
            self.evict(last);
            self.node_move_to_free(l, last, free_head, tgt);
            return 1;
        }
        0
    }

    /// `__local_list_flush`.
    fn local_flush(&mut self, cpu: usize) {
        let pending = self.locals[cpu].pending;
        let mut node = self.n(pending).prev;
        while node != pending {
            let prev = self.n(node).prev;
            let tgt = if self.n(node).referenced {
                Kind::Active
            } else {
                Kind::Inactive
            };
            self.node_move_in(0, node, tgt);
            node = prev;
        }
    }

    /// `bpf_lru_list_pop_free_to_local`.
    fn pop_free_to_local(&mut self, cpu: usize) {
        self.local_flush(cpu);
        self.rotate(0);
        let free = self.lists[0].free;
        let local_free = self.locals[cpu].free;
        let mut nfree = 0;
        while !self.is_empty(free) && nfree < self.target_free {
            let node = self.n(free).next;
            self.node_move_to_free(0, node, local_free, Kind::LocalFree);
            nfree += 1;
        }
        if nfree < self.target_free {
            self.shrink(0, self.target_free - nfree, local_free, Kind::LocalFree);
        }
    }

    fn local_pop_free(&mut self, cpu: usize) -> Option<u32> {
        let free = self.locals[cpu].free;
        let node = self.n(free).next;
        if node == free {
            return None;
        }
        self.list_del(node);
        Some(node)
    }

    /// `__local_list_pop_pending`: the oldest unreferenced pending node,
    /// else the oldest pending node.
    fn local_pop_pending(&mut self, cpu: usize) -> Option<u32> {
        let pending = self.locals[cpu].pending;
        for force in [false, true] {
            let mut node = self.n(pending).prev;
            while node != pending {
                if !self.n(node).referenced || force {
                    self.evict(node);
                    self.list_del(node);
                    return Some(node);
                }
                node = self.n(node).prev;
            }
        }
        None
    }

    /// `__local_list_add_pending`.
    fn local_add_pending(&mut self, cpu: usize, node: u32) {
        let n = self.n_mut(node);
        n.cpu = cpu as u32;
        n.kind = Kind::LocalPending;
        n.referenced = false;
        let pending = self.locals[cpu].pending;
        self.list_add(node, pending);
    }

    /// `bpf_lru_pop_free` on `cpu`: a node for a new element, and the
    /// elements evicted to find it, which the caller takes out of its table.
    pub(crate) fn pop_free(&mut self, cpu: u32) -> (Option<u32>, Vec<u32>) {
        self.evicted.clear();
        let cpu = (cpu % self.ncpus) as usize;
        let node = if self.percpu {
            self.percpu_pop_free(cpu)
        } else {
            self.common_pop_free(cpu)
        };
        (node, std::mem::take(&mut self.evicted))
    }

    fn percpu_pop_free(&mut self, cpu: usize) -> Option<u32> {
        self.rotate(cpu);
        let free = self.lists[cpu].free;
        if self.is_empty(free) {
            self.shrink(cpu, PERCPU_FREE_TARGET, free, Kind::Free);
        }
        if self.is_empty(free) {
            return None;
        }
        let node = self.n(free).next;
        self.n_mut(node).referenced = false;
        self.node_move(cpu, node, Kind::Inactive);
        Some(node)
    }

    fn common_pop_free(&mut self, cpu: usize) -> Option<u32> {
        let mut node = self.local_pop_free(cpu);
        if node.is_none() {
            self.pop_free_to_local(cpu);
            node = self.local_pop_free(cpu);
        }
        if let Some(n) = node {
            self.local_add_pending(cpu, n);
            return Some(n);
        }
        let first = self.locals[cpu].next_steal as usize;
        let mut steal = first;
        loop {
            node = self.local_pop_free(steal);
            if node.is_none() {
                node = self.local_pop_pending(steal);
            }
            steal = (steal + 1) % self.ncpus as usize;
            if node.is_some() || steal == first {
                break;
            }
        }
        self.locals[cpu].next_steal = steal as u32;
        let n = node?;
        self.local_add_pending(cpu, n);
        Some(n)
    }

    /// `bpf_lru_push_free`: a node whose element left the table.
    pub(crate) fn push_free(&mut self, node: u32) {
        let n = self.n(node);
        let cpu = n.cpu as usize;
        if self.percpu {
            self.node_move(cpu, node, Kind::Free);
            return;
        }
        match n.kind {
            Kind::Free | Kind::LocalFree | Kind::Head => {}
            Kind::LocalPending => {
                let local_free = self.locals[cpu].free;
                let n = self.n_mut(node);
                n.kind = Kind::LocalFree;
                n.referenced = false;
                self.list_move(node, local_free);
            }
            Kind::Active | Kind::Inactive => self.node_move(0, node, Kind::Free),
        }
    }

    /// `bpf_lru_node_set_ref`: the element was used.
    pub(crate) fn set_ref(&mut self, node: u32) {
        self.n_mut(node).referenced = true;
    }
}
