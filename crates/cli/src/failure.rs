//! The CLI's error: a message already rendered for the user.

use std::fmt;

/// A failure to report on stderr before exiting non-zero. Library errors are
/// rendered into it with their context (file, line, instruction).
#[derive(Debug)]
pub struct Failure(pub String);

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let msg = &self.0;
        if msg.starts_with("error") || msg.contains(": error:") {
            write!(f, "{msg}")
        } else {
            write!(f, "error: {msg}")
        }
    }
}

/// Builds a [`Failure`] from anything displayable.
pub fn fail(msg: impl fmt::Display) -> Failure {
    Failure(msg.to_string())
}

/// Result of a command: the exit code on success.
pub type CmdResult = Result<std::process::ExitCode, Failure>;
