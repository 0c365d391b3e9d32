//! Registry settings: mirrors for Docker Hub and registries allowed over plain HTTP.
//!
//! Sources, merged: a JSON file in Docker's `daemon.json` shape
//! (`{"registry-mirrors": ["http://127.0.0.1:5000"], "insecure-registries": ["host:5000"]}`)
//! at `$RBUILD_REGISTRY_CONFIG` or `~/.config/rbuild/registries.json`, and the environment
//! variables `RBUILD_REGISTRY_MIRRORS` / `RBUILD_INSECURE_REGISTRIES` (comma-separated).
//! Plain HTTP is used only for loopback hosts, registries listed as insecure and mirrors
//! given with an `http://` URL.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{IoContext, OciError, json_err};

/// Environment variable with mirror URLs for Docker Hub.
pub const MIRRORS_ENV: &str = "RBUILD_REGISTRY_MIRRORS";
/// Environment variable with registries allowed over plain HTTP.
pub const INSECURE_ENV: &str = "RBUILD_INSECURE_REGISTRIES";
/// Environment variable that, set to `1`, stops falling back from mirrors to Docker Hub.
pub const NO_HUB_FALLBACK_ENV: &str = "RBUILD_NO_HUB_FALLBACK";
/// Environment variable naming the settings file.
pub const CONFIG_ENV: &str = "RBUILD_REGISTRY_CONFIG";

/// A mirror of Docker Hub.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mirror {
    /// `host[:port]`.
    pub host: String,
    /// Whether it is reached over plain HTTP.
    pub plain_http: bool,
}

/// Mirror and insecure-registry settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistrySettings {
    /// Docker Hub mirrors, tried in order before Docker Hub itself.
    pub mirrors: Vec<Mirror>,
    /// Registries (`host[:port]`) that may be reached over plain HTTP.
    pub insecure: Vec<String>,
    /// Whether Docker Hub itself is tried after the mirrors (Docker always does; turn it
    /// off with `RBUILD_NO_HUB_FALLBACK=1` on machines that must not reach the internet).
    pub fallback_to_hub: bool,
}

impl Default for RegistrySettings {
    fn default() -> Self {
        RegistrySettings {
            mirrors: Vec::new(),
            insecure: Vec::new(),
            fallback_to_hub: true,
        }
    }
}

#[derive(Deserialize, Default)]
struct SettingsFile {
    #[serde(rename = "registry-mirrors", default)]
    mirrors: Vec<String>,
    #[serde(rename = "insecure-registries", default)]
    insecure: Vec<String>,
}

impl RegistrySettings {
    /// Settings from the default file (if any) and the environment.
    pub fn from_environment() -> Result<Self, OciError> {
        let file = std::env::var_os(CONFIG_ENV)
            .map(PathBuf::from)
            .or_else(default_file);
        let mut settings = match file {
            Some(path) if path.exists() => Self::from_file(&path)?,
            _ => RegistrySettings::default(),
        };
        for url in split_env(MIRRORS_ENV) {
            settings.mirrors.push(Mirror::parse(&url));
        }
        settings.insecure.extend(split_env(INSECURE_ENV));
        if std::env::var(NO_HUB_FALLBACK_ENV).is_ok_and(|v| v == "1" || v == "true") {
            settings.fallback_to_hub = false;
        }
        Ok(settings)
    }

    /// Settings from a `daemon.json`-style file.
    pub fn from_file(path: &Path) -> Result<Self, OciError> {
        let bytes = std::fs::read(path).ctx("read", path)?;
        let file: SettingsFile =
            serde_json::from_slice(&bytes).map_err(json_err(path.display().to_string()))?;
        Ok(RegistrySettings {
            mirrors: file.mirrors.iter().map(|m| Mirror::parse(m)).collect(),
            insecure: file.insecure,
            fallback_to_hub: true,
        })
    }

    /// Whether `host` may be reached over plain HTTP.
    pub fn allows_plain_http(&self, host: &str) -> bool {
        is_loopback(host)
            || self.insecure.iter().any(|h| h == host)
            || self.mirrors.iter().any(|m| m.plain_http && m.host == host)
    }
}

impl Mirror {
    /// Parses `http://host:port`, `https://host` or a bare `host:port` (HTTPS unless loopback).
    pub fn parse(url: &str) -> Self {
        let (plain_http, rest) = match url.split_once("://") {
            Some(("http", rest)) => (true, rest),
            Some((_, rest)) => (false, rest),
            None => (false, url),
        };
        let host = rest
            .trim_end_matches('/')
            .split('/')
            .next()
            .unwrap_or(rest)
            .to_string();
        Mirror { plain_http, host }
    }
}

/// Whether `host` (with optional port) is this machine.
pub fn is_loopback(host: &str) -> bool {
    let name = if let Some(rest) = host.strip_prefix('[') {
        rest.split(']').next().unwrap_or(rest)
    } else {
        host.rsplit_once(':').map_or(host, |(h, _)| h)
    };
    name == "localhost"
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn split_env(name: &str) -> Vec<String> {
    std::env::var(name)
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

fn default_file() -> Option<PathBuf> {
    let config = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))?;
    Some(config.join("rbuild").join("registries.json"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_only_where_allowed() {
        let settings = RegistrySettings {
            mirrors: vec![
                Mirror::parse("http://mirror.lan:5000/"),
                Mirror::parse("https://m2.io"),
            ],
            insecure: vec!["build.lan:5000".into()],
            fallback_to_hub: true,
        };
        for host in [
            "localhost",
            "localhost:5000",
            "127.0.0.1:5000",
            "[::1]:5000",
            "mirror.lan:5000",
            "build.lan:5000",
        ] {
            assert!(settings.allows_plain_http(host), "{host}");
        }
        for host in [
            "docker.io",
            "m2.io",
            "build.lan",
            "127.example.com",
            "mirror.lan",
        ] {
            assert!(!settings.allows_plain_http(host), "{host}");
        }
    }

    #[test]
    fn reads_daemon_json_shape() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.json");
        std::fs::write(
            &path,
            r#"{"registry-mirrors":["http://127.0.0.1:5000"],"insecure-registries":["x:1"]}"#,
        )
        .unwrap();
        let settings = RegistrySettings::from_file(&path).unwrap();
        assert_eq!(
            settings.mirrors,
            [Mirror {
                host: "127.0.0.1:5000".into(),
                plain_http: true
            }]
        );
        assert_eq!(settings.insecure, ["x:1"]);
        std::fs::write(&path, "{").unwrap();
        assert!(
            RegistrySettings::from_file(&path)
                .unwrap_err()
                .to_string()
                .contains("r.json")
        );
    }
}
