//! rbuild-snapshotter: where image content lives on disk.
//!
//! - [`ContentStore`]: blobs (layers, manifests, configs) named by their sha256 [`Digest`],
//!   written atomically and verified on entry.
//! - [`extract_layer`]: safe extraction of an uncompressed layer tar (never writes outside
//!   the target; applies or records whiteouts).
//! - [`overlay_changes`] / [`tree_changes`] and [`write_layer_tar`]: the diff of a
//!   snapshot as a deterministic OCI layer tar.
//!
//! - [`LayerStore`]: unpacked layers keyed by diffID, extracted once, used read-only.
//! - [`Snapshotter`]: writable snapshots over layers (overlayfs, or a copy fallback),
//!   committed as new layers; [`prune`] removes what no root uses.
//!
//! Everything lives under one store root ([`default_store_root`]); several rbuild processes
//! may share a root: writes are atomic renames and mutations take flock locks.

mod change;
mod content;
mod diff_error;
mod digest;
mod error;
mod extract;
mod fsutil;
mod layer_tar;
mod layers;
mod layout;
mod lock;
mod mount;
mod overlay_diff;
mod overlay_format;
mod pax;
mod prune;
mod root;
mod snapshot;
mod tempname;
mod tree_diff;
mod tree_merge;

pub use change::{Change, ChangeKind};
pub use content::{BlobWriter, ContentStore};
pub use diff_error::DiffError;
pub use digest::{Digest, DigestParseError};
pub use error::StoreError;
pub use extract::{ExtractError, ExtractOptions, ExtractSummary, WhiteoutMode, extract_layer};
pub use layer_tar::{LayerTarOptions, LayerTarSummary, write_layer_tar};
pub use layers::LayerStore;
pub use layout::store_lock_path;
pub use lock::{FileLock, LockMode};
pub use mount::{Mount, MountError, unmount};
pub use overlay_diff::overlay_changes;
pub use overlay_format::{OPAQUE_MARKER, TRUSTED_OPAQUE, USER_OPAQUE, WHITEOUT_PREFIX};
pub use prune::{PruneReport, PruneRoots, prune};
pub use root::{ROOT_ENV, default_store_root};
pub use snapshot::{
    BackendKind, CommittedLayer, SnapshotError, SnapshotInfo, SnapshotKind, Snapshotter, Usage,
};
pub use tree_diff::{CtimeMark, tree_changes};
pub use tree_merge::merge_layer_dir;
