//! Where things live under a store root. One place, so every module agrees.
//!
//! ```text
//! <root>/blobs/sha256/<hex>     blobs (content store)
//! <root>/blobs/recipes/<hex>    uncompressed layer blobs kept as a recipe (layer_recipe.rs)
//! <root>/layers/<hex>/          unpacked layers by diffID (overlay format, read-only use)
//! <root>/snapshots/<id>/        active snapshots and views (info.json + directories)
//! <root>/locks/                 per-layer lock files
//! <root>/store.lock             store-wide lock: shared for use, exclusive for prune
//! <root>/tmp/                   temporary entries, renamed into place when complete
//! ```

use std::path::{Path, PathBuf};

pub(crate) fn layers_dir(root: &Path) -> PathBuf {
    root.join("layers")
}

pub(crate) fn snapshots_dir(root: &Path) -> PathBuf {
    root.join("snapshots")
}

pub(crate) fn locks_dir(root: &Path) -> PathBuf {
    root.join("locks")
}

pub(crate) fn tmp_dir(root: &Path) -> PathBuf {
    root.join("tmp")
}

/// The store-wide lock file.
pub fn store_lock_path(root: &Path) -> PathBuf {
    root.join("store.lock")
}
