//! [`RuntimeError`]: why an object cannot be loaded into the runtime, or a
//! run or a map operation failed. Every variant names the map, program,
//! variable or instruction.

use bpfkit_object::map::MapError;
use thiserror::Error;

use crate::error::{LoadError, VmError};

/// An error of the runtime.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RuntimeError {
    /// A map of the object could not be created.
    #[error("map {map}: {message}")]
    Map {
        /// The map's name.
        map: String,
        /// What went wrong.
        message: String,
    },
    /// A map operation failed with the kernel's errno.
    #[error("map {map}: {op}: {error}")]
    MapOp {
        /// The map's name.
        map: String,
        /// The operation (`update`, `lookup`, ...).
        op: &'static str,
        /// The kernel's error.
        error: MapError,
    },
    /// A program of the object could not be loaded.
    #[error("program {program} (section {section}): {source}")]
    Load {
        /// The program's name.
        program: String,
        /// Its section.
        section: String,
        /// Why.
        source: LoadError,
    },
    /// A program needs something the runtime does not provide.
    #[error("program {program}: instruction {pc}: {message}")]
    Unsupported {
        /// The program's name.
        program: String,
        /// The instruction's slot index.
        pc: usize,
        /// What it needs.
        message: String,
    },
    /// No such program, map or global variable.
    #[error("no {what} named {name}")]
    NotFound {
        /// `program`, `map`, `global variable`.
        what: &'static str,
        /// The name asked for.
        name: String,
    },
    /// A value of the wrong size for a map key, value or variable.
    #[error("{what}: {message}")]
    BadValue {
        /// The map or variable.
        what: String,
        /// What is wrong.
        message: String,
    },
    /// The program is of a type this entry point does not run.
    #[error("program {program} is a {prog_type} program: {message}")]
    WrongType {
        /// The program's name.
        program: String,
        /// Its type.
        prog_type: String,
        /// What was asked of it.
        message: String,
    },
    /// The run stopped with an error.
    #[error("program {program}: {source}")]
    Run {
        /// The program's name.
        program: String,
        /// The run's error (with the instruction index).
        source: VmError,
    },
}
