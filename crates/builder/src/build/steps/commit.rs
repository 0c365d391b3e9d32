//! Snapshots for a step: prepared over the stage's layers, committed into a layer.
//!
//! With the overlay backend and uncompressed storage (the default) the layer tar is only
//! hashed: the content store keeps a recipe and writes the blob from the unpacked layer when
//! an export or push first reads it. Otherwise the tar is streamed into a (compressed) blob
//! as it is written, never spooled whole.

use std::path::PathBuf;

use rbuild_oci::compress::{Compression, CompressionOptions};
use rbuild_sandbox::{OverlayRoot, RootFs};
use rbuild_snapshotter::{BackendKind, CommittedLayer, LayerTarOptions, Mount};

use crate::build::error::BuildError;
use crate::build::stage::StageRun;
use crate::cache::CachedLayer;

/// A prepared writable snapshot of the stage's current root file system.
pub(crate) struct StepSnapshot {
    pub key: String,
    pub mount: Mount,
}

impl StageRun<'_, '_> {
    pub(crate) fn prepare_snapshot(&self, prefix: &str) -> Result<StepSnapshot, BuildError> {
        let key = self.session.unique_key(prefix);
        let mount = self.session.snapshots.prepare(&key, &self.diff_ids)?;
        Ok(StepSnapshot { key, mount })
    }

    /// How the sandbox should see a prepared snapshot: an overlay it mounts itself, or a
    /// plain directory (no parents, or the copy backend).
    pub(crate) fn sandbox_root(&self, snapshot: &StepSnapshot) -> Result<RootFs, BuildError> {
        let writable = self.session.snapshots.writable_dir(&snapshot.key)?;
        if self.session.snapshots.backend() == BackendKind::Copy || self.diff_ids.is_empty() {
            return Ok(RootFs::Dir(writable));
        }
        let work = writable
            .parent()
            .map(|p| p.join("work"))
            .unwrap_or_else(|| PathBuf::from("work"));
        let lowers = self
            .diff_ids
            .iter()
            .rev()
            .map(|d| self.session.snapshots.layers().layer_path(d))
            .collect();
        Ok(RootFs::Overlay(OverlayRoot {
            lowers,
            upper: writable,
            work,
        }))
    }

    /// Turns the snapshot's changes into a layer (None when nothing changed), removing the
    /// snapshot either way.
    pub(crate) fn commit_snapshot(
        &self,
        snapshot: StepSnapshot,
    ) -> Result<Option<CachedLayer>, BuildError> {
        let session = self.session;
        let options = LayerTarOptions {
            source_date_epoch: session.options.source_date_epoch,
        };
        if session.options.compression == Compression::Uncompressed
            && session.snapshots.backend() == BackendKind::Overlay
        {
            return self.commit_as_recipe(snapshot, &options);
        }
        let compression = CompressionOptions {
            compression: session.options.compression,
            level: None,
        };
        let (reader, writer) =
            std::io::pipe().map_err(crate::build::error::io_error("create pipe", "layer"))?;
        let (committed, blob) = std::thread::scope(|scope| {
            let compressor =
                scope.spawn(move || session.images.add_layer(reader, compression, true));
            let committed = self.commit_or_discard(&snapshot, writer, &options);
            let blob = compressor.join();
            (committed, blob)
        });
        let committed = committed?;
        let blob =
            blob.map_err(|_| BuildError::Request("layer compression thread panicked".into()))??;
        if blob.diff_id != committed.diff_id {
            return Err(BuildError::Request(format!(
                "layer digest mismatch: the snapshot wrote {} but the compressor read {}",
                committed.diff_id, blob.diff_id
            )));
        }
        if committed.tar.entries == 0 {
            return Ok(None);
        }
        Ok(Some(CachedLayer {
            diff_id: committed.diff_id.to_string(),
            digest: blob.descriptor.digest.to_string(),
            size: blob.descriptor.size,
            media_type: blob.descriptor.media_type.clone(),
        }))
    }

    /// Commits the snapshot, writing its tar to `out`; a snapshot that cannot be committed
    /// is removed.
    fn commit_or_discard<W: std::io::Write>(
        &self,
        snapshot: &StepSnapshot,
        out: W,
        options: &LayerTarOptions,
    ) -> Result<CommittedLayer, BuildError> {
        let snapshots = &self.session.snapshots;
        snapshots.commit(&snapshot.key, out, options).map_err(|e| {
            let _ = snapshots.remove(&snapshot.key);
            e.into()
        })
    }

    /// Commits the snapshot hashing its tar only, and records the blob as a recipe over
    /// the unpacked layer (see the module comment).
    fn commit_as_recipe(
        &self,
        snapshot: StepSnapshot,
        options: &LayerTarOptions,
    ) -> Result<Option<CachedLayer>, BuildError> {
        let committed = self.commit_or_discard(&snapshot, std::io::sink(), options)?;
        if committed.tar.entries == 0 {
            return Ok(None);
        }
        let content = self.session.images.content();
        if !content.contains(&committed.diff_id) {
            content.add_layer_recipe(&committed.diff_id, committed.tar.bytes, options)?;
        }
        Ok(Some(CachedLayer {
            diff_id: committed.diff_id.to_string(),
            digest: committed.diff_id.to_string(),
            size: committed.tar.bytes,
            media_type: rbuild_oci::model::media_types::layer_media_type(
                Compression::Uncompressed,
                true,
            )
            .to_string(),
        }))
    }

    /// Ends a step whose work ran on the mounted snapshot: commits it when the work
    /// succeeded, discards it (and reports the step's error) otherwise.
    pub(crate) fn finish_mounted_step(
        &self,
        planned: &rbuild_parser::plan::PlannedInstruction,
        snapshot: StepSnapshot,
        result: Result<Result<(), String>, crate::mounted::MountedError>,
    ) -> Result<crate::build::stage::StepOutput, BuildError> {
        let message = match result {
            Ok(Ok(())) => {
                return Ok(crate::build::stage::StepOutput {
                    layer: self.commit_snapshot(snapshot)?,
                    fresh_tree: None,
                });
            }
            Ok(Err(message)) => message,
            Err(e) => e.to_string(),
        };
        self.discard_snapshot(&snapshot);
        Err(self.step_error(planned, message))
    }

    /// Removes a snapshot after a failed step (best effort: the error that matters is the
    /// step's).
    pub(crate) fn discard_snapshot(&self, snapshot: &StepSnapshot) {
        let _ = self.session.snapshots.remove(&snapshot.key);
    }
}
