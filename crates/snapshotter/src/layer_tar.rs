//! Writes a list of changes as an OCI layer tar: deterministic, streaming, exact metadata.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use tar::{EntryType, Header};

use crate::change::{Change, ChangeKind};
use crate::diff_error::DiffError;
use crate::overlay_format::{OPAQUE_MARKER, WHITEOUT_PREFIX, content_xattrs};
use crate::pax::{
    PaxRecords, USTAR_ID_MAX, USTAR_NAME_MAX, USTAR_SIZE_MAX, set_raw_link_name, set_raw_name,
};

/// How a layer tar is written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LayerTarOptions {
    /// SOURCE_DATE_EPOCH: when set, every mtime later than it is clamped to it, so
    /// rebuilding the same content yields the same layer digest.
    pub source_date_epoch: Option<i64>,
}

/// What was written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LayerTarSummary {
    /// Tar entries written (whiteouts and opaque markers included, PAX headers not).
    pub entries: u64,
    /// Bytes of tar written.
    pub bytes: u64,
}

/// Writes `changes` (paths relative to `source`) as an uncompressed layer tar to `out`.
///
/// Entries are sorted by path; whiteouts become `.wh.NAME`, opaque directories are followed
/// by `.wh..wh..opq`. File contents are streamed, never held in memory. Hard links among the
/// written files are kept as links; PAX records carry long names, large ids and xattrs.
pub fn write_layer_tar<W: Write>(
    source: &Path,
    changes: &[Change],
    out: W,
    options: &LayerTarOptions,
) -> Result<LayerTarSummary, DiffError> {
    let mut items: Vec<TarItem> = Vec::with_capacity(changes.len());
    for change in changes {
        match change.kind {
            ChangeKind::Entry => items.push(TarItem::from_source(&change.path)),
            ChangeKind::OpaqueDir => {
                items.push(TarItem::from_source(&change.path));
                items.push(TarItem::marker(change.path.join(OPAQUE_MARKER)));
            }
            ChangeKind::Whiteout => {
                let Some(name) = change.path.file_name() else {
                    continue; // the root itself cannot be deleted
                };
                let mut wh = std::ffi::OsString::from(WHITEOUT_PREFIX);
                wh.push(name);
                let parent = change.path.parent().unwrap_or(Path::new(""));
                items.push(TarItem::marker(parent.join(wh)));
            }
        }
    }
    // Every ancestor directory goes in too, with its real metadata: an extractor that
    // meets `a/b/c` alone must invent `a/` and `a/b/`, and an invented directory in a
    // layer hides the real one's mode and owner in the merged view.
    let present: std::collections::HashSet<PathBuf> =
        items.iter().map(|i| i.path.clone()).collect();
    let mut ancestors = std::collections::BTreeSet::new();
    for item in &items {
        for ancestor in item.path.ancestors().skip(1) {
            if ancestor.as_os_str().is_empty() || present.contains(ancestor) {
                continue;
            }
            ancestors.insert(ancestor.to_path_buf());
        }
    }
    items.extend(ancestors.into_iter().map(|p| TarItem::from_source(&p)));
    // Component-wise order: a directory comes before its contents; siblings by bytes.
    items.sort_by(|a, b| a.path.cmp(&b.path));
    items.dedup_by(|a, b| a.path == b.path);

    let mut writer = LayerWriter {
        out: CountingWriter {
            inner: out,
            bytes: 0,
        },
        options,
        links: HashMap::new(),
        entries: 0,
        buffer: vec![0u8; 128 * 1024],
    };
    for item in &items {
        if item.marker {
            writer.write_marker(&item.path)?;
        } else {
            writer.write_source_entry(source, &item.path)?;
        }
    }
    // End of archive: two zero blocks.
    writer
        .out
        .write_all(&[0u8; 1024])
        .map_err(DiffError::Write)?;
    writer.out.flush().map_err(DiffError::Write)?;
    Ok(LayerTarSummary {
        entries: writer.entries,
        bytes: writer.out.bytes,
    })
}

struct TarItem {
    path: PathBuf,
    marker: bool,
}

impl TarItem {
    fn from_source(path: &Path) -> Self {
        TarItem {
            path: path.to_path_buf(),
            marker: false,
        }
    }
    fn marker(path: PathBuf) -> Self {
        TarItem { path, marker: true }
    }
}

struct LayerWriter<'o, W: Write> {
    out: CountingWriter<W>,
    options: &'o LayerTarOptions,
    /// (device, inode) of multiply-linked files already written → their tar name.
    links: HashMap<(u64, u64), Vec<u8>>,
    entries: u64,
    /// One read buffer for every file (allocating it per file cost an mmap, page faults
    /// and an munmap for each of a large layer's files).
    buffer: Vec<u8>,
}

