//! The content-addressed blob store: `<root>/blobs/sha256/<hex>`.
//!
//! A blob becomes visible only by an atomic rename of a fully written, fsync-ed and
//! hash-verified temporary file, so readers never see partial content and a killed writer
//! leaves only an unlocked temporary file that the next [`ContentStore::open`] removes.
//!
//! The uncompressed tar of a layer a build committed may instead be present as a recipe
//! (`layer_recipe.rs`): it counts as present, and is written from the unpacked layer, and
//! verified, when it is first opened.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use sha2::{Digest as _, Sha256};

use crate::digest::Digest;
use crate::error::{IoContext, StoreError};
use crate::fsutil::fsync_dir;
use crate::layer_recipe::{LayerRecipe, read_recipe, recipe_path, recipes_dir, write_recipe};
use crate::layer_tar::{LayerTarOptions, write_layer_tar};
use crate::layout::{layers_dir, store_lock_path};
use crate::lock::{FileLock, LockMode, try_lock_open_file};
use crate::overlay_diff::overlay_changes;
use crate::tempname::{clean_abandoned, unique_name};

/// A directory of blobs named by their sha256 digest.
#[derive(Debug, Clone)]
pub struct ContentStore {
    root: PathBuf,
    blobs: PathBuf,
    tmp: PathBuf,
}

impl ContentStore {
    /// Opens (creating if needed) the store rooted at `root`, and removes temporary files
    /// left by processes that died while writing.
    pub fn open(root: &Path) -> Result<Self, StoreError> {
        let blobs = root.join("blobs").join("sha256");
        let tmp = root.join("tmp");
        std::fs::create_dir_all(&blobs).ctx("create directory", &blobs)?;
        std::fs::create_dir_all(&tmp).ctx("create directory", &tmp)?;
        clean_abandoned(&tmp);
        Ok(ContentStore {
            root: root.to_path_buf(),
            blobs,
            tmp,
        })
    }

    /// The store root this content store lives under.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Starts a new blob: a temporary file in the store, hashed as it is written.
    ///
    /// The writer holds the store lock shared until it is committed or dropped, so a
    /// concurrent [`crate::prune`] (which takes it exclusively) never removes a blob that
    /// is being written. Callers that must also record the new blob somewhere (an image
    /// index) before a prune may run should hold [`crate::FileLock`] on
    /// [`crate::store_lock_path`] shared across both steps.
    pub fn writer(&self) -> Result<BlobWriter, StoreError> {
        let store_lock = FileLock::acquire(&store_lock_path(&self.root), LockMode::Shared)?;
        let temp_path = self.tmp.join(unique_name("blob"));
        let file = OpenOptions::new()
            .write(true)
            .read(true)
            .create_new(true)
            .open(&temp_path)
            .ctx("create temporary blob", &temp_path)?;
        // The lock tells cleanup in other processes that this file is in use.
        try_lock_open_file(&file).ctx("lock temporary blob", &temp_path)?;
        Ok(BlobWriter {
            file: Some(file),
            temp_path,
            hasher: Sha256::new(),
            size: 0,
            blobs_dir: self.blobs.clone(),
            _store_lock: store_lock,
        })
    }

    /// Whether the blob is present (as bytes, or as the recipe of an unpacked layer).
    pub fn contains(&self, d: &Digest) -> bool {
        self.blob_path(d).is_file()
            || (read_recipe(&self.root, d).is_some() && self.unpacked_layer(d).is_dir())
    }

    /// Opens the blob for reading (writing it from its recipe first if needed).
    pub fn open_blob(&self, d: &Digest) -> Result<File, StoreError> {
        let path = self.materialize(d)?;
        File::open(&path).map_err(|e| self.missing_or_io(d, "open blob", path, e))
    }

    /// Where the blob lives (whether or not it is present). A blob kept as a recipe has no
    /// file there until [`ContentStore::materialize`] writes it.
    pub fn blob_path(&self, d: &Digest) -> PathBuf {
        self.blobs.join(d.hex())
    }

