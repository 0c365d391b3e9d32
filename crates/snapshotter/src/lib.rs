//! rbuild-snapshotter: where image content lives on disk.
//!
//! - [`ContentStore`]: blobs (layers, manifests, configs) named by their sha256 [`Digest`],
//!   written atomically and verified on entry.
//!
//! Everything lives under one store root ([`default_store_root`]); several rbuild processes
//! may share a root: writes are atomic renames and mutations take flock locks.

mod content;
mod digest;
mod error;
mod fsutil;
mod lock;
mod root;
mod tempname;

pub use content::{BlobWriter, ContentStore};
pub use digest::{Digest, DigestParseError};
pub use error::StoreError;
pub use lock::{FileLock, LockMode};
pub use root::{ROOT_ENV, default_store_root};
