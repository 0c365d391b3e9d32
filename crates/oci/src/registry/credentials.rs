//! Registry credentials from Docker's client config, `$DOCKER_CONFIG/config.json`
//! (default `~/.docker/config.json`): the `auths` map, whose `auth` field is base64 of
//! `user:password` (or `username` / `password` fields). Credential helpers are not run.

use std::collections::BTreeMap;
use std::path::PathBuf;

use base64::Engine as _;
use serde::Deserialize;

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

#[derive(Deserialize, Default)]
struct DockerConfig {
    #[serde(default)]
    auths: BTreeMap<String, AuthEntry>,
}

#[derive(Deserialize, Default)]
struct AuthEntry {
    #[serde(default)]
    auth: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
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

/// Credentials for `registry` (`host[:port]`, `docker.io` for Docker Hub), if configured.
pub fn credentials_for(registry: &str) -> Result<Option<Credentials>, OciError> {
    let Some(path) = docker_config_path() else {
        return Ok(None);
    };
    let bytes = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).ctx("read", path),
    };
    let config: DockerConfig =
        serde_json::from_slice(&bytes).map_err(json_err(path.display().to_string()))?;
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
    let hub = |h: &str| matches!(h, "docker.io" | "index.docker.io" | "registry-1.docker.io");
    host == registry || (hub(host) && hub(registry))
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
}
