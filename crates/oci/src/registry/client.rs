//! The blocking client shell: runtime, per-host oci-client instances, auth and errors.

use std::time::Duration;

use oci_client::client::{ClientConfig, ClientProtocol};
use oci_client::secrets::RegistryAuth;

use super::credentials::CredentialSource;
use super::settings::RegistrySettings;
use crate::error::OciError;
use crate::model::Platform;
use crate::reference::{DOCKER_HUB, Reference};

/// Pulls and pushes images between registries and an [`crate::ImageStore`].
pub struct RegistryClient {
    pub(super) runtime: tokio::runtime::Runtime,
    pub(super) settings: RegistrySettings,
    pub(super) platform: Platform,
    pub(super) credentials: CredentialSource,
    pub(super) all_platforms: bool,
}

impl RegistryClient {
    /// A client with `settings`, selecting the host's platform from multi-platform images.
    pub fn new(settings: RegistrySettings) -> Result<Self, OciError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|source| OciError::Stream {
                action: "starting the registry client's runtime".to_string(),
                source,
            })?;
        Ok(RegistryClient {
            runtime,
            settings,
            platform: Platform::host(),
            credentials: CredentialSource::from_environment(),
            all_platforms: false,
        })
    }

    /// A client with settings from the environment ([`RegistrySettings::from_environment`]).
    pub fn from_environment() -> Result<Self, OciError> {
        Self::new(RegistrySettings::from_environment()?)
    }

    /// Selects `platform` instead of the host's from multi-platform images.
    pub fn with_platform(mut self, platform: Platform) -> Self {
        self.platform = platform;
        self
    }

    /// Pulls every platform of a multi-platform image and stores the whole index under the
    /// name (like `docker pull --all-platforms`), instead of only the selected platform.
    pub fn with_all_platforms(mut self, all: bool) -> Self {
        self.all_platforms = all;
        self
    }

    /// Takes registry credentials from `source` instead of the environment's Docker config.
    pub fn with_credentials(mut self, source: CredentialSource) -> Self {
        self.credentials = source;
        self
    }

    /// The hosts to try for `reference`, in order: mirrors first for Docker Hub.
    pub(super) fn endpoints(&self, reference: &Reference) -> Vec<String> {
        let mut hosts = Vec::new();
        if reference.registry() == DOCKER_HUB {
            hosts.extend(self.settings.mirrors.iter().map(|m| m.host.clone()));
            if self.settings.fallback_to_hub {
                hosts.push(DOCKER_HUB.to_string());
            }
        } else {
            hosts.push(reference.registry().to_string());
        }
        hosts
    }

    /// An oci-client for `host`, over plain HTTP only where the settings allow it.
    pub(super) fn oci_client(&self, host: &str) -> oci_client::Client {
        let protocol = if self.settings.allows_plain_http(host) {
            ClientProtocol::HttpsExcept(vec![host.to_string()])
        } else {
            ClientProtocol::Https
        };
        oci_client::Client::new(ClientConfig {
            protocol,
            connect_timeout: Some(Duration::from_secs(10)),
            read_timeout: Some(Duration::from_secs(120)),
            platform_resolver: None,
            ..Default::default()
        })
    }

    /// Credentials for `host` from the Docker config or its credential helpers, or anonymous.
    pub(super) fn auth(&self, host: &str) -> Result<RegistryAuth, OciError> {
        Ok(match self.credentials.credentials_for(host)? {
            Some(c) => RegistryAuth::Basic(c.username, c.password),
            None => RegistryAuth::Anonymous,
        })
    }
}

/// `reference` addressed at `host` in oci-client's terms (by digest when it has one).
pub(super) fn oci_reference(host: &str, reference: &Reference) -> oci_client::Reference {
    let repository = reference.repository().to_string();
    match (reference.tag(), reference.digest()) {
        (_, Some(digest)) => {
            oci_client::Reference::with_digest(host.to_string(), repository, digest.to_string())
        }
        (Some(tag), None) => {
            oci_client::Reference::with_tag(host.to_string(), repository, tag.to_string())
        }
        (None, None) => {
            oci_client::Reference::with_tag(host.to_string(), repository, "latest".to_string())
        }
    }
}

/// An oci-client error as our error, with its whole cause chain (reqwest hides the useful
/// part, e.g. "connection refused", in its sources).
pub(super) fn registry_error(host: &str, what: &str, error: &dyn std::error::Error) -> OciError {
    let mut message = format!("{what}: {error}");
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = cause.source();
    }
    OciError::Registry {
        registry: host.to_string(),
        message,
    }
}
