//! Object commands: pinning, ids, info, BTF loading, links and stats.

use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd};
use std::path::Path;

use super::attr::{
    BtfInfoRaw, BtfLoadAttr, IdAttr, InfoAttr, LinkCreateAttr, LinkInfoRaw, MapInfoRaw, ObjAttr,
    ProgInfoRaw, U32Attr,
};
use super::{addr, addr_mut, bpf, c_path, check, len_u32, owned_fd, Attr, Cmd};
use crate::error::{Error, Result};

/// `BPF_OBJ_PIN`: pins `fd` at `path` (on bpffs).
pub fn obj_pin(fd: BorrowedFd<'_>, path: &Path) -> Result<()> {
    let p = c_path(path)?;
    let mut attr = ObjAttr {
        pathname: p.as_ptr() as usize as u64,
        bpf_fd: fd.as_raw_fd() as u32,
        file_flags: 0,
    };
    // SAFETY: pathname is a NUL-terminated string alive across the call.
    check(Cmd::ObjPin, unsafe { bpf(Cmd::ObjPin, &mut attr) }).map(drop)
}

/// `BPF_OBJ_GET`: opens the object pinned at `path`.
pub fn obj_get(path: &Path) -> Result<OwnedFd> {
    let p = c_path(path)?;
    let mut attr = ObjAttr {
        pathname: p.as_ptr() as usize as u64,
        ..Default::default()
    };
    // SAFETY: pathname is a NUL-terminated string alive across the call.
    check(Cmd::ObjGet, unsafe { bpf(Cmd::ObjGet, &mut attr) }).map(owned_fd)
}

/// The kinds of object with ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IdKind {
    /// Programs.
    Prog,
    /// Maps.
    Map,
    /// BTF objects.
    Btf,
    /// Links.
    Link,
}

impl IdKind {
    fn next_cmd(self) -> Cmd {
        match self {
            IdKind::Prog => Cmd::ProgGetNextId,
            IdKind::Map => Cmd::MapGetNextId,
            IdKind::Btf => Cmd::BtfGetNextId,
            IdKind::Link => Cmd::LinkGetNextId,
        }
    }

    fn fd_cmd(self) -> Cmd {
        match self {
            IdKind::Prog => Cmd::ProgGetFdById,
            IdKind::Map => Cmd::MapGetFdById,
            IdKind::Btf => Cmd::BtfGetFdById,
            IdKind::Link => Cmd::LinkGetFdById,
        }
    }
}

/// `BPF_*_GET_NEXT_ID`: the first id above `start`, `None` past the last.
pub fn next_id(kind: IdKind, start: u32) -> Result<Option<u32>> {
    let mut attr = IdAttr {
        id: start,
        ..Default::default()
    };
    let cmd = kind.next_cmd();
    // SAFETY: no pointers.
    match unsafe { bpf(cmd, &mut attr) } {
        Ok(_) => Ok(Some(attr.next_id)),
        Err(libc::ENOENT) => Ok(None),
        Err(errno) => Err(Error::Syscall { cmd, errno }),
    }
}

/// `BPF_*_GET_FD_BY_ID`.
pub fn fd_by_id(kind: IdKind, id: u32) -> Result<OwnedFd> {
    let mut attr = IdAttr {
        id,
        ..Default::default()
    };
    let cmd = kind.fd_cmd();
    // SAFETY: no pointers.
    check(cmd, unsafe { bpf(cmd, &mut attr) }).map(owned_fd)
}

/// `BPF_OBJ_GET_INFO_BY_FD` into `info`, whose pointer fields the caller
/// set (see the callers' SAFETY notes).
///
/// # Safety
/// Every pointer in `info` must be zero or valid for writes of the length
/// stated beside it in `info`.
unsafe fn get_info<T: Attr>(fd: BorrowedFd<'_>, info: &mut T) -> Result<()> {
    let mut attr = InfoAttr {
        bpf_fd: fd.as_raw_fd() as u32,
        info_len: std::mem::size_of::<T>() as u32,
        info: info as *mut T as usize as u64,
    };
    // SAFETY: `info` is an exclusively borrowed record of `info_len` bytes;
    // the pointers inside it are valid per this function's contract.
    check(Cmd::ObjGetInfoByFd, unsafe {
        bpf(Cmd::ObjGetInfoByFd, &mut attr)
    })
    .map(drop)
}

