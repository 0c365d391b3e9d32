//! One tar entry made ready from the source tree: header, PAX records and where its
//! content comes from. Preparing touches only the file system, never the writer's state,
//! so entries can be prepared on other threads ahead of the writer (`ahead.rs`).

use std::fs::File;
use std::io::Read;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use tar::{EntryType, Header};

use crate::diff_error::DiffError;
use crate::overlay_format::content_xattrs;
use crate::pax::{PaxRecords, USTAR_ID_MAX};

/// An entry ready to be written, except for what only the writer knows: whether a
/// multiply-linked file was already written under another name.
pub(super) struct PreparedEntry {
    pub header: Header,
    /// The name in the tar (a directory's with its trailing `/`).
    pub name: Vec<u8>,
    pub link_target: Option<Vec<u8>>,
    pub pax: PaxRecords,
    /// A regular file's size (0 for everything else).
    pub size: u64,
    /// (device, inode) of a regular file with more than one link.
    pub shared: Option<(u64, u64)>,
    pub body: Body,
}

/// Where a regular file's content comes from.
pub(super) enum Body {
    /// Not a regular file.
    None,
    /// To be streamed from the file by the writer.
    File(PathBuf),
    /// Already read (a small file read ahead).
    Read(Vec<u8>),
}

/// A whiteout or opaque marker: an empty regular file owned by root.
pub(super) fn marker(rel: &Path) -> PreparedEntry {
    let mut header = Header::new_ustar();
    header.set_entry_type(EntryType::Regular);
    header.set_mode(0o644);
    header.set_uid(0);
    header.set_gid(0);
    header.set_size(0);
    header.set_mtime(0);
    PreparedEntry {
        header,
        name: rel.as_os_str().as_bytes().to_vec(),
        link_target: None,
        pax: PaxRecords::default(),
        size: 0,
        shared: None,
        body: Body::None,
    }
}

/// The entry for `rel` below `source`, with its mtime clamped to `source_date_epoch`; None
/// for a socket (Docker skips them too: they are runtime artefacts).
pub(super) fn prepare(
    source: &Path,
    rel: &Path,
    source_date_epoch: Option<i64>,
) -> Result<Option<PreparedEntry>, DiffError> {
    let path = source.join(rel);
    let meta = std::fs::symlink_metadata(&path).map_err(|e| DiffError::io("stat", &path, e))?;
    let ft = meta.file_type();
    let mut name = rel.as_os_str().as_bytes().to_vec();
    let mut header = Header::new_ustar();
    let mut link_target = None;
    let mut body = Body::None;
    let mut size = 0;
    let mut shared = None;
    if ft.is_dir() {
        name.push(b'/');
        header.set_entry_type(EntryType::Directory);
    } else if ft.is_symlink() {
        header.set_entry_type(EntryType::Symlink);
        let target = std::fs::read_link(&path).map_err(|e| DiffError::io("read link", &path, e))?;
        link_target = Some(target.as_os_str().as_bytes().to_vec());
    } else if ft.is_file() {
        header.set_entry_type(EntryType::Regular);
        size = meta.size();
        shared = (meta.nlink() > 1).then_some((meta.dev(), meta.ino()));
        body = Body::File(path.clone());
    } else if ft.is_char_device() || ft.is_block_device() {
        header.set_entry_type(if ft.is_char_device() {
            EntryType::Char
        } else {
            EntryType::Block
        });
        let dev = meta.rdev();
        header
            .set_device_major(rustix::fs::major(dev))
            .and_then(|_| header.set_device_minor(rustix::fs::minor(dev)))
            .map_err(|e| DiffError::io("encode device number", &path, e))?;
    } else if ft.is_fifo() {
        header.set_entry_type(EntryType::Fifo);
    } else {
        tracing::debug!(path = %path.display(), "skipping socket");
        return Ok(None);
    }
    header.set_mode(meta.mode() & 0o7777);
    let mut pax = PaxRecords::default();
    set_id(&mut header, &mut pax, "uid", u64::from(meta.uid()));
    set_id(&mut header, &mut pax, "gid", u64::from(meta.gid()));
    let mtime = match source_date_epoch {
        Some(epoch) => meta.mtime().min(epoch),
        None => meta.mtime(),
    };
    header.set_mtime(u64::try_from(mtime).unwrap_or(0));
    if !ft.is_symlink() {
        let xattrs = content_xattrs(&path).map_err(|e| DiffError::io("read xattrs", &path, e))?;
        for (key, value) in xattrs {
            pax.add(format!("SCHILY.xattr.{key}"), value);
        }
    }
    Ok(Some(PreparedEntry {
        header,
        name,
        link_target,
        pax,
        size,
        shared,
        body,
    }))
}

/// Reads a regular file's content now (the caller keeps this to small files).
pub(super) fn read_ahead(entry: &mut PreparedEntry) -> Result<(), DiffError> {
    let Body::File(path) = &entry.body else {
        return Ok(());
    };
    let file = File::open(path).map_err(|e| DiffError::io("open", path, e))?;
    let mut data = Vec::with_capacity(entry.size as usize);
    file.take(entry.size)
        .read_to_end(&mut data)
        .map_err(|e| DiffError::io("read", path, e))?;
    if data.len() as u64 != entry.size {
        return Err(DiffError::Changed {
            path: path.clone(),
            expected: entry.size,
        });
    }
    entry.body = Body::Read(data);
    Ok(())
}

fn set_id(header: &mut Header, pax: &mut PaxRecords, key: &str, id: u64) {
    if id > USTAR_ID_MAX {
        pax.add(key, id.to_string());
        if key == "uid" {
            header.set_uid(0);
        } else {
            header.set_gid(0);
        }
    } else if key == "uid" {
        header.set_uid(id);
    } else {
        header.set_gid(id);
    }
}
