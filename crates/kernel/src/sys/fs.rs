//! bpffs: recognising it (`statfs(2)`) and mounting it (`mount(2)`).

use std::path::Path;

use super::c_path;
use crate::error::{Error, Result};

/// `BPF_FS_MAGIC` of `include/uapi/linux/magic.h`.
const BPF_FS_MAGIC: i64 = 0xcafe_4a11;

/// Whether `path` is on a bpf filesystem.
pub fn is_bpffs(path: &Path) -> Result<bool> {
    let p = c_path(path)?;
    // SAFETY: statfs is plain data, valid when zeroed.
    let mut st: libc::statfs = unsafe { std::mem::zeroed() };
    // SAFETY: p is NUL-terminated and st is an exclusively borrowed statfs
    // the call fills.
    let r = unsafe { libc::statfs(p.as_ptr(), &mut st) };
    if r != 0 {
        return Err(Error::Io {
            path: path.to_path_buf(),
            source: std::io::Error::last_os_error(),
        });
    }
    Ok(st.f_type as i64 == BPF_FS_MAGIC)
}

/// Mounts a bpf filesystem at `dir` (`mount -t bpf bpf DIR`, mode 0700 as
/// systemd mounts it).
pub fn mount_bpffs(dir: &Path) -> Result<()> {
    let target = c_path(dir)?;
    let source = c"bpf";
    let fstype = c"bpf";
    let data = c"mode=0700";
    // SAFETY: all four strings are NUL-terminated and outlive the call.
    let r = unsafe {
        libc::mount(
            source.as_ptr(),
            target.as_ptr(),
            fstype.as_ptr(),
            0,
            data.as_ptr() as *const libc::c_void,
        )
    };
    if r != 0 {
        return Err(Error::Io {
            path: dir.to_path_buf(),
            source: std::io::Error::last_os_error(),
        });
    }
    Ok(())
}
