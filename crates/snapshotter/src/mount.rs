//! A mount described as data, so it can be performed later in another mount namespace
//! (the sandbox's), with raw `mount(2)` calls rather than the `mount` program.

use std::ffi::CString;
use std::io;
use std::path::{Path, PathBuf};

use rustix::mount::{MountFlags, UnmountFlags};

/// The most option text one `mount(2)` call accepts (one page).
const MAX_MOUNT_DATA: usize = 4095;

/// A mount to perform: `fstype` is `"overlay"` or `"bind"`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Mount {
    /// File system type: `"overlay"`, or `"bind"` for a bind mount of `source`.
    pub fstype: String,
    /// The source: `"overlay"` for overlays, the directory for bind mounts.
    pub source: PathBuf,
    /// Options: overlay data (`lowerdir=...`, `upperdir=...`), or `ro`/`rw`/`rbind`.
    pub options: Vec<String>,
}

/// Why a mount could not be made.
#[derive(Debug, thiserror::Error)]
pub enum MountError {
    /// The kernel refused the mount.
    #[error(
        "mounting {fstype} on {target}: {source} (needs root or a user+mount namespace, and a file system overlayfs accepts)"
    )]
    Kernel {
        /// The file system type.
        fstype: String,
        /// Where.
        target: PathBuf,
        /// The kernel's error.
        #[source]
        source: io::Error,
    },
    /// The description cannot be mounted as given.
    #[error("invalid mount description for {target}: {reason}")]
    Invalid {
        /// Where.
        target: PathBuf,
        /// What is wrong.
        reason: String,
    },
}

impl Mount {
    /// Whether the mount is read-only.
    pub fn is_read_only(&self) -> bool {
        self.options.iter().any(|o| o == "ro")
    }

    /// Mounts this at `target` (an existing directory) in the caller's mount namespace.
    pub fn mount_at(&self, target: &Path) -> Result<(), MountError> {
        let kernel = |source: rustix::io::Errno| MountError::Kernel {
            fstype: self.fstype.clone(),
            target: target.to_path_buf(),
            source: source.into(),
        };
        let invalid = |reason: String| MountError::Invalid {
            target: target.to_path_buf(),
            reason,
        };
        let read_only = self.is_read_only();
        match self.fstype.as_str() {
            "overlay" => {
                let data: Vec<&str> = self
                    .options
                    .iter()
                    .map(String::as_str)
                    .filter(|o| *o != "ro" && *o != "rw")
                    .collect();
                let data = data.join(",");
                if data.len() > MAX_MOUNT_DATA {
                    return Err(invalid(format!(
                        "overlay options are {} bytes, more than the kernel's {MAX_MOUNT_DATA}; too many layers for one mount",
                        data.len()
                    )));
                }
                let data = CString::new(data).map_err(|_| invalid("NUL byte in options".into()))?;
                let mut flags = MountFlags::empty();
                if read_only {
                    flags |= MountFlags::RDONLY;
                }
                rustix::mount::mount("overlay", target, "overlay", flags, data.as_c_str())
                    .map_err(kernel)
            }
            "bind" => {
                if self.options.iter().any(|o| o == "rbind") {
                    rustix::mount::mount_bind_recursive(&self.source, target).map_err(kernel)?;
                } else {
                    rustix::mount::mount_bind(&self.source, target).map_err(kernel)?;
                }
                if read_only {
                    rustix::mount::mount_remount(target, MountFlags::BIND | MountFlags::RDONLY, "")
                        .map_err(kernel)?;
                }
                Ok(())
            }
            other => Err(invalid(format!("unknown file system type {other:?}"))),
        }
    }
}

/// Detaches whatever is mounted at `target` (lazily: busy mounts go when last used).
pub fn unmount(target: &Path) -> io::Result<()> {
    rustix::mount::unmount(target, UnmountFlags::DETACH).map_err(io::Error::from)
}
