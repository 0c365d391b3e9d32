//! A persistent cache of file content digests keyed by stat data, so that re-hashing an
//! unchanged context reads no file contents.
//!
//! An entry is trusted only while the file's size, mtime, ctime, inode and device are all
//! unchanged. Like git's index, entries for files changed in the last moments before they
//! were hashed are not stored ("racy" files): a second write within the timestamp
//! granularity would otherwise go unnoticed.
//!
//! The file format is a small binary log read in one pass; a missing, truncated or foreign
//! file is treated as empty, never as an error: the cache only ever saves work.

use std::collections::HashMap;
use std::io::{BufWriter, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

const MAGIC: &[u8; 8] = b"RBSTAT01";
/// Files whose ctime is this close to "now" are hashed but not remembered.
const RACY_WINDOW_NS: i128 = 2_000_000_000;

/// The stat data that must be unchanged for a cached digest to be reused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatKey {
    pub size: u64,
    pub mtime_ns: i128,
    pub ctime_ns: i128,
    pub ino: u64,
    pub dev: u64,
}

/// Cached content digests of one context directory.
#[derive(Debug)]
pub struct StatCache {
    file: Option<PathBuf>,
    entries: HashMap<PathBuf, (StatKey, [u8; 32])>,
    dirty: bool,
}

impl StatCache {
    /// A cache that remembers nothing between runs.
    pub fn in_memory() -> StatCache {
        StatCache {
            file: None,
            entries: HashMap::new(),
            dirty: false,
        }
    }

    /// Loads the cache file (missing or unreadable → empty cache saved there later).
    pub fn load(file: &Path) -> StatCache {
        let entries = std::fs::File::open(file)
            .ok()
            .and_then(|f| {
                let mut bytes = Vec::new();
                std::io::BufReader::new(f).read_to_end(&mut bytes).ok()?;
                decode(&bytes)
            })
            .unwrap_or_default();
        StatCache {
            file: Some(file.to_path_buf()),
            entries,
            dirty: false,
        }
    }

    /// The cached digest of `path` if its stat data is unchanged.
    pub fn get(&self, path: &Path, key: &StatKey) -> Option<[u8; 32]> {
        match self.entries.get(path) {
            Some((cached, digest)) if cached == key => Some(*digest),
            _ => None,
        }
    }

    /// Remembers a digest, unless the file changed too recently to be trusted.
    pub fn insert(&mut self, path: PathBuf, key: StatKey, digest: [u8; 32]) {
        if now_ns() - key.ctime_ns.max(key.mtime_ns) < RACY_WINDOW_NS {
            return;
        }
        self.entries.insert(path, (key, digest));
        self.dirty = true;
    }

    /// Number of remembered files.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Writes the cache back (atomically: temp file then rename) if anything changed.
    /// Entries for files that no longer exist are dropped first.
    pub fn save(&mut self) -> std::io::Result<()> {
        let Some(file) = self.file.clone() else {
            return Ok(());
        };
        if !self.dirty {
            return Ok(());
        }
        self.entries
            .retain(|path, _| path.symlink_metadata().is_ok());
        let dir = file.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir)?;
        let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
        {
            let mut w = BufWriter::new(tmp.as_file_mut());
            w.write_all(MAGIC)?;
            for (path, (key, digest)) in &self.entries {
                let raw = path.as_os_str().as_bytes();
                w.write_all(&(raw.len() as u32).to_le_bytes())?;
                w.write_all(raw)?;
                w.write_all(&key.size.to_le_bytes())?;
                w.write_all(&key.mtime_ns.to_le_bytes())?;
                w.write_all(&key.ctime_ns.to_le_bytes())?;
                w.write_all(&key.ino.to_le_bytes())?;
                w.write_all(&key.dev.to_le_bytes())?;
                w.write_all(digest)?;
            }
            w.flush()?;
        }
        tmp.persist(&file).map_err(|e| e.error)?;
        self.dirty = false;
        Ok(())
    }
}

fn now_ns() -> i128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as i128)
        .unwrap_or(0)
}

/// Decodes the whole file; None on any inconsistency.
fn decode(bytes: &[u8]) -> Option<HashMap<PathBuf, (StatKey, [u8; 32])>> {
    let mut rest = bytes.strip_prefix(MAGIC.as_slice())?;
    let mut out = HashMap::new();
    fn take<'a>(rest: &mut &'a [u8], n: usize) -> Option<&'a [u8]> {
        if rest.len() < n {
            return None;
        }
        let (head, tail) = rest.split_at(n);
        *rest = tail;
        Some(head)
    }
    while !rest.is_empty() {
        let len = u32::from_le_bytes(take(&mut rest, 4)?.try_into().ok()?) as usize;
        let raw = take(&mut rest, len)?;
        let path = PathBuf::from(std::ffi::OsStr::from_bytes(raw));
        let size = u64::from_le_bytes(take(&mut rest, 8)?.try_into().ok()?);
        let mtime_ns = i128::from_le_bytes(take(&mut rest, 16)?.try_into().ok()?);
        let ctime_ns = i128::from_le_bytes(take(&mut rest, 16)?.try_into().ok()?);
        let ino = u64::from_le_bytes(take(&mut rest, 8)?.try_into().ok()?);
        let dev = u64::from_le_bytes(take(&mut rest, 8)?.try_into().ok()?);
        let digest: [u8; 32] = take(&mut rest, 32)?.try_into().ok()?;
        out.insert(
            path,
            (
                StatKey {
                    size,
                    mtime_ns,
                    ctime_ns,
                    ino,
                    dev,
                },
                digest,
            ),
        );
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn old_key(size: u64) -> StatKey {
        StatKey {
            size,
            mtime_ns: 1_000_000_000,
            ctime_ns: 1_000_000_000,
            ino: 7,
            dev: 1,
        }
    }

    #[test]
    fn round_trips_and_checks_every_stat_field() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("cache");
        let tracked = dir.path().join("f");
        std::fs::write(&tracked, "x").unwrap();
        let mut cache = StatCache::load(&file);
        cache.insert(tracked.clone(), old_key(1), [9; 32]);
        cache.save().unwrap();
        let cache = StatCache::load(&file);
        assert_eq!(cache.get(&tracked, &old_key(1)), Some([9; 32]));
        assert_eq!(cache.get(&tracked, &old_key(2)), None);
        let mut moved = old_key(1);
        moved.ino = 8;
        assert_eq!(cache.get(&tracked, &moved), None);
    }

    #[test]
    fn racy_files_are_not_remembered() {
        let mut cache = StatCache::in_memory();
        let mut key = old_key(1);
        key.ctime_ns = now_ns();
        cache.insert("/x".into(), key, [1; 32]);
        assert!(cache.is_empty());
    }

    #[test]
    fn garbage_file_is_an_empty_cache() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("cache");
        std::fs::write(&file, b"RBSTAT01\x05\x00\x00\x00ab").unwrap();
        assert!(StatCache::load(&file).is_empty());
        std::fs::write(&file, b"nonsense").unwrap();
        assert!(StatCache::load(&file).is_empty());
    }
}
