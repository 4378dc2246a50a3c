//! The crate's error: which bpf(2) command failed with which errno, and the
//! verifier's (or the BTF checker's) log when the kernel rejected a load.

use std::fmt;
use std::path::PathBuf;

use bpfkit_object::map::MapError;

use crate::sys::Cmd;

/// Why a kernel operation failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A bpf(2) command failed.
    #[error("{cmd}: {}", Errno(*errno))]
    Syscall {
        /// The command.
        cmd: Cmd,
        /// The positive errno.
        errno: i32,
    },
    /// A bpf(2) command on a path (`BPF_OBJ_PIN`, `BPF_OBJ_GET`) failed.
    #[error("{}: {cmd}: {}", path.display(), Errno(*errno))]
    SyscallAt {
        /// The command.
        cmd: Cmd,
        /// The positive errno.
        errno: i32,
        /// The path.
        path: PathBuf,
    },
    /// A batch command stopped part way: the kernel did `done` of `total`.
    #[error("{cmd}: {} after {done} of {total} elements", Errno(*errno))]
    Batch {
        /// The command.
        cmd: Cmd,
        /// The positive errno.
        errno: i32,
        /// Elements processed before the failure.
        done: usize,
        /// Elements asked for.
        total: usize,
    },
    /// `BPF_PROG_LOAD` or `BPF_BTF_LOAD` was rejected; the log says why.
    #[error("{cmd}: {}{}", Errno(*errno), LogTail(log))]
    Rejected {
        /// The command.
        cmd: Cmd,
        /// The positive errno.
        errno: i32,
        /// The verifier (or BTF) log, complete: the buffer was grown until
        /// the kernel no longer truncated it.
        log: String,
    },
    /// An argument that cannot reach the kernel as given (a key of the wrong
    /// size, a name with a NUL byte, a path that is not on bpffs).
    #[error("{0}")]
    Invalid(String),
    /// A file the operation needs (a pin's directory, `/proc/self/fdinfo`,
    /// `/sys/devices/system/cpu/possible`) could not be read or made.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
}

impl Error {
    /// The errno of a failed syscall, `None` for other failures.
    pub fn errno(&self) -> Option<i32> {
        match self {
            Error::Syscall { errno, .. }
            | Error::SyscallAt { errno, .. }
            | Error::Batch { errno, .. }
            | Error::Rejected { errno, .. } => Some(*errno),
            _ => None,
        }
    }

    /// The verifier or BTF log of a rejected load.
    pub fn log(&self) -> Option<&str> {
        match self {
            Error::Rejected { log, .. } => Some(log),
            _ => None,
        }
    }
}

impl From<Error> for MapError {
    /// The map abstraction's view: the errno, or `EINVAL` for arguments
    /// refused before the syscall.
    fn from(e: Error) -> MapError {
        match e.errno() {
            Some(errno) => MapError::from_errno(errno),
            None => MapError::Invalid,
        }
    }
}

/// Crate result type.
pub type Result<T> = std::result::Result<T, Error>;

/// An errno rendered as `Invalid argument (EINVAL)`.
pub struct Errno(pub i32);

impl fmt::Display for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = std::io::Error::from_raw_os_error(self.0).to_string();
        // std appends " (os error N)"; the symbolic name says more.
        let text = text.split(" (os error").next().unwrap_or("").to_string();
        match errno_name(self.0) {
            Some(name) => write!(f, "{text} ({name})"),
            None => write!(f, "{text} (errno {})", self.0),
        }
    }
}

/// The symbolic name of the errnos bpf(2) returns.
pub fn errno_name(errno: i32) -> Option<&'static str> {
    Some(match errno {
        libc::EPERM => "EPERM",
        libc::ENOENT => "ENOENT",
        libc::ESRCH => "ESRCH",
        libc::EINTR => "EINTR",
        libc::E2BIG => "E2BIG",
        libc::EBADF => "EBADF",
        libc::EAGAIN => "EAGAIN",
        libc::ENOMEM => "ENOMEM",
        libc::EACCES => "EACCES",
        libc::EFAULT => "EFAULT",
        libc::EBUSY => "EBUSY",
        libc::EEXIST => "EEXIST",
        libc::EXDEV => "EXDEV",
        libc::ENODEV => "ENODEV",
        libc::ENOTDIR => "ENOTDIR",
        libc::EINVAL => "EINVAL",
        libc::ENOSPC => "ENOSPC",
        libc::ERANGE => "ERANGE",
        libc::ENOSYS => "ENOSYS",
        libc::ELOOP => "ELOOP",
        libc::EOPNOTSUPP => "EOPNOTSUPP",
        libc::ETIMEDOUT => "ETIMEDOUT",
        524 => "ENOTSUPP",
        _ => return None,
    })
}

/// The last lines of a log, for the one-line message; the whole log stays in
/// the error.
struct LogTail<'a>(&'a str);

impl fmt::Display for LogTail<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lines: Vec<&str> = self.0.lines().filter(|l| !l.trim().is_empty()).collect();
        if lines.is_empty() {
            return Ok(());
        }
        let start = lines.len().saturating_sub(3);
        write!(f, "\n{}", lines[start..].join("\n"))
    }
}