    /// The blob's file, written from its layer recipe when it has none yet; for callers that
    /// need a path (to hand the file to another writer, or to upload it).
    pub fn materialize(&self, d: &Digest) -> Result<PathBuf, StoreError> {
        let path = self.blob_path(d);
        if path.is_file() {
            return Ok(path);
        }
        let not_found = || StoreError::NotFound {
            what: "blob",
            digest: d.clone(),
            root: self.root.clone(),
        };
        let recipe = read_recipe(&self.root, d).ok_or_else(not_found)?;
        // The writer holds the store lock shared: no prune removes the layer meanwhile.
        let mut writer = self.writer()?;
        let layer = self.unpacked_layer(d);
        if !layer.is_dir() {
            return Err(not_found());
        }
        let from_layer = |e| StoreError::FromLayer {
            digest: d.clone(),
            source: Box::new(e),
        };
        let changes = overlay_changes(&layer).map_err(from_layer)?;
        write_layer_tar(&layer, &changes, &mut writer, &recipe.tar_options())
            .map_err(from_layer)?;
        match writer.commit(Some(d)) {
            Ok(_) => Ok(path),
            Err(StoreError::DigestMismatch { actual, .. }) => Err(StoreError::LayerChanged {
                digest: d.clone(),
                actual,
            }),
            Err(e) => Err(e),
        }
    }

    /// Records that blob `diff_id` is the uncompressed tar (`size` bytes, written with
    /// `options`) of the unpacked layer of the same diffID, instead of storing its bytes.
    /// The layer must be in the store.
    pub fn add_layer_recipe(
        &self,
        diff_id: &Digest,
        size: u64,
        options: &LayerTarOptions,
    ) -> Result<(), StoreError> {
        let _store_lock = FileLock::acquire(&store_lock_path(&self.root), LockMode::Shared)?;
        if !self.unpacked_layer(diff_id).is_dir() {
            return Err(StoreError::NotFound {
                what: "layer",
                digest: diff_id.clone(),
                root: self.root.clone(),
            });
        }
        write_recipe(
            &self.root,
            &self.tmp,
            diff_id,
            &LayerRecipe::new(size, options),
        )
    }

    /// Where the unpacked layer a recipe is made from lives (as `LayerStore::layer_path`).
    fn unpacked_layer(&self, diff_id: &Digest) -> PathBuf {
        layers_dir(&self.root).join(diff_id.hex())
    }

    /// The blob's size in bytes.
    pub fn size(&self, d: &Digest) -> Result<u64, StoreError> {
        let path = self.blob_path(d);
        match std::fs::metadata(&path) {
            Ok(m) => Ok(m.len()),
            Err(e) => match read_recipe(&self.root, d) {
                Some(recipe) if e.kind() == io::ErrorKind::NotFound => Ok(recipe.size),
                _ => Err(self.missing_or_io(d, "stat blob", path, e)),
            },
        }
    }

    /// Removes the blob (its bytes and its recipe, whichever it has).
    pub fn delete(&self, d: &Digest) -> Result<(), StoreError> {
        let recipe = recipe_path(&self.root, d);
        let had_recipe = match std::fs::remove_file(&recipe) {
            Ok(()) => true,
            Err(e) if e.kind() == io::ErrorKind::NotFound => false,
            Err(e) => return Err(StoreError::io("delete layer recipe", recipe, e)),
        };
        let path = self.blob_path(d);
        match std::fs::remove_file(&path) {
            Err(e) if e.kind() == io::ErrorKind::NotFound && had_recipe => Ok(()),
            other => other.map_err(|e| self.missing_or_io(d, "delete blob", path, e)),
        }
    }

    /// Every blob in the store, sorted.
    pub fn list(&self) -> Result<Vec<Digest>, StoreError> {
        let mut out = Vec::new();
        let recipes = recipes_dir(&self.root);
        for dir in [&self.blobs, &recipes] {
            let entries = match std::fs::read_dir(dir) {
                Ok(entries) => entries,
                Err(e) if e.kind() == io::ErrorKind::NotFound && *dir == recipes => continue,
                Err(e) => return Err(StoreError::io("list", dir, e)),
            };
            for entry in entries {
                let entry = entry.ctx("list", dir)?;
                // Anything not named by a valid digest is not a blob (never written by us).
                if let Some(d) = entry
                    .file_name()
                    .to_str()
                    .and_then(|n| Digest::from_hex(n).ok())
                {
                    out.push(d);
                }
            }
        }
        out.sort();
        out.dedup();
        Ok(out)
    }

