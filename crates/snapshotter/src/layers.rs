//! Unpacked layers keyed by diffID: `<root>/layers/<hex>/`, extracted once, then shared
//! read-only as overlay lower directories (or merged by the copy backend).
//!
//! Layer directories are in overlay format (whiteouts as 0/0 character devices, opaque
//! directories by xattr), so each depends only on its own tar, never on its parents.

use std::io::{self, Read};
use std::path::{Path, PathBuf};

use sha2::{Digest as _, Sha256};

use crate::digest::Digest;
use crate::error::{IoContext, StoreError};
use crate::extract::{ExtractOptions, WhiteoutMode, extract_layer};
use crate::layout::{layers_dir, locks_dir, store_lock_path, tmp_dir};
use crate::lock::{FileLock, LockMode};
use crate::overlay_format::{TRUSTED_OPAQUE, USER_OPAQUE};
use crate::tempname::{TempDir, clean_abandoned};

/// The unpacked layers of one store root.
#[derive(Debug, Clone)]
pub struct LayerStore {
    root: PathBuf,
    opaque_xattr: &'static str,
}

impl LayerStore {
    /// Opens (creating if needed) the layer store under `root`.
    pub fn open(root: &Path) -> Result<Self, StoreError> {
        for dir in [layers_dir(root), locks_dir(root), tmp_dir(root)] {
            std::fs::create_dir_all(&dir).ctx("create directory", &dir)?;
        }
        clean_abandoned(&tmp_dir(root));
        // Only real root may set trusted.* attributes; overlays in user namespaces read user.*.
        let opaque_xattr = if crate::privilege::is_host_root() {
            TRUSTED_OPAQUE
        } else {
            USER_OPAQUE
        };
        Ok(LayerStore {
            root: root.to_path_buf(),
            opaque_xattr,
        })
    }

    /// The store root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The xattr this store marks opaque directories with.
    pub fn opaque_xattr(&self) -> &'static str {
        self.opaque_xattr
    }

    /// Where the layer lives (whether or not it is unpacked).
    pub fn layer_path(&self, diff_id: &Digest) -> PathBuf {
        layers_dir(&self.root).join(diff_id.hex())
    }

    /// Whether the layer is unpacked.
    pub fn contains(&self, diff_id: &Digest) -> bool {
        self.layer_path(diff_id).is_dir()
    }

    /// Every unpacked layer, sorted.
    pub fn list(&self) -> Result<Vec<Digest>, StoreError> {
        let dir = layers_dir(&self.root);
        let mut out = Vec::new();
        for entry in std::fs::read_dir(&dir).ctx("list", &dir)? {
            let entry = entry.ctx("list", &dir)?;
            if let Some(d) = entry
                .file_name()
                .to_str()
                .and_then(|n| Digest::from_hex(n).ok())
            {
                out.push(d);
            }
        }
        out.sort();
        Ok(out)
    }

    /// Unpacks the uncompressed layer tar `tar` as `diff_id`, unless it already is.
    /// The tar's sha256 must equal `diff_id`; otherwise nothing is kept.
    pub fn unpack<R: Read>(&self, diff_id: &Digest, tar: R) -> Result<PathBuf, StoreError> {
        self.unpack_with(diff_id, || Ok(tar))
    }

    /// Like [`LayerStore::unpack`], but opens the tar only if the layer is missing (so a
    /// caller does not decompress a blob for nothing). Concurrent callers, in this or
    /// other processes, extract a given layer once; the others wait and reuse it.
    pub fn unpack_with<R: Read, F: FnOnce() -> Result<R, StoreError>>(
        &self,
        diff_id: &Digest,
        open: F,
    ) -> Result<PathBuf, StoreError> {
        let target = self.layer_path(diff_id);
        if target.is_dir() {
            return Ok(target);
        }
        let _store = FileLock::acquire(&store_lock_path(&self.root), LockMode::Shared)?;
        let _layer = self.lock_layer(diff_id)?;
        if target.is_dir() {
            return Ok(target); // another process finished it while we waited
        }
        let temp = TempDir::create(&tmp_dir(&self.root), "layer")
            .ctx("create temporary directory", tmp_dir(&self.root))?;
        let mut reader = HashingReader {
            inner: open()?,
            hasher: Sha256::new(),
        };
        let options = ExtractOptions {
            whiteouts: WhiteoutMode::OverlayFormat {
                opaque_xattr: self.opaque_xattr,
            },
            same_owner: true,
        };
        extract_layer(&mut reader, temp.path(), &options).map_err(|e| StoreError::Extract {
            diff_id: diff_id.clone(),
            source: Box::new(e),
        })?;
        // The digest covers the whole stream, padding after the end-of-archive included.
        io::copy(&mut reader, &mut io::sink()).map_err(|source| StoreError::ReadLayer {
            diff_id: diff_id.clone(),
            source,
        })?;
        let actual = Digest::from_sha256(reader.hasher.finalize().into());
        if actual != *diff_id {
            return Err(StoreError::DigestMismatch {
                expected: diff_id.clone(),
                actual,
            });
        }
        temp.persist_as(&target)
            .ctx("move unpacked layer into place", &target)?;
        Ok(target)
    }

    /// Moves a prepared overlay-format directory into place as `diff_id` (used when a
    /// snapshot is committed). If the layer exists already, `dir` is left alone.
    pub(crate) fn install_dir(&self, diff_id: &Digest, dir: &Path) -> Result<PathBuf, StoreError> {
        let _store = FileLock::acquire(&store_lock_path(&self.root), LockMode::Shared)?;
        let _layer = self.lock_layer(diff_id)?;
        let target = self.layer_path(diff_id);
        if target.is_dir() {
            return Ok(target);
        }
        let handle = std::fs::File::open(dir).ctx("open", dir)?;
        rustix::fs::syncfs(&handle)
            .map_err(io::Error::from)
            .ctx("sync", dir)?;
        std::fs::rename(dir, &target).ctx("move layer into place", &target)?;
        crate::fsutil::fsync_dir(&layers_dir(&self.root)).ctx("fsync", layers_dir(&self.root))?;
        Ok(target)
    }

    /// Removes an unpacked layer. The caller must know no snapshot uses it; [`crate::prune`]
    /// checks that.
    pub fn delete(&self, diff_id: &Digest) -> Result<(), StoreError> {
        let _layer = self.lock_layer(diff_id)?;
        self.delete_locked(diff_id)
    }

    /// Removal with the layer's lock already held (or the store lock exclusively).
    pub(crate) fn delete_locked(&self, diff_id: &Digest) -> Result<(), StoreError> {
        let target = self.layer_path(diff_id);
        if !target.is_dir() {
            return Err(StoreError::NotFound {
                what: "layer",
                digest: diff_id.clone(),
                root: self.root.clone(),
            });
        }
        // Rename first so the layer disappears atomically, then delete at leisure.
        let temp = TempDir::create(&tmp_dir(&self.root), "deleted-layer")
            .ctx("create temporary directory", tmp_dir(&self.root))?;
        let doomed = temp.path().join("layer");
        std::fs::rename(&target, &doomed).ctx("remove layer", &target)?;
        drop(temp);
        Ok(())
    }

    fn lock_layer(&self, diff_id: &Digest) -> Result<FileLock, StoreError> {
        let path = locks_dir(&self.root).join(format!("layer-{}.lock", diff_id.hex()));
        FileLock::acquire(&path, LockMode::Exclusive)
    }
}

/// Hashes everything read through it.
struct HashingReader<R> {
    inner: R,
    hasher: Sha256,
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}
