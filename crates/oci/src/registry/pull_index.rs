//! Pulling every platform of a multi-platform image (`rbuild pull --all-platforms`): each
//! manifest the index lists, with its config and layers, then the index itself, which the
//! name then points at. Like `docker pull --all-platforms` / `skopeo copy --all`.

use std::collections::BTreeMap;

use futures_util::{StreamExt, TryStreamExt};
use oci_client::secrets::RegistryAuth;
use rbuild_snapshotter::Digest;

use super::pull::{PARALLEL_DOWNLOADS, PullReport, fetch_blob, fetch_manifest};
use crate::error::{OciError, json_err};
use crate::model::{Descriptor, Index, Manifest, Platform, media_types};
use crate::reference::Reference;
use crate::store::ImageStore;

/// Pulls the index `index_bytes` (already fetched and checked for `reference`) and every
/// manifest it lists into `store`. The index is stored last, so a stored index always has
/// all its platforms.
pub(super) async fn pull_whole_index(
    client: &oci_client::Client,
    target: &oci_client::Reference,
    auth: &RegistryAuth,
    store: &ImageStore,
    host: &str,
    reference: &Reference,
    index_bytes: Vec<u8>,
) -> Result<PullReport, OciError> {
    let index: Index =
        serde_json::from_slice(&index_bytes).map_err(json_err(format!("index of {reference}")))?;
    let mut manifests: Vec<(Descriptor, Manifest)> = Vec::new();
    for entry in &index.manifests {
        if !media_types::is_manifest(&entry.media_type) {
            return Err(OciError::UnsupportedMediaType {
                media_type: entry.media_type.clone(),
                what: "an entry of a multi-platform image pulled with all platforms (only \
                       image manifests are supported; pull one platform instead)",
            });
        }
        let child = target.clone_with_digest(entry.digest.to_string());
        let (bytes, _) = fetch_manifest(client, &child, auth, host, Some(&entry.digest)).await?;
        let manifest: Manifest = serde_json::from_slice(&bytes).map_err(json_err(format!(
            "manifest {} of {reference}",
            entry.digest
        )))?;
        store.content().put_bytes(&bytes)?;
        manifests.push((entry.clone(), manifest));
    }
    // Each blob once, even when several platforms share it.
    let mut blobs: BTreeMap<Digest, Descriptor> = BTreeMap::new();
    for (_, manifest) in &manifests {
        for blob in std::iter::once(&manifest.config).chain(&manifest.layers) {
            blobs
                .entry(blob.digest.clone())
                .or_insert_with(|| blob.clone());
        }
    }
    let (present, missing): (Vec<_>, Vec<_>) = blobs
        .into_values()
        .partition(|b| store.content().contains(&b.digest));
    let downloaded: Vec<Digest> = futures_util::stream::iter(missing)
        .map(|blob| fetch_blob(client, target, store.content(), host, blob))
        .buffer_unordered(PARALLEL_DOWNLOADS)
        .try_collect()
        .await?;
    let index_digest = store.content().put_bytes(&index_bytes)?;
    let host_platform = Platform::host();
    let id = index
        .select(&host_platform)
        .and_then(|chosen| manifests.iter().find(|(d, _)| d.digest == chosen.digest))
        .or_else(|| manifests.first())
        .map(|(_, m)| m.config.digest.clone())
        .ok_or_else(|| OciError::InvalidImage {
            image: reference.to_string(),
            reason: "its index lists no manifests".to_string(),
        })?;
    Ok(PullReport {
        source: host.to_string(),
        manifest_digest: index_digest,
        id,
        downloaded,
        already_present: present.into_iter().map(|b| b.digest).collect(),
    })
}
