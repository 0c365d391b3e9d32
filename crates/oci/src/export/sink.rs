//! Where exporters put files: a directory, or a tar stream with deterministic headers
//! (mtime 0, root owner, fixed modes), so equal images give byte-identical archives.

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use crate::error::{IoContext, OciError, stream_err};

/// A destination for exported files, addressed by relative `/`-separated paths.
pub trait FileSink {
    /// Adds a file with `bytes` as content.
    fn add_bytes(&mut self, path: &str, bytes: &[u8]) -> Result<(), OciError>;
    /// Adds a file copied from `source` (of `size` bytes).
    fn add_reader(&mut self, path: &str, source: &mut dyn Read, size: u64) -> Result<(), OciError>;
    /// Adds a copy of the file at `source`.
    fn add_file(&mut self, path: &str, source: &Path) -> Result<(), OciError> {
        let mut file = File::open(source).ctx("open", source)?;
        let size = file.metadata().ctx("stat", source)?.len();
        self.add_reader(path, &mut file, size)
    }
    /// Whether `path` was added already (blobs shared by images are written once).
    fn contains(&self, path: &str) -> bool;
}

/// Writes files under a directory.
pub struct DirSink {
    root: PathBuf,
    added: std::collections::BTreeSet<String>,
}

impl DirSink {
    /// Files go under `root` (created if missing).
    pub fn new(root: &Path) -> Result<Self, OciError> {
        std::fs::create_dir_all(root).ctx("create directory", root)?;
        Ok(DirSink {
            root: root.to_path_buf(),
            added: Default::default(),
        })
    }

    fn target(&mut self, path: &str) -> Result<PathBuf, OciError> {
        let target = self.root.join(path);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).ctx("create directory", parent)?;
        }
        self.added.insert(path.to_string());
        Ok(target)
    }
}

impl FileSink for DirSink {
    fn add_bytes(&mut self, path: &str, bytes: &[u8]) -> Result<(), OciError> {
        let target = self.target(path)?;
        std::fs::write(&target, bytes).ctx("write", target)
    }

    fn add_reader(
        &mut self,
        path: &str,
        source: &mut dyn Read,
        _size: u64,
    ) -> Result<(), OciError> {
        let target = self.target(path)?;
        let mut file = File::create(&target).ctx("create", &target)?;
        io::copy(source, &mut file).ctx("write", &target)?;
        Ok(())
    }

    fn contains(&self, path: &str) -> bool {
        self.added.contains(path)
    }
}

/// Writes files into a tar stream.
pub struct TarSink<W: Write> {
    builder: tar::Builder<W>,
    dirs: std::collections::BTreeSet<String>,
    added: std::collections::BTreeSet<String>,
}

impl<W: Write> TarSink<W> {
    /// A tar written to `out`.
    pub fn new(out: W) -> Self {
        let mut builder = tar::Builder::new(out);
        builder.mode(tar::HeaderMode::Deterministic);
        TarSink {
            builder,
            dirs: Default::default(),
            added: Default::default(),
        }
    }

    /// Writes the end-of-archive marker and returns the stream.
    pub fn finish(self) -> Result<W, OciError> {
        self.builder
            .into_inner()
            .map_err(stream_err("finishing tar"))
    }

    fn header(kind: tar::EntryType, mode: u32, size: u64) -> tar::Header {
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(kind);
        header.set_mode(mode);
        header.set_size(size);
        header.set_mtime(0);
        header.set_uid(0);
        header.set_gid(0);
        header
    }

    /// Adds the parent directories of `path` that are not in the tar yet.
    fn parents(&mut self, path: &str) -> Result<(), OciError> {
        let mut prefix = String::new();
        let parts: Vec<&str> = path.split('/').collect();
        for part in &parts[..parts.len().saturating_sub(1)] {
            prefix.push_str(part);
            prefix.push('/');
            if self.dirs.insert(prefix.clone()) {
                let mut header = Self::header(tar::EntryType::Directory, 0o755, 0);
                self.builder
                    .append_data(&mut header, &prefix, io::empty())
                    .map_err(stream_err(format!("writing {prefix} to tar")))?;
            }
        }
        Ok(())
    }
}

impl<W: Write> FileSink for TarSink<W> {
    fn add_bytes(&mut self, path: &str, bytes: &[u8]) -> Result<(), OciError> {
        self.add_reader(path, &mut &bytes[..], bytes.len() as u64)
    }

    fn add_reader(&mut self, path: &str, source: &mut dyn Read, size: u64) -> Result<(), OciError> {
        self.parents(path)?;
        self.added.insert(path.to_string());
        let mut header = Self::header(tar::EntryType::Regular, 0o644, size);
        // `take` guards against a source longer than announced, which would corrupt the tar.
        self.builder
            .append_data(&mut header, path, source.take(size))
            .map_err(stream_err(format!("writing {path} to tar")))
    }

    fn contains(&self, path: &str) -> bool {
        self.added.contains(path)
    }
}
