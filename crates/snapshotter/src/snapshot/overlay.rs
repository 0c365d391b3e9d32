//! The overlay backend: lower layers stacked read-only, the snapshot's upper and work
//! directories on top; the upper directory is the diff.

use std::path::{Path, PathBuf};

use crate::mount::{Mount, unmount};
use crate::tempname::TempDir;

use super::error::SnapshotError;

/// Options every overlay we mount uses. `index=off`: layers are shared between mounts;
/// `metacopy=off`: a chmod must copy the data up, else the upper directory would not hold
/// the file's content; `redirect_dir=nofollow`: renamed directories must be copied, else
/// the upper directory would only hold a pointer to the lower one, and no layer may
/// redirect lookups elsewhere (`off` may mean "follow" and conflicts with `userxattr`).
const BASE_OPTIONS: [&str; 3] = ["index=off", "metacopy=off", "redirect_dir=nofollow"];

fn check(path: &Path) -> Result<String, SnapshotError> {
    let text = path
        .to_str()
        .ok_or_else(|| SnapshotError::UnmountablePath(path.to_path_buf()))?;
    if text.contains([',', ':', '\\']) {
        return Err(SnapshotError::UnmountablePath(path.to_path_buf()));
    }
    Ok(text.to_string())
}

/// The overlay mount for `lowers` (bottom first) with an optional upper+work pair.
pub(crate) fn overlay_mount(
    lowers_bottom_first: &[PathBuf],
    upper_work: Option<(&Path, &Path)>,
    userxattr: bool,
) -> Result<Mount, SnapshotError> {
    let mut options: Vec<String> = BASE_OPTIONS.iter().map(|s| s.to_string()).collect();
    if userxattr {
        options.push("userxattr".into());
    }
    let lowers = lowers_bottom_first
        .iter()
        .rev()
        .map(|p| check(p))
        .collect::<Result<Vec<_>, _>>()?;
    options.push(format!("lowerdir={}", lowers.join(":")));
    match upper_work {
        Some((upper, work)) => {
            options.push(format!("upperdir={}", check(upper)?));
            options.push(format!("workdir={}", check(work)?));
        }
        None => options.push("ro".into()),
    }
    Ok(Mount {
        fstype: "overlay".into(),
        source: PathBuf::from("overlay"),
        options,
    })
}

/// A bind mount of `dir`.
pub(crate) fn bind_mount(dir: &Path, read_only: bool) -> Mount {
    Mount {
        fstype: "bind".into(),
        source: dir.to_path_buf(),
        options: vec!["rbind".into(), if read_only { "ro" } else { "rw" }.into()],
    }
}

/// Why the overlay probe failed.
#[derive(Debug)]
pub(crate) enum ProbeError {
    /// The store has no room for the probe's few directories: no backend would work, so
    /// this is an error to report, not a reason to pick the copy backend.
    StoreFull(PathBuf, std::io::Error),
    /// Overlay cannot be used here (no privilege, a file system overlay refuses, ...).
    Overlay(String),
}

impl std::fmt::Display for ProbeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ProbeError::StoreFull(path, e) => write!(f, "creating {}: {e}", path.display()),
            ProbeError::Overlay(reason) => f.write_str(reason),
        }
    }
}

/// Tries a real overlay mount in the store's temporary directory.
pub(crate) fn probe(tmp_dir: &Path, userxattr: bool) -> Result<(), ProbeError> {
    let store_err = |path: &Path, what: &str| {
        let path = path.to_path_buf();
        let what = what.to_string();
        move |e: std::io::Error| match e.kind() {
            std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded => {
                ProbeError::StoreFull(path, e)
            }
            _ => ProbeError::Overlay(format!("{what} {}: {e}", path.display())),
        }
    };
    let temp = TempDir::create(tmp_dir, "overlay-probe")
        .map_err(store_err(tmp_dir, "creating a probe directory in"))?;
    let base = temp.path();
    let [lower, upper, work, merged] = ["lower", "upper", "work", "merged"].map(|n| base.join(n));
    for dir in [&lower, &upper, &work, &merged] {
        std::fs::create_dir(dir).map_err(store_err(dir, "creating"))?;
    }
    let file = lower.join("probe");
    std::fs::write(&file, b"probe").map_err(store_err(&file, "writing"))?;
    let mount = overlay_mount(&[lower], Some((&upper, &work)), userxattr)
        .map_err(|e| ProbeError::Overlay(e.to_string()))?;
    mount
        .mount_at(&merged)
        .map_err(|e| ProbeError::Overlay(e.to_string()))?;
    // Deleting a lower file exercises whiteout creation on the upper file system.
    let result = std::fs::remove_file(merged.join("probe"))
        .map_err(|e| ProbeError::Overlay(format!("deleting through overlay: {e}")));
    let _ = unmount(&merged);
    result
}
