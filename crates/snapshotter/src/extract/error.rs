//! Errors of layer extraction; each names the tar entry it is about.

use std::io;

/// Why a layer could not be extracted.
#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    /// The entry would write outside the target directory (or through a link); nothing
    /// of it was written. The layer is malformed or malicious: do not use it.
    #[error("layer entry {entry:?} refused: {reason}")]
    Refused {
        /// The entry's name as it appears in the tar.
        entry: String,
        /// Why it is unsafe.
        reason: String,
    },
    /// The entry is well-formed but cannot be represented here.
    #[error("layer entry {entry:?} unsupported: {reason}")]
    Unsupported {
        /// The entry's name as it appears in the tar.
        entry: String,
        /// What is missing.
        reason: String,
    },
    /// A file system operation for the entry failed.
    #[error("layer entry {entry:?}: {action}: {source}")]
    Io {
        /// The entry's name as it appears in the tar.
        entry: String,
        /// What was being done.
        action: &'static str,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// The tar stream itself is unreadable (truncated, corrupt, or the source failed).
    #[error("reading the layer tar: {0}")]
    Read(#[source] io::Error),
    /// The extraction target directory cannot be used.
    #[error("extraction target {path}: {source}")]
    Target {
        /// The target directory.
        path: std::path::PathBuf,
        /// Why it cannot be used.
        #[source]
        source: io::Error,
    },
}
