//! rbuild-snapshotter: where image content lives on disk.
//!
//! - [`ContentStore`]: blobs (layers, manifests, configs) named by their sha256 [`Digest`],
//!   written atomically (temporary file, fsync, rename) and verified on entry.
//! - [`LayerStore`]: unpacked layers keyed by diffID, extracted once (even by concurrent
//!   processes), checked against the diffID, and used read-only as overlay lower
//!   directories. They are stored in overlay format: deletions as 0/0 character devices,
//!   opaque directories by xattr.
//! - [`Snapshotter`]: containerd-like verbs over layers: [`Snapshotter::prepare`] (a
//!   writable root), [`Snapshotter::view`], [`Snapshotter::diff`],
//!   [`Snapshotter::commit`] (the diff becomes a new layer), [`Snapshotter::remove`],
//!   [`Snapshotter::usage`]. Backends: overlayfs, or a copy fallback chosen when a test
//!   overlay mount in the store fails. Mounts are returned as data ([`Mount`]) so the
//!   sandbox can perform them in its own mount namespace.
//! - [`overlay_changes`] / [`tree_changes`] and [`write_layer_tar`]: a snapshot's changes
//!   as a deterministic OCI layer tar (sorted, PAX, hard links, whiteouts, clamped mtimes).
//! - [`extract_layer`]: safe extraction of an uncompressed layer tar: never writes outside
//!   the target (no `..`, no absolute paths, no writes through symbolic links, no hard
//!   links to outside), applies or records whiteouts.
//! - [`prune`]: removes blobs and layers that no caller-given root or snapshot uses.
//!
//! Everything lives under one store root ([`default_store_root`]). Several rbuild
//! processes may share a root: entries appear only by atomic rename, a killed process
//! leaves only locked-then-abandoned temporary entries that the next open removes, and
//! mutations take flock locks (the store lock, [`store_lock_path`], is shared by users and
//! exclusive for [`prune`]; each layer has its own extraction lock).
//!
//! A build step, end to end:
//!
//! ```no_run
//! use rbuild_snapshotter::{ContentStore, Digest, LayerTarOptions, Snapshotter, unmount};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let base_tar: Vec<u8> = Vec::new();
//! let root = rbuild_snapshotter::default_store_root();
//! let content = ContentStore::open(&root)?;
//! let snapshots = Snapshotter::open(&root)?; // overlay if it works here, else copy
//!
//! // A base image layer (uncompressed tar) becomes an unpacked, shared lower layer.
//! let base: Digest = Digest::of_bytes(&base_tar);
//! snapshots.layers().unpack(&base, &base_tar[..])?;
//!
//! // A writable root over it; the sandbox mounts it and runs the step.
//! let mount = snapshots.prepare("step-1", &[base.clone()])?;
//! let rootfs = std::path::Path::new("/run/rbuild/step-1");
//! mount.mount_at(rootfs)?;
//! // ... run the RUN command in rootfs ...
//! unmount(rootfs)?;
//!
//! // The changes as a layer tar, straight into the blob store (compress it in between).
//! let mut blob = content.writer()?;
//! let options = LayerTarOptions { source_date_epoch: Some(0) };
//! let layer = snapshots.commit("step-1", &mut blob, &options)?;
//! let (blob_digest, _size) = blob.commit(None)?;
//! // layer.diff_id goes in the image config; the next step's parents: [base, layer.diff_id].
//! # let _ = (blob_digest, layer);
//! # Ok(())
//! # }
//! ```

mod change;
mod content;
mod diff_error;
mod digest;
mod error;
mod extract;
mod fsutil;
mod layer_recipe;
mod layer_tar;
mod layers;
mod layout;
mod lock;
mod mount;
mod overlay_diff;
mod overlay_format;
mod pax;
mod privilege;
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
pub use prune::{PruneReport, PruneRoots, prune, prune_locked};
pub use root::{ROOT_ENV, default_store_root};
pub use snapshot::{
    BackendKind, CommittedLayer, SnapshotError, SnapshotInfo, SnapshotKind, Snapshotter, Usage,
};
pub use tree_diff::{CtimeMark, tree_changes};
pub use tree_merge::merge_layer_dir;
