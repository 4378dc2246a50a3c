//! Why loading an object failed, each variant naming the map, program,
//! extern or pin it is about.

use std::path::PathBuf;

use bpfkit_object::co_re::CoreError;

use super::reject::Rejection;
use crate::error::Error;

/// A failure of [`load`](super::load).
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// `BPF_MAP_CREATE` (or reading a map to reuse) failed.
    #[error("map '{map}': {source}")]
    Map {
        /// The map's name in the object.
        map: String,
        /// The kernel's error.
        source: Error,
    },
    /// A pinned map exists at the map's pin path but is not what the
    /// object defines.
    #[error("map '{map}': the map pinned at {} differs: {}", path.display(), differences.join(", "))]
    PinMismatch {
        /// The map's name.
        map: String,
        /// The pin.
        path: PathBuf,
        /// Each differing attribute, `field: pinned X, object Y`.
        differences: Vec<String>,
    },
    /// Pinning a map or program failed.
    #[error("pin {}: {source}", path.display())]
    Pin {
        /// The path.
        path: PathBuf,
        /// The kernel's or filesystem's error.
        source: Error,
    },
    /// A global data map's initial value, a prog array slot or a
    /// map-in-map slot could not be set.
    #[error("map '{map}': {what}: {source}")]
    Initialise {
        /// The map.
        map: String,
        /// What was being set.
        what: String,
        /// The kernel's error.
        source: Error,
    },
    /// An extern (`.kconfig` or `.ksyms`) has no value on this kernel.
    #[error("extern '{name}': {message}")]
    Extern {
        /// The extern.
        name: String,
        /// Why.
        message: String,
    },
    /// A CO-RE relocation could not be resolved against the kernel's BTF.
    #[error("program '{program}': CO-RE: {source}")]
    Core {
        /// The program.
        program: String,
        /// The relocation's error (it names the record and instruction).
        source: Box<CoreError>,
    },
    /// The kernel BTF type a program attaches to (fentry, tp_btf, lsm,
    /// iter) does not exist.
    #[error("program '{program}': attach target '{target}': {message}")]
    AttachTarget {
        /// The program.
        program: String,
        /// The target name.
        target: String,
        /// Why.
        message: String,
    },
    /// Something about the object this loader cannot take to the kernel.
    #[error("{what}: {message}")]
    Unsupported {
        /// The map or program.
        what: String,
        /// Why.
        message: String,
    },
    /// The kernel's verifier rejected a program.
    #[error("{0}")]
    Rejected(Box<Rejection>),
    /// A file the loader reads (vmlinux BTF, kernel config, kallsyms).
    #[error("{}: {message}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        message: String,
    },
}

impl LoadError {
    pub(crate) fn map(map: &str, source: Error) -> LoadError {
        LoadError::Map {
            map: map.to_string(),
            source,
        }
    }

    pub(crate) fn init(map: &str, what: impl Into<String>, source: Error) -> LoadError {
        LoadError::Initialise {
            map: map.to_string(),
            what: what.into(),
            source,
        }
    }

    pub(crate) fn ext(name: &str, message: impl Into<String>) -> LoadError {
        LoadError::Extern {
            name: name.to_string(),
            message: message.into(),
        }
    }

    /// The kernel's errno, where the failure was a syscall's.
    pub fn errno(&self) -> Option<i32> {
        match self {
            LoadError::Map { source, .. }
            | LoadError::Pin { source, .. }
            | LoadError::Initialise { source, .. } => source.errno(),
            LoadError::Rejected(r) => Some(r.errno),
            _ => None,
        }
    }
}
