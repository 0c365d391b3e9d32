//! Writing selected context entries into a destination root filesystem.

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use super::destination::DestinationKind;
use super::open_dirs::{FastOutcome, OpenDirs};
use super::reuse::{OpenedTree, PreviousTree};
use crate::context::{ContextEntry, EntryKind, ResolveError, resolve_in_root};

/// Ownership and mode overrides of a COPY (`--chown`, `--chmod`).
#[derive(Debug, Clone, Default)]
pub struct CopyOptions {
    /// `--chown` already resolved to numeric ids; without it everything is owned by 0:0.
    pub chown: Option<(u32, u32)>,
    /// `--chmod`: permission bits for every copied file and directory.
    pub chmod: Option<u32>,
    /// Keep the source's owners when there is no `--chown` (`COPY --from` does; files from
    /// the build context become 0:0).
    pub preserve_owner: bool,
}

/// What a copy did, for progress output and tests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CopyStats {
    pub files: usize,
    pub dirs: usize,
    pub symlinks: usize,
    pub bytes: u64,
    /// Files linked unchanged from the previous build's layer (counted in `files` too).
    pub linked: usize,
    /// Devices, fifos and sockets are not copied (as in Docker).
    pub skipped_special: usize,
}

/// A copy that failed; names the image path it was writing.
#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    #[error("cannot copy to {dest}: {source}")]
    Io {
        dest: String,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Resolve(#[from] ResolveError),
}

pub(super) fn io_err(dest: &Path) -> impl Fn(std::io::Error) -> CopyError + '_ {
    move |source| CopyError::Io {
        dest: dest.display().to_string(),
        source,
    }
}

/// Copies one source selection (its first entry is the source itself, the rest the
/// directory contents below it, as listed by `walk_source`) to `dest` (an absolute path in
/// the image) inside `root`. `name` is the source's base name as written in the Dockerfile,
/// used when a file is copied into a directory.
pub fn copy_selection(
    root: &Path,
    selection: &[ContextEntry],
    name: &str,
    dest: &str,
    kind: DestinationKind,
    opts: &CopyOptions,
) -> Result<CopyStats, CopyError> {
    copy_selection_reusing(root, selection, name, dest, kind, opts, None)
}

/// [`copy_selection`], linking the files that did not change since `previous` from its
/// layer instead of copying them (see `reuse.rs`). The destination must be a fresh tree:
/// nothing may be in it that a file could be written through.
pub fn copy_selection_reusing(
    root: &Path,
    selection: &[ContextEntry],
    name: &str,
    dest: &str,
    kind: DestinationKind,
    opts: &CopyOptions,
    previous: Option<&PreviousTree>,
) -> Result<CopyStats, CopyError> {
    let Some(first) = selection.first() else {
        return Ok(CopyStats::default());
    };
    let mut run = CopyRun::new(root, first, name, dest, kind, opts);
    run.previous = previous.and_then(OpenedTree::open);
    let (uid, gid) = run.default_owner;
    mkdir_all(root, &run.target_dir_rel, uid, gid)?;
    let (stats, dir_times) = match super::parallel::plan_lanes(&run, selection)? {
        Some(lanes) => super::parallel::copy_lanes(&run, lanes)?,
        None => {
            let mut done = Copied::default();
            run.copy_entries(selection.iter(), &mut done)?;
            (done.stats, vec![done.dir_times])
        }
    };
    // Directory times are set after their contents are written, deepest first.
    for lane in &dir_times {
        for (dir, mtime) in lane.iter().rev() {
            set_mtime(dir, *mtime, false)?;
        }
    }
    Ok(stats)
}

