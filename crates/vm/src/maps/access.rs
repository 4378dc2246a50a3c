//! Who may read and write a map: the syscall side (`BPF_F_RDONLY`,
//! `BPF_F_WRONLY`, `BPF_MAP_FREEZE`, as `map_get_sys_perms` computes it)
//! and programs (`BPF_F_RDONLY_PROG`, which the verifier enforces and the
//! VM enforces at run time; `BPF_F_WRONLY_PROG` forbids reads through a
//! value pointer, the VM's memory checks' business, not the map's).

use bpfkit_object::map::{MapError, BPF_F_LOCK};

use super::attrs::{BPF_F_RDONLY, BPF_F_RDONLY_PROG, BPF_F_WRONLY};
use super::value::check_lock_flag;

/// A map's access state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Access {
    flags: u32,
    frozen: bool,
}

impl Access {
    pub(crate) fn new(flags: u32) -> Access {
        Access {
            flags,
            frozen: false,
        }
    }

    /// `FMODE_CAN_READ` of the syscall side: lookups and `get_next_key`.
    pub(crate) fn sys_read(&self) -> Result<(), MapError> {
        if self.flags & BPF_F_WRONLY != 0 {
            Err(MapError::Permission)
        } else {
            Ok(())
        }
    }

    /// `map_lookup_elem`'s checks before the map's own lookup: flags other
    /// than `BPF_F_LOCK` are `EINVAL`, then read access, then `BPF_F_LOCK`
    /// on a value without a spin lock (`has_lock` false) is `EINVAL`.
    pub(crate) fn lookup_checks(&self, flags: u64, has_lock: bool) -> Result<(), MapError> {
        if flags & !BPF_F_LOCK != 0 {
            return Err(MapError::Invalid);
        }
        self.sys_read()?;
        check_lock_flag(flags, has_lock)
    }

    /// `FMODE_CAN_WRITE` of the syscall side: updates and deletes; a
    /// frozen map has lost it.
    pub(crate) fn sys_write(&self) -> Result<(), MapError> {
        if self.flags & BPF_F_RDONLY != 0 || self.frozen {
            Err(MapError::Permission)
        } else {
            Ok(())
        }
    }

    /// Whether programs may write (no `BPF_F_RDONLY_PROG`). Freezing does
    /// not change it: a frozen `.data` stays writable by programs.
    pub(crate) fn prog_write(&self) -> Result<(), MapError> {
        if self.flags & BPF_F_RDONLY_PROG != 0 {
            Err(MapError::Permission)
        } else {
            Ok(())
        }
    }

    pub(crate) fn frozen(&self) -> bool {
        self.frozen
    }

    /// `BPF_MAP_FREEZE`: `ENOTSUPP` for a value with special fields (a spin
    /// lock), `EPERM` without write access (so a second freeze is `EPERM`,
    /// as on the kernel).
    pub(crate) fn freeze(&mut self, has_special_fields: bool) -> Result<(), MapError> {
        if has_special_fields {
            return Err(MapError::NotSupported);
        }
        self.sys_write()?;
        self.frozen = true;
        Ok(())
    }
}
