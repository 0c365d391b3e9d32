//! Base images: a `--build-context` of that name (an image reference or an OCI layout),
//! else found in the local store, or pulled (through the configured mirrors); their layers
//! are unpacked once into the shared layer store.

use std::path::Path;

use rbuild_oci::model::{Descriptor, ImageConfig};
use rbuild_oci::{Reference, StoredImage};
use rbuild_snapshotter::{Digest, StoreError};

use super::error::BuildError;
use super::events::BuildEvent;
use super::options::BuildOptions;
use super::session::Session;
use crate::request::NamedContext;

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
        // A `--build-context` of that name wins over the store and the registry.
        if let Some(named) = self.named_context(reference) {
            return match named {
                NamedContext::Image(target) => self.stored_or_pulled(target),
                NamedContext::OciLayout { path, reference } => {
                    self.oci_layout_image(path, reference)
                }
                NamedContext::Directory(dir) => self.directory_image(reference, dir),
            };
        }
        self.stored_or_pulled(reference)
    }

    /// The `--build-context` named `name`: the name as written, or the same normalised
    /// image reference (`alpine` and `docker.io/library/alpine:latest` are one name).
    pub fn named_context(&self, name: &str) -> Option<&NamedContext> {
        let normalized = |n: &str| Reference::parse(n).ok().map(|r| r.to_string());
        let wanted = normalized(name);
        self.options
            .named_contexts
            .iter()
            .find(|(n, _)| n == name || (wanted.is_some() && normalized(n) == wanted))
            .map(|(_, context)| context)
    }

    /// The image tagged `reference` (a tag, or `sha256:...` digest) in an OCI layout
    /// directory, loaded into the store first.
    fn oci_layout_image(&self, layout: &Path, reference: &str) -> Result<BaseImage, BuildError> {
        let fail = |message: String| {
            BuildError::Request(format!(
                "--build-context oci-layout://{}:{reference}: {message}",
                layout.display()
            ))
        };
        let index_path = layout.join("index.json");
        let index: serde_json::Value = std::fs::read(&index_path)
            .map_err(|e| fail(format!("cannot read {}: {e}", index_path.display())))
            .and_then(|b| serde_json::from_slice(&b).map_err(|e| fail(e.to_string())))?;
        let entries = index
            .get("manifests")
            .and_then(|m| m.as_array())
            .cloned()
            .unwrap_or_default();
        let text = |entry: &serde_json::Value, pointer: &str| {
            entry
                .pointer(pointer)
                .and_then(|v| v.as_str())
                .map(str::to_string)
        };
        let matches = |entry: &serde_json::Value| {
            if reference.starts_with("sha256:") {
                return text(entry, "/digest").as_deref() == Some(reference);
            }
            text(entry, "/annotations/org.opencontainers.image.ref.name")
                .is_some_and(|name| name == reference || name.ends_with(&format!(":{reference}")))
        };
        let chosen = match entries.iter().find(|e| matches(e)) {
            Some(entry) => entry.clone(),
            // An untagged single-image layout is what `latest` means.
            None if entries.len() == 1 && reference == "latest" => entries[0].clone(),
            None => {
                return Err(fail(format!(
                    "no image with that tag or digest in {}",
                    index_path.display()
                )));
            }
        };
        let loaded =
            rbuild_oci::import::load_path(&self.images, layout).map_err(|e| fail(e.to_string()))?;
        let wanted = text(&chosen, "/digest");
        let image = match loaded
            .iter()
            .find(|l| Some(l.manifest_digest.to_string()) == wanted)
        {
            Some(image) => image,
            None if loaded.len() == 1 => &loaded[0],
            None => return Err(fail("the layout's index points at a multi-platform image among several; give its platform manifest's digest".into())),
        };
        let stored = self.images.image(&image.manifest_digest)?;
        unpack_image(&self.images, &self.snapshots, &stored)
    }

    /// A directory used as an image (`FROM NAME` of a directory `--build-context`): its
    /// files are the whole root file system, built as `FROM scratch` + `COPY . /` in the
    /// same store (so it is cached by content like any COPY).
    fn directory_image(&self, name: &str, dir: &Path) -> Result<BaseImage, BuildError> {
        if !dir.is_dir() {
            return Err(BuildError::Request(format!(
                "--build-context {name}={} is not a directory",
                dir.display()
            )));
        }
        let mut options = BuildOptions::new(dir)
            .dockerfile_text(
                format!("--build-context {name}"),
                "FROM scratch\nCOPY . /\n",
            )
            .store_root(&self.root)
            .compression(self.options.compression);
        if let Some(epoch) = self.options.source_date_epoch {
            options = options.source_date_epoch(epoch);
        }
        let outcome = super::build(&options)?;
        let stored = self.images.image(&outcome.manifest_digest)?;
        unpack_image(&self.images, &self.snapshots, &stored)
    }

    /// An image from the local store, or pulled.
    fn stored_or_pulled(&self, reference: &str) -> Result<BaseImage, BuildError> {
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
