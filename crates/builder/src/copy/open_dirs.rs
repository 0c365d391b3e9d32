//! The fast path of a copy: entries created with `*at` calls relative to an open
//! descriptor of their destination directory.
//!
//! Why: copying a 50,000-file context spent about a third of its time resolving every
//! destination path again, component by component, with `statx` through the overlay. The
//! walk lists a directory before its contents, so keeping the chain of open destination
//! directories (the current one and its ancestors) answers almost every parent lookup
//! without a system call. Creation uses `O_EXCL`/`O_NOFOLLOW` semantics, so whenever
//! something already exists where an entry goes (a file to replace, a symlink to follow, a
//! directory to merge into) the fast path declines and the path-based code handles that
//! entry with its full rules.

use std::fs::File;
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};

use rustix::fs::{AtFlags, Mode, OFlags, Timespec, Timestamps};
use rustix::io::Errno;

use super::reuse::{LinkOutcome, OpenedTree, PreviousDir};
use super::write::{CopyError, Placement, io_err};
use crate::context::{ContextEntry, EntryKind, resolve_in_root};

/// One open destination directory: its path as the Dockerfile names it (below the root, as
/// `/app/sub`), where it really is (symlinks followed inside the root), and a descriptor.
struct OpenDir {
    rel: String,
    path: PathBuf,
    fd: OwnedFd,
}

/// The chain of open directories from the outermost one used so far down to the last
/// parent; never longer than the destination's depth.
#[derive(Default)]
pub(super) struct OpenDirs {
    chain: Vec<OpenDir>,
    /// Where unchanged files are linked from, when the copy has a previous tree.
    previous: PreviousDir,
}

/// What the fast path did with an entry.
pub(super) enum FastOutcome {
    /// Written: a new directory (with where it is, for setting its time at the end), a
    /// file (with the bytes copied) or a symlink.
    Dir(PathBuf),
    File(u64),
    /// A file linked from the previous build's layer (see `reuse.rs`).
    Linked,
    Symlink,
    /// Not attempted or something was in the way: the path-based code must handle it.
    Declined,
}

/// Whether `rel` is `dir` or lies below it (`/app` holds `/app/x`, not `/apple`).
fn within(dir: &str, rel: &str) -> bool {
    rel == dir
        || (rel.len() > dir.len()
            && rel.starts_with(dir)
            && (dir.ends_with('/') || rel.as_bytes()[dir.len()] == b'/'))
}

impl OpenDirs {
    /// Forgets every open directory (after the path-based code changed the tree in ways
    /// the chain cannot follow).
    pub(super) fn clear(&mut self) {
        self.chain.clear();
    }

    /// Index in the chain of the directory named `parent_rel`, opening it (resolved inside
    /// `root`) when it is not there. None when it does not exist as a directory.
    fn parent(&mut self, root: &Path, parent_rel: &str) -> Result<Option<usize>, CopyError> {
        while let Some(top) = self.chain.last() {
            if within(&top.rel, parent_rel) {
                break;
            }
            self.chain.pop();
        }
        if let Some(top) = self.chain.last()
            && top.rel == parent_rel
        {
            return Ok(Some(self.chain.len() - 1));
        }
        let path = resolve_in_root(root, parent_rel, true)?;
        let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        match rustix::fs::open(&path, flags, Mode::empty()) {
            Ok(fd) => {
                self.chain.push(OpenDir {
                    rel: parent_rel.to_string(),
                    path,
                    fd,
                });
                Ok(Some(self.chain.len() - 1))
            }
            Err(_) => Ok(None),
        }
    }

