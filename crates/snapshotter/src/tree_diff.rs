//! Diff of two full trees (the copy backend): walks both, comparing metadata, and content
//! where metadata cannot tell.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::fs::{File, Metadata};
use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use crate::change::{Change, ChangeKind};
use crate::diff_error::DiffError;
use crate::overlay_format::content_xattrs;

/// A ctime (seconds, nanoseconds): entries whose inode changed before it are known
/// untouched when their metadata matches, so their content is not re-read.
pub type CtimeMark = (i64, i64);

/// Lists what differs from `lower` to `upper`, in sorted depth-first order.
///
/// An entry is changed when its type, mode, owner, size, mtime, extended attributes,
/// symlink target, device number or content differ. With `untouched_before`, a regular
/// file whose metadata match and whose ctime is older than the mark is taken as
/// unchanged without reading it (writing to a file always updates its ctime).
pub fn tree_changes(
    lower: &Path,
    upper: &Path,
    untouched_before: Option<CtimeMark>,
) -> Result<Vec<Change>, DiffError> {
    let mut out = Vec::new();
    let differ = TreeDiffer {
        lower,
        upper,
        untouched_before,
    };
    differ.walk(PathBuf::new(), &mut out)?;
    Ok(out)
}

struct TreeDiffer<'a> {
    lower: &'a Path,
    upper: &'a Path,
    untouched_before: Option<CtimeMark>,
}

impl TreeDiffer<'_> {
    fn walk(&self, rel: PathBuf, out: &mut Vec<Change>) -> Result<(), DiffError> {
        let lower_dir = self.lower.join(&rel);
        let upper_dir = self.upper.join(&rel);
        let mut names: BTreeSet<OsString> = list(&lower_dir)?;
        names.extend(list(&upper_dir)?);
        for name in names {
            let child = rel.join(&name);
            let lower_meta = lstat_opt(&self.lower.join(&child))?;
            let upper_meta = lstat_opt(&self.upper.join(&child))?;
            match (lower_meta, upper_meta) {
                (Some(_), None) => out.push(Change::new(child, ChangeKind::Whiteout)),
                (None, Some(u)) => self.added(child, &u, out)?,
                (Some(l), Some(u)) => {
                    if l.is_dir() && u.is_dir() {
                        if !self.same_entry(&child, &l, &u)? {
                            out.push(Change::new(child.clone(), ChangeKind::Entry));
                        }
                        self.walk(child, out)?;
                    } else if self.same_entry(&child, &l, &u)? {
                        continue;
                    } else if u.is_dir() {
                        // A directory replacing a non-directory: all of it is new.
                        self.added(child, &u, out)?;
                    } else {
                        out.push(Change::new(child, ChangeKind::Entry));
                    }
                }
                (None, None) => {} // removed between listing and stat; nothing to record
            }
        }
        Ok(())
    }

    /// Records `rel` and, for a directory, everything below it.
    fn added(&self, rel: PathBuf, meta: &Metadata, out: &mut Vec<Change>) -> Result<(), DiffError> {
        out.push(Change::new(rel.clone(), ChangeKind::Entry));
        if meta.is_dir() {
            for name in list(&self.upper.join(&rel))? {
                let child = rel.join(name);
                let path = self.upper.join(&child);
                if let Some(m) = lstat_opt(&path)? {
                    self.added(child, &m, out)?;
                }
            }
        }
        Ok(())
    }

    fn same_entry(&self, rel: &Path, l: &Metadata, u: &Metadata) -> Result<bool, DiffError> {
        let same_meta = l.mode() == u.mode()
            && l.uid() == u.uid()
            && l.gid() == u.gid()
            && l.rdev() == u.rdev()
            && l.mtime() == u.mtime()
            && l.mtime_nsec() == u.mtime_nsec()
            && (l.is_dir() || l.size() == u.size());
        if !same_meta {
            return Ok(false);
        }
        let lower_path = self.lower.join(rel);
        let upper_path = self.upper.join(rel);
        let read_xattrs =
            |p: &Path| content_xattrs(p).map_err(|e| DiffError::io("read xattrs", p, e));
        if !l.file_type().is_symlink() && read_xattrs(&lower_path)? != read_xattrs(&upper_path)? {
            return Ok(false);
        }
        if l.file_type().is_symlink() {
            let target =
                |p: &Path| std::fs::read_link(p).map_err(|e| DiffError::io("read link", p, e));
            return Ok(target(&lower_path)? == target(&upper_path)?);
        }
        if l.is_file() {
            let untouched = self
                .untouched_before
                .is_some_and(|mark| (u.ctime(), u.ctime_nsec()) < mark);
            if !untouched {
                return same_content(&lower_path, &upper_path);
            }
        }
        Ok(true)
    }
}

fn list(dir: &Path) -> Result<BTreeSet<OsString>, DiffError> {
    let mut names = BTreeSet::new();
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        // One side is not a directory (or is missing): it contributes no names.
        Err(e) if matches!(e.raw_os_error(), Some(libc::ENOENT) | Some(libc::ENOTDIR)) => {
            return Ok(names);
        }
        Err(e) => return Err(DiffError::io("read directory", dir, e)),
    };
    for entry in entries {
        names.insert(
            entry
                .map_err(|e| DiffError::io("read directory", dir, e))?
                .file_name(),
        );
    }
    Ok(names)
}

fn lstat_opt(path: &Path) -> Result<Option<Metadata>, DiffError> {
    match std::fs::symlink_metadata(path) {
        Ok(m) => Ok(Some(m)),
        Err(e) if matches!(e.raw_os_error(), Some(libc::ENOENT) | Some(libc::ENOTDIR)) => Ok(None),
        Err(e) => Err(DiffError::io("stat", path, e)),
    }
}

fn same_content(a: &Path, b: &Path) -> Result<bool, DiffError> {
    let open = |p: &Path| File::open(p).map_err(|e| DiffError::io("open", p, e));
    let (mut fa, mut fb) = (open(a)?, open(b)?);
    let mut ba = vec![0u8; 64 * 1024];
    let mut bb = vec![0u8; 64 * 1024];
    loop {
        let na = read_full(&mut fa, &mut ba).map_err(|e| DiffError::io("read", a, e))?;
        let nb = read_full(&mut fb, &mut bb).map_err(|e| DiffError::io("read", b, e))?;
        if na != nb || ba[..na] != bb[..nb] {
            return Ok(false);
        }
        if na == 0 {
            return Ok(true);
        }
    }
}

fn read_full(f: &mut File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match f.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}
