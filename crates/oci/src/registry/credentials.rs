//! Registry credentials from Docker's client config, `$DOCKER_CONFIG/config.json`
//! (default `~/.docker/config.json`), chosen the way the docker CLI chooses them:
//! 1. a `credHelpers` entry for the server address runs `docker-credential-<helper>`;
//! 2. else a global `credsStore` runs `docker-credential-<credsStore>`;
//! 3. else the `auths` map, whose `auth` field is base64 of `user:password` (or
//!    `username` / `password` fields).
//!
//! With a helper in charge, `auths` is not consulted and a helper without credentials for
//! the server means anonymous access, as in docker. The server address is
//! `https://index.docker.io/v1/` for Docker Hub and `host[:port]` for other registries.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::PathBuf;

use base64::Engine as _;
use serde::Deserialize;

use super::cred_helper::helper_get;
use crate::error::{IoContext, OciError, json_err};

/// A user name and password for one registry.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// User name.
    pub username: String,
    /// Password or token.
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Credentials({}, <redacted>)", self.username)
    }
}

/// The server address Docker uses for Docker Hub credentials.
pub const DOCKER_HUB_SERVER: &str = "https://index.docker.io/v1/";

#[derive(Deserialize, Default)]
struct DockerConfig {
    #[serde(default)]
    auths: BTreeMap<String, AuthEntry>,
    #[serde(rename = "credsStore", default)]
    creds_store: Option<String>,
    #[serde(rename = "credHelpers", default)]
    cred_helpers: BTreeMap<String, String>,
}

/// Where credentials come from: a Docker config file (or the environment's) and the PATH
/// credential helpers are looked up in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CredentialSource {
    /// The config file; None means `$DOCKER_CONFIG/config.json` or `~/.docker/config.json`,
    /// read at each lookup.
    pub config: Option<PathBuf>,
    /// The PATH helpers are searched in and run with; None means this process's PATH.
    pub helper_path: Option<OsString>,
}

impl CredentialSource {
    /// Credentials from the environment's Docker config, helpers from PATH.
    pub fn from_environment() -> Self {
        CredentialSource::default()
    }

    /// Credentials from the config file `config`.
    pub fn with_config(mut self, config: PathBuf) -> Self {
        self.config = Some(config);
        self
    }

    /// Looks credential helpers up in (and runs them with) `path` instead of PATH.
    pub fn with_helper_path(mut self, path: OsString) -> Self {
        self.helper_path = Some(path);
        self
    }

    /// Credentials for `registry` (`host[:port]`, `docker.io` for Docker Hub), if any.
    pub fn credentials_for(&self, registry: &str) -> Result<Option<Credentials>, OciError> {
        let Some(path) = self.config.clone().or_else(docker_config_path) else {
            return Ok(None);
        };
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e).ctx("read", path),
        };
        let config: DockerConfig =
            serde_json::from_slice(&bytes).map_err(json_err(path.display().to_string()))?;
        let server = server_address(registry);
        let helper = config
            .cred_helpers
            .get(&server)
            .or(config.creds_store.as_ref())
            .filter(|h| !h.is_empty());
        match helper {
            Some(helper) => helper_get(helper, &server, self.helper_path.as_deref()),
            None => from_auths(&config, registry, &path),
        }
    }
}

/// The address Docker keys credentials by: Docker Hub's legacy index URL, else the host.
pub fn server_address(registry: &str) -> String {
    if is_docker_hub(registry) {
        DOCKER_HUB_SERVER.to_string()
    } else {
        registry.to_string()
    }
}

fn is_docker_hub(host: &str) -> bool {
    matches!(
        host,
        "docker.io" | "index.docker.io" | "registry-1.docker.io"
    )
}

#[derive(Deserialize, Default)]
struct AuthEntry {
    #[serde(default)]
    auth: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(rename = "identitytoken", default)]
    identity_token: Option<String>,
}

/// The Docker client config file in use.
pub fn docker_config_path() -> Option<PathBuf> {
    match std::env::var_os("DOCKER_CONFIG") {
        Some(dir) => Some(PathBuf::from(dir).join("config.json")),
        None => {
            std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".docker").join("config.json"))
        }
    }
}

/// Credentials for `registry` (`host[:port]`, `docker.io` for Docker Hub) from the
/// environment's Docker config, if configured.
pub fn credentials_for(registry: &str) -> Result<Option<Credentials>, OciError> {
    CredentialSource::from_environment().credentials_for(registry)
}

