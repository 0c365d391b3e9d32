//! Working on a snapshot's merged file system from inside the builder (COPY, ADD, WORKDIR
//! directory creation) without ever mounting anything in the host's mount namespace.
//!
//! A dedicated thread unshares its mount namespace (mount namespaces are per thread on
//! Linux), makes every mount in it private, mounts the snapshot on a scratch directory and
//! runs the closure there. When the thread ends, its namespace — and the mount — die with
//! it, even if the closure panicked or the process is killed: there is nothing to clean up
//! and nothing can leak to the host.
//!
//! The closure must not start threads of its own: they would not share the namespace.

use std::path::PathBuf;

use rbuild_snapshotter::Mount;

/// The snapshot could not be mounted for the builder's own use.
#[derive(Debug, thiserror::Error)]
pub enum MountedError {
    #[error(
        "cannot create a private mount namespace for the builder: {0} (rbuild needs root, or to run inside a user namespace)"
    )]
    Unshare(std::io::Error),
    #[error(transparent)]
    Mount(#[from] rbuild_snapshotter::MountError),
    #[error("cannot create the scratch mount point {path}: {source}")]
    Scratch {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the builder thread working on the snapshot panicked")]
    Panicked,
}

/// Gives the calling thread (and the processes it clones) a mount namespace of its own,
/// in which every mount is private: nothing mounted afterwards is seen by the host, and it
/// all goes away with the thread. Call it only on a thread made for this purpose.
pub fn enter_private_mount_namespace() -> Result<(), MountedError> {
    // SAFETY: unsharing the mount namespace and fs attributes of this thread only changes
    // what this thread sees of mounts, cwd and root; it affects no memory and no other
    // thread (NEWNS implies FS, which detaches our cwd/root state).
    unsafe {
        rustix::thread::unshare_unsafe(
            rustix::thread::UnshareFlags::NEWNS | rustix::thread::UnshareFlags::FS,
        )
    }
    .map_err(|e| MountedError::Unshare(e.into()))?;
    // Mount events must not propagate back to the host's namespace.
    rustix::mount::mount_change(
        "/",
        rustix::mount::MountPropagationFlags::PRIVATE | rustix::mount::MountPropagationFlags::REC,
    )
    .map_err(|e| MountedError::Unshare(e.into()))
}

/// Mounts each `(mount, target)` (targets are created if missing) in a private mount
/// namespace, in order, and runs `work` there.
pub fn with_mounted<T, F>(mounts: &[(Mount, PathBuf)], work: F) -> Result<T, MountedError>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    for (_, target) in mounts {
        std::fs::create_dir_all(target).map_err(|source| MountedError::Scratch {
            path: target.clone(),
            source,
        })?;
    }
    let mounts = mounts.to_vec();
    let handle = std::thread::Builder::new()
        .name("rbuild-mounted".into())
        .spawn(move || -> Result<T, MountedError> {
            enter_private_mount_namespace()?;
            for (mount, target) in &mounts {
                mount.mount_at(target)?;
            }
            Ok(work())
        })
        .map_err(MountedError::Unshare)?;
    handle.join().map_err(|_| MountedError::Panicked)?
}

#[cfg(test)]
mod tests {
    use super::*;

    fn can_mount() -> bool {
        rustix::process::geteuid().is_root()
    }

    #[test]
    fn overlay_is_visible_to_the_closure_only() {
        if !can_mount() {
            assert!(
                std::env::var("CI").is_err(),
                "CI runs as root: this test must run"
            );
            eprintln!("skipped: mounting needs root");
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let lower = dir.path().join("lower");
        let upper = dir.path().join("upper");
        let work = dir.path().join("work");
        for d in [&lower, &upper, &work] {
            std::fs::create_dir(d).unwrap();
        }
        std::fs::write(lower.join("base.txt"), "from lower").unwrap();
        let mount = Mount {
            fstype: "overlay".into(),
            source: "overlay".into(),
            options: vec![format!(
                "lowerdir={},upperdir={},workdir={}",
                lower.display(),
                upper.display(),
                work.display()
            )],
        };
        let scratch = dir.path().join("mnt");
        let root = scratch.clone();
        let seen = with_mounted(&[(mount, scratch.clone())], move || {
            let base = std::fs::read_to_string(root.join("base.txt")).unwrap();
            std::fs::write(root.join("new.txt"), "written through the mount").unwrap();
            base
        })
        .unwrap();
        assert_eq!(seen, "from lower");
        // The write landed in the upper directory...
        assert_eq!(
            std::fs::read_to_string(upper.join("new.txt")).unwrap(),
            "written through the mount"
        );
        // ...and the host never saw the mount.
        assert!(!scratch.join("base.txt").exists());
        let mounts = std::fs::read_to_string("/proc/self/mounts").unwrap();
        assert!(!mounts.contains(scratch.to_str().unwrap()));
    }
}
