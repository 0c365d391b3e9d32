//! Media types of OCI and Docker (schema 2) images.

/// OCI image manifest.
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// OCI image index.
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
/// OCI image config.
pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
/// OCI layer, plain tar.
pub const OCI_LAYER: &str = "application/vnd.oci.image.layer.v1.tar";
/// OCI layer, gzip.
pub const OCI_LAYER_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
/// OCI layer, zstd.
pub const OCI_LAYER_ZSTD: &str = "application/vnd.oci.image.layer.v1.tar+zstd";
/// Docker schema 2 manifest.
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
/// Docker manifest list.
pub const DOCKER_MANIFEST_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
/// Docker image config.
pub const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
/// Docker layer, plain tar.
pub const DOCKER_LAYER: &str = "application/vnd.docker.image.rootfs.diff.tar";
/// Docker layer, gzip.
pub const DOCKER_LAYER_GZIP: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";
/// Docker foreign (non-distributable) layer, gzip.
pub const DOCKER_FOREIGN_LAYER_GZIP: &str =
    "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";

/// Every manifest and index type we accept from registries, preferred first.
pub const ACCEPTED_MANIFESTS: [&str; 4] = [
    OCI_INDEX,
    DOCKER_MANIFEST_LIST,
    OCI_MANIFEST,
    DOCKER_MANIFEST,
];

/// Whether `media_type` is a multi-platform index / manifest list.
pub fn is_index(media_type: &str) -> bool {
    media_type == OCI_INDEX || media_type == DOCKER_MANIFEST_LIST
}

/// Whether `media_type` is a single-image manifest.
pub fn is_manifest(media_type: &str) -> bool {
    media_type == OCI_MANIFEST || media_type == DOCKER_MANIFEST
}

/// The layer media type for a compression, in OCI or Docker flavour. Docker has no zstd
/// type; BuildKit uses the OCI one there too, and so do we.
pub fn layer_media_type(compression: crate::compress::Compression, oci: bool) -> &'static str {
    use crate::compress::Compression;
    match (compression, oci) {
        (Compression::Gzip, true) => OCI_LAYER_GZIP,
        (Compression::Gzip, false) => DOCKER_LAYER_GZIP,
        (Compression::Uncompressed, true) => OCI_LAYER,
        (Compression::Uncompressed, false) => DOCKER_LAYER,
        (Compression::Zstd, _) => OCI_LAYER_ZSTD,
    }
}

/// The compression a layer media type announces, if it is a layer type we know.
pub fn layer_compression(media_type: &str) -> Option<crate::compress::Compression> {
    use crate::compress::Compression;
    match media_type {
        OCI_LAYER_GZIP | DOCKER_LAYER_GZIP | DOCKER_FOREIGN_LAYER_GZIP => Some(Compression::Gzip),
        OCI_LAYER_ZSTD => Some(Compression::Zstd),
        OCI_LAYER | DOCKER_LAYER => Some(Compression::Uncompressed),
        _ => None,
    }
}
