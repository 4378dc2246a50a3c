//! What the kernel says about its objects (`BPF_OBJ_GET_INFO_BY_FD` and
//! fdinfo), typed, and enumeration by id (`BPF_*_GET_NEXT_ID`).

use std::os::fd::{BorrowedFd, OwnedFd};

use bpfkit_isa::Insn;
use bpfkit_object::kinds::{AttachType, LinkType, MapType, ProgType};

use crate::error::{Error, Result};
use crate::fd::{fdinfo_u64, kind_of, ObjKind};
use crate::sys::{self, attr::TAG_SIZE, IdKind, ProgInfoWant};

/// An object name from its NUL-padded kernel field.
pub fn name_str(raw: &[u8]) -> String {
    let end = raw.iter().position(|&b| b == 0).unwrap_or(raw.len());
    String::from_utf8_lossy(&raw[..end]).into_owned()
}

/// Refuses a descriptor of another kind: the kernel would answer with that
/// kind's info record, read here as the wrong one.
fn expect_kind(fd: BorrowedFd<'_>, want: ObjKind) -> Result<()> {
    match kind_of(fd)? {
        k if k == want => Ok(()),
        other => Err(Error::Invalid(format!(
            "descriptor is a BPF {}, not a {}",
            other.name(),
            want.name()
        ))),
    }
}

/// Which of a program's arrays to fetch with its info.
#[derive(Debug, Default, Clone, Copy)]
pub struct ProgInfoArrays {
    /// The translated instructions ([`ProgInfo::xlated`]).
    pub xlated: bool,
    /// The JITed code and its functions ([`ProgInfo::jited`]).
    pub jited: bool,
}

/// A loaded program, as `struct bpf_prog_info` and fdinfo describe it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProgInfo {
    /// The program type, `None` if this build does not know the number.
    pub prog_type: Option<ProgType>,
    /// The raw program type number.
    pub prog_type_raw: u32,
    /// The id.
    pub id: u32,
    /// The tag: a hash of the instructions before rewriting.
    pub tag: [u8; TAG_SIZE],
    /// The name (up to 15 bytes).
    pub name: String,
    /// Whether the license is GPL-compatible.
    pub gpl_compatible: bool,
    /// Load time, nanoseconds since boot.
    pub load_time_ns: u64,
    /// Uid of the loader.
    pub uid: u32,
    /// Bytes of translated instructions (0 when hidden from this user).
    pub bytes_xlated: u32,
    /// Bytes of JITed code (0 when not JITed).
    pub bytes_jited: u32,
    /// Ids of the maps the program uses.
    pub map_ids: Vec<u32>,
    /// Id of the program's BTF (0 for none).
    pub btf_id: u32,
    /// Offload device.
    pub ifindex: u32,
    /// Run time in ns while `BPF_ENABLE_STATS` is on.
    pub run_time_ns: u64,
    /// Run count while `BPF_ENABLE_STATS` is on.
    pub run_cnt: u64,
    /// Runs skipped because the program was already running on the CPU.
    pub recursion_misses: u64,
    /// Instructions the verifier processed.
    pub verified_insns: u32,
    /// BTF object id of the attach target.
    pub attach_btf_obj_id: u32,
    /// BTF type id of the attach target.
    pub attach_btf_id: u32,
    /// func_info records.
    pub nr_func_info: u32,
    /// The func_info records: (first instruction, FUNC type id) per function.
    pub func_info: Vec<[u32; 2]>,
    /// line_info records.
    pub nr_line_info: u32,
    /// Memory charged for the program (fdinfo `memlock`).
    pub bytes_memlock: u64,
    /// Translated instructions, when asked for.
    pub xlated: Vec<Insn>,
    /// JITed machine code, when asked for.
    pub jited: Vec<u8>,
    /// Kernel addresses of the JITed functions, when asked for.
    pub jited_ksyms: Vec<u64>,
    /// Lengths of the JITed functions, when asked for.
    pub jited_func_lens: Vec<u32>,
}