/// The arrays `BPF_OBJ_GET_INFO_BY_FD` can fill for a program.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ProgInfoBufs {
    /// The translated (rewritten) instructions.
    pub xlated: Vec<u8>,
    /// The JIT's machine code.
    pub jited: Vec<u8>,
    /// Ids of the maps the program uses.
    pub map_ids: Vec<u32>,
    /// Kernel addresses of the JITed functions.
    pub jited_ksyms: Vec<u64>,
    /// Lengths of the JITed functions.
    pub jited_func_lens: Vec<u32>,
    /// `struct bpf_func_info` records (insn_off, type_id).
    pub func_info: Vec<[u32; 2]>,
}

/// Which arrays [`prog_info`] fetches.
#[derive(Debug, Default, Clone, Copy)]
pub struct ProgInfoWant {
    /// Translated instructions.
    pub xlated: bool,
    /// JITed code, function addresses and lengths.
    pub jited: bool,
    /// Map ids.
    pub map_ids: bool,
    /// func_info records.
    pub func_info: bool,
}

/// A program's info, and the arrays asked for: one call learns the
/// lengths, a second fills buffers of those lengths.
pub fn prog_info(fd: BorrowedFd<'_>, want: ProgInfoWant) -> Result<(ProgInfoRaw, ProgInfoBufs)> {
    let mut first = ProgInfoRaw::default();
    // SAFETY: every pointer of a default record is zero.
    unsafe { get_info(fd, &mut first)? };
    if !(want.xlated || want.jited || want.map_ids || want.func_info) {
        return Ok((first, ProgInfoBufs::default()));
    }
    let mut b = ProgInfoBufs::default();
    let mut info = ProgInfoRaw::default();
    if want.xlated {
        b.xlated = vec![0; first.xlated_prog_len as usize];
        info.xlated_prog_len = first.xlated_prog_len;
        info.xlated_prog_insns = addr_mut(&mut b.xlated);
    }
    if want.jited {
        b.jited = vec![0; first.jited_prog_len as usize];
        info.jited_prog_len = first.jited_prog_len;
        info.jited_prog_insns = addr_mut(&mut b.jited);
        b.jited_ksyms = vec![0; first.nr_jited_ksyms as usize];
        info.nr_jited_ksyms = first.nr_jited_ksyms;
        info.jited_ksyms = addr_mut(&mut b.jited_ksyms);
        b.jited_func_lens = vec![0; first.nr_jited_func_lens as usize];
        info.nr_jited_func_lens = first.nr_jited_func_lens;
        info.jited_func_lens = addr_mut(&mut b.jited_func_lens);
    }
    if want.map_ids {
        b.map_ids = vec![0; first.nr_map_ids as usize];
        info.nr_map_ids = first.nr_map_ids;
        info.map_ids = addr_mut(&mut b.map_ids);
    }
    // Records of 8 bytes only: the size this build's [u32; 2] holds.
    if want.func_info && first.func_info_rec_size == 8 {
        b.func_info = vec![[0; 2]; first.nr_func_info as usize];
        info.nr_func_info = first.nr_func_info;
        info.func_info_rec_size = 8;
        info.func_info = addr_mut(&mut b.func_info);
    }
    // SAFETY: each non-zero pointer is a Vec of exactly the element count
    // (bytes for code, u64/u32 elements for the arrays) stated beside it;
    // the kernel writes at most that many and the Vecs outlive the call.
    unsafe { get_info(fd, &mut info)? };
    // The kernel reports the true lengths; it wrote at most ours.
    b.xlated.truncate(info.xlated_prog_len as usize);
    b.jited.truncate(info.jited_prog_len as usize);
    b.jited_ksyms.truncate(info.nr_jited_ksyms as usize);
    b.jited_func_lens.truncate(info.nr_jited_func_lens as usize);
    b.map_ids.truncate(info.nr_map_ids as usize);
    b.func_info.truncate(info.nr_func_info as usize);
    // Keep the pointer fields out of what callers see.
    info.xlated_prog_insns = 0;
    info.jited_prog_insns = 0;
    info.jited_ksyms = 0;
    info.jited_func_lens = 0;
    info.map_ids = 0;
    info.func_info = 0;
    Ok((info, b))
}

/// A map's info.
pub fn map_info(fd: BorrowedFd<'_>) -> Result<MapInfoRaw> {
    let mut info = MapInfoRaw::default();
    // SAFETY: the map info record has no pointers.
    unsafe { get_info(fd, &mut info)? };
    Ok(info)
}

