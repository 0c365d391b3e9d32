//! Owner, mode, extended attributes and times of extracted entries.

use std::os::fd::{AsRawFd, OwnedFd};

use rustix::fs::{
    AtFlags, Gid, Mode, OFlags, Timespec, Timestamps, Uid, XattrFlags, chmodat, chownat, fchmod,
    futimens, openat, utimensat,
};
use rustix::io::Errno;

use super::error::ExtractError;
use super::safe_dir::io_err;
use super::tar_reader::TarEntry;
use crate::overlay_format::is_private_xattr;

/// Metadata of one tar entry, PAX records applied.
#[derive(Debug, Clone)]
pub(crate) struct EntryMeta {
    mode: Option<u32>,
    uid: u64,
    gid: u64,
    mtime: Option<(i64, i64)>,
    xattrs: Vec<(String, Vec<u8>)>,
}

/// Whether ownership is set, and whether failing to set it is an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OwnerMode {
    Skip,
    BestEffort,
    Required,
}

impl EntryMeta {
    pub(crate) fn read(entry: &TarEntry, shown: &str) -> Result<Self, ExtractError> {
        let header = &entry.header;
        let bad = |what: &str| ExtractError::Refused {
            entry: shown.to_string(),
            reason: format!("unreadable {what} in the tar header"),
        };
        let raw = header.as_old();
        let mode = lenient(header.mode().map(u64::from), &raw.mode).ok_or_else(|| bad("mode"))?;
        let mut meta = EntryMeta {
            mode: Some((mode & 0o7777) as u32),
            uid: lenient(header.uid(), &raw.uid).ok_or_else(|| bad("uid"))?,
            gid: lenient(header.gid(), &raw.gid).ok_or_else(|| bad("gid"))?,
            mtime: Some((
                lenient(header.mtime(), &raw.mtime).ok_or_else(|| bad("mtime"))? as i64,
                0,
            )),
            xattrs: Vec::new(),
        };
        for (key, value) in &entry.pax {
            match key.as_str() {
                "uid" => meta.uid = parse_u64(value).ok_or_else(|| bad("PAX uid"))?,
                "gid" => meta.gid = parse_u64(value).ok_or_else(|| bad("PAX gid"))?,
                "mtime" => meta.mtime = Some(parse_time(value).ok_or_else(|| bad("PAX mtime"))?),
                _ => {
                    if let Some(name) = key.strip_prefix("SCHILY.xattr.") {
                        // A later record for the same attribute wins, as in the PAX spec.
                        meta.xattrs.retain(|(k, _)| k != name);
                        meta.xattrs.push((name.to_string(), value.clone()));
                    }
                }
            }
        }
        Ok(meta)
    }

    /// The same owner and attributes, but mode and times left for later (directories).
    pub(crate) fn without_mode_and_time(&self) -> Self {
        EntryMeta {
            mode: None,
            mtime: None,
            ..self.clone()
        }
    }
}

/// A numeric header field; an empty one (all NUL or spaces, as some writers leave
/// fields they do not use) reads as 0, like Go's and GNU tar's readers do.
fn lenient(parsed: std::io::Result<u64>, raw: &[u8]) -> Option<u64> {
    match parsed {
        Ok(v) => Some(v),
        Err(_) if raw.iter().all(|b| *b == 0 || *b == b' ') => Some(0),
        Err(_) => None,
    }
}

fn parse_u64(v: &[u8]) -> Option<u64> {
    std::str::from_utf8(v).ok()?.trim().parse().ok()
}

/// PAX times are decimal seconds with an optional fraction ("1700000000.123456789").
fn parse_time(v: &[u8]) -> Option<(i64, i64)> {
    let text = std::str::from_utf8(v).ok()?.trim();
    let (secs, frac) = text.split_once('.').unwrap_or((text, ""));
    let secs: i64 = secs.parse().ok()?;
    let mut nanos: i64 = 0;
    for (i, c) in frac.chars().take(9).enumerate() {
        nanos += i64::from(c.to_digit(10)?) * 10i64.pow(8 - i as u32);
    }
    Some((secs, nanos))
}

