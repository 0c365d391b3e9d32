//! rbuild-oci: images — references, the image model, the local image store, the registry
//! client, exporters and layer compression.
//!
//! Map of the crate (each module is one idea):
//! - [`reference`](mod@reference): image names parsed and normalised exactly like Docker
//!   (`busybox` → `docker.io/library/busybox:latest`).
//! - [`model`]: manifests, indexes, descriptors and configs for OCI and Docker schema 2, with
//!   Docker's config fields typed and unknown fields kept; [`model::canonical_json`] gives
//!   stable bytes and digests.
//! - [`compress`]: gzip in parallel blocks (pigz-style, zlib-rs), multithreaded zstd,
//!   uncompressed — deterministic whatever the core count, bounded memory.
//! - [`store`]: the local image store on the snapshotter's content store: a name index
//!   (atomic, locked) and images by manifest digest, or multi-platform images by index
//!   digest (single-image users get the host platform); list, tag, remove, inspect. Layers
//!   built locally are kept as plain tars; exports and pushes compress each once and
//!   reuse the compressed copy.
//! - [`registry`]: pull and push over oci-client (blocking API, private tokio runtime):
//!   credentials from the Docker config and its credential helpers (`credsStore`,
//!   `credHelpers`), mirrors, platform selection or whole indexes, digest checks,
//!   blob skipping and cross-repository mounts.
//! - [`export`] / [`import`]: OCI layouts (directory or tar), docker-archives, root file
//!   system outputs; loading both archive formats. [`output`] parses BuildKit's
//!   `-o/--output` syntax into the value [`export::export_output`] acts on.
//!
//! Invariants: blobs enter the store only through the content store's verifying writer; an
//! image's config bytes are never rewritten (its ID is their digest); everything this crate
//! writes (manifests, archives, compressed layers) is byte-for-byte reproducible.
pub mod compress;
pub mod error;
pub mod export;
pub mod import;
pub mod model;
pub mod output;
pub mod reference;
pub mod registry;
pub mod store;

pub use error::OciError;
pub use reference::Reference;
pub use store::{ImageStore, StoredImage};
