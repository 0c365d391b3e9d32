//! Incremental COPY: files unchanged since the previous build of the same step are
//! hard-linked from that build's layer instead of being copied again.
//!
//! Why: after one file of a 50,000-file context changes, the COPY must produce a whole new
//! layer, and creating 50,000 inodes and copying their pages was most of the rebuild. A
//! link makes no inode and copies nothing.
//!
//! When it is the same file: unpacked layers are immutable (later snapshots only ever use
//! them as overlay lower directories, which the kernel never writes), so a link shares
//! content that cannot change. A file is linked only when
//! - the previous build of this step wrote its destination as a fresh tree (so the file at
//!   `dest/<path>` in its layer came from the source entry `<path>` and from nothing else),
//! - the entry's digest (path, type, mode, source owner, content) is the same in both
//!   builds' source listings, and
//! - the previous file has exactly the owner, mode, size and mtime this copy would give it.
//!
//! A link shares the inode, so the new layer's tar is byte for byte what a copy would give:
//! the tar carries no inode number, link count or ctime. The previous layer is reached
//! with `openat2` beneath its root and no symlinks, and the final name with
//! `AT_SYMLINK_NOFOLLOW`: nothing outside the layer can be linked in.

use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

use rustix::fs::{AtFlags, FileType, Mode, OFlags, ResolveFlags};
use rustix::io::Errno;

use super::write::Placement;
use crate::cache::EntryDigests;
use crate::context::{ContextEntry, EntryKind};

/// The previous build of a COPY whose unchanged files can be linked.
pub struct PreviousTree {
    /// The previous result's unpacked layer.
    pub layer_root: PathBuf,
    /// Entry digests of the previous build's source listing.
    pub previous: EntryDigests,
    /// Entry digests of this build's source listing.
    pub current: EntryDigests,
}

/// A [`PreviousTree`] opened for linking: one per copy, shared by its threads.
pub(super) struct OpenedTree<'a> {
    tree: &'a PreviousTree,
    root: OwnedFd,
}

/// The previous layer's directory last linked from, kept per thread: entries come
/// directory by directory, so one open answers a whole directory.
#[derive(Default)]
pub(super) struct PreviousDir {
    rel: Option<String>,
    fd: Option<OwnedFd>,
}

/// What [`OpenedTree::try_link`] did.
pub(super) enum LinkOutcome {
    /// Linked: the entry is in place.
    Linked,
    /// The name is taken in the destination: the path-based rules decide.
    Exists,
    /// Not the same file, or the link failed: copy it.
    Copy,
}

impl<'a> OpenedTree<'a> {
    /// Opens the previous layer's root; None when it is gone (pruned meanwhile).
    pub(super) fn open(tree: &'a PreviousTree) -> Option<Self> {
        let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        let root = rustix::fs::open(&tree.layer_root, flags, Mode::empty()).ok()?;
        Some(OpenedTree { tree, root })
    }

    /// Links `entry` (going to `place`, as `name` in the directory `parent`) from the
    /// previous layer when it is the same file there.
    pub(super) fn try_link(
        &self,
        cache: &mut PreviousDir,
        entry: &ContextEntry,
        place: &Placement,
        parent: &OwnedFd,
        name: &str,
    ) -> LinkOutcome {
        if entry.kind != EntryKind::File || !self.unchanged(&entry.path) {
            return LinkOutcome::Copy;
        }
        let Some(previous_dir) = self.previous_dir(cache, &place.parent_rel) else {
            return LinkOutcome::Copy;
        };
        let Ok(stat) = rustix::fs::statat(previous_dir, name, AtFlags::SYMLINK_NOFOLLOW) else {
            return LinkOutcome::Copy;
        };
        let same = FileType::from_raw_mode(stat.st_mode) == FileType::RegularFile
            && stat.st_mode & 0o7777 == place.mode
            && (stat.st_uid, stat.st_gid) == place.owner
            && u64::try_from(stat.st_size).ok() == Some(entry.size)
            && i128::from(stat.st_mtime) * 1_000_000_000 + i128::from(stat.st_mtime_nsec)
                == entry.mtime_ns;
        if !same {
            return LinkOutcome::Copy;
        }
        match rustix::fs::linkat(previous_dir, name, parent, name, AtFlags::empty()) {
            Ok(()) => LinkOutcome::Linked,
            Err(Errno::EXIST) => LinkOutcome::Exists,
            // Another file system, too many links, a layer pruned meanwhile: copy instead.
            Err(_) => LinkOutcome::Copy,
        }
    }