impl<W: Write> LayerWriter<'_, W> {
    fn write_marker(&mut self, rel: &Path) -> Result<(), DiffError> {
        let name = rel.as_os_str().as_bytes().to_vec();
        let mut header = Header::new_ustar();
        header.set_entry_type(EntryType::Regular);
        header.set_mode(0o644);
        header.set_uid(0);
        header.set_gid(0);
        header.set_size(0);
        header.set_mtime(0);
        self.emit(header, &name, None, PaxRecords::default(), None)
    }

    fn write_source_entry(&mut self, source: &Path, rel: &Path) -> Result<(), DiffError> {
        let path = source.join(rel);
        let meta = std::fs::symlink_metadata(&path).map_err(|e| DiffError::io("stat", &path, e))?;
        let ft = meta.file_type();
        let mut name = rel.as_os_str().as_bytes().to_vec();
        let mut header = Header::new_ustar();
        let mut link_target = None;
        let mut data = None;
        let mut size = 0;
        if ft.is_dir() {
            name.push(b'/');
            header.set_entry_type(EntryType::Directory);
        } else if ft.is_symlink() {
            header.set_entry_type(EntryType::Symlink);
            let target =
                std::fs::read_link(&path).map_err(|e| DiffError::io("read link", &path, e))?;
            link_target = Some(target.as_os_str().as_bytes().to_vec());
        } else if ft.is_file() {
            let key = (meta.dev(), meta.ino());
            match self.links.get(&key) {
                Some(first) if meta.nlink() > 1 => {
                    header.set_entry_type(EntryType::Link);
                    link_target = Some(first.clone());
                }
                _ => {
                    if meta.nlink() > 1 {
                        self.links.insert(key, name.clone());
                    }
                    header.set_entry_type(EntryType::Regular);
                    size = meta.size();
                    data = Some(path.clone());
                }
            }
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
            // Sockets cannot be archived (Docker skips them too); they are runtime artefacts.
            tracing::debug!(path = %path.display(), "skipping socket");
            return Ok(());
        }
        header.set_mode(meta.mode() & 0o7777);
        let mut pax = PaxRecords::default();
        set_id(&mut header, &mut pax, "uid", u64::from(meta.uid()));
        set_id(&mut header, &mut pax, "gid", u64::from(meta.gid()));
        if size > USTAR_SIZE_MAX {
            pax.add("size", size.to_string());
            header.set_size(0);
        } else {
            header.set_size(size);
        }
        header.set_mtime(self.clamp_mtime(meta.mtime()));
        if !ft.is_symlink() {
            let xattrs =
                content_xattrs(&path).map_err(|e| DiffError::io("read xattrs", &path, e))?;
            for (key, value) in xattrs {
                pax.add(format!("SCHILY.xattr.{key}"), value);
            }
        }
        let body = data.map(|p| (p, size));
        self.emit(header, &name, link_target, pax, body)
    }

    fn clamp_mtime(&self, mtime: i64) -> u64 {
        let mtime = match self.options.source_date_epoch {
            Some(epoch) => mtime.min(epoch),
            None => mtime,
        };
        u64::try_from(mtime).unwrap_or(0)
    }

    /// Writes one entry: PAX header when needed, the ustar header, then the file content.
    fn emit(
        &mut self,
        mut header: Header,
        name: &[u8],
        link: Option<Vec<u8>>,
        mut pax: PaxRecords,
        body: Option<(PathBuf, u64)>,
    ) -> Result<(), DiffError> {
        if name.len() > USTAR_NAME_MAX {
            pax.add("path", name.to_vec());
        }
        set_raw_name(&mut header, name);
        if let Some(link) = &link {
            if link.len() > USTAR_NAME_MAX {
                pax.add("linkpath", link.clone());
            }
            set_raw_link_name(&mut header, link);
        }
        header.set_cksum();
        if !pax.is_empty() {
            let (pax_header, pax_body) = pax.encode(name);
            self.write_block(pax_header.as_bytes())?;
            self.write_padded(&pax_body)?;
        }
        self.write_block(header.as_bytes())?;
        if let Some((path, size)) = body {
            self.copy_file(&path, size)?;
        }
        self.entries += 1;
        Ok(())
    }

    fn write_block(&mut self, block: &[u8; 512]) -> Result<(), DiffError> {
        self.out.write_all(block).map_err(DiffError::Write)
    }

    fn write_padded(&mut self, data: &[u8]) -> Result<(), DiffError> {
        self.out.write_all(data).map_err(DiffError::Write)?;
        self.pad(data.len() as u64)
    }

    fn pad(&mut self, len: u64) -> Result<(), DiffError> {
        let rem = (len % 512) as usize;
        if rem != 0 {
            self.out
                .write_all(&[0u8; 512][..512 - rem])
                .map_err(DiffError::Write)?;
        }
        Ok(())
    }

    /// Streams exactly `size` bytes of the file: the header already announced that size.
    fn copy_file(&mut self, path: &Path, size: u64) -> Result<(), DiffError> {
        let file = File::open(path).map_err(|e| DiffError::io("open", path, e))?;
        let mut reader = file.take(size);
        let mut copied = 0u64;
        loop {
            let n = match reader.read(&mut self.buffer) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(DiffError::io("read", path, e)),
            };
            self.out
                .write_all(&self.buffer[..n])
                .map_err(DiffError::Write)?;
            copied += n as u64;
        }
        if copied != size {
            return Err(DiffError::Changed {
                path: path.to_path_buf(),
                expected: size,
            });
        }
        self.pad(size)
    }
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

/// Counts bytes written through it.
struct CountingWriter<W> {
    inner: W,
    bytes: u64,
}

impl<W: Write> Write for CountingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.bytes += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}
