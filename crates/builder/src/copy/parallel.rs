//! Copying a large directory on several threads, one subtree per thread at a time.
//!
//! Why: a cold `COPY . /app` of 50,000 files spent its time in one thread creating files
//! (inode allocation, directory inserts, page copies) while the other cores idled. The
//! threads never share a directory: each top-level directory of the source, with
//! everything below it, goes to one thread, and the files directly in the source stay
//! together. Sharing a parent directory between threads was tried and made the kernel
//! contend on its lock (system time up, no gain).
//!
//! Only when the destination directory is empty before the copy: then nothing already in
//! the image (a symlink from one subtree into another) can make two subtrees write to the
//! same place, so the result does not depend on the order the threads run in.
//!
//! The threads are spawned from the calling thread, so they share its mount namespace (a
//! copy runs where the snapshot is mounted for that thread only).

use std::collections::HashMap;

use super::write::{Copied, CopyError, CopyRun, CopyStats, DirTimes};
use crate::context::{ContextEntry, EntryKind, resolve_in_root};

/// Below this many entries the threads cost more than they save.
const PARALLEL_MIN_ENTRIES: usize = 1000;

/// Most threads a copy uses (directory creation does not scale much further).
const MAX_THREADS: usize = 4;

/// The entries each thread copies, in walk order within each subtree.
pub(super) type Lanes<'e> = Vec<Vec<&'e ContextEntry>>;

/// Splits `selection` (a directory source; its first entry is the directory itself) into
/// per-thread lanes, or None when it should be copied by one thread.
pub(super) fn plan_lanes<'e>(
    run: &CopyRun<'_>,
    selection: &'e [ContextEntry],
) -> Result<Option<Lanes<'e>>, CopyError> {
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(MAX_THREADS);
    if threads < 2
        || selection.len() < PARALLEL_MIN_ENTRIES
        || !matches!(run.first.kind, EntryKind::Dir)
    {
        return Ok(None);
    }
    let target = resolve_in_root(run.root, &run.target_dir_rel, true)?;
    let empty = std::fs::read_dir(&target).is_ok_and(|mut entries| entries.next().is_none());
    if !empty {
        return Ok(None);
    }
    // Group by the top-level directory below the source; the files directly in the source
    // (key None) share one group, as they share one parent directory.
    let mut groups: Vec<Vec<&ContextEntry>> = Vec::new();
    let mut index: HashMap<Option<&str>, usize> = HashMap::new();
    for entry in &selection[1..] {
        let below = entry
            .path
            .strip_prefix(run.prefix.as_str())
            .unwrap_or(&entry.path);
        let key = match below.split_once('/') {
            Some((top, _)) => Some(top),
            None if matches!(entry.kind, EntryKind::Dir) => Some(below),
            None => None,
        };
        let slot = *index.entry(key).or_insert_with(|| {
            groups.push(Vec::new());
            groups.len() - 1
        });
        groups[slot].push(entry);
    }
    if groups.len() < 2 {
        return Ok(None);
    }
    // Largest groups first, each to the lane with the least work so far.
    let mut order: Vec<usize> = (0..groups.len()).collect();
    order.sort_by_key(|&g| std::cmp::Reverse(groups[g].len()));
    let mut load = vec![0usize; threads.min(groups.len())];
    let mut lane_of = vec![0usize; groups.len()];
    for g in order {
        let lane = (0..load.len()).min_by_key(|&l| load[l]).unwrap_or(0);
        load[lane] += groups[g].len();
        lane_of[g] = lane;
    }
    // Each lane takes its groups in their walk order.
    let mut lanes: Lanes<'e> = vec![Vec::new(); load.len()];
    for (g, group) in groups.into_iter().enumerate() {
        lanes[lane_of[g]].extend(group);
    }
    Ok(Some(lanes))
}

