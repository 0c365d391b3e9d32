//! Errors of snapshot operations.

use std::io;
use std::path::PathBuf;

use crate::diff_error::DiffError;
use crate::error::StoreError;

/// Why a snapshot operation failed.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    /// A snapshot with this key exists already; remove it or choose another key.
    #[error("snapshot {0:?} already exists; remove it first or use another key")]
    Exists(String),
    /// No snapshot has this key.
    #[error("snapshot {0:?} does not exist")]
    NotFound(String),
    /// The operation needs an active (writable) snapshot, and this is a view.
    #[error("snapshot {0:?} is a read-only view; only active snapshots can be diffed or committed")]
    NotActive(String),
    /// The key is unusable.
    #[error("invalid snapshot key {key:?}: {reason}")]
    InvalidKey {
        /// The key.
        key: String,
        /// Why.
        reason: &'static str,
    },
    /// A store path cannot be passed to overlayfs (it splits options on `,` and `:`).
    #[error(
        "store path {0} contains ',', ':' or '\\', which overlayfs options cannot carry; use a store root without them"
    )]
    UnmountablePath(PathBuf),
    /// The snapshot's recorded information is unreadable.
    #[error("snapshot record {path}: {reason}")]
    Corrupt {
        /// The info file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A file system operation failed.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// To which path.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// The store (layers, locks) failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Computing or writing the diff failed.
    #[error(transparent)]
    Diff(#[from] DiffError),
}

pub(crate) trait SnapIo<T> {
    fn snap_ctx(self, action: &'static str, path: impl Into<PathBuf>) -> Result<T, SnapshotError>;
}

impl<T> SnapIo<T> for io::Result<T> {
    fn snap_ctx(self, action: &'static str, path: impl Into<PathBuf>) -> Result<T, SnapshotError> {
        self.map_err(|source| SnapshotError::Io {
            action,
            path: path.into(),
            source,
        })
    }
}