impl ProgInfo {
    /// The info of the program behind `fd`.
    pub fn of_fd(fd: BorrowedFd<'_>, arrays: ProgInfoArrays) -> Result<ProgInfo> {
        expect_kind(fd, ObjKind::Prog)?;
        let want = ProgInfoWant {
            xlated: arrays.xlated,
            jited: arrays.jited,
            map_ids: true,
            func_info: true,
        };
        let (i, b) = sys::prog_info(fd, want)?;
        let xlated = b
            .xlated
            .chunks_exact(Insn::SIZE)
            .map(|c| {
                let mut s = [0u8; Insn::SIZE];
                s.copy_from_slice(c);
                Insn::from_bytes(&s)
            })
            .collect();
        Ok(ProgInfo {
            prog_type: ProgType::from_raw(i.prog_type),
            prog_type_raw: i.prog_type,
            id: i.id,
            tag: i.tag,
            name: name_str(&i.name),
            gpl_compatible: i.flags & 1 != 0,
            load_time_ns: i.load_time,
            uid: i.created_by_uid,
            bytes_xlated: i.xlated_prog_len,
            bytes_jited: i.jited_prog_len,
            map_ids: b.map_ids,
            btf_id: i.btf_id,
            ifindex: i.ifindex,
            run_time_ns: i.run_time_ns,
            run_cnt: i.run_cnt,
            recursion_misses: i.recursion_misses,
            verified_insns: i.verified_insns,
            attach_btf_obj_id: i.attach_btf_obj_id,
            attach_btf_id: i.attach_btf_id,
            nr_func_info: i.nr_func_info,
            nr_line_info: i.nr_line_info,
            bytes_memlock: fdinfo_u64(fd, "memlock")?,
            xlated,
            jited: b.jited,
            jited_ksyms: b.jited_ksyms,
            jited_func_lens: b.jited_func_lens,
            func_info: b.func_info,
        })
    }

    /// The name as bpftool shows it: a name the kernel cut at 15 bytes is
    /// completed from the program's BTF (the FUNC of its first func_info
    /// record), as bpftool's `print_prog_name` does.
    pub fn display_name(&self) -> String {
        if self.name.len() + 1 < crate::sys::attr::OBJ_NAME_LEN || self.btf_id == 0 {
            return self.name.clone();
        }
        let Some([_, type_id]) = self.func_info.first().copied() else {
            return self.name.clone();
        };
        let full = crate::btf::KernelBtf::from_id(self.btf_id)
            .and_then(|b| b.info(true))
            .ok()
            .and_then(|i| bpfkit_object::btf::Btf::parse(&i.data).ok())
            .map(|btf| btf.name_of(type_id).to_string());
        match full {
            Some(n) if n.starts_with(&self.name) => n,
            _ => self.name.clone(),
        }
    }

    /// The info of the program with this id.
    pub fn of_id(id: u32, arrays: ProgInfoArrays) -> Result<ProgInfo> {
        let fd = sys::fd_by_id(IdKind::Prog, id)?;
        ProgInfo::of_fd(std::os::fd::AsFd::as_fd(&fd), arrays)
    }

