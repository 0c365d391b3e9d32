//! Removing what nothing uses: blobs and unpacked layers outside a caller-given set of
//! roots (the images and cache entries that should survive).

use std::collections::BTreeSet;
use std::path::Path;

use crate::content::ContentStore;
use crate::digest::Digest;
use crate::layers::LayerStore;
use crate::layout::{store_lock_path, tmp_dir};
use crate::lock::{FileLock, LockMode};
use crate::snapshot::{SnapshotError, list_infos};
use crate::tempname::clean_abandoned;

/// What must survive a prune.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PruneRoots {
    /// Blobs in use (manifests, configs, layer blobs of kept images and cache entries).
    pub blobs: BTreeSet<Digest>,
    /// Unpacked layers in use (diffIDs). Parents of existing snapshots are always kept.
    pub layers: BTreeSet<Digest>,
}

/// What a prune removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PruneReport {
    /// Blobs deleted.
    pub blobs_removed: Vec<Digest>,
    /// Unpacked layers deleted.
    pub layers_removed: Vec<Digest>,
    /// Bytes of blobs deleted (layer directories are not measured).
    pub blob_bytes_freed: u64,
}

/// Removes every blob and unpacked layer of the store at `root` that `keep` does not
/// name and no snapshot uses. Holds the store lock exclusively, so it waits for other
/// processes' blob writes, extractions and snapshot creation to finish, and they wait
/// for it.
pub fn prune(root: &Path, keep: &PruneRoots) -> Result<PruneReport, SnapshotError> {
    let lock = FileLock::acquire(&store_lock_path(root), LockMode::Exclusive)?;
    prune_locked(root, keep, &lock)
}

/// Like [`prune`], for a caller that already holds the store lock exclusively (taken with
/// [`store_lock_path`]) — so that it can compute `keep` under the lock: roots read before
/// taking the lock could miss what a build wrote meanwhile.
pub fn prune_locked(
    root: &Path,
    keep: &PruneRoots,
    _exclusive: &FileLock,
) -> Result<PruneReport, SnapshotError> {
    let content = ContentStore::open(root)?;
    let layers = LayerStore::open(root)?;
    let mut keep_layers = keep.layers.clone();
    for info in list_infos(root)? {
        keep_layers.extend(info.parents);
    }
    let mut report = PruneReport::default();
    for blob in content.list()? {
        if keep.blobs.contains(&blob) {
            continue;
        }
        let size = content.size(&blob).unwrap_or(0);
        content.delete(&blob)?;
        report.blob_bytes_freed += size;
        report.blobs_removed.push(blob);
    }
    for layer in layers.list()? {
        if keep_layers.contains(&layer) {
            continue;
        }
        layers.delete_locked(&layer)?;
        report.layers_removed.push(layer);
    }
    clean_abandoned(&tmp_dir(root));
    Ok(report)
}