/// A link's info (the union's pointers left zero: names are not fetched).
pub fn link_info(fd: BorrowedFd<'_>) -> Result<LinkInfoRaw> {
    let mut info = LinkInfoRaw::default();
    // SAFETY: every pointer in the default record's union is zero, so the
    // kernel only reports lengths there.
    unsafe { get_info(fd, &mut info)? };
    Ok(info)
}

/// What [`btf_info`] fetched besides the record.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct BtfInfoBufs {
    /// The BTF blob (empty unless asked for).
    pub data: Vec<u8>,
    /// The object's name (`vmlinux`, a module's name, or empty).
    pub name: String,
}

/// A BTF object's info, its name, and its raw data when `want_data`.
pub fn btf_info(fd: BorrowedFd<'_>, want_data: bool) -> Result<(BtfInfoRaw, BtfInfoBufs)> {
    let mut first = BtfInfoRaw::default();
    // SAFETY: every pointer of a default record is zero.
    unsafe { get_info(fd, &mut first)? };
    let mut data = if want_data {
        vec![0u8; first.btf_size as usize]
    } else {
        Vec::new()
    };
    let mut name = vec![0u8; first.name_len as usize + 1];
    let mut info = BtfInfoRaw {
        btf: addr_mut(&mut data),
        btf_size: len_u32("BTF", data.len())?,
        name: addr_mut(&mut name),
        name_len: len_u32("BTF name", name.len())?,
        ..Default::default()
    };
    // SAFETY: btf and name point at Vecs of exactly btf_size and name_len
    // bytes (or are zero), alive and exclusively borrowed across the call.
    unsafe { get_info(fd, &mut info)? };
    data.truncate(info.btf_size as usize);
    let end = name.iter().position(|&c| c == 0).unwrap_or(name.len());
    let name = String::from_utf8_lossy(&name[..end]).into_owned();
    info.btf = 0;
    info.name = 0;
    Ok((info, BtfInfoBufs { data, name }))
}

/// `BPF_BTF_LOAD` with a log buffer; the errno comes back raw so the
/// caller can grow a truncated log. Also returns `btf_log_true_size`.
pub fn btf_load(
    data: &[u8],
    log_level: u32,
    log: &mut [u8],
) -> Result<(std::result::Result<OwnedFd, i32>, u32)> {
    let mut attr = BtfLoadAttr {
        btf: addr(data),
        btf_log_buf: addr_mut(log),
        btf_size: len_u32("BTF", data.len())?,
        btf_log_size: len_u32("log buffer", log.len())?,
        btf_log_level: if log.is_empty() { 0 } else { log_level },
        btf_log_true_size: 0,
    };
    // SAFETY: the blob is btf_size bytes, read only; the log buffer is
    // btf_log_size bytes, exclusively borrowed for the kernel's writes.
    let r = unsafe { bpf(Cmd::BtfLoad, &mut attr) };
    Ok((r.map(owned_fd), attr.btf_log_true_size))
}

/// `BPF_LINK_CREATE`: `prog` attached at `target` (an fd or an ifindex,
/// by attach type) with the attach-type-specific words in `extra`.
pub fn link_create(
    prog: BorrowedFd<'_>,
    target: u32,
    attach_type: u32,
    flags: u32,
    extra: [u64; 4],
) -> Result<OwnedFd> {
    let mut attr = LinkCreateAttr {
        prog_fd: prog.as_raw_fd() as u32,
        target,
        attach_type,
        flags,
        extra,
    };
    // SAFETY: no pointers: `extra` carries ids, fds and revisions only.
    check(Cmd::LinkCreate, unsafe { bpf(Cmd::LinkCreate, &mut attr) }).map(owned_fd)
}

/// `BPF_LINK_DETACH`: the link stays open but no longer attached.
pub fn link_detach(link: BorrowedFd<'_>) -> Result<()> {
    let mut attr = U32Attr {
        value: link.as_raw_fd() as u32,
        ..Default::default()
    };
    // SAFETY: no pointers.
    check(Cmd::LinkDetach, unsafe { bpf(Cmd::LinkDetach, &mut attr) }).map(drop)
}

/// `BPF_ENABLE_STATS`: statistics of `stats_type` are collected while the
/// returned descriptor is open.
pub fn enable_stats(stats_type: u32) -> Result<OwnedFd> {
    let mut attr = U32Attr {
        value: stats_type,
        ..Default::default()
    };
    // SAFETY: no pointers.
    check(Cmd::EnableStats, unsafe {
        bpf(Cmd::EnableStats, &mut attr)
    })
    .map(owned_fd)
}
