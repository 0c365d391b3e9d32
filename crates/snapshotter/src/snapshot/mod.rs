//! Snapshots in the spirit of containerd's snapshotter: `prepare` a writable root over
//! parent layers, `view` a read-only one, `diff` and `commit` the changes as a layer,
//! `remove`, `usage`.
//!
//! Two backends: overlayfs (parents stacked as lower directories; the upper directory is
//! the diff) and a copy fallback (parents merged into a plain tree; the diff walks both
//! trees). [`Snapshotter::open`] picks overlay when a test mount in the store works.
//!
//! Mounting is the caller's job ([`Mount::mount_at`]), typically in the sandbox's mount
//! namespace; unmount before `diff`/`commit`/`remove`.

mod copy;
mod error;
mod overlay;

use std::fs::File;
use std::io::{self, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use error::SnapIo;
pub use error::SnapshotError;

use crate::digest::Digest;
use crate::extract::{ExtractOptions, WhiteoutMode, extract_layer};
use crate::layer_tar::{LayerTarOptions, LayerTarSummary, write_layer_tar};
use crate::layers::LayerStore;
use crate::layout::{snapshots_dir, store_lock_path, tmp_dir};
use crate::lock::{FileLock, LockMode};
use crate::mount::Mount;
use crate::overlay_diff::overlay_changes;
use crate::tempname::TempDir;
use crate::tree_diff::{CtimeMark, tree_changes};

/// Which snapshot implementation a store uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BackendKind {
    /// overlayfs mounts; diff from the upper directory.
    Overlay,
    /// Plain directory copies; diff by walking both trees.
    Copy,
}

/// Whether a snapshot is writable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SnapshotKind {
    /// Writable; can be diffed and committed.
    Active,
    /// Read-only.
    View,
}

/// What the store records about a snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotInfo {
    /// The caller's key.
    pub key: String,
    /// Active or view.
    pub kind: SnapshotKind,
    /// The parent layers (diffIDs), bottom first.
    pub parents: Vec<Digest>,
    /// The backend that made it.
    pub backend: BackendKind,
    /// Copy backend: inode changes at or after this ctime are the user's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ctime_mark: Option<CtimeMark>,
}

/// Disk use of a snapshot's writable part.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    /// Bytes allocated.
    pub size: u64,
    /// Inodes (hard links counted once).
    pub inodes: u64,
}

/// The result of [`Snapshotter::commit`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommittedLayer {
    /// sha256 of the uncompressed layer tar.
    pub diff_id: Digest,
    /// What the tar writer wrote.
    pub tar: LayerTarSummary,
    /// The unpacked layer directory, usable as a parent from now on.
    pub path: PathBuf,
}

/// Snapshots of one store root.
#[derive(Debug, Clone)]
pub struct Snapshotter {
    root: PathBuf,
    layers: LayerStore,
    backend: BackendKind,
    userxattr: bool,
}

const INFO: &str = "info.json";

impl Snapshotter {
    /// Opens the snapshotter of `root`, choosing overlay when a test overlay mount in the
    /// store works, the copy backend otherwise (the reason is logged).
    pub fn open(root: &Path) -> Result<Self, SnapshotError> {
        let mut s = Self::open_with_backend(root, BackendKind::Overlay)?;
        if let Err(reason) = overlay::probe(&tmp_dir(root), s.userxattr) {
            tracing::info!(%reason, "overlayfs unavailable, using the copy snapshotter");
            s.backend = BackendKind::Copy;
        }
        Ok(s)
    }

    /// Opens with a given backend, without probing.
    pub fn open_with_backend(root: &Path, backend: BackendKind) -> Result<Self, SnapshotError> {
        let layers = LayerStore::open(root)?;
        let dir = snapshots_dir(root);
        std::fs::create_dir_all(&dir).snap_ctx("create directory", &dir)?;
        Ok(Snapshotter {
            root: root.to_path_buf(),
            userxattr: !rustix::process::geteuid().is_root(),
            layers,
            backend,
        })
    }

    /// The backend in use.
    pub fn backend(&self) -> BackendKind {
        self.backend
    }

    /// The layer store the parents come from.
    pub fn layers(&self) -> &LayerStore {
        &self.layers
    }

    /// Creates a writable snapshot over `parents` (diffIDs of unpacked layers, bottom
    /// first) and returns how to mount it.
    pub fn prepare(&self, key: &str, parents: &[Digest]) -> Result<Mount, SnapshotError> {
        self.create(key, parents, SnapshotKind::Active)?;
        self.mount(key)
    }

