//! Path handling that cannot leave the extraction root.
//!
//! Every entry path is split into plain components (absolute paths and `..` are refused),
//! then walked one directory at a time with `openat(O_NOFOLLOW | O_DIRECTORY)` from a
//! descriptor of the root: a component that is a symbolic link stops the walk with an
//! error instead of being followed, so no link planted by an earlier entry or layer can
//! redirect a write outside the root.

use std::ffi::CStr;
use std::os::fd::{AsFd, OwnedFd};

use rustix::fs::{AtFlags, Dir, FileType, Mode, OFlags, mkdirat, openat, statat, unlinkat};
use rustix::io::Errno;

use super::error::ExtractError;

/// The components of an entry path, or why the path is refused.
pub(crate) fn split_components(raw: &[u8]) -> Result<Vec<&[u8]>, String> {
    if raw.first() == Some(&b'/') {
        return Err("absolute path (layer paths must be relative to the root)".into());
    }
    let mut out = Vec::new();
    for part in raw.split(|b| *b == b'/') {
        match part {
            b"" | b"." => {}
            b".." => return Err("path contains a \"..\" component".into()),
            p if p.contains(&0) => return Err("path contains a NUL byte".into()),
            p => out.push(p),
        }
    }
    Ok(out)
}

/// Opens a directory descriptor for the root itself (a fresh descriptor each call).
pub(crate) fn reopen(dir: impl AsFd) -> rustix::io::Result<OwnedFd> {
    openat(
        dir,
        c".",
        OFlags::DIRECTORY | OFlags::RDONLY | OFlags::CLOEXEC,
        Mode::empty(),
    )
}

/// Walks `components` below `root` without following links, creating missing directories
/// (mode 0755, like Docker) when `create` is set, and returns the last one opened.
pub(crate) fn open_dir_chain(
    root: &OwnedFd,
    components: &[&[u8]],
    create: bool,
    entry: &str,
) -> Result<OwnedFd, ExtractError> {
    let mut cur = reopen(root).map_err(|e| io_err(entry, "open target root", e))?;
    for (i, comp) in components.iter().enumerate() {
        let flags = OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::RDONLY | OFlags::CLOEXEC;
        let next = match openat(&cur, *comp, flags, Mode::empty()) {
            Ok(fd) => fd,
            Err(Errno::NOENT) if create => {
                match mkdirat(&cur, *comp, Mode::from_raw_mode(0o755)) {
                    Ok(()) | Err(Errno::EXIST) => {}
                    Err(e) => return Err(io_err(entry, "create parent directory", e)),
                }
                openat(&cur, *comp, flags, Mode::empty())
                    .map_err(|e| io_err(entry, "open parent directory", e))?
            }
            Err(Errno::NOENT) => {
                return Err(ExtractError::Refused {
                    entry: entry.to_string(),
                    reason: format!("{} does not exist in the target", shown(&components[..=i])),
                });
            }
            Err(Errno::LOOP) | Err(Errno::NOTDIR) => {
                let what = match statat(&cur, *comp, AtFlags::SYMLINK_NOFOLLOW) {
                    Ok(st) if FileType::from_raw_mode(st.st_mode) == FileType::Symlink => {
                        "is a symbolic link; writing through links is refused because it could leave the target directory"
                    }
                    _ => "is not a directory",
                };
                return Err(ExtractError::Refused {
                    entry: entry.to_string(),
                    reason: format!("path component {} {what}", shown(&components[..=i])),
                });
            }
            Err(e) => return Err(io_err(entry, "open parent directory", e)),
        };
        cur = next;
    }
    Ok(cur)
}

/// Removes `name` in `dir` whatever it is, recursively for directories, never following
/// links. Missing is fine.
pub(crate) fn remove_at(dir: &OwnedFd, name: &[u8]) -> rustix::io::Result<()> {
    let st = match statat(dir, name, AtFlags::SYMLINK_NOFOLLOW) {
        Ok(st) => st,
        Err(Errno::NOENT) => return Ok(()),
        Err(e) => return Err(e),
    };
    if FileType::from_raw_mode(st.st_mode) == FileType::Directory {
        let sub = openat(
            dir,
            name,
            OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::RDONLY | OFlags::CLOEXEC,
            Mode::empty(),
        )?;
        for child in list_names(&sub)? {
            remove_at(&sub, &child)?;
        }
        unlinkat(dir, name, AtFlags::REMOVEDIR)
    } else {
        unlinkat(dir, name, AtFlags::empty())
    }
}

/// Names in a directory, without `.` and `..`.
pub(crate) fn list_names(dir: &OwnedFd) -> rustix::io::Result<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    let listing = Dir::read_from(dir)?;
    for entry in listing {
        let entry = entry?;
        let name: &CStr = entry.file_name();
        let bytes = name.to_bytes();
        if bytes != b"." && bytes != b".." {
            out.push(bytes.to_vec());
        }
    }
    Ok(out)
}

pub(crate) fn shown(components: &[&[u8]]) -> String {
    let joined: Vec<u8> = components.join(&b'/');
    format!("{:?}", String::from_utf8_lossy(&joined))
}

pub(crate) fn io_err(entry: &str, action: &'static str, e: Errno) -> ExtractError {
    ExtractError::Io {
        entry: entry.to_string(),
        action,
        source: e.into(),
    }
}
