//! Compressed copies of stored layer blobs, made when an image leaves the store.
//!
//! Built layers are stored uncompressed (compressing during the build would put the
//! slowest step of an export on every build's critical path, as BuildKit and buildah also
//! avoid); an export or push compresses each layer it needs, once: the result is recorded
//! under `<root>/variants/` keyed by the source blob and the compression, so the next push
//! of the same layer reuses the blob. A record is only a hint: it is used when its blob is
//! still in the content store, and written atomically after the blob is.

use std::io::Write;
use std::path::PathBuf;

use rbuild_snapshotter::Digest;
use serde::{Deserialize, Serialize};

use super::ImageStore;
use crate::compress::{Compression, CompressionOptions, compress_known, decompressing_reader};
use crate::error::{IoContext, OciError, stream_err};
use crate::model::{Descriptor, media_types};

/// What a variant record holds.
#[derive(Debug, Serialize, Deserialize)]
struct VariantRecord {
    digest: Digest,
    size: u64,
}

impl ImageStore {
    fn variants_dir(&self) -> PathBuf {
        self.root().join("variants")
    }

    fn variant_path(&self, source: &Digest, options: CompressionOptions) -> PathBuf {
        self.variants_dir().join(format!(
            "{}.{}-{}",
            source.hex(),
            options.compression,
            options.effective_level()
        ))
    }

    /// The recorded compressed copy of `source`, if its blob is still here.
    fn recorded_variant(
        &self,
        source: &Digest,
        options: CompressionOptions,
    ) -> Option<(Digest, u64)> {
        let bytes = std::fs::read(self.variant_path(source, options)).ok()?;
        let record: VariantRecord = serde_json::from_slice(&bytes).ok()?;
        self.content()
            .contains(&record.digest)
            .then_some((record.digest, record.size))
    }

    /// `layer` (a stored layer blob) compressed as `options` says: the layer itself when it
    /// already is, else a recorded or newly made compressed copy. The uncompressed content
    /// is trusted, not hashed again: the content store verified it when it was written.
    pub fn layer_compressed_as(
        &self,
        layer: &Descriptor,
        options: CompressionOptions,
        oci_media_types: bool,
    ) -> Result<Descriptor, OciError> {
        let current = media_types::layer_compression(&layer.media_type).ok_or_else(|| {
            OciError::UnsupportedMediaType {
                media_type: layer.media_type.clone(),
                what: "a layer",
            }
        })?;
        let media_type = media_types::layer_media_type(options.compression, oci_media_types);
        if current == options.compression {
            return Ok(Descriptor {
                media_type: media_type.to_string(),
                ..layer.clone()
            });
        }
        let (digest, size) = match self.recorded_variant(&layer.digest, options) {
            Some(found) => found,
            None => self.make_variant(&layer.digest, current, options)?,
        };
        Ok(Descriptor {
            annotations: layer.annotations.clone(),
            ..Descriptor::new(media_type, digest, size)
        })
    }

    fn make_variant(
        &self,
        source: &Digest,
        current: Compression,
        options: CompressionOptions,
    ) -> Result<(Digest, u64), OciError> {
        let blob = self.content().open_blob(source)?;
        let action = || format!("compressing layer {source} with {}", options.compression);
        let tar: Box<dyn std::io::Read> = match current {
            Compression::Uncompressed => Box::new(blob),
            _ => decompressing_reader(blob).map_err(stream_err(action()))?,
        };
        let mut writer = self.content().writer()?;
        compress_known(tar, &mut writer, options).map_err(stream_err(action()))?;
        let (digest, size) = writer.commit(None)?;
        self.record_variant(source, options, &digest, size)?;
        Ok((digest, size))
    }

    fn record_variant(
        &self,
        source: &Digest,
        options: CompressionOptions,
        digest: &Digest,
        size: u64,
    ) -> Result<(), OciError> {
        let dir = self.variants_dir();
        std::fs::create_dir_all(&dir).ctx("create", dir.clone())?;
        let record = VariantRecord {
            digest: digest.clone(),
            size,
        };
        let bytes = serde_json::to_vec(&record)
            .map_err(crate::error::json_err("layer variant record".to_string()))?;
        let mut temp =
            tempfile::NamedTempFile::new_in(&dir).ctx("create temporary file in", dir)?;
        temp.write_all(&bytes)
            .ctx("write", temp.path().to_path_buf())?;
        let target = self.variant_path(source, options);
        temp.persist(&target)
            .map_err(|e| e.error)
            .ctx("write", target)?;
        Ok(())
    }

