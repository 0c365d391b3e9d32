//! Layer extraction: an uncompressed layer tar from any `Read` onto a directory.
//!
//! Safety: entries are resolved with [`safe_dir`] (no absolute paths, no `..`, no writes
//! through symbolic links, hard links only to files inside the root), files are created
//! with `O_EXCL | O_NOFOLLOW` after removing whatever was there. An unsafe entry fails the
//! whole extraction with an error naming it.
//!
//! Whiteouts: in [`WhiteoutMode::Apply`] they delete from the target (the target holds the
//! lower layers already); in [`WhiteoutMode::OverlayFormat`] they are recorded the way
//! overlayfs reads them, so the directory can serve as an overlay lower layer.

mod error;
mod metadata;
pub(crate) mod safe_dir;
mod tar_reader;

use std::collections::HashSet;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;
use std::rc::Rc;

use rustix::fs::{
    AtFlags, FileType, Mode, OFlags, linkat, mkdirat, mknodat, openat, statat, symlinkat,
};
use rustix::io::Errno;
use tar::EntryType;

pub use error::ExtractError;
use metadata::{EntryMeta, apply_dir_meta, apply_meta};
use safe_dir::{io_err, list_names, open_dir_chain, remove_at, split_components};
use tar_reader::{TarEntry, TarReader};

use crate::overlay_format::{OPAQUE_MARKER, WHITEOUT_PREFIX};

/// What to do with OCI whiteouts (`.wh.NAME`, `.wh..wh..opq`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WhiteoutMode {
    /// Delete the named files from the target; clear opaque directories of everything
    /// not written by this layer.
    Apply,
    /// Record deletions as 0/0 character devices and opaque directories with the given
    /// xattr set to `y` (`trusted.overlay.opaque`, or `user.overlay.opaque` for rootless).
    OverlayFormat {
        /// The opaque attribute name.
        opaque_xattr: &'static str,
    },
}

/// How a layer is extracted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExtractOptions {
    /// Whiteout handling.
    pub whiteouts: WhiteoutMode,
    /// Set owners from the tar (needs root or a user namespace; failures are ignored when
    /// not root).
    pub same_owner: bool,
}

impl Default for ExtractOptions {
    fn default() -> Self {
        ExtractOptions {
            whiteouts: WhiteoutMode::Apply,
            same_owner: true,
        }
    }
}

/// What an extraction wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExtractSummary {
    /// Entries written (files, directories, links, devices).
    pub entries: u64,
    /// Whiteouts and opaque markers applied.
    pub whiteouts: u64,
    /// Device nodes skipped because creating them is not permitted (not root).
    pub skipped_devices: u64,
}

/// Extracts the uncompressed layer tar `tar` onto `target` (created if missing).
pub fn extract_layer<R: Read>(
    tar: R,
    target: &Path,
    options: &ExtractOptions,
) -> Result<ExtractSummary, ExtractError> {
    std::fs::create_dir_all(target).map_err(|source| ExtractError::Target {
        path: target.to_path_buf(),
        source,
    })?;
    let root = openat(
        rustix::fs::CWD,
        target,
        OFlags::DIRECTORY | OFlags::RDONLY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| ExtractError::Target {
        path: target.to_path_buf(),
        source: e.into(),
    })?;
    let mut extractor = Extractor {
        root,
        options: *options,
        written: HashSet::new(),
        dirs: Vec::new(),
        summary: ExtractSummary::default(),
        is_root: rustix::process::geteuid().is_root(),
        parent_cache: None,
    };
    // Buffered: headers are read 512 bytes at a time. Read-ahead is harmless to callers
    // hashing the stream underneath: they drain what remains after we return.
    let mut reader = TarReader::new(io::BufReader::with_capacity(64 * 1024, tar));
    while let Some(entry) = reader.next_entry().map_err(ExtractError::Read)? {
        extractor.entry(&mut reader, entry)?;
    }
    extractor.finish_dirs()?;
    Ok(extractor.summary)
}

struct Extractor {
    root: OwnedFd,
    options: ExtractOptions,
    /// Paths this layer wrote: an opaque marker must not remove them.
    written: HashSet<Vec<u8>>,
    /// Directories whose mode and mtime are set last (creating children changes mtime,
    /// and a read-only mode would block the children).
    dirs: Vec<(Vec<u8>, EntryMeta)>,
    summary: ExtractSummary,
    is_root: bool,
    /// The last parent directory opened, by components: tar entries come sorted, so most
    /// entries share their predecessor's parent. Dropped whenever a directory is removed,
    /// so it never names a directory that left the tree.
    parent_cache: Option<(Vec<Vec<u8>>, Rc<OwnedFd>)>,
}

