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

mod commit;
mod copy;
mod error;
mod overlay;
mod record;

use std::fs::File;
use std::io::{self, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

pub use commit::CommittedLayer;
use error::SnapIo;
pub use error::SnapshotError;
pub(crate) use record::list_infos;
pub use record::{BackendKind, SnapshotInfo, SnapshotKind, Usage};
use record::{INFO, parse_info};

use crate::digest::Digest;
use crate::layers::LayerStore;
use crate::layout::{snapshots_dir, store_lock_path, tmp_dir};
use crate::lock::{FileLock, LockMode};
use crate::mount::Mount;
use crate::tempname::TempDir;

/// Snapshots of one store root.
#[derive(Debug, Clone)]
pub struct Snapshotter {
    root: PathBuf,
    layers: LayerStore,
    backend: BackendKind,
    userxattr: bool,
}

impl Snapshotter {
    /// Opens the snapshotter of `root`, choosing overlay when a test overlay mount in the
    /// store works, the copy backend otherwise (the reason is logged).
    /// A store whose disk is full is an error, not a reason to switch backends.
    pub fn open(root: &Path) -> Result<Self, SnapshotError> {
        let mut s = Self::open_with_backend(root, BackendKind::Overlay)?;
        match overlay::probe(&tmp_dir(root), s.userxattr) {
            Ok(()) => {}
            Err(overlay::ProbeError::StoreFull(path, e)) => {
                return Err(e).snap_ctx(
                    "the store's disk is full (free space, or `rbuild prune`): cannot create",
                    path,
                );
            }
            Err(reason) => {
                tracing::info!(%reason, "overlayfs unavailable, using the copy snapshotter");
                s.backend = BackendKind::Copy;
            }
        }
        Ok(s)
    }

    /// Whether overlayfs works for a store at `root` from where this is called: a real
    /// test mount and a deletion through it. `Err` says why not. Rootless callers run
    /// this inside their user and mount namespace, where overlay may work although
    /// [`Snapshotter::open`], probing from outside, chose the copy backend.
    pub fn probe_overlay(root: &Path) -> Result<(), String> {
        std::fs::create_dir_all(tmp_dir(root))
            .map_err(|e| format!("creating {}: {e}", tmp_dir(root).display()))?;
        overlay::probe(&tmp_dir(root), !crate::privilege::is_host_root()).map_err(|e| e.to_string())
    }

    /// Opens with a given backend, without probing.
    pub fn open_with_backend(root: &Path, backend: BackendKind) -> Result<Self, SnapshotError> {
        let layers = LayerStore::open(root)?;
        let dir = snapshots_dir(root);
        std::fs::create_dir_all(&dir).snap_ctx("create directory", &dir)?;
        Ok(Snapshotter {
            root: root.to_path_buf(),
            userxattr: !crate::privilege::is_host_root(),
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
