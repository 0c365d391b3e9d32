//! Multi-platform images in the store: a name may point at an image index (OCI index or
//! Docker manifest list) instead of a single manifest. The index and every platform's
//! manifest, config and layers are kept, so the whole index can be pushed again.
//!
//! Commands that need one image (run, `FROM`, inspect) get the manifest of the host's
//! platform from [`ImageStore::image`]; [`ImageStore::platform_images`] gives every
//! platform (push, prune, listing).

use rbuild_snapshotter::Digest;

use super::{ImageStore, StoredImage};
use crate::error::{OciError, json_err};
use crate::model::{Descriptor, Index, Platform, canonical_json, media_types};

/// An image index read back from the store.
#[derive(Debug, Clone)]
pub struct StoredIndex {
    /// Digest of the index blob.
    pub digest: Digest,
    /// Size of the index blob.
    pub size: u64,
    /// The index.
    pub index: Index,
}

impl StoredIndex {
    /// The media type to announce for this index: its own field, else OCI's.
    pub fn media_type(&self) -> &str {
        self.index
            .media_type
            .as_deref()
            .unwrap_or(media_types::OCI_INDEX)
    }

    /// A descriptor of the index.
    pub fn descriptor(&self) -> Descriptor {
        Descriptor::new(self.media_type(), self.digest.clone(), self.size)
    }

    /// The entries that are image manifests (not nested indexes or unknown artifacts).
    pub fn manifest_entries(&self) -> impl Iterator<Item = &Descriptor> {
        self.index
            .manifests
            .iter()
            .filter(|d| media_types::is_manifest(&d.media_type))
    }
}

/// Whether the JSON document `bytes` is an index rather than a manifest: by its media type,
/// or (OCI allows leaving it out) by having `manifests` and no `config`.
pub(super) fn is_index_document(bytes: &[u8]) -> bool {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(bytes) else {
        return false;
    };
    match value.get("mediaType").and_then(|m| m.as_str()) {
        Some(media_type) if media_types::is_index(media_type) => true,
        Some(media_type) if media_types::is_manifest(media_type) => false,
        _ => value.get("manifests").is_some() && value.get("config").is_none(),
    }
}

impl ImageStore {
    /// The index stored as `digest`, or None when that blob is a single-image manifest.
    pub fn stored_index(&self, digest: &Digest) -> Result<Option<StoredIndex>, OciError> {
        let bytes = self.read_blob(digest)?;
        if !is_index_document(&bytes) {
            return Ok(None);
        }
        let index: Index =
            serde_json::from_slice(&bytes).map_err(json_err(format!("index {digest}")))?;
        Ok(Some(StoredIndex {
            digest: digest.clone(),
            size: bytes.len() as u64,
            index,
        }))
    }

    /// The image for `platform` under `digest`: the manifest itself, or the index entry for
    /// that platform (a clear error naming the platforms there are when it has none).
    pub fn image_for_platform(
        &self,
        digest: &Digest,
        platform: &Platform,
    ) -> Result<StoredImage, OciError> {
        let Some(stored) = self.stored_index(digest)? else {
            return self.image(digest);
        };
        let chosen = stored
            .index
            .select(platform)
            .ok_or_else(|| OciError::NoMatchingPlatform {
                reference: format!("multi-platform image {digest}"),
                wanted: platform.to_string(),
                available: stored.index.platforms().join(", "),
            })?;
        self.image_for_platform(&chosen.digest, platform)
    }

    /// Every platform's image under `digest` that the store holds (one for a single-image
    /// manifest), each with its index entry (its descriptor in the index, with platform).
    pub fn platform_images(
        &self,
        digest: &Digest,
    ) -> Result<Vec<(Descriptor, StoredImage)>, OciError> {
        match self.stored_index(digest)? {
            None => {
                let image = self.image(digest)?;
                Ok(vec![(image.descriptor(), image)])
            }
            Some(stored) => {
                let mut images = Vec::new();
                for entry in stored.manifest_entries() {
                    if self.content().contains(&entry.digest) {
                        images.push((entry.clone(), self.image(&entry.digest)?));
                    }
                }
                Ok(images)
            }
        }
    }

    /// Writes an index listing `manifests` (descriptors carrying their platforms) and
    /// returns its descriptor. `docker_media_types` makes a Docker manifest list.
    pub fn write_index(
        &self,
        manifests: Vec<Descriptor>,
        docker_media_types: bool,
    ) -> Result<Descriptor, OciError> {
        let media_type = if docker_media_types {
            media_types::DOCKER_MANIFEST_LIST
        } else {
            media_types::OCI_INDEX
        };
        for entry in &manifests {
            self.image(&entry.digest)?;
        }
        let index = Index {
            schema_version: 2,
            media_type: Some(media_type.to_string()),
            manifests,
            annotations: None,
        };
        let bytes = canonical_json(&index).map_err(json_err(media_type.to_string()))?;
        let digest = self.content().put_bytes(&bytes)?;
        Ok(Descriptor::new(media_type, digest, bytes.len() as u64))
    }

    /// Fails unless `digest` is a stored manifest or index (before naming it).
    pub(super) fn check_stored(&self, digest: &Digest) -> Result<(), OciError> {
        match self.stored_index(digest)? {
            Some(_) => Ok(()),
            None => self.image(digest).map(|_| ()),
        }
    }

    /// The image that stands for `digest` in listings (the host's platform, else the first
    /// one), the bytes of content of all its platforms, and the platforms of an index.
    pub(super) fn summary_of(
        &self,
        digest: &Digest,
    ) -> Result<(StoredImage, u64, Vec<String>), OciError> {
        let Some(stored) = self.stored_index(digest)? else {
            let image = self.image(digest)?;
            let size = image.content_size();
            return Ok((image, size, Vec::new()));
        };
        let images = self.platform_images(digest)?;
        let host = Platform::host();
        let shown = match self.image_for_platform(digest, &host) {
            Ok(image) => image,
            Err(_) => match images.first() {
                Some((_, image)) => image.clone(),
                None => {
                    return Err(OciError::InvalidImage {
                        image: digest.to_string(),
                        reason: "none of its platforms' manifests is in the store".to_string(),
                    });
                }
            },
        };
        let mut blobs = std::collections::BTreeMap::new();
        for (_, image) in &images {
            blobs.insert(&image.manifest.config.digest, image.manifest.config.size);
            for layer in &image.manifest.layers {
                blobs.insert(&layer.digest, layer.size);
            }
        }
        let size = blobs.values().sum();
        Ok((shown, size, stored.index.platforms()))
    }
}

/// The index entry for `image`: its descriptor with the platform from its config.
pub fn platform_entry(image: &StoredImage) -> Descriptor {
    let mut descriptor = image.descriptor();
    descriptor.platform = Some(Platform {
        architecture: image.config.architecture.clone(),
        os: image.config.os.clone(),
        os_version: None,
        os_features: None,
        variant: image.config.variant.clone(),
    });
    descriptor
}
