//! Where the store lives by default.

use std::path::PathBuf;

/// The environment variable that overrides the store root.
pub const ROOT_ENV: &str = "RBUILD_ROOT";

/// The default store root: `$RBUILD_ROOT` if set; else `/var/lib/rbuild` when running as
/// root; else `$XDG_DATA_HOME/rbuild`, falling back to `~/.local/share/rbuild`.
pub fn default_store_root() -> PathBuf {
    if let Some(root) = std::env::var_os(ROOT_ENV).filter(|v| !v.is_empty()) {
        return PathBuf::from(root);
    }
    if rustix::process::geteuid().is_root() {
        return PathBuf::from("/var/lib/rbuild");
    }
    if let Some(data) = std::env::var_os("XDG_DATA_HOME").filter(|v| !v.is_empty()) {
        return PathBuf::from(data).join("rbuild");
    }
    let home = std::env::var_os("HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        // Without a home directory there is no per-user place; the working directory is the
        // least surprising spot and is visible to the user.
        .unwrap_or_else(|| PathBuf::from("."));
    home.join(".local/share/rbuild")
}