    /// Creates a read-only snapshot over `parents` and returns how to mount it.
    pub fn view(&self, key: &str, parents: &[Digest]) -> Result<Mount, SnapshotError> {
        self.create(key, parents, SnapshotKind::View)?;
        self.mount(key)
    }

    /// How to mount an existing snapshot.
    pub fn mount(&self, key: &str) -> Result<Mount, SnapshotError> {
        let info = self.info(key)?;
        let dir = self.snapshot_dir(key);
        let lowers: Vec<PathBuf> = overlay_lowers(&info.parents)
            .into_iter()
            .map(|d| self.layers.layer_path(d))
            .collect();
        match (info.backend, info.kind) {
            (BackendKind::Overlay, SnapshotKind::Active) if lowers.is_empty() => {
                Ok(overlay::bind_mount(&dir.join("upper"), false))
            }
            (BackendKind::Overlay, SnapshotKind::Active) => overlay::overlay_mount(
                &lowers,
                Some((&dir.join("upper"), &dir.join("work"))),
                self.userxattr,
            ),
            (BackendKind::Overlay, SnapshotKind::View) if lowers.is_empty() => {
                Ok(overlay::bind_mount(&dir.join("empty"), true))
            }
            (BackendKind::Overlay, SnapshotKind::View) => {
                // A read-only overlay needs two lowers; the empty directory at the bottom
                // also makes a single layer's whiteouts invisible, as they should be.
                let mut stack = vec![dir.join("empty")];
                stack.extend(lowers);
                overlay::overlay_mount(&stack, None, self.userxattr)
            }
            (BackendKind::Copy, kind) => Ok(overlay::bind_mount(
                &dir.join("fs"),
                kind == SnapshotKind::View,
            )),
        }
    }

    /// The directory the snapshot's changes land in (overlay upper, or the copy tree).
    pub fn writable_dir(&self, key: &str) -> Result<PathBuf, SnapshotError> {
        let info = self.info(key)?;
        let dir = self.snapshot_dir(key);
        Ok(match info.backend {
            BackendKind::Overlay => dir.join("upper"),
            BackendKind::Copy => dir.join("fs"),
        })
    }

    /// Writes the snapshot's changes to `out` as an uncompressed layer tar.
    /// The snapshot must not be written to meanwhile (unmount it or stop its processes).
    pub fn diff<W: Write>(
        &self,
        key: &str,
        out: W,
        options: &LayerTarOptions,
    ) -> Result<LayerTarSummary, SnapshotError> {
        let info = self.info(key)?;
        if info.kind != SnapshotKind::Active {
            return Err(SnapshotError::NotActive(key.to_string()));
        }
        let dir = self.snapshot_dir(key);
        let summary = match info.backend {
            BackendKind::Overlay => {
                let upper = dir.join("upper");
                let changes = overlay_changes(&upper)?;
                write_layer_tar(&upper, &changes, out, options)?
            }
            BackendKind::Copy => {
                let (lower, fs) = (dir.join("lower"), dir.join("fs"));
                let changes = tree_changes(&lower, &fs, info.ctime_mark)?;
                write_layer_tar(&fs, &changes, out, options)?
            }
        };
        Ok(summary)
    }

    /// Writes the diff to `out`, records it as an unpacked layer keyed by its diffID (so it
    /// can be a parent of later snapshots) and removes the snapshot.
    pub fn commit<W: Write>(
        &self,
        key: &str,
        out: W,
        options: &LayerTarOptions,
    ) -> Result<CommittedLayer, SnapshotError> {
        let info = self.info(key)?;
        if info.kind != SnapshotKind::Active {
            return Err(SnapshotError::NotActive(key.to_string()));
        }
        let dir = self.snapshot_dir(key);
        // The copy backend re-reads the tar to build the layer directory; keep a copy.
        let mut spool = match info.backend {
            BackendKind::Copy => {
                let path = dir.join("layer.tar");
                Some((File::create(&path).snap_ctx("create", &path)?, path))
            }
            BackendKind::Overlay => None,
        };
        let mut tee = HashingTee {
            out,
            hasher: Sha256::new(),
            spool: spool.as_mut().map(|(f, _)| f),
        };
        let tar = self.diff(key, &mut tee, options)?;
        let diff_id = Digest::from_sha256(tee.hasher.finalize().into());
        let path = match (info.backend, spool) {
            (BackendKind::Copy, Some((file, spool_path))) => {
                drop(file);
                let temp = TempDir::create(&tmp_dir(&self.root), "commit")
                    .snap_ctx("create directory", tmp_dir(&self.root))?;
                let options = ExtractOptions {
                    whiteouts: WhiteoutMode::OverlayFormat {
                        opaque_xattr: self.layers.opaque_xattr(),
                    },
                    same_owner: true,
                };
                let reader = File::open(&spool_path).snap_ctx("open", &spool_path)?;
                let layer_dir = temp.path().join("layer");
                extract_layer(io::BufReader::new(reader), &layer_dir, &options).map_err(|e| {
                    SnapshotError::Store(crate::error::StoreError::Extract {
                        diff_id: diff_id.clone(),
                        source: Box::new(e),
                    })
                })?;
                self.layers.install_dir(&diff_id, &layer_dir)?
            }
            _ => self.layers.install_dir(&diff_id, &dir.join("upper"))?,
        };
        self.remove(key)?;
        Ok(CommittedLayer { diff_id, tar, path })
    }

