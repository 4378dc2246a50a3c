//! Pinning objects on bpffs (`BPF_OBJ_PIN`, `BPF_OBJ_GET`), and making sure
//! bpffs is there.

use std::os::fd::{BorrowedFd, OwnedFd};
use std::path::Path;

use crate::error::{Error, Result};
use crate::sys;

/// Where bpffs lives by convention.
pub const BPFFS_ROOT: &str = "/sys/fs/bpf";

/// Mounts bpffs at [`BPFFS_ROOT`] when that directory is not bpffs yet
/// (as bpftool does before pinning). Returns whether it mounted.
pub fn ensure_bpffs() -> Result<bool> {
    let root = Path::new(BPFFS_ROOT);
    if !root.exists() {
        std::fs::create_dir_all(root).map_err(|source| Error::Io {
            path: root.to_path_buf(),
            source,
        })?;
    }
    if sys::is_bpffs(root)? {
        return Ok(false);
    }
    sys::mount_bpffs(root)?;
    Ok(true)
}

/// Mounts a bpf filesystem at `dir` (an existing directory), as
/// `mount -t bpf bpf DIR` does.
pub fn mount_bpffs(dir: &Path) -> Result<()> {
    sys::mount_bpffs(dir)
}

/// Whether `path` is on bpffs.
pub fn is_bpffs(path: &Path) -> Result<bool> {
    sys::is_bpffs(path)
}

/// Pins `fd` at `path`. The parent directory must be on bpffs; under
/// [`BPFFS_ROOT`] bpffs is mounted first if it is missing.
pub fn pin(fd: BorrowedFd<'_>, path: &Path) -> Result<()> {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if parent.starts_with(BPFFS_ROOT) {
        ensure_bpffs()?;
    }
    if !sys::is_bpffs(parent)? {
        return Err(Error::Invalid(format!(
            "{}: not on a bpf filesystem (pins live on bpffs, e.g. under {BPFFS_ROOT})",
            parent.display()
        )));
    }
    sys::obj_pin(fd, path).map_err(|e| with_path(e, path))
}

/// Opens the object pinned at `path`.
pub fn get(path: &Path) -> Result<OwnedFd> {
    sys::obj_get(path).map_err(|e| with_path(e, path))
}

/// Removes a pin (the object lives on while other references hold it).
pub fn unpin(path: &Path) -> Result<()> {
    std::fs::remove_file(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })
}

fn with_path(e: Error, path: &Path) -> Error {
    match e {
        Error::Syscall { cmd, errno } => Error::SyscallAt {
            cmd,
            errno,
            path: path.to_path_buf(),
        },
        e => e,
    }
}
