//! Image manifests and indexes (OCI and Docker schema 2 share one shape).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::descriptor::{Descriptor, Platform};
use super::media_types;

/// A single-image manifest: config plus ordered layers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    /// Always 2.
    pub schema_version: u32,
    /// The manifest's own media type (required by Docker, optional in OCI).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// Artifact type (OCI 1.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
    /// The image config blob.
    pub config: Descriptor,
    /// Layer blobs, base first.
    pub layers: Vec<Descriptor>,
    /// The manifest this one refers to (OCI 1.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<Descriptor>,
    /// Annotations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
}

impl Manifest {
    /// The media type to announce for this manifest: its own field, else by config type.
    pub fn effective_media_type(&self) -> &str {
        match &self.media_type {
            Some(m) => m,
            None if self.config.media_type == media_types::DOCKER_CONFIG => {
                media_types::DOCKER_MANIFEST
            }
            None => media_types::OCI_MANIFEST,
        }
    }

    /// Whether this is a Docker schema 2 manifest (rather than OCI).
    pub fn is_docker(&self) -> bool {
        self.effective_media_type() == media_types::DOCKER_MANIFEST
    }
}

/// A multi-platform index (OCI) or manifest list (Docker).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Index {
    /// Always 2.
    pub schema_version: u32,
    /// The index's own media type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// The manifests it lists.
    pub manifests: Vec<Descriptor>,
    /// Annotations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
}

impl Index {
    /// The entry for `platform`: an exact variant match first, then any compatible entry.
    /// Entries without a platform are ignored (they are attestations or other artifacts).
    pub fn select(&self, platform: &Platform) -> Option<&Descriptor> {
        let candidates = || {
            self.manifests
                .iter()
                .filter(|d| media_types::is_manifest(&d.media_type) || d.media_type.is_empty())
                .filter_map(|d| d.platform.as_ref().map(|p| (d, p)))
                .filter(|(_, p)| platform.matches(p))
        };
        candidates()
            .find(|(_, p)| p.variant == platform.variant)
            .or_else(|| candidates().next())
            .map(|(d, _)| d)
    }

    /// The platforms listed, for error messages.
    pub fn platforms(&self) -> Vec<String> {
        self.manifests
            .iter()
            .filter_map(|d| d.platform.as_ref().map(ToString::to_string))
            .collect()
    }
}