    /// Removes a snapshot (unmount it first).
    pub fn remove(&self, key: &str) -> Result<(), SnapshotError> {
        let dir = self.snapshot_dir(key);
        if !dir.join(INFO).is_file() {
            return Err(SnapshotError::NotFound(key.to_string()));
        }
        let _store = FileLock::acquire(&store_lock_path(&self.root), LockMode::Shared)?;
        // Disappear atomically, then delete.
        let temp = TempDir::create(&tmp_dir(&self.root), "removed")
            .snap_ctx("create directory", tmp_dir(&self.root))?;
        std::fs::rename(&dir, temp.path().join("snapshot")).snap_ctx("remove snapshot", &dir)?;
        drop(temp);
        Ok(())
    }

    /// Disk use of the snapshot's writable part.
    pub fn usage(&self, key: &str) -> Result<Usage, SnapshotError> {
        let dir = self.writable_dir(key)?;
        let mut usage = Usage::default();
        let mut seen = std::collections::HashSet::new();
        let mut stack = vec![dir];
        while let Some(path) = stack.pop() {
            let meta = std::fs::symlink_metadata(&path).snap_ctx("stat", &path)?;
            if meta.nlink() > 1 && !meta.is_dir() && !seen.insert((meta.dev(), meta.ino())) {
                continue;
            }
            usage.inodes += 1;
            usage.size += meta.blocks() * 512;
            if meta.is_dir() {
                for entry in std::fs::read_dir(&path).snap_ctx("read directory", &path)? {
                    stack.push(entry.snap_ctx("read directory", &path)?.path());
                }
            }
        }
        Ok(usage)
    }

    /// Every snapshot of the store.
    pub fn list(&self) -> Result<Vec<SnapshotInfo>, SnapshotError> {
        list_infos(&self.root)
    }

