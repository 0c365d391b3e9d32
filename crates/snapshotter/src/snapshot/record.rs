//! What the store records about each snapshot (`info.json`), and reading it back.

use std::io;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::error::{SnapIo, SnapshotError};
use crate::digest::Digest;
use crate::layout::snapshots_dir;
use crate::tree_diff::CtimeMark;

/// The record's file name inside a snapshot directory.
pub(crate) const INFO: &str = "info.json";

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

pub(crate) fn parse_info(path: &Path, bytes: &[u8]) -> Result<SnapshotInfo, SnapshotError> {
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
