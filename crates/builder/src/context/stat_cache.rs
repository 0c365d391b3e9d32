//! A persistent cache of file content digests keyed by stat data, so that re-hashing an
//! unchanged context reads no file contents.
//!
//! An entry is trusted only while the file's size, mtime, ctime, inode and device are all
//! unchanged. Like git's index, entries for files changed in the last moments before they
//! were hashed are not stored ("racy" files): a second write within the timestamp
//! granularity would otherwise go unnoticed.
//!
//! The file is never loaded whole: its records are sorted by path, and a walk's files
//! (sorted the same way) are matched against them in one streaming pass, so a 50,000-file
//! context costs a read buffer, not a table in memory. New digests are merged in the same
//! way into a temporary file that replaces the old one by rename (a crash leaves one or the
//! other). A missing, truncated, foreign or older-format file is treated as empty, never as
//! an error: the cache only ever saves work, and the next merge rewrites it.

use std::borrow::Borrow;
use std::cmp::Ordering;
use std::collections::HashMap;
use std::io::{BufReader, BufWriter, Read, Seek, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use super::walk::{ContextEntry, EntryKind};

/// Format version 2 (sorted records, header with count and length). Version 1 files
/// (`RBSTAT01`, unsorted) are not read; they are replaced at the next merge.
const MAGIC: &[u8; 8] = b"RBSTAT02";
/// Magic, record count, total file length.
const HEADER_LEN: u64 = 24;
/// Longer paths than this cannot be in the file (Linux's PATH_MAX is 4096).
const MAX_PATH_LEN: usize = 64 * 1024;
/// Files whose ctime is this close to "now" are hashed but not remembered.
const RACY_WINDOW_NS: i128 = 2_000_000_000;
const READ_BUFFER: usize = 64 * 1024;

/// The stat data that must be unchanged for a cached digest to be reused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatKey {
    pub size: u64,
    pub mtime_ns: i128,
    pub ctime_ns: i128,
    pub ino: u64,
    pub dev: u64,
}

impl StatKey {
    /// The stat data of a walked entry.
    pub fn of(entry: &ContextEntry) -> StatKey {
        StatKey {
            size: entry.size,
            mtime_ns: entry.mtime_ns,
            ctime_ns: entry.ctime_ns,
            ino: entry.ino,
            dev: entry.dev,
        }
    }

    fn is_racy(&self) -> bool {
        now_ns() - self.ctime_ns.max(self.mtime_ns) < RACY_WINDOW_NS
    }
}

/// Cached content digests of one context directory.
#[derive(Debug)]
pub struct StatCache {
    store: Store,
}

#[derive(Debug)]
enum Store {
    /// Remembered for this process only (remote contexts, tests).
    Memory(HashMap<PathBuf, (StatKey, [u8; 32])>),
    /// The sorted file at this path.
    File(PathBuf),
}

impl StatCache {
    /// A cache that remembers nothing between runs.
    pub fn in_memory() -> StatCache {
        StatCache {
            store: Store::Memory(HashMap::new()),
        }
    }

    /// The cache kept in `file`. Nothing is read yet; a missing or unreadable file is an
    /// empty cache, created by the first [`StatCache::remember`] that has something new.
    pub fn load(file: &Path) -> StatCache {
        StatCache {
            store: Store::File(file.to_path_buf()),
        }
    }

    /// Looks up the cached content digest of every regular file among `entries`: where
    /// one is found with unchanged stat data, it is written to the same index of `digests`
    /// and the returned flag is true.
    pub fn lookup<E: Borrow<ContextEntry>>(
        &self,
        entries: &[E],
        digests: &mut [[u8; 32]],
    ) -> Vec<bool> {
        let mut found = vec![false; entries.len()];
        let mut answer = |i: usize, digest: &[u8; 32]| {
            if let Some(slot) = digests.get_mut(i) {
                *slot = *digest;
                found[i] = true;
            }
        };
        match &self.store {
            Store::Memory(map) => {
                for (i, entry) in entries.iter().enumerate() {
                    let entry = entry.borrow();
                    if entry.kind != EntryKind::File {
                        continue;
                    }
                    if let Some((_, digest)) = map
                        .get(&entry.host_path)
                        .filter(|(key, _)| *key == StatKey::of(entry))
                    {
                        answer(i, digest);
                    }
                }
            }
            Store::File(file) => {
                let order = files_by_path(entries);
                // A file that turns out damaged half-way vouches for nothing.
                if lookup_in_file(file, entries, &order, &mut answer).is_err() {
                    found.fill(false);
                }
            }
        }
        found
    }

