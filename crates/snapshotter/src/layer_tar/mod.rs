//! Writes a list of changes as an OCI layer tar: deterministic, streaming, exact metadata.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use tar::{EntryType, Header};

mod ahead;
mod entry;

use self::entry::{Body, PreparedEntry};
use crate::change::{Change, ChangeKind};
use crate::diff_error::DiffError;
use crate::overlay_format::{OPAQUE_MARKER, WHITEOUT_PREFIX};
use crate::pax::{PaxRecords, USTAR_NAME_MAX, USTAR_SIZE_MAX, set_raw_link_name, set_raw_name};

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
    write_items(source, changes, out, options, true)
}

/// [`write_layer_tar`]; `ahead`: may prepare entries on other threads (`ahead.rs`).
fn write_items<W: Write>(
    source: &Path,
    changes: &[Change],
    out: W,
    options: &LayerTarOptions,
    ahead: bool,
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
        links: HashMap::new(),
        entries: 0,
        buffer: vec![0u8; 128 * 1024],
    };
    if !(ahead && ahead::write_ahead(source, &items, options, &mut writer)?) {
        for item in &items {
            if let Some(entry) = item.prepare(source, options)? {
                writer.write_entry(entry)?;
            }
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

/// Where the writer takes an entry's content from.
enum BodySource {
    File(PathBuf, u64),
    Read(Vec<u8>),
}

impl TarItem {
    /// The entry for this item (None: nothing to write, a socket).
    fn prepare(
        &self,
        source: &Path,
        options: &LayerTarOptions,
    ) -> Result<Option<PreparedEntry>, DiffError> {
        if self.marker {
            return Ok(Some(entry::marker(&self.path)));
        }
        entry::prepare(source, &self.path, options.source_date_epoch)
    }

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

struct LayerWriter<W: Write> {
    out: CountingWriter<W>,
    /// (device, inode) of multiply-linked files already written → their tar name.
    links: HashMap<(u64, u64), Vec<u8>>,
    entries: u64,
    /// One read buffer for every file (allocating it per file cost an mmap, page faults
    /// and an munmap for each of a large layer's files).
    buffer: Vec<u8>,
}

impl<W: Write> LayerWriter<W> {
    /// Writes a prepared entry; a file with several links is a hard link to the name it
    /// was first written under, if it was.
    fn write_entry(&mut self, mut entry: PreparedEntry) -> Result<(), DiffError> {
        if let Some(key) = entry.shared {
            match self.links.get(&key) {
                Some(first) => {
                    entry.header.set_entry_type(EntryType::Link);
                    entry.link_target = Some(first.clone());
                    entry.size = 0;
                    entry.body = Body::None;
                }
                None => {
                    self.links.insert(key, entry.name.clone());
                }
            }
        }
        if entry.size > USTAR_SIZE_MAX {
            entry.pax.add("size", entry.size.to_string());
            entry.header.set_size(0);
        } else {
            entry.header.set_size(entry.size);
        }
        let body = match entry.body {
            Body::None => None,
            Body::File(path) => Some(BodySource::File(path, entry.size)),
            Body::Read(data) => Some(BodySource::Read(data)),
        };
        self.emit(
            entry.header,
            &entry.name,
            entry.link_target,
            entry.pax,
            body,
        )
    }

    /// Writes one entry: PAX header when needed, the ustar header, then the file content.
    fn emit(
        &mut self,
        mut header: Header,
        name: &[u8],
        link: Option<Vec<u8>>,
        mut pax: PaxRecords,
        body: Option<BodySource>,
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
        match body {
            Some(BodySource::File(path, size)) => self.copy_file(&path, size)?,
            Some(BodySource::Read(data)) => self.write_padded(&data)?,
            None => {}
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree_diff::tree_changes;

    /// Entries prepared ahead on worker threads give exactly the sequential bytes: small
    /// files read ahead, large ones streamed, hard links (the first name read ahead, the
    /// others links), symlinks, empty files and deep directories.
    #[test]
    fn prepared_ahead_is_byte_for_byte_the_sequential_tar() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("tree");
        for d in 0..30 {
            let sub = root.join(format!("d{d:02}/deeper"));
            std::fs::create_dir_all(&sub).unwrap();
            for f in 0..40 {
                let body = vec![b'a' + (f % 26) as u8; (d * 997 + f * 131) % 9000];
                std::fs::write(sub.join(format!("f{f:02}")), body).unwrap();
            }
            std::os::unix::fs::symlink("deeper/f00", root.join(format!("d{d:02}/link"))).unwrap();
            std::fs::hard_link(sub.join("f01"), root.join(format!("d{d:02}/hard"))).unwrap();
        }
        // Above the read-ahead size, and enough of them to exceed one batch's budget.
        for big in 0..6 {
            let body = vec![big as u8; 300 * 1024 + big];
            std::fs::write(root.join(format!("d05/big{big}")), body).unwrap();
        }
        std::fs::write(root.join("d07/empty"), b"").unwrap();
        let empty = dir.path().join("empty");
        std::fs::create_dir(&empty).unwrap();
        let changes = tree_changes(&empty, &root, None).unwrap();
        assert!(
            changes.len() > AHEAD_TEST_MIN,
            "enough entries for the workers"
        );
        let options = LayerTarOptions::default();
        let (mut sequential, mut ahead) = (Vec::new(), Vec::new());
        let a = write_items(&root, &changes, &mut sequential, &options, false).unwrap();
        let b = write_items(&root, &changes, &mut ahead, &options, true).unwrap();
        assert_eq!(a, b);
        assert!(sequential == ahead, "the two tars differ");
        // The hard links are there as links, once each.
        let mut archive = tar::Archive::new(&ahead[..]);
        let links = archive
            .entries()
            .unwrap()
            .filter(|e| e.as_ref().unwrap().header().entry_type() == EntryType::Link)
            .count();
        assert_eq!(links, 30);
    }

    const AHEAD_TEST_MIN: usize = 1000;
}