    /// Reads a small blob (a manifest or config JSON) whole, checking it still hashes to
    /// its name (on-disk corruption is reported, never returned as content).
    pub fn read_bytes(&self, d: &Digest) -> Result<Vec<u8>, StoreError> {
        let path = self.blob_path(d);
        let bytes =
            std::fs::read(&path).map_err(|e| self.missing_or_io(d, "read blob", path, e))?;
        let actual = Digest::of_bytes(&bytes);
        if actual != *d {
            return Err(StoreError::DigestMismatch {
                expected: d.clone(),
                actual,
            });
        }
        Ok(bytes)
    }

    /// Streams `reader` into a new blob, checking it against `expected` when given.
    pub fn put_reader<R: std::io::Read>(
        &self,
        mut reader: R,
        expected: Option<&Digest>,
    ) -> Result<(Digest, u64), StoreError> {
        let mut w = self.writer()?;
        let temp = w.temp_path.clone();
        std::io::copy(&mut reader, &mut w).ctx("copy into blob", temp)?;
        w.commit(expected)
    }

    /// Stores a small in-memory blob (a manifest or config JSON) and returns its digest.
    pub fn put_bytes(&self, bytes: &[u8]) -> Result<Digest, StoreError> {
        let mut w = self.writer()?;
        w.write_all(bytes).ctx("write", &w.temp_path)?;
        Ok(w.commit(None)?.0)
    }

    fn missing_or_io(
        &self,
        d: &Digest,
        action: &'static str,
        path: PathBuf,
        e: io::Error,
    ) -> StoreError {
        if e.kind() == io::ErrorKind::NotFound {
            StoreError::NotFound {
                what: "blob",
                digest: d.clone(),
                root: self.root.clone(),
            }
        } else {
            StoreError::io(action, path, e)
        }
    }
}

/// A blob being written. Dropping it without [`BlobWriter::commit`] removes the temporary file.
#[derive(Debug)]
pub struct BlobWriter {
    file: Option<File>,
    temp_path: PathBuf,
    hasher: Sha256,
    size: u64,
    blobs_dir: PathBuf,
    // Released when the writer goes, after the rename (fields drop after `drop` runs).
    _store_lock: FileLock,
}

impl Write for BlobWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let file = self
            .file
            .as_mut()
            .ok_or_else(|| io::Error::other("blob writer already committed"))?;
        let n = file.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.size += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        match self.file.as_mut() {
            Some(f) => f.flush(),
            None => Ok(()),
        }
    }
}

impl BlobWriter {
    /// Bytes written so far.
    pub fn bytes_written(&self) -> u64 {
        self.size
    }

    /// Finishes the blob: checks the content against `expected` (when given), fsyncs it and
    /// renames it into place atomically. Returns the digest and size. If the blob already
    /// exists (another writer won the race) the existing identical blob is kept.
    pub fn commit(mut self, expected: Option<&Digest>) -> Result<(Digest, u64), StoreError> {
        let file = self.file.take().ok_or_else(|| {
            StoreError::io(
                "commit",
                &self.temp_path,
                io::Error::other("already committed"),
            )
        })?;
        let actual = Digest::from_sha256(std::mem::take(&mut self.hasher).finalize().into());
        if let Some(expected) = expected
            && *expected != actual
        {
            return Err(StoreError::DigestMismatch {
                expected: expected.clone(),
                actual,
            });
        }
        file.sync_all().ctx("fsync", &self.temp_path)?;
        // Blobs are immutable; read-only permissions make accidental edits fail loudly.
        file.set_permissions(std::fs::Permissions::from_mode(0o444))
            .ctx("chmod", &self.temp_path)?;
        drop(file);
        let target = self.blobs_dir.join(actual.hex());
        if target.is_file() {
            // Same name means same content: keep the existing one, drop ours (in Drop).
            return Ok((actual, self.size));
        }
        std::fs::rename(&self.temp_path, &target).ctx("rename blob into place", &target)?;
        fsync_dir(&self.blobs_dir).ctx("fsync", &self.blobs_dir)?;
        Ok((actual, self.size))
    }
}

impl Drop for BlobWriter {
    fn drop(&mut self) {
        // After a successful rename this finds nothing, which is fine.
        let _ = std::fs::remove_file(&self.temp_path);
    }
}
