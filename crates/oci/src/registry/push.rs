//! Pushing an image from the local store.

use std::io::Read;
use std::path::PathBuf;

use bytes::Bytes;
use oci_client::RegistryOperation;
use oci_client::errors::OciDistributionError;
use rbuild_snapshotter::Digest;

use super::client::{RegistryClient, oci_reference, registry_error};
use crate::error::OciError;
use crate::model::Descriptor;
use crate::reference::Reference;
use crate::store::{ImageStore, StoredImage};

/// Upload chunk size: each chunk is one PATCH request, and the most memory an upload holds.
const UPLOAD_CHUNK: usize = 4 << 20;

/// What a push did with each blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushReport {
    /// The manifest digest pushed.
    pub manifest_digest: Digest,
    /// Blobs uploaded.
    pub uploaded: Vec<Digest>,
    /// Blobs the registry already had in the target repository.
    pub skipped: Vec<Digest>,
    /// Blobs mounted from another repository of the same registry.
    pub mounted: Vec<Digest>,
}

impl RegistryClient {
    /// Pushes the local image `source` (name or ID) as `target`: one image, or, for a
    /// multi-platform image, every platform's image and then the index.
    pub fn push(
        &self,
        store: &ImageStore,
        source: &str,
        target: &Reference,
    ) -> Result<PushReport, OciError> {
        let digest = store.lookup(source)?;
        let report = match store.stored_index(&digest)? {
            Some(index) => self.push_index(store, &index, target)?,
            None => self.push_manifest(store, &digest, target)?,
        };
        store.add_repo_digest(target, &report.manifest_digest)?;
        Ok(report)
    }

    /// Pushes the image with manifest `manifest_digest` and its blobs as `target` (by its
    /// tag, else by the digest of the manifest pushed).
    pub(super) fn push_manifest(
        &self,
        store: &ImageStore,
        manifest_digest: &Digest,
        target: &Reference,
    ) -> Result<PushReport, OciError> {
        let image = store.image(manifest_digest)?;
        // Layers built here are stored uncompressed; registries get them gzip-compressed
        // (made once, then reused by later pushes).
        let image = store.image(&crate::export::distributable(
            store,
            &image.manifest_digest,
            crate::compress::CompressionOptions::default(),
        )?)?;
        let host = target.registry().to_string();
        let client = self.oci_client(&host);
        let auth = self.auth(&host)?;
        let destination = oci_reference(&host, target);
        let mount_sources = mount_sources(store, &image, target)?;
        let mut report = PushReport {
            manifest_digest: image.manifest_digest.clone(),
            uploaded: Vec::new(),
            skipped: Vec::new(),
            mounted: Vec::new(),
        };
        self.runtime.block_on(async {
            client
                .auth(&destination, &auth, RegistryOperation::Push)
                .await
                .map_err(|e| {
                    registry_error(&host, &format!("authenticating to push {target}"), &e)
                })?;
            let mut blobs: Vec<&Descriptor> = image.manifest.layers.iter().collect();
            blobs.push(&image.manifest.config);
            for blob in blobs {
                let digest = blob.digest.to_string();
                let exists = client
                    .blob_exists(&destination, &digest)
                    .await
                    .map_err(|e| registry_error(&host, &format!("checking blob {digest}"), &e))?;
                if exists {
                    report.skipped.push(blob.digest.clone());
                    continue;
                }
                let mut mounted = false;
                for (from, blobs) in &mount_sources {
                    if !blobs.contains(&blob.digest) {
                        continue;
                    }
                    let source = oci_client::Reference::with_tag(
                        host.clone(),
                        from.clone(),
                        "latest".into(),
                    );
                    // A refused mount (202: the registry started an upload instead) is fine:
                    // we upload below.
                    if client
                        .mount_blob(&destination, &source, &digest)
                        .await
                        .is_ok()
                    {
                        mounted = true;
                        break;
                    }
                }
                if mounted {
                    report.mounted.push(blob.digest.clone());
                    continue;
                }
                // A built layer kept as a recipe gets its file here (once; it stays).
                let path = store.content().materialize(&blob.digest)?;
                client
                    .push_blob_stream(&destination, file_chunks(path)?, &digest, Some(blob.size))
                    .await
                    .map_err(|e| registry_error(&host, &format!("uploading blob {digest}"), &e))?;
                report.uploaded.push(blob.digest.clone());
            }
            let manifest = store.read_blob(&image.manifest_digest)?;
            let content_type = image
                .manifest
                .effective_media_type()
                .parse()
                .map_err(|e| registry_error(&host, "manifest media type", &e))?;
            let tagged = match target.tag() {
                Some(tag) => oci_client::Reference::with_tag(
                    host.clone(),
                    target.repository().to_string(),
                    tag.to_string(),
                ),
                None => oci_client::Reference::with_digest(
                    host.clone(),
                    target.repository().to_string(),
                    image.manifest_digest.to_string(),
                ),
            };
            client
                .push_manifest_raw(&tagged, manifest, content_type)
                .await
                .map_err(|e| {
                    registry_error(&host, &format!("pushing manifest for {target}"), &e)
                })?;
            Ok::<(), OciError>(())
        })?;
        Ok(report)
    }
}

