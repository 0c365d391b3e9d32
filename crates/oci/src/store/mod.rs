//! The local image store: images kept as manifest + config + layer blobs in the snapshotter's
//! content store, and a name index mapping references to manifest digests.
//!
//! An image's ID is its config digest (as in Docker); its identity in the store is its
//! manifest digest. Removing a name never deletes blobs: unreferenced blobs are left for
//! prune, which asks [`ImageStore::blobs_in_use`] what to keep. A name may also point at a
//! multi-platform index ([`index`]): single-image commands then get the host's platform.

mod index;
mod inspect;
mod layers;
mod names;
mod variants;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::{Path, PathBuf};

use rbuild_snapshotter::{ContentStore, Digest};
use serde::Serialize;

pub use index::{StoredIndex, platform_entry};
pub use layers::LayerBlob;
pub use names::NameIndex;

use crate::error::{OciError, json_err};
use crate::model::{Descriptor, ImageConfig, Manifest, canonical_json, media_types};
use crate::reference::Reference;
use names::NameFile;

/// The local image store under a store root.
#[derive(Debug, Clone)]
pub struct ImageStore {
    root: PathBuf,
    content: ContentStore,
    names: NameFile,
}

/// An image read back from the store.
#[derive(Debug, Clone)]
pub struct StoredImage {
    /// Digest of the manifest blob.
    pub manifest_digest: Digest,
    /// Size of the manifest blob.
    pub manifest_size: u64,
    /// The manifest.
    pub manifest: Manifest,
    /// The config.
    pub config: ImageConfig,
}

impl StoredImage {
    /// The image ID: the config digest.
    pub fn id(&self) -> &Digest {
        &self.manifest.config.digest
    }

    /// A descriptor of the manifest.
    pub fn descriptor(&self) -> Descriptor {
        Descriptor::new(
            self.manifest.effective_media_type(),
            self.manifest_digest.clone(),
            self.manifest_size,
        )
    }

    /// Bytes of content: config plus (compressed) layers.
    pub fn content_size(&self) -> u64 {
        self.manifest.config.size + self.manifest.layers.iter().map(|l| l.size).sum::<u64>()
    }
}

/// One row of `rbuild images`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImageSummary {
    /// Config digest.
    pub id: Digest,
    /// Manifest digest.
    pub manifest_digest: Digest,
    /// Tags, familiar form (`busybox:latest`).
    pub repo_tags: Vec<String>,
    /// Digest references, familiar form (`busybox@sha256:…`).
    pub repo_digests: Vec<String>,
    /// Creation time from the config.
    pub created: Option<String>,
    /// Content size in bytes (all platforms' blobs for a multi-platform image).
    pub size: u64,
    /// The platforms of a multi-platform image (empty for a single image).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub platforms: Vec<String>,
}

impl ImageStore {
    /// Opens the store at `root` (creating its directories).
    pub fn open(root: &Path) -> Result<Self, OciError> {
        Ok(ImageStore {
            root: root.to_path_buf(),
            content: ContentStore::open(root)?,
            names: NameFile::open(root)?,
        })
    }

    /// The store root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The underlying blob store.
    pub fn content(&self) -> &ContentStore {
        &self.content
    }

    /// Stores `value` as canonical JSON and returns its descriptor.
    pub fn put_json<T: Serialize>(
        &self,
        value: &T,
        media_type: &str,
    ) -> Result<Descriptor, OciError> {
        let bytes = canonical_json(value).map_err(json_err(media_type.to_string()))?;
        let digest = self.content.put_bytes(&bytes)?;
        Ok(Descriptor::new(media_type, digest, bytes.len() as u64))
    }

    /// Reads a whole (small) blob.
    pub fn read_blob(&self, digest: &Digest) -> Result<Vec<u8>, OciError> {
        let mut bytes = Vec::new();
        self.content
            .open_blob(digest)?
            .read_to_end(&mut bytes)
            .map_err(|source| OciError::Io {
                action: "read blob",
                path: self.content.blob_path(digest),
                source,
            })?;
        Ok(bytes)
    }