    /// Whether the entry at `path` has the same digest in both builds' listings.
    fn unchanged(&self, path: &str) -> bool {
        match (self.tree.previous.get(path), self.tree.current.get(path)) {
            (Some(before), Some(now)) => before == now,
            _ => false,
        }
    }

    /// The previous layer's directory `parent_rel` (an image path such as `/app/sub`),
    /// opened beneath the layer's root without following any symlink.
    fn previous_dir<'c>(
        &self,
        cache: &'c mut PreviousDir,
        parent_rel: &str,
    ) -> Option<&'c OwnedFd> {
        if cache.rel.as_deref() != Some(parent_rel) {
            let rel = parent_rel.trim_start_matches('/');
            let rel = if rel.is_empty() { "." } else { rel };
            let how =
                ResolveFlags::BENEATH | ResolveFlags::NO_SYMLINKS | ResolveFlags::NO_MAGICLINKS;
            let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
            cache.fd = rustix::fs::openat2(&self.root, rel, flags, Mode::empty(), how).ok();
            cache.rel = Some(parent_rel.to_string());
        }
        cache.fd.as_ref()
    }
}

/// Whether `path` (an image path like `/app`) is a directory with nothing in it, or absent,
/// in every one of `lowers` (unpacked layers), reached through real directories only.
/// Then a copy into it through the overlay would only add new entries to the upper
/// directory: it can be written there directly, with no overlay in between.
pub fn fresh_in_layers(lowers: &[PathBuf], path: &str) -> bool {
    let components: Vec<&str> = path.split('/').filter(|c| !c.is_empty()).collect();
    if components.is_empty() {
        return false;
    }
    lowers
        .iter()
        .all(|layer| absent_or_empty(layer, &components))
}

