//! Base images: found in the local store, or pulled (through the configured mirrors), and
//! their layers unpacked once into the shared layer store.

use rbuild_oci::model::{Descriptor, ImageConfig};
use rbuild_oci::{Reference, StoredImage};
use rbuild_snapshotter::{Digest, StoreError};

use super::error::BuildError;
use super::events::BuildEvent;
use super::session::Session;

/// A base image ready to build on.
#[derive(Debug, Clone)]
pub(crate) struct BaseImage {
    pub manifest_digest: Digest,
    pub config: ImageConfig,
    /// Layer blobs, bottom first.
    pub layers: Vec<Descriptor>,
    /// Unpacked layers (diffIDs), bottom first.
    pub diff_ids: Vec<Digest>,
}

impl Session<'_> {
    /// Finds `reference` locally or pulls it (always pulls when `--pull` was given), and
    /// unpacks its layers.
    pub fn base_image(&self, reference: &str) -> Result<BaseImage, BuildError> {
        let parsed = Reference::parse(reference).map_err(|e| BuildError::Request(e.to_string()))?;
        self.emit(BuildEvent::ResolvingImage {
            reference: reference.to_string(),
        });
        let local = if self.options.pull {
            None
        } else {
            self.images.resolve(&parsed.to_string()).ok()
        };
        let image = match local {
            Some(image) => image,
            None => {
                self.emit(BuildEvent::PullingImage {
                    reference: reference.to_string(),
                });
                let pulled = self.with_registry(|client| Ok(client.pull(&self.images, &parsed)?));
                match pulled {
                    Ok(report) => self.images.image(&report.manifest_digest)?,
                    // --pull with the registry unreachable: a local copy still builds.
                    Err(e) if self.options.pull => match self.images.resolve(&parsed.to_string()) {
                        Ok(image) => image,
                        Err(_) => return Err(e),
                    },
                    Err(e) => return Err(e),
                }
            }
        };
        unpack_image(&self.images, &self.snapshots, &image)
    }
}

/// Unpacks every layer of a stored image into the layer store (each layer once, shared by
/// all builds and runs).
pub(crate) fn unpack_image(
    images: &rbuild_oci::ImageStore,
    snapshots: &rbuild_snapshotter::Snapshotter,
    image: &StoredImage,
) -> Result<BaseImage, BuildError> {
    let diff_ids = image.config.rootfs.diff_ids.clone();
    if diff_ids.len() != image.manifest.layers.len() {
        return Err(BuildError::Request(format!(
            "image {} is inconsistent: {} layers but {} diff_ids",
            image.manifest_digest,
            image.manifest.layers.len(),
            diff_ids.len()
        )));
    }
    for (layer, diff_id) in image.manifest.layers.iter().zip(&diff_ids) {
        let content = images.content();
        snapshots.layers().unpack_with(diff_id, || {
            let blob = content.open_blob(&layer.digest)?;
            rbuild_oci::compress::decompressing_reader(blob).map_err(|source| StoreError::Io {
                action: "decompress layer",
                path: content.blob_path(&layer.digest),
                source,
            })
        })?;
    }
    Ok(BaseImage {
        manifest_digest: image.manifest_digest.clone(),
        config: image.config.clone(),
        layers: image.manifest.layers.clone(),
        diff_ids,
    })
}
