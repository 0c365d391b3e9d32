//! The image model: descriptors, manifests, indexes and configs, for both OCI and Docker
//! schema 2 images.
//!
//! Why our own serde types rather than oci-spec's: oci-spec keeps annotations in a `HashMap`,
//! whose iteration order changes from run to run, so manifests and indexes we write would not
//! have stable digests; and its config type has no place for Docker's fields. These types keep
//! maps sorted and carry every Docker field, and unknown fields survive a round trip.

pub mod config;
pub mod descriptor;
pub mod manifest;
pub mod media_types;

pub use config::{ContainerConfig, Healthcheck, History, ImageConfig, RootFs};
pub use descriptor::{Descriptor, Platform};
pub use manifest::{Index, Manifest};

use serde::Serialize;

/// Serialises `value` as compact JSON with object keys sorted, so equal values always give
/// equal bytes (and equal digests).
pub fn canonical_json<T: Serialize>(value: &T) -> Result<Vec<u8>, serde_json::Error> {
    // serde_json's Map is a BTreeMap here (no `preserve_order`), so going through Value sorts.
    serde_json::to_vec(&serde_json::to_value(value)?)
}
