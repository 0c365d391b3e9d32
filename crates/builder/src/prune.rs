//! Freeing store space: everything that no image name and no build-cache record uses.
//!
//! The roots are the blobs of every named (or kept-untagged) image and its layers' diffIDs,
//! plus the layer blob and diffID of every cache record, so a cached rebuild after a prune
//! still hits. With [`PruneOptions::all`] the cache records are dropped first, so only what
//! images use survives.

use std::path::Path;

use rbuild_oci::ImageStore;
use rbuild_snapshotter::{Digest, FileLock, LockMode, PruneReport, PruneRoots, store_lock_path};

use crate::cache::CacheIndex;

/// What to prune.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PruneOptions {
    /// Also forget the build cache (every record), then remove what images do not use.
    pub all: bool,
}

/// What a prune did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PruneOutcome {
    /// Cache records forgotten (only with [`PruneOptions::all`]).
    pub cache_records_removed: usize,
    /// Blobs and unpacked layers removed.
    pub store: PruneReport,
}

/// A prune could not finish; what was removed before the error stays removed.
#[derive(Debug, thiserror::Error)]
pub enum PruneError {
    #[error("cannot read the image store to find what is in use: {0}")]
    Images(#[from] rbuild_oci::OciError),
    #[error("cannot open the build cache: {0}")]
    Cache(#[from] crate::cache::CacheIndexError),
    #[error("cannot remove the build cache record {path}: {source}")]
    CacheRecord {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot remove unused blobs or layers: {0}")]
    Store(#[from] rbuild_snapshotter::SnapshotError),
}

/// Removes every blob and unpacked layer under the store `root` that no image and (unless
/// `options.all`) no cache record uses.
pub fn prune(root: &Path, options: PruneOptions) -> Result<PruneOutcome, PruneError> {
    let images = ImageStore::open(root)?;
    let cache = CacheIndex::open(root)?;
    // Builds hold the store lock shared for their whole run: taking it exclusively first
    // and reading the roots under it means nothing a build writes can be missed.
    let lock = FileLock::acquire(&store_lock_path(root), LockMode::Exclusive)
        .map_err(|e| PruneError::Store(e.into()))?;
    let mut outcome = PruneOutcome::default();
    if options.all {
        outcome.cache_records_removed = forget_cache_records(root)?;
    }
    let roots = roots(&images, &cache)?;
    outcome.store = rbuild_snapshotter::prune_locked(root, &roots, &lock)?;
    Ok(outcome)
}

/// What must survive: the images' blobs and diffIDs, and the cache records' layers.
pub fn roots(images: &ImageStore, cache: &CacheIndex) -> Result<PruneRoots, PruneError> {
    let mut roots = PruneRoots {
        blobs: images.blobs_in_use()?,
        ..PruneRoots::default()
    };
    let manifests: std::collections::BTreeSet<Digest> =
        images.names()?.names.into_values().collect();
    for manifest in manifests {
        let image = images.image(&manifest)?;
        roots
            .layers
            .extend(image.config.rootfs.diff_ids.iter().cloned());
    }
    for record in cache.records() {
        let Some(layer) = record.layer else {
            continue;
        };
        // A record whose digests do not parse names nothing in the store: nothing to keep.
        if let Ok(blob) = layer.digest.parse::<Digest>() {
            roots.blobs.insert(blob);
        }
        if let Ok(diff_id) = layer.diff_id.parse::<Digest>() {
            roots.layers.insert(diff_id);
        }
    }
    Ok(roots)
}

/// Deletes every cache record and the remembered inputs of steps (`<root>/cache`), returning
/// how many records went.
fn forget_cache_records(root: &Path) -> Result<usize, PruneError> {
    let mut removed = 0;
    for sub in ["records", "steps"] {
        let dir = root.join("cache").join(sub);
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            match std::fs::remove_file(&path) {
                Ok(()) => {
                    if sub == "records" {
                        removed += 1;
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(source) => {
                    return Err(PruneError::CacheRecord {
                        path: path.display().to_string(),
                        source,
                    });
                }
            }
        }
    }
    Ok(removed)
}
