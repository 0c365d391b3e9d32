//! Rewriting an image for an output's `compression=`, `oci-mediatypes=` and
//! `force-compression=` options, as BuildKit applies them: layers stored uncompressed
//! (everything rbuild built) get the output's compression; layers that already have a
//! compression (pulled base layers) keep it unless `force-compression=true` asks for
//! another. Compressed copies are made once and reused ([`ImageStore::layer_compressed_as`]),
//! several layers at once. The config blob is kept byte for byte, so the image ID never
//! changes.

use rbuild_snapshotter::Digest;

use crate::compress::pool::for_each_in_lanes;
use crate::compress::{Compression, CompressionOptions};
use crate::error::OciError;
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
    convert_layers(
        store,
        manifest_digest,
        spec.compression,
        spec.force_compression,
        spec.oci_media_types,
    )
}

/// The image `manifest_digest` ready to leave the store for a registry: every uncompressed
/// layer compressed with `compression` (registries and runtimes expect compressed layers),
/// media types unchanged. `rbuild push` uses it.
pub fn distributable(
    store: &ImageStore,
    manifest_digest: &Digest,
    compression: CompressionOptions,
) -> Result<Digest, OciError> {
    convert_layers(store, manifest_digest, compression, false, None)
}

fn convert_layers(
    store: &ImageStore,
    manifest_digest: &Digest,
    compression: CompressionOptions,
    force: bool,
    oci_media_types: Option<bool>,
) -> Result<Digest, OciError> {
    let image = store.image(manifest_digest)?;
    let stored_oci = !image.manifest.is_docker();
    let oci = oci_media_types.unwrap_or(stored_oci);
    let wanted = compression.compression;
    let mut plans = Vec::new();
    for layer in &image.manifest.layers {
        let current = media_types::layer_compression(&layer.media_type).ok_or_else(|| {
            OciError::UnsupportedMediaType {
                media_type: layer.media_type.clone(),
                what: "a layer",
            }
        })?;
        let recompress = current != wanted && (current == Compression::Uncompressed || force);
        plans.push((layer, current, recompress));
    }
    let layers = compress_layers(store, &plans, compression, oci)?;
    let changed = layers
        .iter()
        .zip(&image.manifest.layers)
        .any(|(new, old)| new != old)
        || oci != stored_oci;
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

/// Each planned layer as the output wants it, the ones to compress several at once.
fn compress_layers(
    store: &ImageStore,
    plans: &[(&Descriptor, Compression, bool)],
    compression: CompressionOptions,
    oci: bool,
) -> Result<Vec<Descriptor>, OciError> {
    for_each_in_lanes(
        plans,
        |(layer, current, recompress)| {
            if *recompress {
                store.layer_compressed_as(layer, compression, oci)
            } else {
                Ok(Descriptor {
                    media_type: media_types::layer_media_type(*current, oci).to_string(),
                    ..(*layer).clone()
                })
            }
        },
        |(layer, _, _)| format!("compressing layer {}", layer.digest),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ImageConfig, RootFs};

    fn layer_tar(text: &str) -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        let mut header = tar::Header::new_gnu();
        header.set_size(text.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(0);
        header.set_cksum();
        builder
            .append_data(&mut header, "f.txt", text.as_bytes())
            .unwrap();
        builder.into_inner().unwrap()
    }

    /// An image whose base layer is gzip (as pulled) and whose top layer is plain (as built).
    fn pulled_base_built_top(store: &ImageStore) -> Digest {
        let gzip = store
            .add_layer(&layer_tar("base")[..], CompressionOptions::default(), true)
            .unwrap();
        let plain = store
            .add_layer(
                &layer_tar("top")[..],
                CompressionOptions {
                    compression: Compression::Uncompressed,
                    level: None,
                },
                true,
            )
            .unwrap();
        let config = ImageConfig {
            architecture: "amd64".into(),
            os: "linux".into(),
            rootfs: RootFs {
                kind: "layers".into(),
                diff_ids: vec![gzip.diff_id, plain.diff_id],
            },
            ..Default::default()
        };
        store
            .write_image(&config, vec![gzip.descriptor, plain.descriptor], false)
            .unwrap()
            .digest
    }

    fn layer_types(store: &ImageStore, manifest: &Digest) -> Vec<String> {
        store
            .image(manifest)
            .unwrap()
            .manifest
            .layers
            .iter()
            .map(|l| l.media_type.clone())
            .collect()
    }

    #[test]
    fn built_layers_get_the_outputs_compression_and_pulled_ones_keep_theirs() {
        let dir = tempfile::tempdir().unwrap();
        let store = ImageStore::open(dir.path()).unwrap();
        let stored = pulled_base_built_top(&store);
        let id = store.image(&stored).unwrap().manifest.config.digest;

        let default = OutputSpec::parse("type=oci,dest=/nowhere").unwrap();
        let out = convert_for_output(&store, &stored, &default).unwrap();
        assert_eq!(
            layer_types(&store, &out),
            [media_types::OCI_LAYER_GZIP, media_types::OCI_LAYER_GZIP]
        );
        assert_eq!(store.image(&out).unwrap().manifest.config.digest, id);

        let zstd = OutputSpec::parse("type=oci,dest=/nowhere,compression=zstd").unwrap();
        let out = convert_for_output(&store, &stored, &zstd).unwrap();
        assert_eq!(
            layer_types(&store, &out),
            [media_types::OCI_LAYER_GZIP, media_types::OCI_LAYER_ZSTD]
        );

        let forced =
            OutputSpec::parse("type=oci,dest=/nowhere,compression=zstd,force-compression=true")
                .unwrap();
        let out = convert_for_output(&store, &stored, &forced).unwrap();
        assert_eq!(
            layer_types(&store, &out),
            [media_types::OCI_LAYER_ZSTD, media_types::OCI_LAYER_ZSTD]
        );
        assert_eq!(store.image(&out).unwrap().manifest.config.digest, id);

        let plain =
            OutputSpec::parse("type=docker,dest=/nowhere,compression=uncompressed").unwrap();
        assert_eq!(convert_for_output(&store, &stored, &plain).unwrap(), stored);
    }

    #[test]
    fn distributable_compresses_only_plain_layers_and_is_stable() {
        let dir = tempfile::tempdir().unwrap();
        let store = ImageStore::open(dir.path()).unwrap();
        let stored = pulled_base_built_top(&store);
        let first = distributable(&store, &stored, CompressionOptions::default()).unwrap();
        let second = distributable(&store, &stored, CompressionOptions::default()).unwrap();
        assert_eq!(first, second);
        assert_ne!(first, stored);
        let image = store.image(&first).unwrap();
        assert!(
            image.manifest.layers.iter().all(|l| {
                media_types::layer_compression(&l.media_type) == Some(Compression::Gzip)
            })
        );
        // Compressing what is already compressed changes nothing.
        assert_eq!(
            distributable(&store, &first, CompressionOptions::default()).unwrap(),
            first
        );
    }
}
