//! Turning a snapshot's changes into a layer: `diff` writes the tar, `commit` also keeps
//! the result as an unpacked layer (keyed by its diffID) and drops the snapshot.

use std::fs::File;
use std::io::{self, Write};
use std::path::PathBuf;

use sha2::{Digest as _, Sha256};

use super::Snapshotter;
use super::error::{SnapIo, SnapshotError};
use super::record::{BackendKind, SnapshotKind};
use crate::digest::Digest;
use crate::extract::{ExtractOptions, WhiteoutMode, extract_layer};
use crate::layer_tar::{LayerTarOptions, LayerTarSummary, write_layer_tar};
use crate::layout::tmp_dir;
use crate::overlay_diff::overlay_changes;
use crate::tempname::TempDir;
use crate::tree_diff::tree_changes;

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

impl Snapshotter {
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