/// What one copy works with, shared by the threads of a parallel copy.
pub(super) struct CopyRun<'a> {
    pub root: &'a Path,
    /// The source itself (the first entry of the selection).
    pub first: &'a ContextEntry,
    /// The directory the source's contents (or the source file) go into.
    pub target_dir_rel: String,
    first_target_rel: String,
    /// The source's path with a trailing slash: stripped from entries below it.
    pub prefix: String,
    dest_clean: String,
    opts: &'a CopyOptions,
    default_owner: (u32, u32),
    /// Where unchanged files are linked from, if anywhere.
    previous: Option<OpenedTree<'a>>,
}

/// Where one entry goes, and with which owner and mode.
pub(super) struct Placement {
    /// Its path in the image (`/app/sub/file`).
    pub target_rel: String,
    /// The directory it goes into (`/app/sub`).
    pub parent_rel: String,
    /// Its name there; None for the image's root.
    pub name: Option<String>,
    pub owner: (u32, u32),
    pub mode: u32,
}

/// What a sequence of entries produced: counts, and the directories made with their times
/// (in creation order: parents before their contents).
#[derive(Default)]
pub(super) struct Copied {
    pub stats: CopyStats,
    pub dir_times: DirTimes,
}

/// Directories made and the mtimes they get once their contents are written.
pub(super) type DirTimes = Vec<(PathBuf, i128)>;

impl<'a> CopyRun<'a> {
    /// Where the source `first` (named `name` in the Dockerfile) and the entries below it
    /// go for a copy to `dest`: a directory's contents go into `dest`; a file goes to
    /// `dest/name` or to `dest` itself.
    pub(super) fn new(
        root: &'a Path,
        first: &'a ContextEntry,
        name: &str,
        dest: &str,
        kind: DestinationKind,
        opts: &'a CopyOptions,
    ) -> Self {
        let dest_clean = dest.trim_end_matches('/');
        let (target_dir_rel, first_target_rel) = match (&first.kind, kind) {
            (EntryKind::Dir, _) => (dest_clean.to_string(), dest_clean.to_string()),
            (_, DestinationKind::Directory) => {
                (dest_clean.to_string(), format!("{dest_clean}/{name}"))
            }
            (_, DestinationKind::File) => {
                let parent = Path::new(dest_clean)
                    .parent()
                    .map(|p| p.to_string_lossy().to_string())
                    .unwrap_or_default();
                (parent, dest_clean.to_string())
            }
        };
        let prefix = if first.path == "." {
            String::new()
        } else {
            format!("{}/", first.path)
        };
        CopyRun {
            root,
            first,
            target_dir_rel,
            first_target_rel,
            prefix,
            dest_clean: dest_clean.to_string(),
            opts,
            default_owner: opts.chown.unwrap_or((0, 0)),
            previous: None,
        }
    }

    fn placement(&self, entry: &ContextEntry, is_first: bool) -> Placement {
        let target_rel = if is_first {
            self.first_target_rel.clone()
        } else {
            let below = entry
                .path
                .strip_prefix(self.prefix.as_str())
                .unwrap_or(&entry.path);
            format!("{}/{below}", self.dest_clean)
        };
        let (parent_rel, name) = split_parent(&target_rel);
        let owner = match (self.opts.chown, self.opts.preserve_owner) {
            (None, true) => (entry.uid, entry.gid),
            _ => self.default_owner,
        };
        Placement {
            target_rel,
            parent_rel,
            name,
            owner,
            mode: self.opts.chmod.unwrap_or(entry.mode & 0o7777),
        }
    }