impl Extractor {
    fn entry<R: Read>(
        &mut self,
        reader: &mut TarReader<R>,
        entry: TarEntry,
    ) -> Result<(), ExtractError> {
        let raw = entry.path.clone();
        let shown = String::from_utf8_lossy(&raw).into_owned();
        let kind = entry.header.entry_type();
        let components = split_components(&raw).map_err(|reason| ExtractError::Refused {
            entry: shown.clone(),
            reason,
        })?;
        let Some((name, parents)) = components.split_last() else {
            return Ok(()); // the root directory itself: its metadata belongs to the target
        };
        let (name, parents) = (name.to_vec(), parents.to_vec());
        if let Some(hidden) = name.strip_prefix(WHITEOUT_PREFIX.as_bytes()) {
            return self.whiteout(&shown, &parents, &name, hidden);
        }
        let meta = EntryMeta::read(&entry, &shown)?;
        let parent = self.parent_dir(&parents, &shown)?;
        let full = join(&parents, &name);
        match kind {
            EntryType::Directory => self.directory(&shown, &parent, &name, full.clone(), meta)?,
            EntryType::Regular | EntryType::Continuous => {
                self.replace_existing(&shown, &parent, &name)?;
                let file = openat(
                    &parent,
                    name.as_slice(),
                    OFlags::CREATE
                        | OFlags::EXCL
                        | OFlags::WRONLY
                        | OFlags::NOFOLLOW
                        | OFlags::CLOEXEC,
                    Mode::from_raw_mode(0o600),
                )
                .map_err(|e| io_err(&shown, "create file", e))?;
                let mut file = std::fs::File::from(file);
                copy_data(&mut reader.data(), &mut file).map_err(|e| match e {
                    CopyError::Read(e) => ExtractError::Read(e),
                    CopyError::Write(source) => ExtractError::Io {
                        entry: shown.clone(),
                        action: "write file",
                        source,
                    },
                })?;
                apply_meta(&parent, &name, &meta, &shown, self.owner_mode(), true)?;
            }
            EntryType::Symlink => {
                let target = entry.link.clone().unwrap_or_default();
                self.replace_existing(&shown, &parent, &name)?;
                symlinkat(target.as_slice(), &parent, name.as_slice())
                    .map_err(|e| io_err(&shown, "create symbolic link", e))?;
                apply_meta(&parent, &name, &meta, &shown, self.owner_mode(), false)?;
            }
            EntryType::Link => self.hard_link(&entry, &shown, &parent, &name, &full)?,
            EntryType::Char | EntryType::Block | EntryType::Fifo => {
                let file_type = match kind {
                    EntryType::Char => FileType::CharacterDevice,
                    EntryType::Block => FileType::BlockDevice,
                    _ => FileType::Fifo,
                };
                let dev = rustix::fs::makedev(
                    entry.header.device_major().ok().flatten().unwrap_or(0),
                    entry.header.device_minor().ok().flatten().unwrap_or(0),
                );
                self.replace_existing(&shown, &parent, &name)?;
                match mknodat(
                    &parent,
                    name.as_slice(),
                    file_type,
                    Mode::from_raw_mode(0o600),
                    dev,
                ) {
                    Ok(()) => apply_meta(&parent, &name, &meta, &shown, self.owner_mode(), true)?,
                    Err(Errno::PERM) if !self.is_root && file_type != FileType::Fifo => {
                        tracing::warn!(entry = %shown, "device node skipped: creating it needs root");
                        self.summary.skipped_devices += 1;
                        return Ok(());
                    }
                    Err(e) => return Err(io_err(&shown, "create device node", e)),
                }
            }
            other => {
                return Err(ExtractError::Unsupported {
                    entry: shown,
                    reason: format!("tar entry type {other:?} is not supported in a layer"),
                });
            }
        }
        self.written.insert(full);
        self.summary.entries += 1;
        Ok(())
    }

    /// The parent directory of an entry, created if missing, from the cache when the
    /// previous entry had the same one.
    fn parent_dir(&mut self, parents: &[&[u8]], shown: &str) -> Result<Rc<OwnedFd>, ExtractError> {
        if let Some((key, fd)) = &self.parent_cache
            && key.len() == parents.len()
            && key.iter().zip(parents).all(|(a, b)| a.as_slice() == *b)
        {
            return Ok(Rc::clone(fd));
        }
        let fd = Rc::new(open_dir_chain(&self.root, parents, true, shown)?);
        let key = parents.iter().map(|c| c.to_vec()).collect();
        self.parent_cache = Some((key, Rc::clone(&fd)));
        Ok(fd)
    }

