//! rbuild-oci: image references, the image model, the local image store, the registry
//! client, exporters and layer compression.
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