    /// Copies `entries` (in walk order: a directory before its contents): each by the fast
    /// path when nothing is in its way, else by the path-based rules.
    pub(super) fn copy_entries<'e>(
        &self,
        entries: impl Iterator<Item = &'e ContextEntry>,
        done: &mut Copied,
    ) -> Result<(), CopyError> {
        let mut open_dirs = OpenDirs::default();
        for entry in entries {
            let is_first = std::ptr::eq(entry, self.first);
            let place = self.placement(entry, is_first);
            if !is_first {
                match open_dirs.try_write(self.root, &place, entry, self.previous.as_ref())? {
                    FastOutcome::Dir(path) => {
                        done.dir_times.push((path, entry.mtime_ns));
                        done.stats.dirs += 1;
                        continue;
                    }
                    FastOutcome::File(bytes) => {
                        done.stats.files += 1;
                        done.stats.bytes += bytes;
                        continue;
                    }
                    FastOutcome::Linked => {
                        done.stats.files += 1;
                        done.stats.linked += 1;
                        continue;
                    }
                    FastOutcome::Symlink => {
                        done.stats.symlinks += 1;
                        continue;
                    }
                    // The path-based rules below may replace or create things the chain of
                    // open directories does not know about.
                    FastOutcome::Declined => open_dirs.clear(),
                }
            }
            self.write_by_path(entry, is_first, &place, done)?;
        }
        Ok(())
    }

    /// Docker's rules for one entry, on paths resolved inside the root: replacing what is
    /// in the way, merging into directories, writing through symlinks.
    fn write_by_path(
        &self,
        entry: &ContextEntry,
        is_first: bool,
        place: &Placement,
        done: &mut Copied,
    ) -> Result<(), CopyError> {
        let root = self.root;
        let (uid, gid) = place.owner;
        let stats = &mut done.stats;
        // A file re-included below a directory `.dockerignore` excludes arrives without its
        // parent: create the missing directories.
        if !is_first && !resolve_in_root(root, &place.parent_rel, true)?.exists() {
            mkdir_all(root, &place.parent_rel, uid, gid)?;
        }
        let parent = resolve_in_root(root, &place.parent_rel, true)?;
        let target = match &place.name {
            Some(n) => parent.join(n),
            None => parent,
        };
        match &entry.kind {
            // The source directory itself only names where its contents go: the destination
            // keeps what it had, or what `mkdir_all` gave it.
            EntryKind::Dir if is_first => {}
            EntryKind::Dir => {
                match std::fs::symlink_metadata(&target) {
                    Ok(m) if m.is_dir() => {}
                    // A symlink to a directory stays; the contents go where it points.
                    Ok(m)
                        if m.file_type().is_symlink()
                            && resolve_in_root(root, &place.target_rel, true)?.is_dir() =>
                    {
                        return Ok(());
                    }
                    Ok(_) => {
                        std::fs::remove_file(&target).map_err(io_err(&target))?;
                        std::fs::create_dir(&target).map_err(io_err(&target))?;
                    }
                    Err(_) => std::fs::create_dir(&target).map_err(io_err(&target))?,
                }
                set_owner_mode(&target, uid, gid, Some(place.mode))?;
                done.dir_times.push((target, entry.mtime_ns));
                stats.dirs += 1;
            }
            EntryKind::File => {
                // Like BuildKit (and `cp`), a file copied onto a symlink is written to
                // where the link points — resolved inside the root, never outside it.
                let through_link =
                    std::fs::symlink_metadata(&target).is_ok_and(|m| m.file_type().is_symlink());
                let target = if through_link {
                    let resolved = resolve_in_root(root, &place.target_rel, true)?;
                    if resolved.is_dir() {
                        remove_existing(&target)?;
                        target
                    } else {
                        resolved
                    }
                } else {
                    target
                };
                if !through_link {
                    remove_existing(&target)?;
                }
                if let Some(parent) = target.parent()
                    && !parent.exists()
                {
                    let rel = parent
                        .strip_prefix(root)
                        .unwrap_or(parent)
                        .to_string_lossy()
                        .to_string();
                    mkdir_all(root, &rel, uid, gid)?;
                }
                let mut src =
                    std::fs::File::open(&entry.host_path).map_err(io_err(&entry.host_path))?;
                let mut out = std::fs::File::create(&target).map_err(io_err(&target))?;
                stats.bytes += std::io::copy(&mut src, &mut out).map_err(io_err(&target))?;
                drop(out);
                set_owner_mode(&target, uid, gid, Some(place.mode))?;
                set_mtime(&target, entry.mtime_ns, false)?;
                stats.files += 1;
            }
            EntryKind::Symlink { target: link } => {
                remove_existing(&target)?;
                std::os::unix::fs::symlink(link, &target).map_err(io_err(&target))?;
                set_owner_mode(&target, uid, gid, None)?;
                set_mtime(&target, entry.mtime_ns, true)?;
                stats.symlinks += 1;
            }
            EntryKind::Other => stats.skipped_special += 1,
        }
        Ok(())
    }
}

