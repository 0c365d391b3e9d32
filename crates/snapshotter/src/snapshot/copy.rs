//! The copy backend: no overlayfs. The lower layers are merged into `lower/` (kept to diff
//! against) and copied again into `fs/` (the writable root); the diff walks both trees.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use crate::tree_diff::CtimeMark;
use crate::tree_merge::merge_layer_dir;

use super::error::{SnapIo, SnapshotError};

/// Builds `dir` as the merge of `layers` (bottom first).
pub(crate) fn merge_into(dir: &Path, layers: &[PathBuf]) -> Result<(), SnapshotError> {
    std::fs::create_dir_all(dir).snap_ctx("create directory", dir)?;
    for layer in layers {
        merge_layer_dir(layer, dir).snap_ctx("merge layer into", dir)?;
    }
    Ok(())
}

/// Copies the merged `lower` tree to `fs` and returns the ctime mark after which any
/// inode change in `fs` is a change made by the user of the snapshot.
pub(crate) fn copy_for_writing(
    lower: &Path,
    fs: &Path,
    mark_file: &Path,
) -> Result<CtimeMark, SnapshotError> {
    std::fs::create_dir_all(fs).snap_ctx("create directory", fs)?;
    merge_layer_dir(lower, fs).snap_ctx("copy lower tree to", fs)?;
    // The file system's own clock, as ctimes use it (not the process's clock).
    std::fs::write(mark_file, b"").snap_ctx("write", mark_file)?;
    let meta = std::fs::metadata(mark_file).snap_ctx("stat", mark_file)?;
    Ok((meta.ctime(), meta.ctime_nsec()))
}