    /// The tag as bpftool prints it: 16 lower-case hex digits.
    pub fn tag_hex(&self) -> String {
        self.tag.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Load time as Unix seconds, computed as bpftool does (wall clock now
    /// minus time since boot, in whole seconds, plus the load time).
    pub fn loaded_at_unix(&self) -> i64 {
        let (real, boot) = sys::clocks();
        real - boot + (self.load_time_ns / 1_000_000_000) as i64
    }
}

/// A map, as `struct bpf_map_info` and fdinfo describe it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MapInfo {
    /// The map type, `None` if this build does not know the number.
    pub map_type: Option<MapType>,
    /// The raw map type number.
    pub map_type_raw: u32,
    /// The id.
    pub id: u32,
    /// The name.
    pub name: String,
    /// Key size.
    pub key_size: u32,
    /// Value size (per CPU for per-CPU maps).
    pub value_size: u32,
    /// Capacity.
    pub max_entries: u32,
    /// `BPF_F_*` map flags.
    pub map_flags: u32,
    /// Offload device.
    pub ifindex: u32,
    /// Id of the map's BTF (0 for none).
    pub btf_id: u32,
    /// BTF type of the key.
    pub btf_key_type_id: u32,
    /// BTF type of the value.
    pub btf_value_type_id: u32,
    /// vmlinux BTF type of a struct_ops value.
    pub btf_vmlinux_value_type_id: u32,
    /// `map_extra`.
    pub map_extra: u64,
    /// Memory charged for the map (fdinfo `memlock`).
    pub bytes_memlock: u64,
    /// Whether the map is frozen (fdinfo `frozen`).
    pub frozen: bool,
    /// For a program array that holds or held a program: the program type
    /// every entry must have (fdinfo `owner_prog_type`).
    pub owner_prog_type: Option<u32>,
    /// For such a program array: whether its programs are JITed
    /// (fdinfo `owner_jited`).
    pub owner_jited: Option<bool>,
}

impl MapInfo {
    /// The info of the map behind `fd`.
    pub fn of_fd(fd: BorrowedFd<'_>) -> Result<MapInfo> {
        expect_kind(fd, ObjKind::Map)?;
        let i = sys::map_info(fd)?;
        let fdinfo = crate::fd::fdinfo(fd)?;
        let num = |k: &str| fdinfo.get(k).and_then(|v| v.parse::<u64>().ok());
        Ok(MapInfo {
            map_type: MapType::from_raw(i.map_type),
            map_type_raw: i.map_type,
            id: i.id,
            name: name_str(&i.name),
            key_size: i.key_size,
            value_size: i.value_size,
            max_entries: i.max_entries,
            map_flags: i.map_flags,
            ifindex: i.ifindex,
            btf_id: i.btf_id,
            btf_key_type_id: i.btf_key_type_id,
            btf_value_type_id: i.btf_value_type_id,
            btf_vmlinux_value_type_id: i.btf_vmlinux_value_type_id,
            map_extra: i.map_extra,
            bytes_memlock: num("memlock").unwrap_or(0),
            frozen: num("frozen").unwrap_or(0) != 0,
            owner_prog_type: num("owner_prog_type").map(|v| v as u32),
            owner_jited: num("owner_jited").map(|v| v != 0),
        })
    }
}

/// What a link is attached to, by link type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkTarget {
    /// A cgroup.
    Cgroup {
        /// The cgroup's id (its inode number on cgroup2).
        cgroup_id: u64,
        /// The hook.
        attach_type: u32,
    },
    /// A tracing attach point (fentry, fexit, LSM, freplace, raw tp BTF).
    Tracing {
        /// The hook.
        attach_type: u32,
        /// Program id (freplace) or BTF object id of the target.
        target_obj_id: u32,
        /// BTF type id of the target.
        target_btf_id: u32,
    },
    /// A network namespace (flow dissector, sk_lookup).
    Netns {
        /// The namespace's inode.
        netns_ino: u32,
        /// The hook.
        attach_type: u32,
    },
    /// A network device's XDP hook.
    Xdp {
        /// The device.
        ifindex: u32,
    },
    /// A device's tcx or netkit hook.
    Device {
        /// The device.
        ifindex: u32,
        /// The hook.
        attach_type: u32,
    },
    /// A netfilter hook.
    Netfilter {
        /// Protocol family.
        pf: u32,
        /// Hook number.
        hooknum: u32,
        /// Priority.
        priority: i32,
        /// Flags.
        flags: u32,
    },
    /// Another link type: the union's words as the kernel wrote them.
    Other([u64; 8]),
}

