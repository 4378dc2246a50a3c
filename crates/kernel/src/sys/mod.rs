//! The only `unsafe` of the crate: the bpf(2) system call, the attr and info
//! records it reads and writes ([`attr`]), and `statfs(2)`/`mount(2)` for
//! bpffs.
//!
//! Every function here is safe to call: it builds the attr itself from the
//! slices it is given, so each pointer the kernel sees points at memory that
//! is borrowed for the whole call and is at least as long as the length the
//! kernel is told (or, for map elements, as long as the map's own key and
//! value sizes, which [`MapFd`] learns from the kernel). Everything above
//! this module is safe typed Rust.
#![allow(unsafe_code)]

pub mod attr;
mod clock;
mod cpu;
mod fs;
mod map;
mod obj;
mod prog;

use std::fmt;
use std::os::fd::{FromRawFd, OwnedFd};

use crate::error::{Error, Result};

pub use clock::clocks;
pub use cpu::run_on_cpu;
pub use fs::{is_bpffs, mount_bpffs};
pub use map::{
    batch_token_len, map_create, map_delete, map_delete_batch, map_freeze, map_lookup,
    map_lookup_and_delete, map_lookup_batch, map_next_key, map_update, map_update_batch,
    possible_cpus, MapFd,
};
pub use obj::{
    btf_info, btf_load, enable_stats, fd_by_id, link_create, link_detach, link_info, map_info,
    next_id, obj_get, obj_pin, prog_info, IdKind, ProgInfoWant,
};
pub use prog::{prog_load, test_run, ProgLoadArgs, TestRunArgs};

/// A bpf(2) command (`enum bpf_cmd`), named in errors as the kernel names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u32)]
#[allow(missing_docs)]
pub enum Cmd {
    MapCreate = 0,
    MapLookupElem = 1,
    MapUpdateElem = 2,
    MapDeleteElem = 3,
    MapGetNextKey = 4,
    ProgLoad = 5,
    ObjPin = 6,
    ObjGet = 7,
    ProgTestRun = 10,
    ProgGetNextId = 11,
    MapGetNextId = 12,
    ProgGetFdById = 13,
    MapGetFdById = 14,
    ObjGetInfoByFd = 15,
    BtfLoad = 18,
    BtfGetFdById = 19,
    MapLookupAndDeleteElem = 21,
    MapFreeze = 22,
    BtfGetNextId = 23,
    MapLookupBatch = 24,
    MapLookupAndDeleteBatch = 25,
    MapUpdateBatch = 26,
    MapDeleteBatch = 27,
    LinkCreate = 28,
    LinkGetFdById = 30,
    LinkGetNextId = 31,
    EnableStats = 32,
    LinkDetach = 34,
}

impl Cmd {
    /// The kernel constant's name, `BPF_MAP_CREATE`.
    pub fn name(self) -> &'static str {
        match self {
            Cmd::MapCreate => "BPF_MAP_CREATE",
            Cmd::MapLookupElem => "BPF_MAP_LOOKUP_ELEM",
            Cmd::MapUpdateElem => "BPF_MAP_UPDATE_ELEM",
            Cmd::MapDeleteElem => "BPF_MAP_DELETE_ELEM",
            Cmd::MapGetNextKey => "BPF_MAP_GET_NEXT_KEY",
            Cmd::ProgLoad => "BPF_PROG_LOAD",
            Cmd::ObjPin => "BPF_OBJ_PIN",
            Cmd::ObjGet => "BPF_OBJ_GET",
            Cmd::ProgTestRun => "BPF_PROG_TEST_RUN",
            Cmd::ProgGetNextId => "BPF_PROG_GET_NEXT_ID",
            Cmd::MapGetNextId => "BPF_MAP_GET_NEXT_ID",
            Cmd::ProgGetFdById => "BPF_PROG_GET_FD_BY_ID",
            Cmd::MapGetFdById => "BPF_MAP_GET_FD_BY_ID",
            Cmd::ObjGetInfoByFd => "BPF_OBJ_GET_INFO_BY_FD",
            Cmd::BtfLoad => "BPF_BTF_LOAD",
            Cmd::BtfGetFdById => "BPF_BTF_GET_FD_BY_ID",
            Cmd::MapLookupAndDeleteElem => "BPF_MAP_LOOKUP_AND_DELETE_ELEM",
            Cmd::MapFreeze => "BPF_MAP_FREEZE",
            Cmd::BtfGetNextId => "BPF_BTF_GET_NEXT_ID",
            Cmd::MapLookupBatch => "BPF_MAP_LOOKUP_BATCH",
            Cmd::MapLookupAndDeleteBatch => "BPF_MAP_LOOKUP_AND_DELETE_BATCH",
            Cmd::MapUpdateBatch => "BPF_MAP_UPDATE_BATCH",
            Cmd::MapDeleteBatch => "BPF_MAP_DELETE_BATCH",
            Cmd::LinkCreate => "BPF_LINK_CREATE",
            Cmd::LinkGetFdById => "BPF_LINK_GET_FD_BY_ID",
            Cmd::LinkGetNextId => "BPF_LINK_GET_NEXT_ID",
            Cmd::EnableStats => "BPF_ENABLE_STATS",
            Cmd::LinkDetach => "BPF_LINK_DETACH",
        }
    }
}

