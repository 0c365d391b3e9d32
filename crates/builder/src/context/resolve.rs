//! Resolving a path from a Dockerfile inside a root directory, symlinks included, so that
//! nothing outside the root can ever be named.
//!
//! The root is treated as `/`: `..` stops at the root, an absolute symlink target starts
//! again at the root, and a relative one continues from the link's directory. This is what
//! Docker does for COPY sources (`FollowSymlinkInScope`), done component by component with
//! `lstat`, so a symlink pointing outside is re-rooted instead of followed out.

use std::ffi::OsString;
use std::path::{Component, Path, PathBuf};

/// More symlinks than this in one resolution is a loop (Linux uses 40 too).
const MAX_SYMLINKS: usize = 40;

/// Why a path cannot be resolved inside its root.
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    #[error("too many levels of symbolic links while resolving {path:?} in the build context")]
    SymlinkLoop { path: String },
    #[error("cannot inspect {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

/// Resolves `rel` inside `root`; the result is `root` joined with a clean relative path that
/// contains no symlink except, when `follow_last` is false, the final component itself.
/// Components that do not exist are kept as they are (the caller decides whether a missing
/// path is an error).
pub fn resolve_in_root(root: &Path, rel: &str, follow_last: bool) -> Result<PathBuf, ResolveError> {
    // Pending components, in reverse so that pop() yields the next one.
    let mut pending: Vec<OsString> = Vec::new();
    push_components(&mut pending, Path::new(rel));
    let mut resolved: Vec<OsString> = Vec::new();
    let mut links_followed = 0;

    while let Some(part) = pending.pop() {
        if part == ".." {
            resolved.pop();
            continue;
        }
        let is_last = pending.is_empty();
        let mut candidate = root.to_path_buf();
        candidate.extend(&resolved);
        candidate.push(&part);
        let meta = match std::fs::symlink_metadata(&candidate) {
            Ok(meta) => meta,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                resolved.push(part);
                continue;
            }
            Err(e) if e.raw_os_error() == Some(libc::ENOTDIR) => {
                resolved.push(part);
                continue;
            }
            Err(source) => {
                return Err(ResolveError::Io {
                    path: candidate.display().to_string(),
                    source,
                });
            }
        };
        if meta.file_type().is_symlink() && (follow_last || !is_last) {
            links_followed += 1;
            if links_followed > MAX_SYMLINKS {
                return Err(ResolveError::SymlinkLoop {
                    path: rel.to_string(),
                });
            }
            let target = std::fs::read_link(&candidate).map_err(|source| ResolveError::Io {
                path: candidate.display().to_string(),
                source,
            })?;
            if target.is_absolute() {
                resolved.clear();
            }
            push_components(&mut pending, &target);
            continue;
        }
        resolved.push(part);
    }
    let mut out = root.to_path_buf();
    out.extend(&resolved);
    Ok(out)
}

/// Pushes the normal and `..` components of `path` onto `stack` so they pop in order.
fn push_components(stack: &mut Vec<OsString>, path: &Path) {
    let parts: Vec<OsString> = path
        .components()
        .filter_map(|c| match c {
            Component::Normal(p) => Some(p.to_os_string()),
            Component::ParentDir => Some(OsString::from("..")),
            Component::RootDir | Component::CurDir | Component::Prefix(_) => None,
        })
        .collect();
    stack.extend(parts.into_iter().rev());
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn dotdot_cannot_leave_the_root() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        assert_eq!(
            resolve_in_root(root, "../../etc/passwd", true).unwrap(),
            root.join("etc/passwd")
        );
        assert_eq!(
            resolve_in_root(root, "/a/./b/../c", true).unwrap(),
            root.join("a/c")
        );
    }

    #[test]
    fn symlinks_are_rerooted() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir(root.join("real")).unwrap();
        std::fs::write(root.join("real/f"), "x").unwrap();
        symlink("/real", root.join("abs")).unwrap();
        symlink("../../../../real", root.join("up")).unwrap();
        symlink("/etc", root.join("etc_link")).unwrap();
        assert_eq!(
            resolve_in_root(root, "abs/f", true).unwrap(),
            root.join("real/f")
        );
        assert_eq!(
            resolve_in_root(root, "up/f", true).unwrap(),
            root.join("real/f")
        );
        // The host's /etc is never named: the link is re-rooted to <root>/etc.
        assert_eq!(
            resolve_in_root(root, "etc_link/passwd", true).unwrap(),
            root.join("etc/passwd")
        );
        // Not following the last component keeps the link itself.
        assert_eq!(
            resolve_in_root(root, "abs", false).unwrap(),
            root.join("abs")
        );
    }

    #[test]
    fn loops_are_reported() {
        let dir = tempfile::tempdir().unwrap();
        symlink("b", dir.path().join("a")).unwrap();
        symlink("a", dir.path().join("b")).unwrap();
        assert!(matches!(
            resolve_in_root(dir.path(), "a/x", true),
            Err(ResolveError::SymlinkLoop { .. })
        ));
    }
}