fn absent_or_empty(layer: &Path, components: &[&str]) -> bool {
    let mut here = layer.to_path_buf();
    for (i, component) in components.iter().enumerate() {
        if *component == "." || *component == ".." {
            return false;
        }
        here.push(component);
        match std::fs::symlink_metadata(&here) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return true,
            Err(_) => return false,
            // Whiteouts (character devices), symlinks and files on the way: not simple.
            Ok(meta) if !meta.is_dir() => return false,
            Ok(_) if i + 1 == components.len() => {
                return std::fs::read_dir(&here).is_ok_and(|mut d| d.next().is_none());
            }
            Ok(_) => {}
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::{IgnoreRules, StatCache, digest_entries, walk_source};
    use crate::copy::{
        CopyOptions, CopyStats, DestinationKind, copy_selection, copy_selection_reusing,
    };
    use std::os::unix::fs::MetadataExt;

    fn listing(ctx: &Path) -> (Vec<ContextEntry>, EntryDigests) {
        let entries = walk_source(".", ctx, &IgnoreRules::none()).unwrap();
        let digests = digest_entries(&entries, &mut StatCache::in_memory())
            .unwrap()
            .entries;
        (entries, digests)
    }

    /// The caller's own ids: the copy must be able to give files their owner unprivileged.
    fn own_ids() -> CopyOptions {
        CopyOptions {
            chown: Some((
                rustix::process::getuid().as_raw(),
                rustix::process::getgid().as_raw(),
            )),
            ..Default::default()
        }
    }

    fn ino(path: &Path) -> u64 {
        std::fs::symlink_metadata(path).unwrap().ino()
    }

    /// A context, its copy to `/app` in a "previous layer", and a new listing after
    /// `change` ran on the context.
    fn previous_and_now(
        files: &[(&str, &str)],
        change: impl FnOnce(&Path, &Path),
    ) -> (
        tempfile::TempDir,
        tempfile::TempDir,
        Vec<ContextEntry>,
        PreviousTree,
    ) {
        let ctx = tempfile::tempdir().unwrap();
        for (path, content) in files {
            let p = ctx.path().join(path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, content).unwrap();
        }
        let layer = tempfile::tempdir().unwrap();
        let (before, previous) = listing(ctx.path());
        let opts = own_ids();
        copy_selection(
            layer.path(),
            &before,
            ".",
            "/app/",
            DestinationKind::Directory,
            &opts,
        )
        .unwrap();
        change(ctx.path(), layer.path());
        let (now, current) = listing(ctx.path());
        let tree = PreviousTree {
            layer_root: layer.path().to_path_buf(),
            previous,
            current,
        };
        (ctx, layer, now, tree)
    }

    /// Copies the listing `now` to `/app` in a new root, linking from `tree`.
    fn copy_reusing(now: &[ContextEntry], tree: &PreviousTree) -> (tempfile::TempDir, CopyStats) {
        let upper = tempfile::tempdir().unwrap();
        let kind = DestinationKind::Directory;
        let stats = copy_selection_reusing(
            upper.path(),
            now,
            ".",
            "/app/",
            kind,
            &own_ids(),
            Some(tree),
        )
        .unwrap();
        (upper, stats)
    }

    #[test]
    fn unchanged_files_are_linked_and_changed_ones_copied() {
        let files = [("a", "A"), ("sub/b", "B"), ("c", "C"), ("d", "D")];
        let (_ctx, layer, now, tree) = previous_and_now(&files, |ctx, layer| {
            std::fs::write(ctx.join("c"), "changed").unwrap();
            // Same content, other mode in the previous layer: not the same file.
            let d = layer.join("app/d");
            std::fs::set_permissions(&d, std::os::unix::fs::PermissionsExt::from_mode(0o600))
                .unwrap();
        });
        let (upper, stats) = copy_reusing(&now, &tree);
        assert_eq!((stats.files, stats.linked), (4, 2));
        let (new, old) = (upper.path().join("app"), layer.path().join("app"));
        assert_eq!(ino(&new.join("a")), ino(&old.join("a")));
        assert_eq!(ino(&new.join("sub/b")), ino(&old.join("sub/b")));
        assert_ne!(ino(&new.join("c")), ino(&old.join("c")));
        assert_eq!(std::fs::read_to_string(new.join("c")).unwrap(), "changed");
        assert_ne!(ino(&new.join("d")), ino(&old.join("d")));
        assert_eq!(
            std::fs::metadata(new.join("d")).unwrap().mode() & 0o7777,
            0o644
        );
    }

    #[test]
    fn a_symlink_in_the_previous_layer_is_never_followed() {
        let files = [("a", "A"), ("sub/x", "X")];
        let outside = tempfile::tempdir().unwrap();
        let elsewhere = outside.path().join("elsewhere");
        let (_ctx, _layer, now, tree) = previous_and_now(&files, |_, layer| {
            // The same file, but reached through a symlink out of the layer.
            std::fs::rename(layer.join("app/sub"), &elsewhere).unwrap();
            std::os::unix::fs::symlink(&elsewhere, layer.join("app/sub")).unwrap();
        });
        let (upper, stats) = copy_reusing(&now, &tree);
        assert_eq!((stats.files, stats.linked), (2, 1));
        let copied = upper.path().join("app/sub/x");
        assert_ne!(ino(&copied), ino(&elsewhere.join("x")));
        assert_eq!(std::fs::read_to_string(copied).unwrap(), "X");
    }

    #[test]
    fn a_previous_layer_that_is_gone_means_copying_everything() {
        let (_ctx, layer, now, mut tree) = previous_and_now(&[("a", "A")], |_, _| {});
        tree.layer_root = layer.path().join("pruned");
        let (_upper, stats) = copy_reusing(&now, &tree);
        assert_eq!((stats.files, stats.linked), (1, 0));
    }

    #[test]
    fn fresh_when_absent_or_empty_through_real_directories_only() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(a.path().join("usr/src")).unwrap();
        std::fs::create_dir_all(b.path().join("app")).unwrap();
        let layers = [a.path().to_path_buf(), b.path().to_path_buf()];
        assert!(fresh_in_layers(&layers, "/app"));
        assert!(fresh_in_layers(&layers, "/usr/src/app"));
        assert!(fresh_in_layers(&layers, "/usr/src"));
        assert!(!fresh_in_layers(&layers, "/usr"));
        assert!(!fresh_in_layers(&layers, "/"));
        assert!(!fresh_in_layers(&layers, "/app/../usr"));
        std::fs::write(b.path().join("app/x"), "x").unwrap();
        assert!(!fresh_in_layers(&layers, "/app"));
        std::os::unix::fs::symlink("/usr", a.path().join("lib")).unwrap();
        assert!(!fresh_in_layers(&layers, "/lib/app"));
        std::fs::write(a.path().join("file"), "").unwrap();
        assert!(!fresh_in_layers(&layers, "/file/app"));
        assert!(fresh_in_layers(&[], "/app"));
    }
}
