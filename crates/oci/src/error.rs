//! The crate's error type.

use std::io;
use std::path::PathBuf;

use rbuild_snapshotter::{Digest, StoreError};

use crate::reference::ReferenceError;

/// Everything that can go wrong in image handling.
#[derive(Debug, thiserror::Error)]
pub enum OciError {
    /// The content store failed (I/O, digest mismatch, missing blob).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A reference did not parse.
    #[error(transparent)]
    Reference(#[from] ReferenceError),
    /// A file operation failed.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// To which path.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: io::Error,
    },
    /// A stream (compression, archive writing) failed.
    #[error("{action}: {source}")]
    Stream {
        /// What was being done.
        action: String,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// A JSON document was malformed.
    #[error("invalid {what}: {source}")]
    Json {
        /// Which document.
        what: String,
        /// The parser's error.
        #[source]
        source: serde_json::Error,
    },
    /// No local image has this name or ID.
    #[error("image {0:?} is not in the local store; pull or build it first (see `rbuild images`)")]
    ImageNotFound(String),
    /// An ID prefix matched several images.
    #[error("{prefix:?} matches several images ({matches}); give a longer ID or a name")]
    AmbiguousId {
        /// The prefix given.
        prefix: String,
        /// The matching IDs.
        matches: String,
    },
    /// A blob of a kind we cannot handle.
    #[error("unsupported media type {media_type:?} for {what}")]
    UnsupportedMediaType {
        /// The media type.
        media_type: String,
        /// What the blob was supposed to be.
        what: &'static str,
    },
    /// A multi-platform image has nothing for the wanted platform.
    #[error("{reference} has no image for platform {wanted}; it has: {available}")]
    NoMatchingPlatform {
        /// The image.
        reference: String,
        /// What we asked for.
        wanted: String,
        /// What the index lists.
        available: String,
    },
    /// Talking to a registry failed.
    #[error("registry {registry}: {message}")]
    Registry {
        /// The registry host.
        registry: String,
        /// What failed and why.
        message: String,
    },
    /// A pulled blob did not match its digest.
    #[error("blob {expected} from {registry} is corrupt: its content hashes to {actual}")]
    BlobDigestMismatch {
        /// The registry it came from.
        registry: String,
        /// The announced digest.
        expected: Digest,
        /// What the bytes hash to.
        actual: String,
    },
    /// An image archive is malformed.
    #[error("invalid image archive {path}: {reason}")]
    Archive {
        /// The archive.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// An image is malformed (e.g. layers and diff_ids disagree).
    #[error("invalid image {image}: {reason}")]
    InvalidImage {
        /// The image.
        image: String,
        /// What is wrong.
        reason: String,
    },
    /// A `-o/--output` value is malformed.
    #[error(transparent)]
    Output(#[from] crate::output::OutputError),
}

/// Attaches an action and a path to I/O errors.
pub(crate) trait IoContext<T> {
    fn ctx(self, action: &'static str, path: impl Into<PathBuf>) -> Result<T, OciError>;
}

impl<T> IoContext<T> for Result<T, io::Error> {
    fn ctx(self, action: &'static str, path: impl Into<PathBuf>) -> Result<T, OciError> {
        self.map_err(|source| OciError::Io {
            action,
            path: path.into(),
            source,
        })
    }
}

/// Wraps a stream error with what was being done.
pub(crate) fn stream_err(action: impl Into<String>) -> impl FnOnce(io::Error) -> OciError {
    let action = action.into();
    move |source| OciError::Stream { action, source }
}

/// Wraps a JSON error with the document's name.
pub(crate) fn json_err(what: impl Into<String>) -> impl FnOnce(serde_json::Error) -> OciError {
    let what = what.into();
    move |source| OciError::Json { what, source }
}
