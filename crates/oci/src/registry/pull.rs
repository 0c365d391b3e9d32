//! Pulling an image into the local store.

use std::io::Write;

use futures_util::{StreamExt, TryStreamExt};
use oci_client::errors::DigestError;
use oci_client::manifest::OciDescriptor;
use oci_client::secrets::RegistryAuth;
use rbuild_snapshotter::{ContentStore, Digest, StoreError};

use super::client::{RegistryClient, oci_reference, registry_error};
use super::pull_index::pull_whole_index;
use crate::error::{OciError, json_err};
use crate::model::{Descriptor, Index, Manifest, media_types};
use crate::reference::Reference;
use crate::store::ImageStore;

/// Parallel blob downloads per pull.
pub(super) const PARALLEL_DOWNLOADS: usize = 4;

/// What a pull did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullReport {
    /// The host the image came from (a mirror or the registry itself).
    pub source: String,
    /// The digest stored under the name: the platform's manifest, or the index when every
    /// platform was pulled ([`RegistryClient::with_all_platforms`]).
    pub manifest_digest: Digest,
    /// The image ID (config digest; the host platform's, or the first one's, for an index).
    pub id: Digest,
    /// Blobs downloaded.
    pub downloaded: Vec<Digest>,
    /// Blobs already in the store.
    pub already_present: Vec<Digest>,
}

impl RegistryClient {
    /// Pulls `reference` into `store` and names it there. For Docker Hub images the
    /// configured mirrors are tried first; the error lists every endpoint that failed.
    pub fn pull(&self, store: &ImageStore, reference: &Reference) -> Result<PullReport, OciError> {
        let mut failures = Vec::new();
        for host in self.endpoints(reference) {
            match self.pull_from(store, reference, &host) {
                Ok(report) => {
                    if let Some(tag) = reference.tag() {
                        store.tag(&reference.with_tag(tag)?, &report.manifest_digest)?;
                    }
                    store.add_repo_digest(reference, &report.manifest_digest)?;
                    return Ok(report);
                }
                // A corrupt blob is not an availability problem: never paper over it.
                Err(e @ OciError::BlobDigestMismatch { .. }) => return Err(e),
                Err(e) => failures.push(e.to_string()),
            }
        }
        Err(OciError::Registry {
            registry: reference.registry().to_string(),
            message: if failures.is_empty() {
                "no endpoint to pull from (mirrors only, and none configured)".to_string()
            } else {
                format!("could not pull {reference}: {}", failures.join("; "))
            },
        })
    }

    fn pull_from(
        &self,
        store: &ImageStore,
        reference: &Reference,
        host: &str,
    ) -> Result<PullReport, OciError> {
        let client = self.oci_client(host);
        let auth = self.auth(host)?;
        self.runtime.block_on(async {
            let target = oci_reference(host, reference);
            let (bytes, media_type) =
                fetch_manifest(&client, &target, &auth, host, reference.digest()).await?;
            if self.all_platforms && media_types::is_index(&media_type) {
                return pull_whole_index(&client, &target, &auth, store, host, reference, bytes)
                    .await;
            }
            let (bytes, target) = if media_types::is_index(&media_type) {
                let index: Index = serde_json::from_slice(&bytes)
                    .map_err(json_err(format!("index of {reference}")))?;
                let chosen =
                    index
                        .select(&self.platform)
                        .ok_or_else(|| OciError::NoMatchingPlatform {
                            reference: reference.to_string(),
                            wanted: self.platform.to_string(),
                            available: index.platforms().join(", "),
                        })?;
                let target = target.clone_with_digest(chosen.digest.to_string());
                let (bytes, _) =
                    fetch_manifest(&client, &target, &auth, host, Some(&chosen.digest)).await?;
                (bytes, target)
            } else {
                (bytes, target)
            };
            let manifest: Manifest = serde_json::from_slice(&bytes)
                .map_err(json_err(format!("manifest of {reference}")))?;
            if !media_types::is_manifest(manifest.effective_media_type()) {
                return Err(OciError::UnsupportedMediaType {
                    media_type: manifest.effective_media_type().to_string(),
                    what: "an image manifest",
                });
            }
            let mut blobs = vec![manifest.config.clone()];
            blobs.extend(manifest.layers.iter().cloned());
            let (present, missing): (Vec<_>, Vec<_>) = blobs
                .into_iter()
                .partition(|b| store.content().contains(&b.digest));
            let downloaded: Vec<Digest> = futures_util::stream::iter(missing)
                .map(|blob| fetch_blob(&client, &target, store.content(), host, blob))
                .buffer_unordered(PARALLEL_DOWNLOADS)
                .try_collect()
                .await?;
            let manifest_digest = store.content().put_bytes(&bytes)?;
            Ok(PullReport {
                source: host.to_string(),
                manifest_digest,
                id: manifest.config.digest.clone(),
                downloaded,
                already_present: present.into_iter().map(|b| b.digest).collect(),
            })
        })
    }
}

