//! Merging an overlay-format layer directory onto a plain tree in user space: what the
//! copy backend does instead of mounting overlayfs.
//!
//! Every entry is re-created (not hard-linked to the layer) so that writes to the tree
//! never reach the shared, read-only layer directories.

use std::collections::HashMap;
use std::fs::Metadata;
use std::io;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use rustix::fs::{AtFlags, CWD, FileType, Mode, Timespec, Timestamps, mknodat, utimensat};

use crate::overlay_format::{content_xattrs, is_opaque_dir, is_whiteout};

/// Applies the layer directory `layer` (overlay format: 0/0 character devices delete,
/// opaque directories hide what was below) onto `tree`.
pub fn merge_layer_dir(layer: &Path, tree: &Path) -> io::Result<()> {
    let mut links = HashMap::new();
    merge_dir(layer, tree, &mut links)
}

fn merge_dir(
    src_dir: &Path,
    dst_dir: &Path,
    links: &mut HashMap<(u64, u64), PathBuf>,
) -> io::Result<()> {
    let mut names: Vec<_> = std::fs::read_dir(src_dir)?
        .map(|e| e.map(|e| e.file_name()))
        .collect::<Result<_, _>>()?;
    names.sort();
    for name in names {
        let src = src_dir.join(&name);
        let dst = dst_dir.join(&name);
        let meta = std::fs::symlink_metadata(&src)?;
        let existing = match std::fs::symlink_metadata(&dst) {
            Ok(m) => Some(m),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => return Err(e),
        };
        if is_whiteout(&meta) {
            if let Some(existing) = existing {
                remove_any(&dst, &existing)?;
            }
            continue;
        }
        if meta.is_dir() {
            match existing {
                Some(e) if e.is_dir() => {
                    if is_opaque_dir(&src)? {
                        for child in std::fs::read_dir(&dst)? {
                            let child = child?.path();
                            let m = std::fs::symlink_metadata(&child)?;
                            remove_any(&child, &m)?;
                        }
                    }
                }
                Some(e) => {
                    remove_any(&dst, &e)?;
                    std::fs::create_dir(&dst)?;
                }
                None => std::fs::create_dir(&dst)?,
            }
            merge_dir(&src, &dst, links)?;
            copy_metadata(&src, &dst, &meta)?;
        } else {
            if let Some(existing) = existing {
                remove_any(&dst, &existing)?;
            }
            clone_entry(&src, &dst, &meta, links)?;
        }
    }
    Ok(())
}

fn remove_any(path: &Path, meta: &Metadata) -> io::Result<()> {
    if meta.is_dir() {
        crate::fsutil::remove_tree(path)
    } else {
        std::fs::remove_file(path)
    }
}

/// Re-creates one non-directory entry, keeping hard links among the merged entries.
fn clone_entry(
    src: &Path,
    dst: &Path,
    meta: &Metadata,
    links: &mut HashMap<(u64, u64), PathBuf>,
) -> io::Result<()> {
    let ft = meta.file_type();
    if ft.is_file() {
        let key = (meta.dev(), meta.ino());
        if meta.nlink() > 1
            && let Some(first) = links.get(&key)
        {
            return std::fs::hard_link(first, dst);
        }
        std::fs::copy(src, dst)?;
        if meta.nlink() > 1 {
            links.insert(key, dst.to_path_buf());
        }
    } else if ft.is_symlink() {
        std::os::unix::fs::symlink(std::fs::read_link(src)?, dst)?;
    } else {
        let file_type = if ft.is_char_device() {
            FileType::CharacterDevice
        } else if ft.is_block_device() {
            FileType::BlockDevice
        } else if ft.is_fifo() {
            FileType::Fifo
        } else {
            return Ok(()); // sockets are not content
        };
        mknodat(CWD, dst, file_type, Mode::from_raw_mode(0o600), meta.rdev())?;
    }
    copy_metadata(src, dst, meta)
}

/// Owner, then mode, then xattrs, then times (the order that keeps set-id bits and file
/// capabilities, which a chown clears).
fn copy_metadata(src: &Path, dst: &Path, meta: &Metadata) -> io::Result<()> {
    match std::os::unix::fs::lchown(dst, Some(meta.uid()), Some(meta.gid())) {
        Ok(()) => {}
        // Not root: files keep the caller's ownership, as any unprivileged copy does.
        Err(e)
            if e.kind() == io::ErrorKind::PermissionDenied
                && !rustix::process::geteuid().is_root() => {}
        Err(e) => return Err(e),
    }
    let is_link = meta.file_type().is_symlink();
    if !is_link {
        std::fs::set_permissions(dst, std::fs::Permissions::from_mode(meta.mode() & 0o7777))?;
        let wanted = content_xattrs(src)?;
        // A directory merged onto an existing one shows only its own attributes, as the
        // upper directory of an overlay does: drop what the lower one had.
        for (name, _) in content_xattrs(dst)? {
            if !wanted.iter().any(|(w, _)| *w == name)
                && let Err(e) = xattr::remove(dst, &name)
            {
                tracing::warn!(path = %dst.display(), xattr = %name, error = %e, "stale extended attribute kept");
            }
        }
        for (name, value) in wanted {
            if let Err(e) = xattr::set(dst, &name, &value) {
                tracing::warn!(path = %dst.display(), xattr = %name, error = %e, "extended attribute not copied");
            }
        }
    }
    let mtime = Timespec {
        tv_sec: meta.mtime(),
        tv_nsec: meta.mtime_nsec(),
    };
    let atime = Timespec {
        tv_sec: meta.atime(),
        tv_nsec: meta.atime_nsec(),
    };
    utimensat(
        CWD,
        dst,
        &Timestamps {
            last_access: atime,
            last_modification: mtime,
        },
        AtFlags::SYMLINK_NOFOLLOW,
    )?;
    Ok(())
}