impl fmt::Display for Cmd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A plain-data attr record: `#[repr(C)]`, integers only, valid for any
/// bytes. Only the records of [`attr`] implement it.
trait Attr: Copy {}
impl Attr for attr::MapCreateAttr {}
impl Attr for attr::MapElemAttr {}
impl Attr for attr::MapBatchAttr {}
impl Attr for attr::ProgLoadAttr {}
impl Attr for attr::ObjAttr {}
impl Attr for attr::TestRunAttr {}
impl Attr for attr::IdAttr {}
impl Attr for attr::InfoAttr {}
impl Attr for attr::BtfLoadAttr {}
impl Attr for attr::LinkCreateAttr {}
impl Attr for attr::U32Attr {}
impl Attr for attr::ProgInfoRaw {}
impl Attr for attr::MapInfoRaw {}
impl Attr for attr::BtfInfoRaw {}
impl Attr for attr::LinkInfoRaw {}

/// bpf(2): `cmd` with `attr`, returning the non-negative result or the
/// errno. `EINTR` is retried, as the command did not run.
///
/// # Safety
/// Every pointer field of `attr` must be zero or point at memory valid for
/// the length the kernel will use for it (given in `attr` or, for map
/// elements, the map's key and value sizes) for reads, and for writes where
/// the command writes there, for the duration of the call.
unsafe fn bpf<T: Attr>(cmd: Cmd, attr: &mut T) -> std::result::Result<i64, i32> {
    loop {
        // SAFETY: `attr` is a live, exclusively borrowed repr(C) record of
        // `size_of::<T>()` bytes that the kernel may read and write back;
        // the pointers inside it are valid per this function's contract.
        let ret = unsafe {
            libc::syscall(
                libc::SYS_bpf,
                cmd as u32 as libc::c_long,
                attr as *mut T as *mut libc::c_void,
                std::mem::size_of::<T>() as libc::c_uint,
            )
        };
        if ret >= 0 {
            return Ok(ret as i64);
        }
        let errno = std::io::Error::last_os_error()
            .raw_os_error()
            .unwrap_or(libc::EIO);
        if errno != libc::EINTR {
            return Err(errno);
        }
    }
}

/// Wraps a command's result as the crate's error.
fn check(cmd: Cmd, r: std::result::Result<i64, i32>) -> Result<i64> {
    r.map_err(|errno| Error::Syscall { cmd, errno })
}

/// Takes ownership of the new file descriptor a command returned.
fn owned_fd(ret: i64) -> OwnedFd {
    // SAFETY: the kernel just installed this descriptor for this process and
    // nothing else in the process knows it; from here the OwnedFd closes it.
    unsafe { OwnedFd::from_raw_fd(ret as i32) }
}

/// An object name as the kernel wants it: at most 15 bytes, NUL-padded,
/// only `[A-Za-z0-9_.]` (the kernel's `bpf_obj_name_cpy`).
pub fn obj_name(name: &str) -> Result<[u8; attr::OBJ_NAME_LEN]> {
    if name.len() >= attr::OBJ_NAME_LEN {
        return Err(Error::Invalid(format!(
            "name {name:?} is {} bytes; the kernel takes at most {}",
            name.len(),
            attr::OBJ_NAME_LEN - 1
        )));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '_' || *c == '.'))
    {
        return Err(Error::Invalid(format!(
            "name {name:?} has {c:?}; the kernel takes letters, digits, '_' and '.'"
        )));
    }
    let mut out = [0u8; attr::OBJ_NAME_LEN];
    out[..name.len()].copy_from_slice(name.as_bytes());
    Ok(out)
}

/// A path as a NUL-terminated string.
fn c_path(path: &std::path::Path) -> Result<std::ffi::CString> {
    use std::os::unix::ffi::OsStrExt;
    std::ffi::CString::new(path.as_os_str().as_bytes())
        .map_err(|_| Error::Invalid(format!("{}: path has a NUL byte", path.display())))
}

/// The user address of a slice, as attrs carry it.
fn addr<T>(s: &[T]) -> u64 {
    if s.is_empty() {
        0
    } else {
        s.as_ptr() as usize as u64
    }
}

/// The user address of a mutable slice.
fn addr_mut<T>(s: &mut [T]) -> u64 {
    if s.is_empty() {
        0
    } else {
        s.as_mut_ptr() as usize as u64
    }
}

/// A length as the kernel's u32, refusing what does not fit.
fn len_u32(what: &str, n: usize) -> Result<u32> {
    u32::try_from(n).map_err(|_| Error::Invalid(format!("{what} is {n} bytes, over 4 GiB")))
}

#[cfg(test)]
mod tests {
    use super::obj_name;

    #[test]
    fn object_names_as_the_kernel_takes_them() {
        let n = obj_name("xdp_pass.v2").unwrap();
        assert_eq!(&n[..11], b"xdp_pass.v2");
        assert!(n[11..].iter().all(|&b| b == 0));
        assert!(obj_name("").is_ok());
        assert!(obj_name("fifteen_chars_x").is_ok());
        assert!(obj_name("sixteen_chars_xx").is_err());
        assert!(obj_name("no space").is_err());
    }
}
