//! Typed values of instruction flags (`RUN --mount`, `--network`, ...).
//!
//! String values are kept raw (unexpanded): BuildKit expands most flag
//! values with the build arguments before using them, which the planner
//! does with [`crate::shell`]. Values that must be numbers are parsed here
//! when they are literal, and kept as text in [`Deferred::Unexpanded`] when
//! they refer to variables.

use serde::{Deserialize, Serialize};

/// A flag value that is known at parse time, or that still contains
/// variable references and can only be typed after expansion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Deferred<T> {
    /// Parsed and validated at parse time.
    Literal(T),
    /// Raw text containing `$`; expand it, then parse it as `T`.
    Unexpanded(String),
}

/// The kind of a `RUN --mount`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MountType {
    /// Bind a directory from the context or another stage (default type).
    Bind,
    /// A persistent cache directory shared between builds.
    Cache,
    /// An empty tmpfs.
    Tmpfs,
    /// A secret file (or environment variable) provided to the build.
    Secret,
    /// Access to the SSH agent socket provided to the build.
    Ssh,
}

impl MountType {
    /// Every accepted spelling, for error messages.
    pub const NAMES: &'static [&'static str] = &["bind", "cache", "tmpfs", "secret", "ssh"];

    /// The name as written in a Dockerfile.
    pub fn as_str(self) -> &'static str {
        match self {
            MountType::Bind => "bind",
            MountType::Cache => "cache",
            MountType::Tmpfs => "tmpfs",
            MountType::Secret => "secret",
            MountType::Ssh => "ssh",
        }
    }
}

/// How concurrent builds share a cache mount (`sharing=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CacheSharing {
    /// Many writers at once (default).
    Shared,
    /// Each concurrent writer gets a new empty cache.
    Private,
    /// Writers wait for each other.
    Locked,
}

impl CacheSharing {
    /// Every accepted spelling, for error messages.
    pub const NAMES: &'static [&'static str] = &["shared", "private", "locked"];
}

/// One `RUN --mount=...` flag, validated.
///
/// Defaults follow BuildKit: a bind mount is read-only unless `rw` is given,
/// the other kinds are writable; `required` defaults to false.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunMount {
    /// `type=` (default `bind`).
    pub mount_type: MountType,
    /// `target=` / `dst=` / `destination=`: path inside the container.
    /// Relative (or absent) targets are resolved against the working
    /// directory, as BuildKit does (`RUN --mount=from=x` mounts at WORKDIR).
    pub target: Option<String>,
    /// `source=` / `src=`: path in the `from` source (bind, cache) .
    pub source: Option<String>,
    /// `from=`: stage name, stage index or image to take the source from.
    pub from: Option<String>,
    /// `readonly` / `ro` / `rw` (with the type's default when absent).
    pub read_only: bool,
    /// `id=`: cache id, secret id or ssh id.
    pub id: Option<String>,
    /// `sharing=` (cache mounts only).
    pub sharing: Option<CacheSharing>,
    /// `mode=` (octal file mode; cache, secret, ssh).
    pub mode: Option<Deferred<u32>>,
    /// `uid=` (cache, secret, ssh).
    pub uid: Option<Deferred<u32>>,
    /// `gid=` (cache, secret, ssh).
    pub gid: Option<Deferred<u32>>,
    /// `size=` in bytes (tmpfs), e.g. `size=64m`.
    pub size: Option<Deferred<u64>>,
    /// `required` / `required=true|false` (secret, ssh).
    pub required: bool,
    /// `env=`: expose the secret as this environment variable (secret).
    pub env: Option<String>,
}

/// `RUN --network=...`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NetworkMode {
    /// The builder's default network (here: an isolated namespace).
    Default,
    /// No network at all (loopback only).
    None,
    /// The host's network namespace (needs an entitlement).
    Host,
}

impl NetworkMode {
    /// Every accepted spelling, for error messages.
    pub const NAMES: &'static [&'static str] = &["default", "none", "host"];
}

/// `RUN --security=...`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SecurityMode {
    /// Normal, restricted sandbox (default).
    Sandbox,
    /// Privileged execution (needs an entitlement).
    Insecure,
}

impl SecurityMode {
    /// Every accepted spelling, for error messages.
    pub const NAMES: &'static [&'static str] = &["sandbox", "insecure"];
}
