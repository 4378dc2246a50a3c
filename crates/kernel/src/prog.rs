//! Loading programs (`BPF_PROG_LOAD`) with the verifier log, and handles
//! to loaded programs.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::Path;

use bpfkit_isa::Insn;
use bpfkit_object::kinds::{AttachType, ProgType};

use crate::error::{Error, Result};
use crate::fd::{kind_of, ObjKind};
use crate::info::ProgInfo;
use crate::sys::{self, IdKind, ProgLoadArgs};

/// The log buffer a load with a log starts with; it doubles (or takes the
/// size the kernel asks for) each time the log comes back truncated.
pub const DEFAULT_LOG_SIZE: usize = 64 * 1024;

/// The kernel's limit on a log buffer (`UINT_MAX >> 8` since 6.4); past it a
/// truncated log is returned as it is.
pub const MAX_LOG_SIZE: usize = (u32::MAX >> 8) as usize;

/// The smallest log buffer kernels before 6.4 accept.
pub const MIN_LOG_SIZE: usize = 128;

/// `BPF_LOG_LEVEL1`: the verifier's log of the failing path.
pub const LOG_LEVEL_BRANCHES: u32 = 1;
/// `BPF_LOG_LEVEL2`: every instruction of every path.
pub const LOG_LEVEL_ALL: u32 = 2;
/// `BPF_LOG_STATS`: the verifier's statistics at the end of the log.
pub const LOG_STATS: u32 = 4;

/// What `BPF_PROG_LOAD` takes. [`ProgLoad::new`] gives the defaults: GPL
/// license, no name, log only on failure.
#[derive(Debug, Clone)]
pub struct ProgLoad<'a> {
    /// The program type.
    pub prog_type: ProgType,
    /// The instructions.
    pub insns: &'a [Insn],
    /// The name (at most 15 bytes of `[A-Za-z0-9_.]`).
    pub name: &'a str,
    /// The license; `"GPL"` (or compatible) unlocks GPL-only helpers.
    pub license: &'a str,
    /// `expected_attach_type`.
    pub expected_attach_type: Option<AttachType>,
    /// `kern_version` (only kernels before 5.0 check it, for kprobes).
    pub kern_version: u32,
    /// `BPF_F_*` program flags (`BPF_F_SLEEPABLE`, `BPF_F_XDP_HAS_FRAGS`...).
    pub prog_flags: u32,
    /// `prog_ifindex`, for offload.
    pub prog_ifindex: u32,
    /// BTF type id of the attach target (fentry, LSM, freplace...).
    pub attach_btf_id: u32,
    /// The program (freplace) or BTF object (module) `attach_btf_id` is in.
    pub attach_prog_fd: Option<BorrowedFd<'a>>,
    /// The program's BTF, which func_info and line_info refer to.
    pub prog_btf_fd: Option<BorrowedFd<'a>>,
    /// Packed `struct bpf_func_info` records.
    pub func_info: &'a [u8],
    /// Size of one func_info record (8 today).
    pub func_info_rec_size: u32,
    /// Packed `struct bpf_line_info` records.
    pub line_info: &'a [u8],
    /// Size of one line_info record (16 today).
    pub line_info_rec_size: u32,
    /// Log level: 0 loads without a log and, only if the kernel refuses,
    /// loads again at level 1 to say why; 1 or 2 (optionally | 4 for
    /// statistics) always log.
    pub log_level: u32,
    /// The first log buffer size; grown while the kernel truncates.
    pub log_size: usize,
}

