//! Pushing a multi-platform image: every platform's manifest (with its config and layers,
//! skipping blobs the registry has and mounting from sibling repositories, as for one
//! image), each by digest, then the index under the tag. A registry refuses an index whose
//! manifests it does not have, hence the order.

use oci_client::RegistryOperation;

use super::client::{RegistryClient, oci_reference, registry_error};
use super::push::PushReport;
use crate::error::{OciError, json_err};
use crate::model::{canonical_json, media_types};
use crate::reference::Reference;
use crate::store::{ImageStore, StoredIndex};

impl RegistryClient {
    /// Pushes `index` and all its platforms as `target`. When pushing changed a platform's
    /// manifest (its layers are compressed on the way out), the index pushed lists the
    /// manifests actually pushed; the report gives that index's digest.
    pub(super) fn push_index(
        &self,
        store: &ImageStore,
        index: &StoredIndex,
        target: &Reference,
    ) -> Result<PushReport, OciError> {
        let mut pushed = index.index.clone();
        let mut report = PushReport {
            manifest_digest: index.digest.clone(),
            uploaded: Vec::new(),
            skipped: Vec::new(),
            mounted: Vec::new(),
        };
        // Check every entry before pushing anything: no half-pushed image on a bad index.
        for entry in &pushed.manifests {
            if !media_types::is_manifest(&entry.media_type) {
                return Err(OciError::UnsupportedMediaType {
                    media_type: entry.media_type.clone(),
                    what: "an entry of a multi-platform image to push (only image manifests \
                           are supported)",
                });
            }
            if !store.content().contains(&entry.digest) {
                return Err(OciError::InvalidImage {
                    image: target.to_string(),
                    reason: format!(
                        "the manifest {} ({}) of its index is not in the local store; pull the \
                         image with --all-platforms or load the whole archive first",
                        entry.digest,
                        entry
                            .platform
                            .as_ref()
                            .map_or_else(|| "no platform".to_string(), ToString::to_string)
                    ),
                });
            }
        }
        for entry in &mut pushed.manifests {
            let child = self.push_manifest(
                store,
                &entry.digest,
                &target.with_digest(entry.digest.clone()),
            )?;
            if child.manifest_digest != entry.digest {
                let image = store.image(&child.manifest_digest)?;
                entry.digest = image.manifest_digest.clone();
                entry.size = image.manifest_size;
                entry.media_type = image.manifest.effective_media_type().to_string();
            }
            report.uploaded.extend(child.uploaded);
            report.skipped.extend(child.skipped);
            report.mounted.extend(child.mounted);
        }
        let bytes = if pushed == index.index {
            store.read_blob(&index.digest)?
        } else {
            let bytes = canonical_json(&pushed).map_err(json_err("rewritten index"))?;
            report.manifest_digest = store.content().put_bytes(&bytes)?;
            bytes
        };
        let host = target.registry().to_string();
        let client = self.oci_client(&host);
        let auth = self.auth(&host)?;
        let destination = match target.tag() {
            Some(tag) => oci_client::Reference::with_tag(
                host.clone(),
                target.repository().to_string(),
                tag.to_string(),
            ),
            None => oci_reference(&host, &target.with_digest(report.manifest_digest.clone())),
        };
        let content_type = index
            .media_type()
            .parse()
            .map_err(|e| registry_error(&host, "index media type", &e))?;
        self.runtime.block_on(async {
            client
                .auth(&destination, &auth, RegistryOperation::Push)
                .await
                .map_err(|e| {
                    registry_error(&host, &format!("authenticating to push {target}"), &e)
                })?;
            client
                .push_manifest_raw(&destination, bytes, content_type)
                .await
                .map_err(|e| registry_error(&host, &format!("pushing the index of {target}"), &e))
        })?;
        Ok(report)
    }
}
