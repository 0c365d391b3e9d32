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

/// Tries a real overlay mount in the store's temporary directory; `Err` says why overlay
/// cannot be used here (no privilege, a file system overlay refuses as upper, ...).
pub(crate) fn probe(tmp_dir: &Path, userxattr: bool) -> Result<(), String> {
    let temp = TempDir::create(tmp_dir, "overlay-probe")
        .map_err(|e| format!("creating probe directory: {e}"))?;
    let base = temp.path();
    let [lower, upper, work, merged] = ["lower", "upper", "work", "merged"].map(|n| base.join(n));
    for dir in [&lower, &upper, &work, &merged] {
        std::fs::create_dir(dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    }
    std::fs::write(lower.join("probe"), b"probe")
        .map_err(|e| format!("writing probe file: {e}"))?;
    let mount =
        overlay_mount(&[lower], Some((&upper, &work)), userxattr).map_err(|e| e.to_string())?;
    mount.mount_at(&merged).map_err(|e| e.to_string())?;
    // Deleting a lower file exercises whiteout creation on the upper file system.
    let result = std::fs::remove_file(merged.join("probe"))
        .map_err(|e| format!("deleting through overlay: {e}"));
    let _ = unmount(&merged);
    result
}
