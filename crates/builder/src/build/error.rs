//! Build errors: each says where in the Dockerfile, what went wrong and what to do.

use rbuild_oci::OciError;
use rbuild_sandbox::SandboxError;
use rbuild_snapshotter::{SnapshotError, StoreError};

/// Why a build failed.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The Dockerfile does not parse or plan; the message includes the source snippet.
    #[error("{0}")]
    Dockerfile(String),
    /// A step failed; `message` says why, `snippet` shows the instruction.
    #[error("{location}: {message}\n{snippet}")]
    Step {
        location: String,
        message: String,
        snippet: String,
    },
    /// A `RUN` command exited unsuccessfully.
    #[error(
        "{location}: process {command:?} did not complete successfully: {status}\n{snippet}{output}"
    )]
    RunFailed {
        location: String,
        command: String,
        status: String,
        snippet: String,
        /// The last lines the command printed (empty when it printed nothing).
        output: String,
    },
    #[error("{action} {path}: {source}")]
    Io {
        action: &'static str,
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Image(#[from] OciError),
    #[error(transparent)]
    Snapshot(#[from] SnapshotError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Sandbox(#[from] SandboxError),
    #[error(transparent)]
    Cache(#[from] crate::cache::CacheIndexError),
    #[error("invalid build request: {0}")]
    Request(String),
}

pub(crate) fn io_error(
    action: &'static str,
    path: impl std::fmt::Display,
) -> impl FnOnce(std::io::Error) -> BuildError {
    let path = path.to_string();
    move |source| BuildError::Io {
        action,
        path,
        source,
    }
}
