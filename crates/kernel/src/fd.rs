//! What a BPF file descriptor is, and what `/proc/self/fdinfo` says of it.
//!
//! Descriptors are `std::os::fd::OwnedFd` everywhere: closed on drop. The
//! kernel names the object behind one in its `/proc/self/fd` link
//! (`anon_inode:bpf-map`), which is how a pinned path is told apart; fdinfo
//! holds what info records lack (a map's memlock and frozen state).

use std::collections::BTreeMap;
use std::os::fd::{AsRawFd, BorrowedFd};
use std::path::PathBuf;

use crate::error::{Error, Result};

/// The kinds of BPF object a descriptor can refer to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ObjKind {
    /// A program.
    Prog,
    /// A map.
    Map,
    /// A link.
    Link,
    /// A BTF object.
    Btf,
    /// Something else (not a BPF object, or one this crate does not name).
    Other,
}

impl ObjKind {
    /// The kind as bpftool names it ("program", "map", "link", "btf").
    pub fn name(self) -> &'static str {
        match self {
            ObjKind::Prog => "program",
            ObjKind::Map => "map",
            ObjKind::Link => "link",
            ObjKind::Btf => "btf",
            ObjKind::Other => "non-BPF object",
        }
    }
}

/// The kind of object behind `fd`.
pub fn kind_of(fd: BorrowedFd<'_>) -> Result<ObjKind> {
    let path = PathBuf::from(format!("/proc/self/fd/{}", fd.as_raw_fd()));
    let target = std::fs::read_link(&path).map_err(|source| Error::Io { path, source })?;
    Ok(match target.to_string_lossy().as_ref() {
        "anon_inode:bpf-prog" => ObjKind::Prog,
        "anon_inode:bpf-map" => ObjKind::Map,
        // Older kernels name link inodes "bpf_link", newer ones "bpf-link".
        "anon_inode:bpf_link" | "anon_inode:bpf-link" => ObjKind::Link,
        "anon_inode:btf" => ObjKind::Btf,
        _ => ObjKind::Other,
    })
}

/// The `key:\tvalue` lines of `/proc/self/fdinfo/FD`.
pub fn fdinfo(fd: BorrowedFd<'_>) -> Result<BTreeMap<String, String>> {
    let path = PathBuf::from(format!("/proc/self/fdinfo/{}", fd.as_raw_fd()));
    let text = std::fs::read_to_string(&path).map_err(|source| Error::Io { path, source })?;
    Ok(text
        .lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect())
}

/// A number field of fdinfo (`memlock`, `frozen`), 0 when absent.
pub fn fdinfo_u64(fd: BorrowedFd<'_>, key: &str) -> Result<u64> {
    Ok(fdinfo(fd)?
        .get(key)
        .and_then(|v| v.parse().ok())
        .unwrap_or(0))
}
