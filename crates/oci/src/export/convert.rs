//! Rewriting an image for an output's `oci-mediatypes=` and `force-compression=` options:
//! media types are switched without touching blobs; layers are recompressed only when
//! `force-compression` asks for a compression they do not have. The config blob is kept
//! byte for byte, so the image ID never changes.

use rbuild_snapshotter::Digest;

use crate::compress::decompressing_reader;
use crate::error::{OciError, stream_err};
use crate::model::{Descriptor, media_types};
use crate::output::OutputSpec;
use crate::store::ImageStore;

/// Returns the manifest digest of the image as `spec` wants it: `manifest_digest` itself
/// when nothing changes, else a new manifest written to the store.
pub fn convert_for_output(
    store: &ImageStore,
    manifest_digest: &Digest,
    spec: &OutputSpec,
) -> Result<Digest, OciError> {
    let image = store.image(manifest_digest)?;
    let stored_oci = !image.manifest.is_docker();
    let oci = spec.oci_media_types.unwrap_or(stored_oci);
    let wanted = spec.compression.compression;
    let mut changed = oci != stored_oci;
    let mut layers = Vec::new();
    for layer in &image.manifest.layers {
        let current = media_types::layer_compression(&layer.media_type).ok_or_else(|| {
            OciError::UnsupportedMediaType {
                media_type: layer.media_type.clone(),
                what: "a layer",
            }
        })?;
        if spec.force_compression && current != wanted {
            let blob = store.content().open_blob(&layer.digest)?;
            let tar = decompressing_reader(blob)
                .map_err(stream_err(format!("reading layer {}", layer.digest)))?;
            layers.push(store.add_layer(tar, spec.compression, oci)?.descriptor);
            changed = true;
        } else {
            let media_type = media_types::layer_media_type(current, oci);
            layers.push(Descriptor {
                media_type: media_type.to_string(),
                ..layer.clone()
            });
        }
    }
    if !changed {
        return Ok(manifest_digest.clone());
    }
    let config = Descriptor {
        media_type: if oci {
            media_types::OCI_CONFIG
        } else {
            media_types::DOCKER_CONFIG
        }
        .to_string(),
        ..image.manifest.config.clone()
    };
    Ok(store.write_manifest(config, layers, !oci)?.digest)
}