    /// Writes the config and a manifest for `layers`, returning the manifest's descriptor.
    /// `docker_media_types` picks Docker schema 2 types instead of OCI ones.
    pub fn write_image(
        &self,
        config: &ImageConfig,
        layers: Vec<Descriptor>,
        docker_media_types: bool,
    ) -> Result<Descriptor, OciError> {
        let config_type = if docker_media_types {
            media_types::DOCKER_CONFIG
        } else {
            media_types::OCI_CONFIG
        };
        if config.rootfs.diff_ids.len() != layers.len() {
            return Err(OciError::InvalidImage {
                image: "new image".to_string(),
                reason: format!(
                    "{} layers but {} diff_ids in the config",
                    layers.len(),
                    config.rootfs.diff_ids.len()
                ),
            });
        }
        let config = self.put_json(config, config_type)?;
        self.write_manifest(config, layers, docker_media_types)
    }

    /// Writes a manifest for a config blob already stored (kept byte for byte, so the image
    /// ID does not change) and `layers`.
    pub fn write_manifest(
        &self,
        config: Descriptor,
        layers: Vec<Descriptor>,
        docker_media_types: bool,
    ) -> Result<Descriptor, OciError> {
        let manifest_type = if docker_media_types {
            media_types::DOCKER_MANIFEST
        } else {
            media_types::OCI_MANIFEST
        };
        let manifest = Manifest {
            schema_version: 2,
            media_type: Some(manifest_type.to_string()),
            artifact_type: None,
            config,
            layers,
            subject: None,
            annotations: None,
        };
        self.put_json(&manifest, manifest_type)
    }

    /// Reads the image whose manifest has `manifest_digest`; for an index, the host
    /// platform's image ([`ImageStore::image_for_platform`]).
    pub fn image(&self, manifest_digest: &Digest) -> Result<StoredImage, OciError> {
        let bytes = self.read_blob(manifest_digest)?;
        if index::is_index_document(&bytes) {
            return self.image_for_platform(manifest_digest, &crate::model::Platform::host());
        }
        let manifest: Manifest = serde_json::from_slice(&bytes)
            .map_err(json_err(format!("manifest {manifest_digest}")))?;
        let config_bytes = self.read_blob(&manifest.config.digest)?;
        let config: ImageConfig = serde_json::from_slice(&config_bytes)
            .map_err(json_err(format!("config {}", manifest.config.digest)))?;
        Ok(StoredImage {
            manifest_digest: manifest_digest.clone(),
            manifest_size: bytes.len() as u64,
            manifest,
            config,
        })
    }

    /// The current name index.
    pub fn names(&self) -> Result<NameIndex, OciError> {
        self.names.read()
    }

    /// Finds the manifest digest for a name (`busybox`, `host/x:tag`, `x@sha256:…`) or an
    /// image ID / ID prefix (`sha256:ab12…`, `ab12…`), like `docker inspect` does.
    pub fn lookup(&self, name_or_id: &str) -> Result<Digest, OciError> {
        let index = self.names.read()?;
        if let Ok(reference) = Reference::parse(name_or_id) {
            if let Some(digest) = index.names.get(&reference.to_string()) {
                return Ok(digest.clone());
            }
            // A bare digest reference whose manifest is stored, even without that name.
            if let Some(digest) = reference.digest()
                && reference.tag().is_none()
                && index.names.values().any(|d| d == digest)
            {
                return Ok(digest.clone());
            }
        }
        self.lookup_id(&index, name_or_id)
    }