    /// The recorded information of one snapshot.
    pub fn info(&self, key: &str) -> Result<SnapshotInfo, SnapshotError> {
        let path = self.snapshot_dir(key).join(INFO);
        match std::fs::read(&path) {
            Ok(bytes) => parse_info(&path, &bytes),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                Err(SnapshotError::NotFound(key.to_string()))
            }
            Err(e) => Err(SnapshotError::Io {
                action: "read",
                path,
                source: e,
            }),
        }
    }

    fn snapshot_dir(&self, key: &str) -> PathBuf {
        // Keys are arbitrary text; a digest gives a safe, fixed-length directory name.
        snapshots_dir(&self.root).join(Digest::of_bytes(key.as_bytes()).hex())
    }

    fn create(
        &self,
        key: &str,
        parents: &[Digest],
        kind: SnapshotKind,
    ) -> Result<(), SnapshotError> {
        if key.is_empty() {
            return Err(SnapshotError::InvalidKey {
                key: key.into(),
                reason: "it is empty",
            });
        }
        let _store = FileLock::acquire(&store_lock_path(&self.root), LockMode::Shared)?;
        for parent in parents {
            if !self.layers.contains(parent) {
                return Err(crate::error::StoreError::NotFound {
                    what: "layer",
                    digest: parent.clone(),
                    root: self.root.clone(),
                }
                .into());
            }
        }
        let target = self.snapshot_dir(key);
        if target.exists() {
            return Err(SnapshotError::Exists(key.to_string()));
        }
        let temp = TempDir::create(&tmp_dir(&self.root), "snapshot")
            .snap_ctx("create directory", tmp_dir(&self.root))?;
        let base = temp.path();
        let mut info = SnapshotInfo {
            key: key.to_string(),
            kind,
            parents: parents.to_vec(),
            backend: self.backend,
            ctime_mark: None,
        };
        let lowers: Vec<PathBuf> = parents.iter().map(|d| self.layers.layer_path(d)).collect();
        match (self.backend, kind) {
            (BackendKind::Overlay, SnapshotKind::Active) => {
                for d in ["upper", "work"] {
                    std::fs::create_dir(base.join(d)).snap_ctx("create directory", base.join(d))?;
                }
                // The upper directory becomes the root directory when there are no parents.
                set_root_dir_mode(&base.join("upper"))?;
            }
            (BackendKind::Overlay, SnapshotKind::View) => {
                std::fs::create_dir(base.join("empty"))
                    .snap_ctx("create directory", base.join("empty"))?;
                set_root_dir_mode(&base.join("empty"))?;
            }
            (BackendKind::Copy, SnapshotKind::Active) => {
                copy::merge_into(&base.join("lower"), &lowers)?;
                set_root_dir_mode(&base.join("lower"))?;
                info.ctime_mark = Some(copy::copy_for_writing(
                    &base.join("lower"),
                    &base.join("fs"),
                    &base.join("mark"),
                )?);
                set_root_dir_mode(&base.join("fs"))?;
            }
            (BackendKind::Copy, SnapshotKind::View) => {
                copy::merge_into(&base.join("fs"), &lowers)?;
                set_root_dir_mode(&base.join("fs"))?;
            }
        }
        let info_path = base.join(INFO);
        let json = serde_json::to_vec_pretty(&info).map_err(|e| SnapshotError::Corrupt {
            path: info_path.clone(),
            reason: e.to_string(),
        })?;
        let mut file = File::create(&info_path).snap_ctx("create", &info_path)?;
        file.write_all(&json).snap_ctx("write", &info_path)?;
        file.sync_all().snap_ctx("fsync", &info_path)?;
        match temp.persist_as(&target) {
            Ok(()) => Ok(()),
            Err(e) if matches!(e.raw_os_error(), Some(libc::EEXIST) | Some(libc::ENOTEMPTY)) => {
                Err(SnapshotError::Exists(key.to_string()))
            }
            Err(e) => Err(SnapshotError::Io {
                action: "move snapshot into place",
                path: target,
                source: e,
            }),
        }
    }
}

/// The parents to stack, bottom first, each once: overlayfs refuses the same directory
/// twice, and a layer's lower occurrence is fully shadowed by its upper one (every path the
/// layer defines, deletes or hides is decided by the upper copy), so it can be dropped.
fn overlay_lowers(parents: &[Digest]) -> Vec<&Digest> {
    let mut seen = std::collections::HashSet::new();
    let mut top_first: Vec<&Digest> = parents.iter().rev().filter(|d| seen.insert(*d)).collect();
    top_first.reverse();
    top_first
}

/// Root directories of containers are 0755 regardless of the caller's umask.
fn set_root_dir_mode(dir: &Path) -> Result<(), SnapshotError> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).snap_ctx("chmod", dir)
}

fn parse_info(path: &Path, bytes: &[u8]) -> Result<SnapshotInfo, SnapshotError> {
    serde_json::from_slice(bytes).map_err(|e| SnapshotError::Corrupt {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}

/// All snapshot records under `root` (used by prune to keep their parents).
pub(crate) fn list_infos(root: &Path) -> Result<Vec<SnapshotInfo>, SnapshotError> {
    let dir = snapshots_dir(root);
    let mut out = Vec::new();
    let entries = match std::fs::read_dir(&dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(out),
        Err(e) => {
            return Err(SnapshotError::Io {
                action: "list",
                path: dir,
                source: e,
            });
        }
    };
    for entry in entries {
        let path = entry.snap_ctx("list", &dir)?.path().join(INFO);
        match std::fs::read(&path) {
            Ok(bytes) => out.push(parse_info(&path, &bytes)?),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(SnapshotError::Io {
                    action: "read",
                    path,
                    source: e,
                });
            }
        }
    }
    out.sort_by(|a, b| a.key.cmp(&b.key));
    Ok(out)
}

/// Passes bytes on to `out` while hashing them (and copying them to `spool`, if any).
struct HashingTee<'a, W> {
    out: W,
    hasher: Sha256,
    spool: Option<&'a mut File>,
}

impl<W: Write> Write for HashingTee<'_, W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.out.write(buf)?;
        self.hasher.update(&buf[..n]);
        if let Some(spool) = self.spool.as_mut() {
            spool.write_all(&buf[..n])?;
        }
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}
