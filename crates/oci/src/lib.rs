//! rbuild-oci: image references, the image model, the local image store, the registry
//! client, exporters and layer compression.
pub mod compress;
pub mod reference;