    fn lookup_id(&self, index: &NameIndex, text: &str) -> Result<Digest, OciError> {
        // A full manifest digest names a stored image even when nothing else does.
        if let Ok(digest) = text.parse::<Digest>()
            && self.content.contains(&digest)
            && self.check_stored(&digest).is_ok()
        {
            return Ok(digest);
        }
        let prefix = text.strip_prefix("sha256:").unwrap_or(text);
        let is_hex = !prefix.is_empty() && prefix.bytes().all(|b| b.is_ascii_hexdigit());
        if !is_hex {
            return Err(OciError::ImageNotFound(text.to_string()));
        }
        let prefix = prefix.to_ascii_lowercase();
        let mut matches: BTreeMap<Digest, Digest> = BTreeMap::new();
        for manifest_digest in index.names.values().collect::<BTreeSet<_>>() {
            // An index without the host's platform has no ID here, only its digest.
            let id = self.image(manifest_digest).map(|i| i.id().clone());
            let id_matches = id.as_ref().is_ok_and(|id| id.hex().starts_with(&prefix));
            if id_matches || manifest_digest.hex().starts_with(&prefix) {
                let key = id.unwrap_or_else(|_| manifest_digest.clone());
                matches.insert(key, manifest_digest.clone());
            }
        }
        let ids = matches.keys().map(ToString::to_string).collect::<Vec<_>>();
        let mut found = matches.into_values();
        match (found.next(), found.next()) {
            (Some(only), None) => Ok(only),
            (None, _) => Err(OciError::ImageNotFound(text.to_string())),
            (Some(_), Some(_)) => Err(OciError::AmbiguousId {
                prefix: text.to_string(),
                matches: ids.join(", "),
            }),
        }
    }

    /// Reads the image `name_or_id` refers to.
    pub fn resolve(&self, name_or_id: &str) -> Result<StoredImage, OciError> {
        self.image(&self.lookup(name_or_id)?).map_err(|e| match e {
            OciError::NoMatchingPlatform {
                wanted, available, ..
            } => OciError::NoMatchingPlatform {
                reference: name_or_id.to_string(),
                wanted,
                available,
            },
            other => other,
        })
    }

    /// Points `reference` at the image with `manifest_digest` (which must be stored).
    pub fn tag(&self, reference: &Reference, manifest_digest: &Digest) -> Result<(), OciError> {
        // Fail before naming something we cannot read back.
        self.check_stored(manifest_digest)?;
        self.names.update(|index| {
            index
                .names
                .insert(reference.to_string(), manifest_digest.clone());
            Ok(())
        })
    }

    /// Records that the image was pulled from / pushed to `name@digest`.
    pub fn add_repo_digest(
        &self,
        reference: &Reference,
        manifest_digest: &Digest,
    ) -> Result<(), OciError> {
        let pinned = reference.with_digest(manifest_digest.clone());
        self.names.update(|index| {
            index
                .names
                .insert(pinned.to_string(), manifest_digest.clone());
            Ok(())
        })
    }

    /// Keeps an image that has no name (e.g. loaded from an archive without names) visible
    /// in `rbuild images` as `<none>`, by its manifest digest.
    pub fn keep_untagged(&self, manifest_digest: &Digest) -> Result<(), OciError> {
        self.check_stored(manifest_digest)?;
        self.names.update(|index| {
            let already = index.names.values().any(|d| d == manifest_digest);
            if !already {
                index
                    .names
                    .insert(format!("@{manifest_digest}"), manifest_digest.clone());
            }
            Ok(())
        })
    }

