//! Root file system exporters: the image's layers applied in order onto a directory
//! (`type=local`) or into a tar (`type=tar`), using the snapshotter's safe extractor
//! (no escapes through `..` or symbolic links; whiteouts delete).

use std::io::Write;
use std::path::Path;

use rbuild_snapshotter::{ExtractOptions, WhiteoutMode, extract_layer};

use crate::compress::decompressing_reader;
use crate::error::{IoContext, OciError, stream_err};
use crate::store::{ImageStore, StoredImage};

/// Applies the layers of `image` onto `dest` (created if missing).
pub fn write_rootfs_dir(
    store: &ImageStore,
    image: &StoredImage,
    dest: &Path,
) -> Result<(), OciError> {
    let options = ExtractOptions {
        whiteouts: WhiteoutMode::Apply,
        same_owner: true,
    };
    for layer in &image.manifest.layers {
        let blob = store.content().open_blob(&layer.digest)?;
        let tar = decompressing_reader(blob)
            .map_err(stream_err(format!("reading layer {}", layer.digest)))?;
        extract_layer(tar, dest, &options).map_err(|e| OciError::Stream {
            action: format!("extracting layer {} into {}", layer.digest, dest.display()),
            source: std::io::Error::other(e.to_string()),
        })?;
    }
    Ok(())
}

/// Writes the root file system of `image` as one tar to `out` (through a temporary
/// directory under the store root, so whiteouts are resolved).
pub fn write_rootfs_tar<W: Write>(
    store: &ImageStore,
    image: &StoredImage,
    out: W,
) -> Result<W, OciError> {
    let temp =
        tempfile::tempdir_in(store.root()).ctx("create temporary directory in", store.root())?;
    let rootfs = temp.path().join("rootfs");
    write_rootfs_dir(store, image, &rootfs)?;
    let mut builder = tar::Builder::new(out);
    builder.follow_symlinks(false);
    builder.mode(tar::HeaderMode::Complete);
    builder
        .append_dir_all(".", &rootfs)
        .map_err(stream_err(format!("writing {} to tar", rootfs.display())))?;
    builder
        .into_inner()
        .map_err(stream_err("finishing rootfs tar"))
}