impl<'a> ProgLoad<'a> {
    /// A load of `insns` as `prog_type` with the defaults.
    pub fn new(prog_type: ProgType, insns: &'a [Insn]) -> ProgLoad<'a> {
        ProgLoad {
            prog_type,
            insns,
            name: "",
            license: "GPL",
            expected_attach_type: None,
            kern_version: 0,
            prog_flags: 0,
            prog_ifindex: 0,
            attach_btf_id: 0,
            attach_prog_fd: None,
            prog_btf_fd: None,
            func_info: &[],
            func_info_rec_size: 0,
            line_info: &[],
            line_info_rec_size: 0,
            log_level: 0,
            log_size: DEFAULT_LOG_SIZE,
        }
    }

    /// Loads the program. A refusal is [`Error::Rejected`] with the whole
    /// verifier log; with a log level the successful load's log is kept in
    /// the [`Program`].
    pub fn load(&self) -> Result<Program> {
        let insns = bpfkit_isa::encode_slots(self.insns);
        let args = ProgLoadArgs {
            prog_type: self.prog_type.raw(),
            insns: &insns,
            license: self.license,
            name: self.name,
            expected_attach_type: self.expected_attach_type.map_or(0, AttachType::raw),
            kern_version: self.kern_version,
            prog_flags: self.prog_flags,
            prog_ifindex: self.prog_ifindex,
            attach_btf_id: self.attach_btf_id,
            attach_prog_fd: self.attach_prog_fd,
            prog_btf_fd: self.prog_btf_fd,
            func_info: self.func_info,
            func_info_rec_size: self.func_info_rec_size,
            line_info: self.line_info,
            line_info_rec_size: self.line_info_rec_size,
        };
        let (result, log, log_sizes) =
            with_growing_log(self.log_level, self.log_size, |level, buf| {
                let out = sys::prog_load(&args, level, buf)?;
                Ok((out.result, out.log_true_size))
            })?;
        match result {
            Ok(fd) => Ok(Program { fd, log, log_sizes }),
            Err(errno) => Err(Error::Rejected {
                cmd: sys::Cmd::ProgLoad,
                errno,
                log,
            }),
        }
    }
}

/// Runs a load (`attempt(level, buffer)`) until its log is complete:
/// without a log first when `log_level` is 0 (and again at level 1 if it
/// fails), growing the buffer each time the kernel reports `ENOSPC`.
/// Returns the final outcome, its log, and every buffer size tried.
pub(crate) fn with_growing_log<T>(
    log_level: u32,
    first_size: usize,
    mut attempt: impl FnMut(u32, &mut [u8]) -> Result<(std::result::Result<T, i32>, u32)>,
) -> Result<(std::result::Result<T, i32>, String, Vec<usize>)> {
    let mut level = log_level;
    let mut size = if level == 0 {
        0
    } else {
        first_size.clamp(MIN_LOG_SIZE, MAX_LOG_SIZE)
    };
    let mut sizes = Vec::new();
    loop {
        let mut buf = vec![0u8; size];
        sizes.push(size);
        let (result, true_size) = attempt(level, &mut buf)?;
        match result {
            Err(libc::ENOSPC) if size > 0 && size < MAX_LOG_SIZE => {
                size = size
                    .saturating_mul(2)
                    .max(true_size as usize)
                    .min(MAX_LOG_SIZE);
            }
            Err(_) if size == 0 => {
                level = LOG_LEVEL_BRANCHES;
                size = first_size.clamp(MIN_LOG_SIZE, MAX_LOG_SIZE);
            }
            result => {
                let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
                let log = String::from_utf8_lossy(&buf[..end]).into_owned();
                return Ok((result, log, sizes));
            }
        }
    }
}

/// A program in the kernel, held open by its descriptor (closed on drop).
#[derive(Debug)]
pub struct Program {
    fd: OwnedFd,
    log: String,
    log_sizes: Vec<usize>,
}

impl Program {
    /// Wraps a program descriptor (refusing any other kind).
    pub fn from_fd(fd: OwnedFd) -> Result<Program> {
        match kind_of(fd.as_fd())? {
            ObjKind::Prog => Ok(Program {
                fd,
                log: String::new(),
                log_sizes: Vec::new(),
            }),
            other => Err(Error::Invalid(format!(
                "descriptor is a BPF {}, not a program",
                other.name()
            ))),
        }
    }

    /// Opens the program with this id (`BPF_PROG_GET_FD_BY_ID`).
    pub fn from_id(id: u32) -> Result<Program> {
        Program::from_fd(sys::fd_by_id(IdKind::Prog, id)?)
    }

    /// Opens the program pinned at `path` (`BPF_OBJ_GET`).
    pub fn from_pin(path: &Path) -> Result<Program> {
        Program::from_fd(crate::pin::get(path)?)
    }

    /// The descriptor.
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    /// Gives up the descriptor.
    pub fn into_fd(self) -> OwnedFd {
        self.fd
    }

    /// The verifier log of a load with a log level (empty otherwise).
    pub fn log(&self) -> &str {
        &self.log
    }

    /// The log buffer sizes the load tried, in order: more than one when
    /// the kernel truncated the log and the buffer was grown.
    pub fn log_sizes(&self) -> &[usize] {
        &self.log_sizes
    }

    /// The program's info (without the instruction arrays).
    pub fn info(&self) -> Result<ProgInfo> {
        ProgInfo::of_fd(self.fd(), Default::default())
    }

    /// The program's id.
    pub fn id(&self) -> Result<u32> {
        Ok(self.info()?.id)
    }

    /// Pins the program at `path` on bpffs.
    pub fn pin(&self, path: &Path) -> Result<()> {
        crate::pin::pin(self.fd(), path)
    }
}

impl AsFd for Program {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd()
    }
}