    /// The compressed copies of `sources` still recorded, for prune to keep with them.
    pub(super) fn variants_of<'a>(&self, sources: impl Iterator<Item = &'a Digest>) -> Vec<Digest> {
        let Ok(entries) = std::fs::read_dir(self.variants_dir()) else {
            return Vec::new();
        };
        let wanted: std::collections::BTreeSet<&str> = sources.map(|d| d.hex()).collect();
        entries
            .flatten()
            .filter(|entry| {
                let name = entry.file_name();
                let name = name.to_string_lossy();
                name.split_once('.')
                    .is_some_and(|(hex, _)| wanted.contains(hex))
            })
            .filter_map(|entry| std::fs::read(entry.path()).ok())
            .filter_map(|bytes| serde_json::from_slice::<VariantRecord>(&bytes).ok())
            .map(|record| record.digest)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ImageConfig, RootFs};
    use crate::store::tests::tiny_layer_tar;

    fn plain(store: &ImageStore, text: &str) -> Descriptor {
        let options = CompressionOptions {
            compression: Compression::Uncompressed,
            level: None,
        };
        let layer = store
            .add_layer(&tiny_layer_tar(text)[..], options, true)
            .unwrap();
        // A plain layer's blob is its tar: the same digest as its diff_id.
        assert_eq!(layer.diff_id, layer.descriptor.digest);
        layer.descriptor
    }

    fn blob_count(store: &ImageStore) -> usize {
        store.content().list().unwrap().len()
    }

    #[test]
    fn a_plain_layer_is_compressed_once_then_reused() {
        let dir = tempfile::tempdir().unwrap();
        let store = ImageStore::open(dir.path()).unwrap();
        let layer = plain(&store, "hello");
        let gzip = CompressionOptions::default();
        let first = store.layer_compressed_as(&layer, gzip, true).unwrap();
        assert_eq!(first.media_type, media_types::OCI_LAYER_GZIP);
        assert_ne!(first.digest, layer.digest);
        let blobs = blob_count(&store);
        let again = store.layer_compressed_as(&layer, gzip, true).unwrap();
        assert_eq!(again, first);
        assert_eq!(blob_count(&store), blobs, "no second blob");
        // The compressed blob holds the same tar.
        let mut tar = Vec::new();
        std::io::Read::read_to_end(
            &mut decompressing_reader(store.content().open_blob(&first.digest).unwrap()).unwrap(),
            &mut tar,
        )
        .unwrap();
        assert_eq!(tar, tiny_layer_tar("hello"));
        // Another compression is another variant; Docker media types for the same blob.
        let zstd = CompressionOptions {
            compression: Compression::Zstd,
            level: None,
        };
        let z = store.layer_compressed_as(&layer, zstd, true).unwrap();
        assert_eq!(z.media_type, media_types::OCI_LAYER_ZSTD);
        assert_ne!(z.digest, first.digest);
        let docker = store.layer_compressed_as(&layer, gzip, false).unwrap();
        assert_eq!(docker.digest, first.digest);
        assert_eq!(docker.media_type, media_types::DOCKER_LAYER_GZIP);
    }

    #[test]
    fn a_record_whose_blob_is_gone_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let store = ImageStore::open(dir.path()).unwrap();
        let layer = plain(&store, "hello");
        let gzip = CompressionOptions::default();
        let first = store.layer_compressed_as(&layer, gzip, true).unwrap();
        store.content().delete(&first.digest).unwrap();
        let again = store.layer_compressed_as(&layer, gzip, true).unwrap();
        assert_eq!(again.digest, first.digest, "deterministic output");
        assert!(store.content().contains(&again.digest));
    }

    #[test]
    fn prune_keeps_the_variants_of_named_images() {
        let dir = tempfile::tempdir().unwrap();
        let store = ImageStore::open(dir.path()).unwrap();
        let layer = plain(&store, "kept");
        let config = ImageConfig {
            architecture: "amd64".into(),
            os: "linux".into(),
            rootfs: RootFs {
                kind: "layers".into(),
                diff_ids: vec![layer.digest.clone()],
            },
            ..Default::default()
        };
        let manifest = store
            .write_image(&config, vec![layer.clone()], false)
            .unwrap();
        store
            .tag(&crate::Reference::parse("kept").unwrap(), &manifest.digest)
            .unwrap();
        let gzip = store
            .layer_compressed_as(&layer, CompressionOptions::default(), true)
            .unwrap();
        let orphan = plain(&store, "orphan");
        let orphan_gzip = store
            .layer_compressed_as(&orphan, CompressionOptions::default(), true)
            .unwrap();
        let keep = store.blobs_in_use().unwrap();
        assert!(keep.contains(&gzip.digest));
        assert!(!keep.contains(&orphan_gzip.digest));
    }
}
