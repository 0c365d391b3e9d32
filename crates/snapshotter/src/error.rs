//! The store's error type.

use std::io;
use std::path::PathBuf;

use crate::digest::Digest;

/// Errors from the content store, the layer store, locks and pruning.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A file system operation failed on `path`.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being done ("create", "rename", ...).
        action: &'static str,
        /// The path it was done to.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// Content written to the store did not hash to the digest it was announced as.
    #[error(
        "digest mismatch: expected {expected}, the content hashes to {actual}; the blob was discarded, fetch it again from a trusted source"
    )]
    DigestMismatch {
        /// The digest the caller announced.
        expected: Digest,
        /// The digest of the bytes actually written.
        actual: Digest,
    },
    /// The blob or layer is not in the store.
    #[error("{what} {digest} is not in the store at {root}; pull or build it first")]
    NotFound {
        /// "blob" or "layer".
        what: &'static str,
        /// The missing digest.
        digest: Digest,
        /// The store root.
        root: PathBuf,
    },
    /// Extracting a layer into the layer store failed.
    #[error("extracting layer {diff_id}: {source}")]
    Extract {
        /// The layer being extracted.
        diff_id: Digest,
        /// Why it failed.
        #[source]
        source: Box<crate::extract::ExtractError>,
    },
    /// A blob kept as a recipe could not be written from its unpacked layer.
    #[error("writing layer blob {digest} from its unpacked layer: {source}")]
    FromLayer {
        /// The blob (the layer's diffID).
        digest: Digest,
        /// Why the tar could not be produced.
        #[source]
        source: Box<crate::diff_error::DiffError>,
    },
    /// An unpacked layer no longer produces the tar it was committed as: something changed
    /// its files inside the store.
    #[error(
        "the unpacked layer {digest} no longer produces the tar it was built as (it now hashes to {actual}); files in the store were changed. Remove the images that use it, run `rbuild prune`, and build again"
    )]
    LayerChanged {
        /// The layer's recorded diffID.
        digest: Digest,
        /// What its files hash to now.
        actual: Digest,
    },
    /// Reading a layer to extract it failed.
    #[error("reading layer {diff_id}: {source}")]
    ReadLayer {
        /// The layer being read.
        diff_id: Digest,
        /// The reader's error.
        #[source]
        source: io::Error,
    },
}

impl StoreError {
    /// Wraps an I/O error with what was being done to which path.
    pub(crate) fn io(action: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        StoreError::Io {
            action,
            path: path.into(),
            source,
        }
    }
}

/// Shorthand for attaching a path and action to `io::Result`s.
pub(crate) trait IoContext<T> {
    fn ctx(self, action: &'static str, path: impl Into<PathBuf>) -> Result<T, StoreError>;
}

impl<T> IoContext<T> for io::Result<T> {
    fn ctx(self, action: &'static str, path: impl Into<PathBuf>) -> Result<T, StoreError> {
        self.map_err(|e| StoreError::io(action, path, e))
    }
}