/// Fetches a manifest or index, checks it against `expected` when pinned, and returns its
/// bytes and media type.
pub(super) async fn fetch_manifest(
    client: &oci_client::Client,
    target: &oci_client::Reference,
    auth: &RegistryAuth,
    host: &str,
    expected: Option<&Digest>,
) -> Result<(Vec<u8>, String), OciError> {
    let (bytes, _) = client
        .pull_manifest_raw(target, auth, &media_types::ACCEPTED_MANIFESTS)
        .await
        .map_err(|e| registry_error(host, &format!("fetching manifest {target}"), &e))?;
    let actual = Digest::of_bytes(&bytes);
    if let Some(expected) = expected
        && *expected != actual
    {
        return Err(OciError::BlobDigestMismatch {
            registry: host.to_string(),
            expected: expected.clone(),
            actual: actual.to_string(),
        });
    }
    let value: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(json_err(format!("manifest {target}")))?;
    let media_type = match value.get("mediaType").and_then(|m| m.as_str()) {
        Some(m) => m.to_string(),
        None if value.get("manifests").is_some() => media_types::OCI_INDEX.to_string(),
        None => media_types::OCI_MANIFEST.to_string(),
    };
    Ok((bytes.to_vec(), media_type))
}

/// Streams one blob into the content store; the store's writer checks the digest.
pub(super) async fn fetch_blob(
    client: &oci_client::Client,
    target: &oci_client::Reference,
    content: &ContentStore,
    host: &str,
    blob: Descriptor,
) -> Result<Digest, OciError> {
    let descriptor = OciDescriptor {
        media_type: blob.media_type.clone(),
        digest: blob.digest.to_string(),
        size: i64::try_from(blob.size).unwrap_or(i64::MAX),
        ..Default::default()
    };
    let mismatch = |actual: String| OciError::BlobDigestMismatch {
        registry: host.to_string(),
        expected: blob.digest.clone(),
        actual,
    };
    let mut stream = client
        .pull_blob_stream(target, &descriptor)
        .await
        .map_err(|e| registry_error(host, &format!("fetching blob {}", blob.digest), &e))?;
    let mut writer = content.writer()?;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| {
            match e
                .get_ref()
                .and_then(|inner| inner.downcast_ref::<DigestError>())
            {
                Some(DigestError::VerificationError { actual, .. }) => mismatch(actual.clone()),
                _ => registry_error(host, &format!("reading blob {}", blob.digest), &e),
            }
        })?;
        writer
            .write_all(&chunk)
            .map_err(|source| OciError::Stream {
                action: format!("writing blob {} into the store", blob.digest),
                source,
            })?;
    }
    match writer.commit(Some(&blob.digest)) {
        Ok((digest, _)) => Ok(digest),
        Err(StoreError::DigestMismatch { actual, .. }) => Err(mismatch(actual.to_string())),
        Err(e) => Err(e.into()),
    }
}
