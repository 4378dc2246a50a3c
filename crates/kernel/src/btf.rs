//! Loading BTF into the kernel (`BPF_BTF_LOAD`) with its log, and handles
//! to kernel BTF objects.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use crate::error::{Error, Result};
use crate::fd::{kind_of, ObjKind};
use crate::info::BtfInfo;
use crate::prog::{with_growing_log, DEFAULT_LOG_SIZE};
use crate::sys::{self, IdKind};

/// A BTF object in the kernel, held open by its descriptor.
#[derive(Debug)]
pub struct KernelBtf {
    fd: OwnedFd,
    log: String,
}

impl KernelBtf {
    /// Loads a BTF blob (header, types, strings). `log_level` 0 logs only
    /// if the kernel refuses (then at level 1); the log buffer grows while
    /// the kernel truncates it. A refusal is [`Error::Rejected`] with the log.
    pub fn load(data: &[u8], log_level: u32) -> Result<KernelBtf> {
        let (result, log, _) = with_growing_log(log_level, DEFAULT_LOG_SIZE, |level, buf| {
            sys::btf_load(data, level, buf)
        })?;
        match result {
            Ok(fd) => Ok(KernelBtf { fd, log }),
            Err(errno) => Err(Error::Rejected {
                cmd: sys::Cmd::BtfLoad,
                errno,
                log,
            }),
        }
    }

    /// Wraps a BTF descriptor (refusing any other kind).
    pub fn from_fd(fd: OwnedFd) -> Result<KernelBtf> {
        match kind_of(fd.as_fd())? {
            ObjKind::Btf => Ok(KernelBtf {
                fd,
                log: String::new(),
            }),
            other => Err(Error::Invalid(format!(
                "descriptor is a BPF {}, not BTF",
                other.name()
            ))),
        }
    }

    /// Opens the BTF object with this id.
    pub fn from_id(id: u32) -> Result<KernelBtf> {
        KernelBtf::from_fd(sys::fd_by_id(IdKind::Btf, id)?)
    }

    /// The descriptor (for `prog_btf_fd`, `btf_fd`).
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    /// The log of a load with a log level.
    pub fn log(&self) -> &str {
        &self.log
    }

    /// The object's info, with its blob if `data`.
    pub fn info(&self, data: bool) -> Result<BtfInfo> {
        BtfInfo::of_fd(self.fd(), data)
    }
}

impl AsFd for KernelBtf {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd()
    }
}
