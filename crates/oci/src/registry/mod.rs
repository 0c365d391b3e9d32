//! The registry client: pull into and push from the local store, over oci-client.
//!
//! The public API is blocking; a single-threaded tokio runtime lives inside the client.
//! Pulls verify every blob against its digest while writing it into the content store,
//! select a platform from manifest lists / OCI indexes, and go to Docker Hub mirrors first.
//! Pushes skip blobs the registry has, mount blobs from other repositories of the same
//! registry when the store knows one, and stream uploads from the blob files in chunks.

mod client;
mod cred_helper;
mod credentials;
mod pull;
mod pull_index;
mod push;
mod push_index;
mod settings;

pub use client::RegistryClient;
pub use cred_helper::{HELPER_PREFIX, helper_get, path_with_first};
pub use credentials::{
    CredentialSource, Credentials, DOCKER_HUB_SERVER, credentials_for, docker_config_path,
    server_address,
};
pub use pull::PullReport;
pub use push::PushReport;
pub use settings::{
    CONFIG_ENV, INSECURE_ENV, MIRRORS_ENV, Mirror, NO_HUB_FALLBACK_ENV, RegistrySettings,
    is_loopback,
};
