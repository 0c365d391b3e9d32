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

impl ContextEntry {
    /// An entry whose metadata is not read yet (see [`ContextEntry::read_metadata`]).
    fn listed(path: String, host_path: PathBuf) -> ContextEntry {
        ContextEntry {
            path,
            host_path,
            kind: EntryKind::Other,
            mode: 0,
            uid: 0,
            gid: 0,
            size: 0,
            mtime_ns: 0,
            ctime_ns: 0,
            ino: 0,
            dev: 0,
        }
    }

    /// Fills in the metadata from the file itself (not following a symlink).
    fn read_metadata(&mut self) -> Result<(), WalkError> {
        let err = |source| WalkError {
            path: self.path.clone(),
            source,
        };
        let meta = std::fs::symlink_metadata(&self.host_path).map_err(err)?;
        let ft = meta.file_type();
        self.kind = if ft.is_symlink() {
            EntryKind::Symlink {
                target: std::fs::read_link(&self.host_path).map_err(err)?,
            }
        } else if ft.is_dir() {
            EntryKind::Dir
        } else if ft.is_file() {
            EntryKind::File
        } else {
            EntryKind::Other
        };
        self.mode = meta.mode();
        self.uid = meta.uid();
        self.gid = meta.gid();
        self.size = meta.size();
        self.mtime_ns = meta.mtime() as i128 * 1_000_000_000 + meta.mtime_nsec() as i128;
        self.ctime_ns = meta.ctime() as i128 * 1_000_000_000 + meta.ctime_nsec() as i128;
        self.ino = meta.ino();
        self.dev = meta.dev();
        Ok(())
    }
}

/// Lists `start` (a context-relative path that has already been resolved inside the root
/// and exists) and, when it is a directory, everything below it that the rules keep.
/// The start entry itself is always first; the rest is sorted by path.
pub fn walk_source(
    start_rel: &str,
    start_host: &Path,
    rules: &IgnoreRules,
) -> Result<Vec<ContextEntry>, WalkError> {
    let mut start = ContextEntry::listed(start_rel.to_string(), start_host.to_path_buf());
    start.read_metadata()?;
    let is_dir = start.kind == EntryKind::Dir;
    // The listing goes straight into the result, its metadata filled in afterwards in
    // place: a large context is never held twice (as paths, then as entries).
    let mut out = vec![start];
    if !is_dir {
        return Ok(out);
    }
    let mut stack = vec![(start_rel.to_string(), start_host.to_path_buf())];
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
            let file_name = item.file_name();
            let name = file_name.to_string_lossy();
            // Both paths are built at their exact size (a join or `format!` over-allocates
            // by up to half, which is megabytes over a large context).
            let rel = if rel_dir.is_empty() || rel_dir == "." {
                name.to_string()
            } else {
                let mut rel = String::with_capacity(rel_dir.len() + 1 + name.len());
                rel.push_str(&rel_dir);
                rel.push('/');
                rel.push_str(&name);
                rel
            };
            let mut host = PathBuf::with_capacity(host_dir.as_os_str().len() + 1 + file_name.len());
            host.push(&host_dir);
            host.push(&file_name);
            let is_dir = item.file_type().is_ok_and(|t| t.is_dir());
            let excluded = !rules.is_empty() && rules.is_excluded(&rel);
            if excluded && (!is_dir || rules.can_skip_excluded_dir(&rel)) {
                continue;
            }
            if is_dir {
                stack.push((rel.clone(), host.clone()));
            }
            if !excluded {
                out.push(ContextEntry::listed(rel, host));
            }
        }
    }
    let below = &mut out[1..];
    read_all_metadata(below)?;
    below.sort_unstable_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

/// One statx per entry is most of a walk's time (the listing itself is cheap), so the
/// entries are stat'ed on a few threads, each filling its own slice. They are spawned from
/// this thread, not taken from a pool: a walk may run where a snapshot is mounted only for
/// this thread (`COPY --from`), and only threads it creates share that mount namespace.
fn read_all_metadata(entries: &mut [ContextEntry]) -> Result<(), WalkError> {
    const MAX_THREADS: usize = 4;
    const ENTRIES_PER_THREAD: usize = 2048;
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(MAX_THREADS)
        .min(entries.len().div_ceil(ENTRIES_PER_THREAD))
        .max(1);
    let fill = |part: &mut [ContextEntry]| part.iter_mut().try_for_each(|e| e.read_metadata());
    if threads == 1 {
        return fill(entries);
    }
    let chunk = entries.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let workers: Vec<_> = entries
            .chunks_mut(chunk)
            .map(|part| scope.spawn(move || fill(part)))
            .collect();
        for worker in workers {
            worker.join().map_err(|_| WalkError {
                path: ".".into(),
                source: std::io::Error::other("a context walk thread panicked"),
            })??;
        }
        Ok(())
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
