//! Loading a multi-platform image from an OCI layout: the index and every image manifest
//! it lists (all platforms, attestation manifests included) with their configs and
//! layers, so that the stored index is complete and can be pushed as is.

use rbuild_snapshotter::Digest;

use super::staging::Staged;
use super::{copy_blob, copy_image};
use crate::error::{OciError, json_err};
use crate::model::{Descriptor, Index, Platform, media_types};
use crate::store::ImageStore;

/// Copies the index `entry` and everything it lists into the store; returns the image ID
/// to report (the host platform's config digest, else the first platform's).
pub(super) fn copy_index(
    store: &ImageStore,
    staged: &Staged,
    entry: &Descriptor,
) -> Result<Digest, OciError> {
    // The index blob goes in last: a stored index always has all its manifests.
    let bytes = staged.read(&format!("blobs/sha256/{}", entry.digest.hex()))?;
    let index: Index =
        serde_json::from_slice(&bytes).map_err(json_err(format!("index {}", entry.digest)))?;
    let mut ids: Vec<(Descriptor, Digest)> = Vec::new();
    for child in &index.manifests {
        if !media_types::is_manifest(&child.media_type) {
            return Err(OciError::Archive {
                path: staged.archive().to_path_buf(),
                reason: format!(
                    "index {} lists {} of type {:?}; only image manifests are supported in a \
                     multi-platform image",
                    entry.digest, child.digest, child.media_type
                ),
            });
        }
        ids.push((child.clone(), copy_image(store, staged, child)?));
    }
    copy_blob(store, staged, entry)?;
    let chosen = index.select(&Platform::host());
    ids.iter()
        .find(|(d, _)| chosen.is_some_and(|c| c.digest == d.digest))
        .or_else(|| ids.first())
        .map(|(_, id)| id.clone())
        .ok_or_else(|| OciError::Archive {
            path: staged.archive().to_path_buf(),
            reason: format!("index {} lists no manifests", entry.digest),
        })
}