    /// Remembers freshly computed digests (`fresh`: index into `entries`, digest), except
    /// for files changed too recently to be trusted. A file cache is rewritten: its records,
    /// minus those the walk shows stale and those of files that no longer exist, merged
    /// with the new ones. Writing nothing new leaves the file untouched.
    pub fn remember<E: Borrow<ContextEntry>>(
        &mut self,
        entries: &[E],
        fresh: &[(usize, [u8; 32])],
    ) -> std::io::Result<()> {
        let mut fresh: Vec<(usize, [u8; 32])> = fresh
            .iter()
            .copied()
            .filter(|(i, _)| {
                entries
                    .get(*i)
                    .is_some_and(|e| !StatKey::of(e.borrow()).is_racy())
            })
            .collect();
        if fresh.is_empty() {
            return Ok(());
        }
        match &mut self.store {
            Store::Memory(map) => {
                for (i, digest) in fresh {
                    let entry = entries[i].borrow();
                    map.insert(entry.host_path.clone(), (StatKey::of(entry), digest));
                }
                Ok(())
            }
            Store::File(file) => {
                fresh.sort_by(|a, b| path_bytes(entries, a.0).cmp(path_bytes(entries, b.0)));
                fresh.dedup_by(|a, b| path_bytes(entries, a.0) == path_bytes(entries, b.0));
                let seen = files_by_path(entries);
                merge_into_file(file, entries, &seen, &fresh)
            }
        }
    }

    /// Number of remembered files.
    pub fn len(&self) -> usize {
        match &self.store {
            Store::Memory(map) => map.len(),
            Store::File(file) => Reader::open(file).map_or(0, |r| r.remaining as usize),
        }
    }

    /// True when nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn now_ns() -> i128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as i128)
        .unwrap_or(0)
}

fn path_bytes<E: Borrow<ContextEntry>>(entries: &[E], i: usize) -> &[u8] {
    entries[i].borrow().host_path.as_os_str().as_bytes()
}

/// Indices of the regular files among `entries`, in path order (a walk is already sorted,
/// apart from its start entry, so this is usually a check).
fn files_by_path<E: Borrow<ContextEntry>>(entries: &[E]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..entries.len())
        .filter(|&i| entries[i].borrow().kind == EntryKind::File)
        .collect();
    if !order.is_sorted_by(|&a, &b| path_bytes(entries, a) <= path_bytes(entries, b)) {
        order.sort_unstable_by(|&a, &b| path_bytes(entries, a).cmp(path_bytes(entries, b)));
    }
    order
}

fn corrupt(what: &str) -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::InvalidData,
        format!("stat cache: {what}"),
    )
}

/// One record of the file.
#[derive(Debug, Default)]
struct Record {
    path: Vec<u8>,
    key: Option<StatKey>,
    digest: [u8; 32],
}

/// Reads the records of a cache file in order, checking that they are strictly sorted.
struct Reader {
    input: BufReader<std::fs::File>,
    remaining: u64,
    previous: Vec<u8>,
}

impl Reader {
    /// None when the file is missing, of another format, or not as long as its header says.
    fn open(file: &Path) -> Option<Reader> {
        let file = std::fs::File::open(file).ok()?;
        let actual_len = file.metadata().ok()?.len();
        let mut input = BufReader::with_capacity(READ_BUFFER, file);
        let mut header = [0u8; HEADER_LEN as usize];
        input.read_exact(&mut header).ok()?;
        let (magic, rest) = header.split_at(8);
        let (count, len) = rest.split_at(8);
        let count = u64::from_le_bytes(count.try_into().ok()?);
        let len = u64::from_le_bytes(len.try_into().ok()?);
        (magic == MAGIC && len == actual_len).then_some(Reader {
            input,
            remaining: count,
            previous: Vec::new(),
        })
    }

    /// Reads the next record into `record`; false at the end.
    fn next_into(&mut self, record: &mut Record) -> std::io::Result<bool> {
        if self.remaining == 0 {
            return Ok(false);
        }
        self.remaining -= 1;
        std::mem::swap(&mut self.previous, &mut record.path);
        let len = u32::from_le_bytes(self.take::<4>()?) as usize;
        if len == 0 || len > MAX_PATH_LEN {
            return Err(corrupt("bad path length"));
        }
        record.path.resize(len, 0);
        self.input.read_exact(&mut record.path)?;
        if !self.previous.is_empty() && record.path <= self.previous {
            return Err(corrupt("records out of order"));
        }
        record.key = Some(StatKey {
            size: u64::from_le_bytes(self.take()?),
            mtime_ns: i128::from_le_bytes(self.take()?),
            ctime_ns: i128::from_le_bytes(self.take()?),
            ino: u64::from_le_bytes(self.take()?),
            dev: u64::from_le_bytes(self.take()?),
        });
        record.digest = self.take()?;
        Ok(true)
    }

    fn take<const N: usize>(&mut self) -> std::io::Result<[u8; N]> {
        let mut bytes = [0u8; N];
        self.input.read_exact(&mut bytes)?;
        Ok(bytes)
    }
}

