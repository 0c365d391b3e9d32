//! Errors of diffing trees and writing layer tars.

use std::io;
use std::path::PathBuf;

/// Why a diff or a layer tar could not be produced.
#[derive(Debug, thiserror::Error)]
pub enum DiffError {
    /// Reading the snapshot's files failed.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// To which file.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// Writing the tar stream failed (the destination, e.g. a compressor or a blob writer).
    #[error("writing the layer tar: {0}")]
    Write(#[source] io::Error),
    /// A file changed size while it was being archived; the snapshot must not be written to
    /// while it is diffed.
    #[error(
        "{path} changed while it was archived ({expected} bytes expected); do not modify a snapshot while diffing it"
    )]
    Changed {
        /// The file.
        path: PathBuf,
        /// The size it had when stat-ed.
        expected: u64,
    },
}

impl DiffError {
    pub(crate) fn io(action: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        DiffError::Io {
            action,
            path: path.into(),
            source,
        }
    }
}