    /// Creates `entry` where `place` says when nothing is there yet; an unchanged file is
    /// linked from `previous` when there is one.
    pub(super) fn try_write(
        &mut self,
        root: &Path,
        place: &Placement,
        entry: &ContextEntry,
        previous: Option<&OpenedTree<'_>>,
    ) -> Result<FastOutcome, CopyError> {
        let Some(name) = place.name.as_deref() else {
            return Ok(FastOutcome::Declined);
        };
        let Some(index) = self.parent(root, &place.parent_rel)? else {
            return Ok(FastOutcome::Declined);
        };
        let (owner, mode) = (place.owner, place.mode);
        let parent = &self.chain[index];
        let target = parent.path.join(name);
        let err = |e: Errno| io_err(&target)(e.into());
        let times = mtime_stamps(entry.mtime_ns);
        match &entry.kind {
            EntryKind::Dir => {
                match rustix::fs::mkdirat(&parent.fd, name, Mode::from_raw_mode(0o700)) {
                    Ok(()) => {}
                    Err(Errno::EXIST) => return Ok(FastOutcome::Declined),
                    Err(e) => return Err(err(e)),
                }
                let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
                let fd = rustix::fs::openat(&parent.fd, name, flags, Mode::empty()).map_err(err)?;
                set_owner_mode(fd.as_fd(), owner, mode).map_err(err)?;
                // The chain now ends at the new directory: its contents come next.
                self.chain.truncate(index + 1);
                self.chain.push(OpenDir {
                    rel: place.target_rel.clone(),
                    path: target.clone(),
                    fd,
                });
                Ok(FastOutcome::Dir(target))
            }
            EntryKind::File => {
                if let Some(tree) = previous {
                    match tree.try_link(&mut self.previous, entry, place, &parent.fd, name) {
                        LinkOutcome::Linked => return Ok(FastOutcome::Linked),
                        LinkOutcome::Exists => return Ok(FastOutcome::Declined),
                        LinkOutcome::Copy => {}
                    }
                }
                let flags = OFlags::WRONLY
                    | OFlags::CREATE
                    | OFlags::EXCL
                    | OFlags::NOFOLLOW
                    | OFlags::CLOEXEC;
                let fd =
                    match rustix::fs::openat(&parent.fd, name, flags, Mode::from_raw_mode(0o600)) {
                        Ok(fd) => fd,
                        Err(Errno::EXIST) => return Ok(FastOutcome::Declined),
                        Err(e) => return Err(err(e)),
                    };
                let mut out = File::from(fd);
                let mut src = File::open(&entry.host_path).map_err(io_err(&entry.host_path))?;
                let bytes = std::io::copy(&mut src, &mut out).map_err(io_err(&target))?;
                set_owner_mode(out.as_fd(), owner, mode).map_err(err)?;
                rustix::fs::futimens(&out, &times).map_err(err)?;
                Ok(FastOutcome::File(bytes))
            }
            EntryKind::Symlink { target: link } => {
                match rustix::fs::symlinkat(link.as_path(), &parent.fd, name) {
                    Ok(()) => {}
                    Err(Errno::EXIST) => return Ok(FastOutcome::Declined),
                    Err(e) => return Err(err(e)),
                }
                let (uid, gid) = owner;
                rustix::fs::chownat(
                    &parent.fd,
                    name,
                    Some(rustix::fs::Uid::from_raw(uid)),
                    Some(rustix::fs::Gid::from_raw(gid)),
                    AtFlags::SYMLINK_NOFOLLOW,
                )
                .map_err(err)?;
                rustix::fs::utimensat(&parent.fd, name, &times, AtFlags::SYMLINK_NOFOLLOW)
                    .map_err(err)?;
                Ok(FastOutcome::Symlink)
            }
            EntryKind::Other => Ok(FastOutcome::Declined),
        }
    }
}

/// Owner first: chown clears set-id bits, so the mode goes last.
fn set_owner_mode(
    fd: std::os::fd::BorrowedFd<'_>,
    (uid, gid): (u32, u32),
    mode: u32,
) -> rustix::io::Result<()> {
    rustix::fs::fchown(
        fd,
        Some(rustix::fs::Uid::from_raw(uid)),
        Some(rustix::fs::Gid::from_raw(gid)),
    )?;
    rustix::fs::fchmod(fd, Mode::from_raw_mode(mode))
}

/// Access and modification time both set to the source's mtime, as the path-based code does.
fn mtime_stamps(mtime_ns: i128) -> Timestamps {
    let ts = Timespec {
        tv_sec: mtime_ns.div_euclid(1_000_000_000) as i64,
        tv_nsec: mtime_ns.rem_euclid(1_000_000_000) as _,
    };
    Timestamps {
        last_access: ts,
        last_modification: ts,
    }
}

#[cfg(test)]
mod tests {
    use super::within;

    #[test]
    fn within_compares_whole_components() {
        assert!(within("/app", "/app"));
        assert!(within("/app", "/app/x"));
        assert!(!within("/app", "/apple"));
        assert!(within("/", "/app"));
        assert!(within("", "/app"));
        assert!(!within("/app/x", "/app"));
    }
}
