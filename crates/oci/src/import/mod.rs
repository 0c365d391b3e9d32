//! Loading images from archives into the store: docker-archive tars (`docker save`,
//! `podman save`) and OCI layouts (directory or tar). The format is detected from the
//! content (`manifest.json` vs `index.json` + `oci-layout`).

mod multi_platform;
mod staging;

use std::io::Read;
use std::path::Path;

use rbuild_snapshotter::Digest;

use crate::compress::CompressionOptions;
use crate::error::{IoContext, OciError, json_err};
use crate::export::docker_archive::ArchiveManifestEntry;
use crate::export::oci_layout::entry_name;
use crate::model::{Descriptor, ImageConfig, Index, Manifest, media_types};
use crate::reference::Reference;
use crate::store::ImageStore;
use staging::Staged;

/// An image that was loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadedImage {
    /// Its manifest digest in the store.
    pub manifest_digest: Digest,
    /// Its image ID (config digest).
    pub id: Digest,
    /// The names it was tagged with.
    pub names: Vec<Reference>,
}

/// Loads every image of the archive (or OCI layout directory) at `path`.
pub fn load_path(store: &ImageStore, path: &Path) -> Result<Vec<LoadedImage>, OciError> {
    if path.is_dir() {
        return load_staged(store, &Staged::directory(path));
    }
    let file = std::fs::File::open(path).ctx("open", path)?;
    load_reader(store, file, path)
}

/// Loads every image of the archive read from `input` (`name` is used in messages).
pub fn load_reader<R: Read>(
    store: &ImageStore,
    input: R,
    name: &Path,
) -> Result<Vec<LoadedImage>, OciError> {
    let staging =
        tempfile::tempdir_in(store.root()).ctx("create temporary directory in", store.root())?;
    let staged = Staged::unpack(input, name, staging.path())?;
    load_staged(store, &staged)
}

fn load_staged(store: &ImageStore, staged: &Staged) -> Result<Vec<LoadedImage>, OciError> {
    if staged.has("manifest.json") {
        load_docker(store, staged)
    } else if staged.has("index.json") {
        load_oci(store, staged)
    } else {
        Err(OciError::Archive {
            path: staged.archive().to_path_buf(),
            reason: "it has neither manifest.json (docker-archive) nor index.json (OCI layout)"
                .to_string(),
        })
    }
}

fn load_docker(store: &ImageStore, staged: &Staged) -> Result<Vec<LoadedImage>, OciError> {
    let entries: Vec<ArchiveManifestEntry> = serde_json::from_slice(&staged.read("manifest.json")?)
        .map_err(json_err("manifest.json"))?;
    let mut loaded = Vec::new();
    for entry in entries {
        let config_bytes = staged.read(&entry.config)?;
        let config: ImageConfig =
            serde_json::from_slice(&config_bytes).map_err(json_err(entry.config.clone()))?;
        let config_digest = store.content().put_bytes(&config_bytes)?;
        let files = entry
            .layers
            .iter()
            .map(|layer| staged.path(layer))
            .collect::<Result<Vec<_>, _>>()?;
        let layers = store.add_layer_files(&files, CompressionOptions::default(), false)?;
        let diff_ids: Vec<&Digest> = layers.iter().map(|l| &l.diff_id).collect();
        if diff_ids != config.rootfs.diff_ids.iter().collect::<Vec<_>>() {
            return Err(OciError::Archive {
                path: staged.archive().to_path_buf(),
                reason: format!(
                    "the layers of {} do not match the config's diff_ids (layers hash to {:?})",
                    entry.config,
                    diff_ids.iter().map(ToString::to_string).collect::<Vec<_>>()
                ),
            });
        }
        let config_descriptor = Descriptor::new(
            media_types::DOCKER_CONFIG,
            config_digest.clone(),
            config_bytes.len() as u64,
        );
        let manifest = store.write_manifest(
            config_descriptor,
            layers.into_iter().map(|l| l.descriptor).collect(),
            true,
        )?;
        let mut names = Vec::new();
        for tag in entry.repo_tags.unwrap_or_default() {
            let reference = Reference::parse(&tag)?;
            store.tag(&reference, &manifest.digest)?;
            names.push(reference);
        }
        if names.is_empty() {
            store.keep_untagged(&manifest.digest)?;
        }
        loaded.push(LoadedImage {
            manifest_digest: manifest.digest,
            id: config_digest,
            names,
        });
    }
    Ok(loaded)
}

fn load_oci(store: &ImageStore, staged: &Staged) -> Result<Vec<LoadedImage>, OciError> {
    let index: Index =
        serde_json::from_slice(&staged.read("index.json")?).map_err(json_err("index.json"))?;
    let mut loaded: Vec<LoadedImage> = Vec::new();
    for entry in &index.manifests {
        // A multi-platform image is kept whole: the name points at its index.
        let (descriptor, id) = if media_types::is_index(&entry.media_type) {
            let id = multi_platform::copy_index(store, staged, entry)?;
            (entry.clone(), id)
        } else if media_types::is_manifest(&entry.media_type) {
            (entry.clone(), copy_image(store, staged, entry)?)
        } else {
            continue; // attestations and other artifacts
        };
        let name = entry_name(entry);
        match &name {
            Some(reference) => store.tag(reference, &descriptor.digest)?,
            None => store.keep_untagged(&descriptor.digest)?,
        }
        match loaded
            .iter_mut()
            .find(|l| l.manifest_digest == descriptor.digest)
        {
            Some(existing) => existing.names.extend(name),
            None => loaded.push(LoadedImage {
                manifest_digest: descriptor.digest.clone(),
                id,
                names: name.into_iter().collect(),
            }),
        }
    }
    Ok(loaded)
}

/// Copies the image manifest `descriptor` with its config and layers into the store and
/// returns the image ID (config digest).
fn copy_image(
    store: &ImageStore,
    staged: &Staged,
    descriptor: &Descriptor,
) -> Result<Digest, OciError> {
    let manifest: Manifest = serde_json::from_slice(&copy_blob(store, staged, descriptor)?)
        .map_err(json_err(format!("manifest {}", descriptor.digest)))?;
    copy_blob(store, staged, &manifest.config)?;
    for layer in &manifest.layers {
        copy_blob(store, staged, layer)?;
    }
    Ok(manifest.config.digest)
}

/// Copies `blobs/sha256/<hex>` into the content store, verifying its digest, and returns
/// its bytes when it is small (manifests, configs, indexes); large blobs return nothing.
fn copy_blob(
    store: &ImageStore,
    staged: &Staged,
    descriptor: &Descriptor,
) -> Result<Vec<u8>, OciError> {
    let digest = &descriptor.digest;
    if !store.content().contains(digest) {
        let path = staged.path(&format!("blobs/sha256/{}", digest.hex()))?;
        let mut file = std::fs::File::open(&path).ctx("open", &path)?;
        let mut writer = store.content().writer()?;
        std::io::copy(&mut file, &mut writer).ctx("copy", &path)?;
        writer.commit(Some(digest))?;
    }
    if descriptor.size <= 4 << 20 {
        store.read_blob(digest)
    } else {
        Ok(Vec::new())
    }
}