/// Sets owner, then mode (a chown clears set-id bits), then xattrs (a chown clears
/// file capabilities), then times, on `name` in `parent`, never following a link.
pub(crate) fn apply_meta(
    parent: &OwnedFd,
    name: &[u8],
    meta: &EntryMeta,
    shown: &str,
    owner: OwnerMode,
    set_mode: bool,
) -> Result<(), ExtractError> {
    if owner != OwnerMode::Skip {
        let (uid, gid) = match (u32::try_from(meta.uid), u32::try_from(meta.gid)) {
            (Ok(u), Ok(g)) => (u, g),
            _ => {
                return Err(ExtractError::Unsupported {
                    entry: shown.to_string(),
                    reason: format!("owner {}:{} does not fit in 32 bits", meta.uid, meta.gid),
                });
            }
        };
        let res = chownat(
            parent,
            name,
            Some(Uid::from_raw(uid)),
            Some(Gid::from_raw(gid)),
            AtFlags::SYMLINK_NOFOLLOW,
        );
        match res {
            Ok(()) => {}
            Err(Errno::PERM) | Err(Errno::INVAL) if owner == OwnerMode::BestEffort => {}
            Err(e) => return Err(io_err(shown, "set owner", e)),
        }
    }
    if set_mode && let Some(mode) = meta.mode {
        chmodat(parent, name, Mode::from_raw_mode(mode), AtFlags::empty())
            .map_err(|e| io_err(shown, "set mode", e))?;
    }
    if !meta.xattrs.is_empty() {
        let path = proc_path(parent, name);
        let path = path.as_os_str();
        for (key, value) in &meta.xattrs {
            if is_private_xattr(key) {
                continue; // never let a layer plant overlay bookkeeping
            }
            if let Err(e) = rustix::fs::lsetxattr(path, key.as_str(), value, XattrFlags::empty()) {
                tracing::warn!(entry = %shown, xattr = %key, error = %e, "extended attribute not kept");
            }
        }
    }
    if let Some(mtime) = meta.mtime {
        set_times(parent, name, mtime, shown)?;
    }
    Ok(())
}

/// The path of `name` through the parent's descriptor: calls on it never follow a link
/// in the parent chain, and `l*` calls do not follow the final name either.
fn proc_path(parent: &OwnedFd, name: &[u8]) -> std::path::PathBuf {
    let mut path = format!("/proc/self/fd/{}/", parent.as_raw_fd()).into_bytes();
    path.extend_from_slice(name);
    std::path::PathBuf::from(<std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(&path))
}

/// Removes the extended attributes of an existing directory that the new entry does not
/// have, so a directory entry laid over an older one ends up with exactly its own.
pub(crate) fn drop_stale_xattrs(parent: &OwnedFd, name: &[u8], meta: &EntryMeta) {
    let path = proc_path(parent, name);
    let Ok(names) = xattr::list(&path) else {
        return; // no xattr support: nothing can be stale
    };
    for key in names {
        let Some(key) = key.to_str() else { continue };
        if is_private_xattr(key) || meta.xattrs.iter().any(|(k, _)| k == key) {
            continue;
        }
        if let Err(e) = xattr::remove(&path, key) {
            tracing::warn!(path = %path.display(), xattr = %key, error = %e, "stale extended attribute not removed");
        }
    }
}

/// Mode and times of a directory, applied after its contents were written.
///
/// A later entry of the layer may have replaced the directory by something else — a
/// symbolic link to anywhere, even outside the root — so the directory is opened without
/// following a link and changed through that descriptor (`chmodat` would follow the link);
/// when it is no longer a directory, the later entry's own metadata stands.
pub(crate) fn apply_dir_meta(
    parent: &OwnedFd,
    name: &[u8],
    meta: &EntryMeta,
    shown: &str,
) -> Result<(), ExtractError> {
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    let dir = match openat(parent, name, flags, Mode::empty()) {
        Ok(dir) => dir,
        Err(Errno::LOOP) | Err(Errno::NOTDIR) | Err(Errno::NOENT) => return Ok(()),
        Err(e) => return Err(io_err(shown, "open directory", e)),
    };
    if let Some(mode) = meta.mode {
        fchmod(&dir, Mode::from_raw_mode(mode)).map_err(|e| io_err(shown, "set mode", e))?;
    }
    if let Some(mtime) = meta.mtime {
        futimens(&dir, &both_times(mtime)).map_err(|e| io_err(shown, "set times", e))?;
    }
    Ok(())
}

fn set_times(
    parent: &OwnedFd,
    name: &[u8],
    mtime: (i64, i64),
    shown: &str,
) -> Result<(), ExtractError> {
    utimensat(parent, name, &both_times(mtime), AtFlags::SYMLINK_NOFOLLOW)
        .map_err(|e| io_err(shown, "set times", e))
}

/// Access and modification time both set to the entry's mtime (seconds, nanoseconds).
fn both_times((secs, nanos): (i64, i64)) -> Timestamps {
    let ts = Timespec {
        tv_sec: secs,
        tv_nsec: nanos,
    };
    Timestamps {
        last_access: ts,
        last_modification: ts,
    }
}
