//! `RUN --mount=type=bind,from=<stage|image>`: the stage's or image's file system is
//! mounted (a read-only view, or a throw-away writable snapshot for `rw`) on a scratch
//! directory in a private mount namespace of a dedicated thread, and the sandbox is started
//! from that thread. The sandbox clones its child from the calling thread, so the child
//! inherits that namespace and can bind the mounted view; the host never sees the mount,
//! and it disappears with the thread.
//!
//! A writable (`rw`) bind of a host directory (the context, or a directory
//! `--build-context`) goes through the same path: an overlay with the directory as its
//! lower layer, so what the command writes is thrown away and never reaches the host.

use std::path::{Path, PathBuf};

use rbuild_sandbox::Mount as SandboxMount;
use rbuild_snapshotter::{Digest, Mount};

use crate::context::resolve_in_root;
use crate::mounted::MountedError;

/// A bind mount whose source is inside another stage's or an image's file system.
pub(crate) struct FromBind {
    /// The snapshot (view or writable) holding the source; removed after the step. None
    /// for a host directory seen through a throw-away overlay.
    pub snapshot_key: Option<String>,
    /// The overlay's upper and work directories for a host directory; removed after the
    /// step (with whatever the command wrote).
    pub throwaway: Option<tempfile::TempDir>,
    pub mount: Mount,
    /// Where the snapshot is mounted in the private namespace.
    pub scratch: PathBuf,
    /// `source=` inside the snapshot.
    pub source: String,
    /// Path in the container.
    pub dst: PathBuf,
    pub readonly: bool,
}

impl FromBind {
    /// A writable view of the host directory `dir`: an overlay with `dir` as its only
    /// lower layer and a throw-away upper directory under `scratch_root`.
    pub fn host_dir_overlay(
        scratch_root: &Path,
        dir: &Path,
        source: String,
        dst: PathBuf,
    ) -> std::io::Result<FromBind> {
        let throwaway = tempfile::Builder::new()
            .prefix("bind-rw")
            .tempdir_in(scratch_root)?;
        let (upper, work) = (
            throwaway.path().join("upper"),
            throwaway.path().join("work"),
        );
        std::fs::create_dir(&upper)?;
        std::fs::create_dir(&work)?;
        let mount = Mount {
            fstype: "overlay".into(),
            source: "overlay".into(),
            options: vec![format!(
                "lowerdir={},upperdir={},workdir={}",
                dir.display(),
                upper.display(),
                work.display()
            )],
        };
        Ok(FromBind {
            snapshot_key: None,
            scratch: throwaway.path().join("merged"),
            throwaway: Some(throwaway),
            mount,
            source,
            dst,
            readonly: false,
        })
    }
}

/// Why the `from=` sources could not be made visible to the sandbox.
#[derive(Debug, thiserror::Error)]
pub(crate) enum FromBindError {
    #[error(transparent)]
    Mounted(#[from] MountedError),
    #[error("mount source {path:?}: {message}")]
    Source { path: String, message: String },
}

/// Mounts every `from=` source in a private mount namespace and runs `work` there with
/// the sandbox bind mounts that expose them. `work` must start the sandbox itself (on this
/// thread), and must not spawn threads that need the mounts.
pub(crate) fn with_from_binds<T: Send>(
    binds: &[FromBind],
    work: impl FnOnce(Vec<SandboxMount>) -> T + Send,
) -> Result<T, FromBindError> {
    for bind in binds {
        std::fs::create_dir_all(&bind.scratch).map_err(|source| MountedError::Scratch {
            path: bind.scratch.clone(),
            source,
        })?;
    }
    std::thread::scope(|scope| {
        let handle = scope.spawn(move || -> Result<T, FromBindError> {
            crate::mounted::enter_private_mount_namespace()?;
            let mut mounts = Vec::new();
            for bind in binds {
                bind.mount
                    .mount_at(&bind.scratch)
                    .map_err(MountedError::from)?;
                let src = resolve_in_root(&bind.scratch, &bind.source, true).map_err(|e| {
                    FromBindError::Source {
                        path: bind.source.clone(),
                        message: e.to_string(),
                    }
                })?;
                if std::fs::symlink_metadata(&src).is_err() {
                    return Err(FromBindError::Source {
                        path: bind.source.clone(),
                        message: "not found in the from= stage or image".into(),
                    });
                }
                mounts.push(SandboxMount::Bind {
                    src,
                    dst: bind.dst.clone(),
                    readonly: bind.readonly,
                });
            }
            Ok(work(mounts))
        });
        handle
            .join()
            .map_err(|_| FromBindError::Mounted(MountedError::Panicked))?
    })
}

/// The file system a `from=` names: its layers and the key that identifies its content.
pub(crate) struct FromSource {
    pub diff_ids: Vec<Digest>,
    /// `stage:<key>` or `image:<manifest digest>`, part of the step's cache key.
    pub identity: String,
}