/// Credentials stored in the config file itself (`auths`).
fn from_auths(
    config: &DockerConfig,
    registry: &str,
    path: &std::path::Path,
) -> Result<Option<Credentials>, OciError> {
    let Some(entry) = config
        .auths
        .iter()
        .find(|(key, _)| key_matches(key, registry))
        .map(|(_, v)| v)
    else {
        return Ok(None);
    };
    if let Some(encoded) = entry.auth.as_deref().filter(|a| !a.is_empty()) {
        let bad = |reason: &str| OciError::Registry {
            registry: registry.to_string(),
            message: format!("the auth entry in {} {reason}", path.display()),
        };
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .map_err(|_| bad("is not valid base64"))?;
        let text = String::from_utf8(decoded).map_err(|_| bad("is not UTF-8"))?;
        let (username, password) = text
            .split_once(':')
            .ok_or_else(|| bad("is not user:password"))?;
        return Ok(Some(Credentials {
            username: username.to_string(),
            password: password.to_string(),
        }));
    }
    if entry
        .identity_token
        .as_deref()
        .is_some_and(|t| !t.is_empty())
    {
        return Err(OciError::Registry {
            registry: registry.to_string(),
            message: format!(
                "{} holds an identity token for it, which rbuild cannot use yet (the registry \
                 client has no OAuth2 refresh-token exchange); log in with a user name and \
                 password or access token instead",
                path.display()
            ),
        });
    }
    Ok(match (&entry.username, &entry.password) {
        (Some(u), Some(p)) => Some(Credentials {
            username: u.clone(),
            password: p.clone(),
        }),
        _ => None,
    })
}

/// Whether an `auths` key (`host`, `https://host/v1/`, ...) names `registry`.
fn key_matches(key: &str, registry: &str) -> bool {
    let host = key
        .split_once("://")
        .map_or(key, |(_, rest)| rest)
        .split('/')
        .next()
        .unwrap_or(key);
    host == registry || (is_docker_hub(host) && is_docker_hub(registry))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_match_like_docker() {
        assert!(key_matches("https://index.docker.io/v1/", "docker.io"));
        assert!(key_matches("127.0.0.1:5000", "127.0.0.1:5000"));
        assert!(key_matches("http://127.0.0.1:5000", "127.0.0.1:5000"));
        assert!(!key_matches("127.0.0.1:5001", "127.0.0.1:5000"));
        assert!(!key_matches("ghcr.io", "docker.io"));
    }

    /// A helper script that answers with its own name as the user name.
    fn helper(dir: &std::path::Path, name: &str) {
        use std::os::unix::fs::PermissionsExt as _;
        let path = dir.join(format!("docker-credential-{name}"));
        let script = format!(
            "#!/bin/sh\nread server\nprintf '{{\"ServerURL\":\"%s\",\"Username\":\"{name}\",\"Secret\":\"%s\"}}' \"$server\" \"$server\"\n"
        );
        std::fs::write(&path, script).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    #[test]
    fn helpers_take_precedence_like_docker() {
        let dir = tempfile::tempdir().unwrap();
        helper(dir.path(), "store");
        helper(dir.path(), "special");
        let config = dir.path().join("config.json");
        let source = CredentialSource::default()
            .with_config(config.clone())
            .with_helper_path(dir.path().as_os_str().to_os_string());
        let auth = base64::engine::general_purpose::STANDARD.encode("file:pw");
        std::fs::write(
            &config,
            format!(
                r#"{{"auths":{{"a:1":{{"auth":"{auth}"}},"b:2":{{"auth":"{auth}"}}}},
                    "credHelpers":{{"b:2":"special","https://index.docker.io/v1/":"special"}}}}"#
            ),
        )
        .unwrap();
        // No credsStore: auths for a:1, the per-registry helper for b:2.
        assert_eq!(
            source.credentials_for("a:1").unwrap().unwrap().username,
            "file"
        );
        let b = source.credentials_for("b:2").unwrap().unwrap();
        // The helper is given host[:port] for ordinary registries...
        assert_eq!(
            (b.username.as_str(), b.password.as_str()),
            ("special", "b:2")
        );
        // ...and Docker Hub's legacy index URL for Docker Hub.
        let hub = source.credentials_for("docker.io").unwrap().unwrap();
        assert_eq!(hub.password, DOCKER_HUB_SERVER);
        assert!(source.credentials_for("c:3").unwrap().is_none());

        // A credsStore replaces auths for every registry without a credHelpers entry.
        std::fs::write(
            &config,
            format!(
                r#"{{"auths":{{"a:1":{{"auth":"{auth}"}}}},"credsStore":"store",
                    "credHelpers":{{"b:2":"special"}}}}"#
            ),
        )
        .unwrap();
        assert_eq!(
            source.credentials_for("a:1").unwrap().unwrap().username,
            "store"
        );
        assert_eq!(
            source.credentials_for("c:3").unwrap().unwrap().username,
            "store"
        );
        assert_eq!(
            source.credentials_for("b:2").unwrap().unwrap().username,
            "special"
        );
    }

    #[test]
    fn identity_tokens_are_refused_clearly_without_leaking() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("config.json");
        std::fs::write(
            &config,
            r#"{"auths":{"https://index.docker.io/v1/":{"identitytoken":"tok-SECRET"}}}"#,
        )
        .unwrap();
        let source = CredentialSource::default().with_config(config);
        let err = source.credentials_for("docker.io").unwrap_err().to_string();
        assert!(
            err.contains("identity token") && !err.contains("tok-SECRET"),
            "{err}"
        );
        assert!(source.credentials_for("ghcr.io").unwrap().is_none());
    }
}