/// A link, as `struct bpf_link_info` describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkInfo {
    /// The link type, `None` if this build does not know the number.
    pub link_type: Option<LinkType>,
    /// The raw link type number.
    pub link_type_raw: u32,
    /// The id.
    pub id: u32,
    /// The attached program's id.
    pub prog_id: u32,
    /// What it is attached to.
    pub target: LinkTarget,
}

impl LinkInfo {
    /// The info of the link behind `fd`.
    pub fn of_fd(fd: BorrowedFd<'_>) -> Result<LinkInfo> {
        expect_kind(fd, ObjKind::Link)?;
        let i = sys::link_info(fd)?;
        let w = i.union;
        let lo = |x: u64| x as u32;
        let hi = |x: u64| (x >> 32) as u32;
        let link_type = LinkType::from_raw(i.link_type);
        let target = match link_type {
            Some(LinkType::Cgroup) => LinkTarget::Cgroup {
                cgroup_id: w[0],
                attach_type: lo(w[1]),
            },
            Some(LinkType::Tracing) => LinkTarget::Tracing {
                attach_type: lo(w[0]),
                target_obj_id: hi(w[0]),
                target_btf_id: lo(w[1]),
            },
            Some(LinkType::Netns) => LinkTarget::Netns {
                netns_ino: lo(w[0]),
                attach_type: hi(w[0]),
            },
            Some(LinkType::Xdp) => LinkTarget::Xdp { ifindex: lo(w[0]) },
            Some(LinkType::Tcx | LinkType::Netkit) => LinkTarget::Device {
                ifindex: lo(w[0]),
                attach_type: hi(w[0]),
            },
            Some(LinkType::Netfilter) => LinkTarget::Netfilter {
                pf: lo(w[0]),
                hooknum: hi(w[0]),
                priority: lo(w[1]) as i32,
                flags: hi(w[1]),
            },
            _ => LinkTarget::Other(w),
        };
        Ok(LinkInfo {
            link_type,
            link_type_raw: i.link_type,
            id: i.id,
            prog_id: i.prog_id,
            target,
        })
    }

    /// The attach type of the link's hook, where the link type has one.
    pub fn attach_type(&self) -> Option<AttachType> {
        match self.target {
            LinkTarget::Cgroup { attach_type, .. }
            | LinkTarget::Tracing { attach_type, .. }
            | LinkTarget::Netns { attach_type, .. }
            | LinkTarget::Device { attach_type, .. } => AttachType::from_raw(attach_type),
            _ => None,
        }
    }
}

/// A BTF object, as `struct bpf_btf_info` describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BtfInfo {
    /// The id.
    pub id: u32,
    /// Size of the blob in bytes.
    pub size: u32,
    /// `vmlinux`, a module's name, or empty for BTF loaded by a program.
    pub name: String,
    /// Whether it is the kernel's or a module's BTF.
    pub kernel: bool,
    /// The blob, when asked for.
    pub data: Vec<u8>,
}

impl BtfInfo {
    /// The info of the BTF object behind `fd`, with its blob if `data`.
    pub fn of_fd(fd: BorrowedFd<'_>, data: bool) -> Result<BtfInfo> {
        expect_kind(fd, ObjKind::Btf)?;
        let (i, b) = sys::btf_info(fd, data)?;
        Ok(BtfInfo {
            id: i.id,
            size: i.btf_size,
            name: b.name,
            kernel: i.kernel_btf != 0,
            data: b.data,
        })
    }
}

/// Every id of a kind, in increasing order, as the kernel enumerates them
/// now (objects can come and go between calls).
pub fn ids(kind: IdKind) -> Result<Vec<u32>> {
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(next) = sys::next_id(kind, at)? {
        out.push(next);
        at = next;
    }
    Ok(out)
}

/// Opens an object by id (`BPF_*_GET_FD_BY_ID`).
pub fn fd_by_id(kind: IdKind, id: u32) -> Result<OwnedFd> {
    sys::fd_by_id(kind, id)
}