/// Copies each lane on its own thread; returns the summed counts and each lane's
/// directories (parents before contents within a lane).
pub(super) fn copy_lanes(
    run: &CopyRun<'_>,
    lanes: Lanes<'_>,
) -> Result<(CopyStats, Vec<DirTimes>), CopyError> {
    let results: Vec<Result<Copied, CopyError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = lanes
            .into_iter()
            .map(|lane| {
                scope.spawn(move || {
                    let mut done = Copied::default();
                    run.copy_entries(lane.into_iter(), &mut done)?;
                    Ok(done)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| {
                    Err(CopyError::Io {
                        dest: run.root.display().to_string(),
                        source: std::io::Error::other("a copy thread panicked"),
                    })
                })
            })
            .collect()
    });
    let mut stats = CopyStats::default();
    let mut dir_times = Vec::new();
    for result in results {
        let done = result?;
        stats.files += done.stats.files;
        stats.dirs += done.stats.dirs;
        stats.symlinks += done.stats.symlinks;
        stats.bytes += done.stats.bytes;
        stats.linked += done.stats.linked;
        stats.skipped_special += done.stats.skipped_special;
        dir_times.push(done.dir_times);
    }
    Ok((stats, dir_times))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::{IgnoreRules, walk_source};
    use crate::copy::{CopyOptions, DestinationKind, copy_selection};
    use std::collections::BTreeMap;
    use std::os::unix::fs::MetadataExt;
    use std::path::Path;

    /// Mode, uid, gid, mtime seconds and nanoseconds, content (or link target).
    type Facts = (u32, u32, u32, i64, i64, Vec<u8>);

    /// Everything a copy decides about each entry below `dir`.
    fn snapshot(dir: &Path) -> BTreeMap<String, Facts> {
        let mut out = BTreeMap::new();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                let m = std::fs::symlink_metadata(&p).unwrap();
                let content = if m.is_file() {
                    std::fs::read(&p).unwrap()
                } else if m.file_type().is_symlink() {
                    std::fs::read_link(&p)
                        .unwrap()
                        .into_os_string()
                        .into_encoded_bytes()
                } else {
                    stack.push(p.clone());
                    Vec::new()
                };
                let rel = p.strip_prefix(dir).unwrap().display().to_string();
                out.insert(
                    rel,
                    (
                        m.mode(),
                        m.uid(),
                        m.gid(),
                        m.mtime(),
                        m.mtime_nsec(),
                        content,
                    ),
                );
            }
        }
        out
    }

    #[test]
    fn a_parallel_copy_makes_the_same_tree_as_a_sequential_one() {
        let ctx = tempfile::tempdir().unwrap();
        let src = ctx.path().join("src");
        for d in 0..6 {
            for sub in ["", "/inner"] {
                let dir = src.join(format!("d{d}{sub}"));
                std::fs::create_dir_all(&dir).unwrap();
                for f in 0..150 {
                    std::fs::write(dir.join(format!("f{f}")), format!("{d}{sub}{f}")).unwrap();
                }
            }
            std::os::unix::fs::symlink("inner/f1", src.join(format!("d{d}/link"))).unwrap();
        }
        for f in 0..40 {
            std::fs::write(src.join(format!("top{f}")), format!("top {f}")).unwrap();
        }
        // Directory times must survive the files written into them afterwards.
        let old = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(7_000_000);
        for d in ["d0", "d3/inner"] {
            std::fs::File::open(src.join(d))
                .unwrap()
                .set_modified(old)
                .unwrap();
        }
        let selection = walk_source("src", &src, &IgnoreRules::none()).unwrap();
        assert!(selection.len() > PARALLEL_MIN_ENTRIES);
        let opts = CopyOptions {
            chown: Some((11, 22)),
            chmod: None,
            preserve_owner: false,
        };
        let copy = |root: &Path| {
            copy_selection(
                root,
                &selection,
                "src",
                "/app/",
                DestinationKind::Directory,
                &opts,
            )
            .unwrap()
        };
        // An empty destination takes the parallel path; one that already holds something
        // is copied by one thread.
        let parallel_root = tempfile::tempdir().unwrap();
        let run = CopyRun::new(
            parallel_root.path(),
            &selection[0],
            "src",
            "/app/",
            DestinationKind::Directory,
            &opts,
        );
        std::fs::create_dir_all(parallel_root.path().join("app")).unwrap();
        let lanes = plan_lanes(&run, &selection).unwrap().unwrap();
        assert!(lanes.len() >= 2 || std::thread::available_parallelism().unwrap().get() < 2);
        let parallel_stats = copy(parallel_root.path());
        let sequential_root = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(sequential_root.path().join("app")).unwrap();
        std::fs::write(sequential_root.path().join("app/zz-existing"), "x").unwrap();
        let sequential_stats = copy(sequential_root.path());
        std::fs::remove_file(sequential_root.path().join("app/zz-existing")).unwrap();

        assert_eq!(parallel_stats, sequential_stats);
        assert_eq!(parallel_stats.files, 6 * 300 + 40);
        let a = snapshot(&parallel_root.path().join("app"));
        let b = snapshot(&sequential_root.path().join("app"));
        assert_eq!(a.len(), 6 * 300 + 40 + 6 * 2 + 6);
        assert!(a == b, "the parallel copy differs from the sequential one");
        assert_eq!(a["d0"].3, 7_000_000);
        assert_eq!(a["d3/inner"].3, 7_000_000);
        assert_eq!((a["d5/inner/f9"].1, a["d5/inner/f9"].2), (11, 22));
    }
}
