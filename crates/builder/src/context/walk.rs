//! Listing the files a COPY/ADD source selects from the context, with their metadata.
//!
//! The listing holds metadata only (never contents), sorted by path, with `.dockerignore`
//! exclusions applied: an excluded directory is skipped whole unless an exception may
//! re-include something inside it.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use super::ignore_file::IgnoreRules;
/// What kind of file a context entry is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryKind {
    File,
    Dir,
    Symlink {
        target: PathBuf,
    },
    /// Devices, fifos and sockets: recorded, but COPY skips them like Docker.
    Other,
}

/// One file of the context as COPY sees it.
#[derive(Debug, Clone)]
pub struct ContextEntry {
    /// Slash-separated path relative to the context root.
    pub path: String,
    /// Absolute path on the host.
    pub host_path: PathBuf,
    pub kind: EntryKind,
    /// Full `st_mode` (type and permission bits).
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub size: u64,
    pub mtime_ns: i128,
    pub ctime_ns: i128,
    pub ino: u64,
    pub dev: u64,
}

/// Why the context cannot be listed.
#[derive(Debug, thiserror::Error)]
#[error("cannot read {path} in the build context: {source}")]
pub struct WalkError {
    pub path: String,
    #[source]
    pub source: std::io::Error,
}

fn entry_from(rel: String, host_path: PathBuf) -> Result<ContextEntry, WalkError> {
    let err = |source| WalkError {
        path: rel.clone(),
        source,
    };
    let meta = std::fs::symlink_metadata(&host_path).map_err(err)?;
    let ft = meta.file_type();
    let kind = if ft.is_symlink() {
        EntryKind::Symlink {
            target: std::fs::read_link(&host_path).map_err(err)?,
        }
    } else if ft.is_dir() {
        EntryKind::Dir
    } else if ft.is_file() {
        EntryKind::File
    } else {
        EntryKind::Other
    };
    Ok(ContextEntry {
        path: rel.clone(),
        host_path,
        kind,
        mode: meta.mode(),
        uid: meta.uid(),
        gid: meta.gid(),
        size: meta.size(),
        mtime_ns: meta.mtime() as i128 * 1_000_000_000 + meta.mtime_nsec() as i128,
        ctime_ns: meta.ctime() as i128 * 1_000_000_000 + meta.ctime_nsec() as i128,
        ino: meta.ino(),
        dev: meta.dev(),
    })
}

/// Lists `start` (a context-relative path that has already been resolved inside the root
/// and exists) and, when it is a directory, everything below it that the rules keep.
/// The start entry itself is always first; the rest is sorted by path.
pub fn walk_source(
    start_rel: &str,
    start_host: &Path,
    rules: &IgnoreRules,
) -> Result<Vec<ContextEntry>, WalkError> {
    let start = entry_from(start_rel.to_string(), start_host.to_path_buf())?;
    let is_dir = start.kind == EntryKind::Dir;
    let mut out = vec![start];
    if !is_dir {
        return Ok(out);
    }
    let mut stack = vec![(start_rel.to_string(), start_host.to_path_buf())];
    let mut below = Vec::new();
    while let Some((rel_dir, host_dir)) = stack.pop() {
        let read = std::fs::read_dir(&host_dir).map_err(|source| WalkError {
            path: rel_dir.clone(),
            source,
        })?;
        for item in read {
            let item = item.map_err(|source| WalkError {
                path: rel_dir.clone(),
                source,
            })?;
            let name = item.file_name();
            let name = name.to_string_lossy();
            let rel = if rel_dir.is_empty() || rel_dir == "." {
                name.to_string()
            } else {
                format!("{rel_dir}/{name}")
            };
            let host = item.path();
            let is_dir = item.file_type().is_ok_and(|t| t.is_dir());
            let excluded = !rules.is_empty() && rules.is_excluded(&rel);
            if excluded && (!is_dir || rules.can_skip_excluded_dir(&rel)) {
                continue;
            }
            if is_dir {
                stack.push((rel.clone(), host.clone()));
            }
            if !excluded {
                below.push((rel, host));
            }
        }
    }
    let mut below = stat_all(below)?;
    below.sort_by(|a, b| a.path.cmp(&b.path));
    out.extend(below);
    Ok(out)
}

/// One statx per entry is most of a walk's time (the listing itself is cheap), so the
/// entries are stat'ed on a few threads. They are spawned from this thread, not taken from
/// a pool: a walk may run where a snapshot is mounted only for this thread (`COPY --from`),
/// and only threads it creates share that mount namespace.
fn stat_all(paths: Vec<(String, PathBuf)>) -> Result<Vec<ContextEntry>, WalkError> {
    const MAX_THREADS: usize = 4;
    const ENTRIES_PER_THREAD: usize = 2048;
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(MAX_THREADS)
        .min(paths.len().div_ceil(ENTRIES_PER_THREAD))
        .max(1);
    if threads == 1 {
        return paths
            .into_iter()
            .map(|(rel, host)| entry_from(rel, host))
            .collect();
    }
    let chunk = paths.len().div_ceil(threads);
    let mut chunks = Vec::with_capacity(threads);
    let mut rest = paths;
    while rest.len() > chunk {
        let tail = rest.split_off(chunk);
        chunks.push(rest);
        rest = tail;
    }
    chunks.push(rest);
    std::thread::scope(|scope| {
        let workers: Vec<_> = chunks
            .into_iter()
            .map(|part| {
                scope.spawn(move || {
                    part.into_iter()
                        .map(|(rel, host)| entry_from(rel, host))
                        .collect::<Result<Vec<_>, _>>()
                })
            })
            .collect();
        let mut out = Vec::new();
        for worker in workers {
            let part = worker.join().map_err(|_| WalkError {
                path: ".".into(),
                source: std::io::Error::other("a context walk thread panicked"),
            })??;
            out.extend(part);
        }
        Ok(out)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_sorted_and_applies_ignore_rules() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for f in [
            "a/1",
            "a/2",
            "b/keep.txt",
            "b/drop.txt",
            "node_modules/x/y",
            "top",
        ] {
            let p = root.join(f);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, f).unwrap();
        }
        std::os::unix::fs::symlink("top", root.join("link")).unwrap();
        let rules = IgnoreRules::parse("node_modules\nb/*.txt\n!b/keep.txt\n", "t").unwrap();
        let entries = walk_source(".", root, &rules).unwrap();
        let paths: Vec<&str> = entries.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(
            paths,
            [".", "a", "a/1", "a/2", "b", "b/keep.txt", "link", "top"]
        );
        let link = entries.iter().find(|e| e.path == "link").unwrap();
        assert_eq!(
            link.kind,
            EntryKind::Symlink {
                target: "top".into()
            }
        );
    }
}