    /// Removes a name (or, for an image ID, every name of that image). When the last tag
    /// of an image goes, its digest references go too. Returns the removed names. Blobs stay
    /// until prune. With several tags, removing by ID needs `force`, as in Docker.
    pub fn remove(&self, name_or_id: &str, force: bool) -> Result<Vec<String>, OciError> {
        let target = self.lookup(name_or_id)?;
        let by_name = Reference::parse(name_or_id).ok().filter(|r| {
            self.names
                .read()
                .is_ok_and(|i| i.names.contains_key(&r.to_string()))
        });
        self.names.update(|index| {
            let mut removed = Vec::new();
            match &by_name {
                Some(reference) => {
                    index.names.remove(&reference.to_string());
                    removed.push(reference.to_string());
                }
                None => {
                    let tags: Vec<String> = index
                        .names
                        .iter()
                        .filter(|(name, d)| **d == target && !name.contains('@'))
                        .map(|(name, _)| name.clone())
                        .collect();
                    if tags.len() > 1 && !force {
                        return Err(OciError::InvalidImage {
                            image: name_or_id.to_string(),
                            reason: format!(
                                "it is tagged {}; remove the tags one by one or use --force",
                                tags.join(", ")
                            ),
                        });
                    }
                    for tag in tags {
                        index.names.remove(&tag);
                        removed.push(tag);
                    }
                }
            }
            let still_tagged = index
                .names
                .iter()
                .any(|(name, d)| *d == target && !name.contains('@'));
            if !still_tagged {
                let pinned: Vec<String> = index
                    .names
                    .iter()
                    .filter(|(_, d)| **d == target)
                    .map(|(name, _)| name.clone())
                    .collect();
                for name in pinned {
                    index.names.remove(&name);
                    removed.push(name);
                }
            }
            Ok(removed)
        })
    }

    /// Every image in the store with its names, newest first.
    pub fn list(&self) -> Result<Vec<ImageSummary>, OciError> {
        let index = self.names.read()?;
        let mut by_manifest: BTreeMap<Digest, (Vec<String>, Vec<String>)> = BTreeMap::new();
        for (name, digest) in &index.names {
            let entry = by_manifest.entry(digest.clone()).or_default();
            match Reference::parse(name) {
                Ok(r) if r.digest().is_some() => entry.1.push(r.familiar()),
                Ok(r) => entry.0.push(r.familiar()),
                // `@sha256:…` keeps an unnamed image listed.
                Err(_) => {}
            }
        }
        let mut rows = Vec::new();
        for (manifest_digest, (repo_tags, repo_digests)) in by_manifest {
            let (image, size, platforms) = self.summary_of(&manifest_digest)?;
            rows.push(ImageSummary {
                id: image.id().clone(),
                manifest_digest,
                repo_tags,
                repo_digests,
                created: image.config.created.clone(),
                size,
                platforms,
            });
        }
        rows.sort_by(|a, b| b.created.cmp(&a.created).then(a.id.cmp(&b.id)));
        Ok(rows)
    }

    /// `docker image inspect`-style JSON for `name_or_id`.
    pub fn inspect(&self, name_or_id: &str) -> Result<serde_json::Value, OciError> {
        let image = self.resolve(name_or_id)?;
        let mut index = self.names.read()?;
        // Names of a multi-platform image point at its index: show them on the platform
        // image inspected.
        let target = self.lookup(name_or_id)?;
        if target != image.manifest_digest {
            for digest in index.names.values_mut().filter(|d| **d == target) {
                *digest = image.manifest_digest.clone();
            }
        }
        Ok(inspect::inspect_json(&image, &index))
    }

    /// Every blob that named images use (indexes and every platform's manifests, configs
    /// and layers), for prune.
    pub fn blobs_in_use(&self) -> Result<BTreeSet<Digest>, OciError> {
        let mut keep = BTreeSet::new();
        for digest in self.names.read()?.names.values().collect::<BTreeSet<_>>() {
            keep.insert(digest.clone());
            for (_, image) in self.platform_images(digest)? {
                keep.insert(image.manifest_digest.clone());
                keep.insert(image.manifest.config.digest.clone());
                keep.extend(image.manifest.layers.iter().map(|l| l.digest.clone()));
            }
        }
        // Compressed copies of the kept layers, read from their records in one pass.
        let variants = self.variants_of(keep.iter());
        keep.extend(variants);
        Ok(keep)
    }
}

#[cfg(test)]
mod tests;