    fn owner_mode(&self) -> metadata::OwnerMode {
        if !self.options.same_owner {
            metadata::OwnerMode::Skip
        } else if self.is_root {
            metadata::OwnerMode::Required
        } else {
            metadata::OwnerMode::BestEffort
        }
    }

    fn directory(
        &mut self,
        shown: &str,
        parent: &OwnedFd,
        name: &[u8],
        full: Vec<u8>,
        meta: EntryMeta,
    ) -> Result<(), ExtractError> {
        let existing = statat(parent, name, AtFlags::SYMLINK_NOFOLLOW).ok();
        let existing_type = existing.map(|st| FileType::from_raw_mode(st.st_mode));
        let replaced_whiteout = existing.is_some_and(|st| {
            FileType::from_raw_mode(st.st_mode) == FileType::CharacterDevice && st.st_rdev == 0
        });
        if existing_type != Some(FileType::Directory) {
            if existing.is_some() {
                self.parent_cache = None;
                remove_at(parent, name).map_err(|e| io_err(shown, "remove existing entry", e))?;
            }
            mkdirat(parent, name, Mode::from_raw_mode(0o700))
                .map_err(|e| io_err(shown, "create directory", e))?;
        } else {
            metadata::drop_stale_xattrs(parent, name, &meta);
        }
        if replaced_whiteout
            && let WhiteoutMode::OverlayFormat { opaque_xattr } = self.options.whiteouts
        {
            // The layer deleted this directory and made a new one: hide the lower one.
            self.set_opaque(shown, parent, name, opaque_xattr)?;
        }
        apply_meta(
            parent,
            name,
            &meta.without_mode_and_time(),
            shown,
            self.owner_mode(),
            true,
        )?;
        self.dirs.push((full, meta));
        Ok(())
    }

    fn hard_link(
        &mut self,
        entry: &TarEntry,
        shown: &str,
        parent: &OwnedFd,
        name: &[u8],
        full: &[u8],
    ) -> Result<(), ExtractError> {
        let raw_target = entry.link.clone().unwrap_or_default();
        let refused = |reason: String| ExtractError::Refused {
            entry: shown.to_string(),
            reason: format!(
                "hard link target {:?}: {reason}",
                String::from_utf8_lossy(&raw_target)
            ),
        };
        let components = split_components(&raw_target).map_err(&refused)?;
        let Some((target_name, target_parents)) = components.split_last() else {
            return Err(refused("links to the root directory".into()));
        };
        let target_dir =
            open_dir_chain(&self.root, target_parents, false, shown).map_err(|e| match e {
                ExtractError::Refused { reason, .. } => refused(reason),
                other => other,
            })?;
        match statat(&target_dir, *target_name, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(st) if FileType::from_raw_mode(st.st_mode) == FileType::Directory => {
                return Err(refused("is a directory".into()));
            }
            Ok(_) => {}
            Err(Errno::NOENT) => {
                return Err(match self.options.whiteouts {
                    WhiteoutMode::OverlayFormat { .. } => ExtractError::Unsupported {
                        entry: shown.to_string(),
                        reason: "hard link to a file of a lower layer cannot be kept in an unpacked layer directory"
                            .into(),
                    },
                    WhiteoutMode::Apply => refused("does not exist in the target".into()),
                });
            }
            Err(e) => return Err(io_err(shown, "stat hard link target", e)),
        }
        if join(target_parents, target_name) == full {
            return Ok(()); // a link to itself: already there
        }
        self.replace_existing(shown, parent, name)?;
        linkat(&target_dir, *target_name, parent, name, AtFlags::empty())
            .map_err(|e| io_err(shown, "create hard link", e))?;
        Ok(())
    }