/// Answers for the files `order` lists (in path order) from the file's records.
fn lookup_in_file<E: Borrow<ContextEntry>>(
    file: &Path,
    entries: &[E],
    order: &[usize],
    answer: &mut impl FnMut(usize, &[u8; 32]),
) -> std::io::Result<()> {
    let Some(mut reader) = Reader::open(file) else {
        return Ok(());
    };
    let mut record = Record::default();
    let mut more = reader.next_into(&mut record)?;
    for &i in order {
        let wanted = path_bytes(entries, i);
        while more && record.path.as_slice() < wanted {
            more = reader.next_into(&mut record)?;
        }
        if !more {
            break;
        }
        if record.path == wanted && record.key == Some(StatKey::of(entries[i].borrow())) {
            answer(i, &record.digest);
        }
    }
    // The rest is read too, so that damage anywhere in the file (records out of order, a
    // short file) discards every answer, not only those after it.
    while more {
        more = reader.next_into(&mut record)?;
    }
    Ok(())
}

/// Writes the merge of the old file, the walk (`seen`: its files in path order) and the
/// fresh digests (in path order, no duplicates) to a temporary file, then renames it over
/// the old one.
fn merge_into_file<E: Borrow<ContextEntry>>(
    file: &Path,
    entries: &[E],
    seen: &[usize],
    fresh: &[(usize, [u8; 32])],
) -> std::io::Result<()> {
    let dir = file.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    let mut out = BufWriter::with_capacity(READ_BUFFER, tmp.as_file_mut());
    out.write_all(&[0u8; HEADER_LEN as usize])?;
    let mut count = 0u64;
    let mut write = |path: &[u8], key: &StatKey, digest: &[u8; 32]| -> std::io::Result<()> {
        if path.len() > MAX_PATH_LEN {
            // The reader would take the file for damaged; such a file is just re-read.
            return Ok(());
        }
        count += 1;
        out.write_all(&(path.len() as u32).to_le_bytes())?;
        out.write_all(path)?;
        out.write_all(&key.size.to_le_bytes())?;
        out.write_all(&key.mtime_ns.to_le_bytes())?;
        out.write_all(&key.ctime_ns.to_le_bytes())?;
        out.write_all(&key.ino.to_le_bytes())?;
        out.write_all(&key.dev.to_le_bytes())?;
        out.write_all(digest)
    };
    let mut old = Reader::open(file);
    let mut record = Record::default();
    let mut next_old = |record: &mut Record| match old.as_mut() {
        // A damaged old file contributes what was read before the damage.
        Some(reader) => reader.next_into(record).unwrap_or(false),
        None => false,
    };
    let mut have_old = next_old(&mut record);
    let mut seen = seen.iter().peekable();
    for &(i, digest) in fresh {
        let path = path_bytes(entries, i);
        while have_old && record.path.as_slice() < path {
            if let Some(key) = record.key.filter(|_| keep_old(&record, entries, &mut seen)) {
                write(&record.path, &key, &record.digest)?;
            }
            have_old = next_old(&mut record);
        }
        if have_old && record.path.as_slice() == path {
            have_old = next_old(&mut record);
        }
        write(path, &StatKey::of(entries[i].borrow()), &digest)?;
    }
    while have_old {
        if let Some(key) = record.key.filter(|_| keep_old(&record, entries, &mut seen)) {
            write(&record.path, &key, &record.digest)?;
        }
        have_old = next_old(&mut record);
    }
    let file_out = out.into_inner().map_err(|e| e.into_error())?;
    let len = file_out.stream_position()?;
    file_out.rewind()?;
    file_out.write_all(MAGIC)?;
    file_out.write_all(&count.to_le_bytes())?;
    file_out.write_all(&len.to_le_bytes())?;
    tmp.persist(file).map_err(|e| e.error)?;
    Ok(())
}

/// Whether an old record not replaced by a fresh digest stays: if the walk saw its file, only
/// while the stat data still matches; otherwise (a file this walk did not select) only while
/// the file exists.
fn keep_old<'a, E: Borrow<ContextEntry>>(
    record: &Record,
    entries: &[E],
    seen: &mut std::iter::Peekable<impl Iterator<Item = &'a usize>>,
) -> bool {
    while let Some(&&i) = seen.peek() {
        match path_bytes(entries, i).cmp(&record.path) {
            Ordering::Less => {
                seen.next();
            }
            Ordering::Equal => return record.key == Some(StatKey::of(entries[i].borrow())),
            Ordering::Greater => break,
        }
    }
    Path::new(std::ffi::OsStr::from_bytes(&record.path))
        .symlink_metadata()
        .is_ok()
}

#[cfg(test)]
mod tests;