/// Splits `a/b/c` into (`a/b`, Some(`c`)); the root has no name.
fn split_parent(rel: &str) -> (String, Option<String>) {
    let trimmed = rel.trim_end_matches('/');
    match trimmed.rsplit_once('/') {
        Some((parent, name)) if !name.is_empty() => (parent.to_string(), Some(name.to_string())),
        _ if trimmed.is_empty() => (String::new(), None),
        _ => (String::new(), Some(trimmed.to_string())),
    }
}

/// Creates every missing directory of `rel` inside `root` (0755, owned by uid:gid).
/// The path is resolved first, so a symlinked component is followed inside the root and
/// the directories created are the ones the link leads to.
pub fn mkdir_all(root: &Path, rel: &str, uid: u32, gid: u32) -> Result<(), CopyError> {
    let resolved = resolve_in_root(root, rel, true)?;
    let below = resolved.strip_prefix(root).unwrap_or(Path::new(""));
    let mut path = root.to_path_buf();
    for part in below.components() {
        path.push(part);
        match std::fs::symlink_metadata(&path) {
            Ok(m) if m.is_dir() => continue,
            Ok(_) => {
                return Err(CopyError::Io {
                    dest: path.display().to_string(),
                    source: std::io::Error::new(
                        std::io::ErrorKind::NotADirectory,
                        "a file is in the way of the destination directory",
                    ),
                });
            }
            Err(_) => {
                std::fs::create_dir(&path).map_err(io_err(&path))?;
                set_owner_mode(&path, uid, gid, Some(0o755))?;
            }
        }
    }
    Ok(())
}

/// A file or link at the destination is replaced; a directory in the way is removed.
fn remove_existing(target: &Path) -> Result<(), CopyError> {
    match std::fs::symlink_metadata(target) {
        Ok(m) if m.is_dir() => std::fs::remove_dir_all(target).map_err(io_err(target)),
        Ok(_) => std::fs::remove_file(target).map_err(io_err(target)),
        Err(_) => Ok(()),
    }
}

fn set_owner_mode(path: &Path, uid: u32, gid: u32, mode: Option<u32>) -> Result<(), CopyError> {
    std::os::unix::fs::lchown(path, Some(uid), Some(gid)).map_err(io_err(path))?;
    // chown clears set-id bits, so the mode goes last.
    if let Some(mode) = mode {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
            .map_err(io_err(path))?;
    }
    Ok(())
}