/// Other repositories of the target registry that the store knows hold some of the image's
/// blobs (from earlier pulls and pushes), with those blobs.
fn mount_sources(
    store: &ImageStore,
    image: &StoredImage,
    target: &Reference,
) -> Result<Vec<(String, Vec<Digest>)>, OciError> {
    let wanted: Vec<&Digest> = image
        .manifest
        .layers
        .iter()
        .map(|l| &l.digest)
        .chain(std::iter::once(&image.manifest.config.digest))
        .collect();
    let mut sources: Vec<(String, Vec<Digest>)> = Vec::new();
    for (name, manifest_digest) in store.names()?.names {
        let Ok(reference) = Reference::parse(&name) else {
            continue;
        };
        if reference.registry() != target.registry()
            || reference.repository() == target.repository()
        {
            continue;
        }
        // Every platform of a multi-platform image there can lend its blobs.
        let Ok(others) = store.platform_images(&manifest_digest) else {
            continue;
        };
        let mut shared: Vec<Digest> = others
            .iter()
            .flat_map(|(_, other)| {
                other
                    .manifest
                    .layers
                    .iter()
                    .map(|l| &l.digest)
                    .chain(std::iter::once(&other.manifest.config.digest))
            })
            .filter(|d| wanted.contains(d))
            .cloned()
            .collect();
        shared.sort();
        shared.dedup();
        if shared.is_empty() {
            continue;
        }
        match sources
            .iter_mut()
            .find(|(repo, _)| repo == reference.repository())
        {
            Some((_, blobs)) => blobs.extend(shared),
            None => sources.push((reference.repository().to_string(), shared)),
        }
    }
    Ok(sources)
}

/// The blob file as a stream of chunks, read as the upload goes (never whole in memory).
fn file_chunks(
    path: PathBuf,
) -> Result<
    impl futures_util::Stream<Item = Result<Bytes, OciDistributionError>> + Send + 'static,
    OciError,
> {
    let file = std::fs::File::open(&path).map_err(|source| OciError::Io {
        action: "open blob",
        path: path.clone(),
        source,
    })?;
    Ok(futures_util::stream::try_unfold(
        file,
        |mut file| async move {
            let mut buffer = vec![0u8; UPLOAD_CHUNK];
            let mut filled = 0;
            while filled < buffer.len() {
                match file.read(&mut buffer[filled..]) {
                    Ok(0) => break,
                    Ok(n) => filled += n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(OciDistributionError::IoError(e)),
                }
            }
            if filled == 0 {
                return Ok(None);
            }
            buffer.truncate(filled);
            Ok(Some((Bytes::from(buffer), file)))
        },
    ))
}
