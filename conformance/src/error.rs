//! The harness error: every variant says what to look at next.

use std::time::Duration;

/// What went wrong while setting up, driving or querying a test bed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(
        "`{tool}` not found: install the Debian package `{package}` (apt-get install -y {package})"
    )]
    MissingTool { tool: String, package: String },
    #[error("`{cmd}` failed: {detail}")]
    Command { cmd: String, detail: String },
    #[error("timed out after {waited:.1?} waiting for {what}; last observed: {last}")]
    Timeout {
        what: String,
        waited: Duration,
        last: String,
    },
    #[error("{what}: {source}")]
    Io {
        what: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Other(String),
}

impl Error {
    pub(crate) fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> Error {
        let what = what.into();
        move |source| Error::Io { what, source }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