/// Sets atime and mtime (without following a final symlink when `nofollow`).
fn set_mtime(path: &Path, mtime_ns: i128, nofollow: bool) -> Result<(), CopyError> {
    let c = CString::new(path.as_os_str().as_bytes()).map_err(|_| CopyError::Io {
        dest: path.display().to_string(),
        source: std::io::Error::new(std::io::ErrorKind::InvalidInput, "path contains a NUL byte"),
    })?;
    let ts = libc::timespec {
        tv_sec: mtime_ns.div_euclid(1_000_000_000) as libc::time_t,
        tv_nsec: mtime_ns.rem_euclid(1_000_000_000) as libc::c_long,
    };
    let times = [ts, ts];
    let flags = if nofollow {
        libc::AT_SYMLINK_NOFOLLOW
    } else {
        0
    };
    // SAFETY: `c` is a valid NUL-terminated path and `times` points to two timespecs.
    let rc = unsafe { libc::utimensat(libc::AT_FDCWD, c.as_ptr(), times.as_ptr(), flags) };
    if rc != 0 {
        return Err(io_err(path)(std::io::Error::last_os_error()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::{IgnoreRules, walk_source};
    use std::os::unix::fs::MetadataExt;

    fn context() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("src/sub")).unwrap();
        std::fs::write(dir.path().join("src/a.txt"), "A").unwrap();
        std::fs::write(dir.path().join("src/sub/b.txt"), "BB").unwrap();
        std::os::unix::fs::symlink("a.txt", dir.path().join("src/link")).unwrap();
        std::fs::write(dir.path().join("single"), "S").unwrap();
        dir
    }

    fn select(ctx: &Path, rel: &str) -> Vec<ContextEntry> {
        walk_source(rel, &ctx.join(rel), &IgnoreRules::none()).unwrap()
    }

    #[test]
    fn directory_contents_go_into_destination() {
        let ctx = context();
        let root = tempfile::tempdir().unwrap();
        let stats = copy_selection(
            root.path(),
            &select(ctx.path(), "src"),
            "src",
            "/app/",
            DestinationKind::Directory,
            &CopyOptions::default(),
        )
        .unwrap();
        assert_eq!(
            std::fs::read_to_string(root.path().join("app/a.txt")).unwrap(),
            "A"
        );
        assert_eq!(
            std::fs::read_to_string(root.path().join("app/sub/b.txt")).unwrap(),
            "BB"
        );
        assert_eq!(
            std::fs::read_link(root.path().join("app/link")).unwrap(),
            Path::new("a.txt")
        );
        assert!(!root.path().join("app/src").exists());
        assert_eq!((stats.files, stats.symlinks, stats.bytes), (2, 1, 3));
    }

    #[test]
    fn file_to_file_and_into_directory_with_chown_chmod() {
        let ctx = context();
        let root = tempfile::tempdir().unwrap();
        let opts = CopyOptions {
            chown: Some((1000, 1001)),
            chmod: Some(0o640),
            preserve_owner: false,
        };
        let sel = select(ctx.path(), "single");
        copy_selection(
            root.path(),
            &sel,
            "single",
            "/x/renamed",
            DestinationKind::File,
            &opts,
        )
        .unwrap();
        copy_selection(
            root.path(),
            &sel,
            "single",
            "/y/",
            DestinationKind::Directory,
            &opts,
        )
        .unwrap();
        for p in ["x/renamed", "y/single"] {
            let m = std::fs::metadata(root.path().join(p)).unwrap();
            assert_eq!((m.uid(), m.gid(), m.mode() & 0o7777), (1000, 1001, 0o640));
        }
        // Created parent directories belong to the --chown user too, with mode 0755.
        let parent = std::fs::metadata(root.path().join("x")).unwrap();
        assert_eq!((parent.uid(), parent.mode() & 0o7777), (1000, 0o755));
    }

    #[test]
    fn symlinks_in_the_image_cannot_redirect_writes_to_the_host() {
        let ctx = context();
        let host_target = tempfile::tempdir().unwrap();
        let root = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(host_target.path(), root.path().join("evil")).unwrap();
        copy_selection(
            root.path(),
            &select(ctx.path(), "single"),
            "single",
            "/evil/",
            DestinationKind::Directory,
            &CopyOptions::default(),
        )
        .unwrap();
        assert!(
            std::fs::read_dir(host_target.path())
                .unwrap()
                .next()
                .is_none()
        );
        let rerooted = root
            .path()
            .join(host_target.path().strip_prefix("/").unwrap())
            .join("single");
        assert_eq!(std::fs::read_to_string(rerooted).unwrap(), "S");
    }

    #[test]
    fn a_file_copied_onto_a_symlink_goes_to_its_target_inside_the_root() {
        let ctx = context();
        let host = tempfile::tempdir().unwrap();
        let host_file = host.path().join("victim");
        std::fs::write(&host_file, "host").unwrap();
        let root = tempfile::tempdir().unwrap();
        // An absolute link to a host path: followed inside the root, never outside.
        std::os::unix::fs::symlink(&host_file, root.path().join("link")).unwrap();
        copy_selection(
            root.path(),
            &select(ctx.path(), "single"),
            "single",
            "/link",
            DestinationKind::File,
            &CopyOptions::default(),
        )
        .unwrap();
        assert_eq!(std::fs::read_to_string(&host_file).unwrap(), "host");
        assert!(
            std::fs::symlink_metadata(root.path().join("link"))
                .unwrap()
                .file_type()
                .is_symlink()
        );
        let inside = root.path().join(host_file.strip_prefix("/").unwrap());
        assert_eq!(std::fs::read_to_string(inside).unwrap(), "S");
    }

    #[test]
    fn source_mtime_is_kept() {
        let ctx = context();
        let old = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000);
        std::fs::File::options()
            .write(true)
            .open(ctx.path().join("single"))
            .unwrap()
            .set_modified(old)
            .unwrap();
        let root = tempfile::tempdir().unwrap();
        copy_selection(
            root.path(),
            &select(ctx.path(), "single"),
            "single",
            "/f",
            DestinationKind::File,
            &CopyOptions::default(),
        )
        .unwrap();
        assert_eq!(
            std::fs::metadata(root.path().join("f")).unwrap().mtime(),
            1_000_000
        );
    }

    /// A tree copied onto an existing one: new entries take the fast path, entries that
    /// meet something in the way follow the path-based rules (replace, merge, follow a link
    /// inside the root).
    #[test]
    fn copying_onto_an_existing_tree_replaces_merges_and_follows_links() {
        let ctx = tempfile::tempdir().unwrap();
        let c = ctx.path();
        for d in [
            "t/merged/deep",
            "t/into_link/x",
            "t/was_file",
            "t/new/newer",
        ] {
            std::fs::create_dir_all(c.join(d)).unwrap();
        }
        std::fs::write(c.join("t/merged/deep/f"), "new deep").unwrap();
        std::fs::write(c.join("t/into_link/x/g"), "via link").unwrap();
        std::fs::write(c.join("t/replaced"), "replacement").unwrap();
        std::fs::write(c.join("t/new/newer/h"), "fresh").unwrap();
        std::os::unix::fs::symlink("../elsewhere", c.join("t/new/link")).unwrap();

        let root = tempfile::tempdir().unwrap();
        let r = root.path();
        std::fs::create_dir_all(r.join("app/merged")).unwrap();
        std::fs::write(r.join("app/merged/kept"), "kept").unwrap();
        std::fs::write(r.join("app/replaced"), "old").unwrap();
        std::fs::write(r.join("app/was_file"), "a file in the way").unwrap();
        std::fs::create_dir_all(r.join("real")).unwrap();
        std::os::unix::fs::symlink("/real", r.join("app/into_link")).unwrap();

        let opts = CopyOptions {
            chown: Some((123, 456)),
            chmod: None,
            preserve_owner: false,
        };
        let stats = copy_selection(
            r,
            &select(c, "t"),
            "t",
            "/app/",
            DestinationKind::Directory,
            &opts,
        )
        .unwrap();
        let read = |p: &str| std::fs::read_to_string(r.join(p)).unwrap();
        assert_eq!(read("app/merged/kept"), "kept");
        assert_eq!(read("app/merged/deep/f"), "new deep");
        assert_eq!(read("app/replaced"), "replacement");
        assert!(r.join("app/was_file").is_dir());
        // The link stays and its contents land where it points, inside the root.
        assert!(
            std::fs::symlink_metadata(r.join("app/into_link"))
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(read("real/x/g"), "via link");
        assert_eq!(read("app/new/newer/h"), "fresh");
        assert_eq!(
            std::fs::read_link(r.join("app/new/link")).unwrap(),
            Path::new("../elsewhere")
        );
        for p in [
            "app/new",
            "app/new/newer",
            "app/new/newer/h",
            "app/merged/deep/f",
            "real/x/g",
        ] {
            let m = std::fs::metadata(r.join(p)).unwrap();
            assert_eq!((m.uid(), m.gid()), (123, 456), "{p}");
        }
        let link = std::fs::symlink_metadata(r.join("app/new/link")).unwrap();
        assert_eq!((link.uid(), link.gid()), (123, 456));
        assert_eq!((stats.files, stats.symlinks), (4, 1));
        assert_eq!(stats.bytes, (8 + 8 + 11 + 5) as u64);
    }

    /// Modes, set-id bits and times of a fresh tree, written by the fast path, are the
    /// source's (times) and the options' (owners), as the path-based code sets them.
    #[test]
    fn a_fresh_tree_keeps_modes_setid_bits_and_times() {
        use std::os::unix::fs::PermissionsExt;
        let ctx = tempfile::tempdir().unwrap();
        let c = ctx.path();
        std::fs::create_dir_all(c.join("t/d/e")).unwrap();
        std::fs::write(c.join("t/d/e/suid"), "x").unwrap();
        std::fs::set_permissions(
            c.join("t/d/e/suid"),
            std::fs::Permissions::from_mode(0o4755),
        )
        .unwrap();
        std::fs::set_permissions(c.join("t/d"), std::fs::Permissions::from_mode(0o2750)).unwrap();
        std::os::unix::fs::symlink("e/suid", c.join("t/d/l")).unwrap();
        let old = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(2_000_000);
        std::fs::File::options()
            .write(true)
            .open(c.join("t/d/e/suid"))
            .unwrap()
            .set_modified(old)
            .unwrap();
        let set_dir_time = |p: &Path, secs: i64| {
            let ts = rustix::fs::Timespec {
                tv_sec: secs,
                tv_nsec: 5,
            };
            let t = rustix::fs::Timestamps {
                last_access: ts,
                last_modification: ts,
            };
            rustix::fs::utimensat(
                rustix::fs::CWD,
                p,
                &t,
                rustix::fs::AtFlags::SYMLINK_NOFOLLOW,
            )
            .unwrap();
        };
        set_dir_time(&c.join("t/d/l"), 3_000_000);
        set_dir_time(&c.join("t/d/e"), 4_000_000);
        set_dir_time(&c.join("t/d"), 5_000_000);
        let root = tempfile::tempdir().unwrap();
        let r = root.path();
        let opts = CopyOptions {
            chown: Some((7, 8)),
            chmod: None,
            preserve_owner: false,
        };
        copy_selection(
            r,
            &select(c, "t"),
            "t",
            "/out/",
            DestinationKind::Directory,
            &opts,
        )
        .unwrap();
        let m = |p: &str| std::fs::symlink_metadata(r.join(p)).unwrap();
        // chown clears set-id bits, so they survive only if the mode is set after it.
        assert_eq!(m("out/d/e/suid").mode() & 0o7777, 0o4755);
        assert_eq!(m("out/d").mode() & 0o7777, 0o2750);
        assert_eq!(m("out/d/e/suid").mtime(), 2_000_000);
        assert_eq!(
            (m("out/d/l").mtime(), m("out/d/l").mtime_nsec()),
            (3_000_000, 5)
        );
        // Directory times are set after their contents are written.
        assert_eq!(
            (m("out/d/e").mtime(), m("out/d/e").mtime_nsec()),
            (4_000_000, 5)
        );
        assert_eq!(m("out/d").mtime(), 5_000_000);
        assert_eq!((m("out/d/l").uid(), m("out/d/e").gid()), (7, 8));
    }
}