    fn whiteout(
        &mut self,
        shown: &str,
        parents: &[&[u8]],
        name: &[u8],
        hidden: &[u8],
    ) -> Result<(), ExtractError> {
        // Whiteouts remove directories: forget the cached one.
        self.parent_cache = None;
        let parent = open_dir_chain(&self.root, parents, true, shown)?;
        let parent_path = join(parents, b"");
        self.summary.whiteouts += 1;
        if name == OPAQUE_MARKER.as_bytes() {
            return match self.options.whiteouts {
                WhiteoutMode::OverlayFormat { opaque_xattr } => {
                    let fd = safe_dir::reopen(&parent)
                        .map_err(|e| io_err(shown, "open directory", e))?;
                    rustix::fs::fsetxattr(&fd, opaque_xattr, b"y", rustix::fs::XattrFlags::empty())
                        .map_err(|e| io_err(shown, "mark directory opaque", e))
                }
                WhiteoutMode::Apply => {
                    for child in
                        list_names(&parent).map_err(|e| io_err(shown, "list directory", e))?
                    {
                        if !self.written.contains(&join_child(&parent_path, &child)) {
                            remove_at(&parent, &child)
                                .map_err(|e| io_err(shown, "remove hidden entry", e))?;
                        }
                    }
                    Ok(())
                }
            };
        }
        if hidden.starts_with(WHITEOUT_PREFIX.as_bytes()) {
            return Ok(()); // other aufs bookkeeping (.wh..wh.plnk...): meaningless here
        }
        if hidden.is_empty() || hidden == b"." || hidden == b".." {
            return Err(ExtractError::Refused {
                entry: shown.to_string(),
                reason: "whiteout names no file (or the directory itself)".into(),
            });
        }
        if self.written.contains(&join_child(&parent_path, hidden)) {
            return Ok(()); // this layer wrote it: the whiteout is about the lower one, already replaced
        }
        remove_at(&parent, hidden).map_err(|e| io_err(shown, "remove whited-out entry", e))?;
        if let WhiteoutMode::OverlayFormat { .. } = self.options.whiteouts {
            mknodat(
                &parent,
                hidden,
                FileType::CharacterDevice,
                Mode::empty(),
                rustix::fs::makedev(0, 0),
            )
            .map_err(|e| io_err(shown, "create overlay whiteout", e))?;
        }
        Ok(())
    }

    fn set_opaque(
        &self,
        shown: &str,
        parent: &OwnedFd,
        name: &[u8],
        xattr: &str,
    ) -> Result<(), ExtractError> {
        let dir = openat(
            parent,
            name,
            OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::RDONLY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| io_err(shown, "open directory", e))?;
        rustix::fs::fsetxattr(dir.as_fd(), xattr, b"y", rustix::fs::XattrFlags::empty())
            .map_err(|e| io_err(shown, "mark directory opaque", e))
    }

    /// Clears the way for a new non-directory entry: whatever is at `name` goes, so a
    /// planted symbolic link is replaced rather than written through.
    fn replace_existing(
        &mut self,
        shown: &str,
        parent: &OwnedFd,
        name: &[u8],
    ) -> Result<(), ExtractError> {
        match statat(parent, name, AtFlags::SYMLINK_NOFOLLOW) {
            Err(Errno::NOENT) => return Ok(()),
            Ok(st) if FileType::from_raw_mode(st.st_mode) == FileType::Directory => {
                self.parent_cache = None; // the cached directory may be inside it
            }
            _ => {}
        }
        remove_at(parent, name).map_err(|e| io_err(shown, "remove existing entry", e))
    }

    fn finish_dirs(&mut self) -> Result<(), ExtractError> {
        // Deepest first, so setting a parent's mtime is not undone by work on a child.
        self.dirs.sort_by(|a, b| b.0.cmp(&a.0));
        for (full, meta) in std::mem::take(&mut self.dirs) {
            let shown = String::from_utf8_lossy(&full).into_owned();
            let components: Vec<&[u8]> = full
                .split(|b| *b == b'/')
                .filter(|c| !c.is_empty())
                .collect();
            let Some((name, parents)) = components.split_last() else {
                continue;
            };
            let parent = open_dir_chain(&self.root, parents, false, &shown)?;
            apply_dir_meta(&parent, name, &meta, &shown)?;
        }
        Ok(())
    }
}

fn join(parents: &[&[u8]], name: &[u8]) -> Vec<u8> {
    let mut out = parents.join(&b'/');
    if !name.is_empty() {
        if !out.is_empty() {
            out.push(b'/');
        }
        out.extend_from_slice(name);
    }
    out
}

fn join_child(parent: &[u8], child: &[u8]) -> Vec<u8> {
    join(&[parent], child)
        .into_iter()
        .skip_while(|b| *b == b'/')
        .collect()
}

enum CopyError {
    Read(io::Error),
    Write(io::Error),
}

/// Streams an entry's data to a file in fixed-size chunks.
fn copy_data(from: &mut impl Read, to: &mut std::fs::File) -> Result<(), CopyError> {
    let mut buf = vec![0u8; 128 * 1024];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(CopyError::Read(e)),
        };
        to.write_all(&buf[..n]).map_err(CopyError::Write)?;
    }
}
