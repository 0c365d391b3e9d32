//! Temporary entries inside the store, and cleanup of those a killed process left behind.
//!
//! Every temporary file or directory lives in `<root>/tmp` (same file system as its final
//! place, so `rename` is atomic) and is flock-ed by its creator while in use. On open,
//! the store removes entries whose lock nobody holds: their creator is gone.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::lock::try_lock_open_file;

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// Entries younger than this are never cleaned: their creator may not have locked them yet.
const MIN_AGE: Duration = Duration::from_secs(5);

/// A name no other process or thread will choose: pid, a process-wide counter and the clock.
pub(crate) fn unique_name(prefix: &str) -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{prefix}-{}-{n}-{nanos:08x}", std::process::id())
}

/// Removes abandoned entries of `tmp_dir` (unlocked and older than a few seconds).
/// Best effort: a failure to clean one entry never fails opening the store.
pub(crate) fn clean_abandoned(tmp_dir: &Path) {
    let Ok(entries) = std::fs::read_dir(tmp_dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if let Err(e) = clean_one(&path) {
            tracing::debug!(path = %path.display(), error = %e, "could not clean temporary entry");
        }
    }
}

fn clean_one(path: &PathBuf) -> std::io::Result<()> {
    let meta = std::fs::symlink_metadata(path)?;
    let age = meta
        .modified()
        .ok()
        .and_then(|m| SystemTime::now().duration_since(m).ok())
        .unwrap_or_default();
    if age < MIN_AGE {
        return Ok(());
    }
    if meta.file_type().is_symlink() {
        return std::fs::remove_file(path);
    }
    let handle = File::open(path)?;
    if !try_lock_open_file(&handle)? {
        return Ok(()); // its creator is alive and working on it
    }
    if meta.is_dir() {
        crate::fsutil::remove_tree(path)
    } else {
        std::fs::remove_file(path)
    }
}

/// A temporary directory in the store, locked while this value lives and removed on
/// drop unless it was renamed away with [`TempDir::persist_as`].
#[derive(Debug)]
pub(crate) struct TempDir {
    path: PathBuf,
    _lock: File,
    persisted: bool,
}

impl TempDir {
    pub(crate) fn create(tmp_dir: &Path, prefix: &str) -> std::io::Result<Self> {
        let path = tmp_dir.join(unique_name(prefix));
        std::fs::create_dir(&path)?;
        let lock = File::open(&path)?;
        try_lock_open_file(&lock)?;
        Ok(TempDir {
            path,
            _lock: lock,
            persisted: false,
        })
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Flushes the file system holding it, then renames it to `target` atomically and
    /// fsyncs the target's parent. Fails if `target` exists.
    pub(crate) fn persist_as(mut self, target: &Path) -> std::io::Result<()> {
        rustix::fs::syncfs(&self._lock)?;
        // NOREPLACE: renaming a directory onto an existing empty one would silently succeed.
        rustix::fs::renameat_with(
            rustix::fs::CWD,
            &self.path,
            rustix::fs::CWD,
            target,
            rustix::fs::RenameFlags::NOREPLACE,
        )?;
        self.persisted = true;
        if let Some(parent) = target.parent() {
            crate::fsutil::fsync_dir(parent)?;
        }
        Ok(())
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if !self.persisted {
            let _ = crate::fsutil::remove_tree(&self.path);
        }
    }
}
