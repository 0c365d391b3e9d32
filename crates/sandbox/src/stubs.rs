//! Mount targets that do not exist in the root file system ("stubs"), created so that they
//! leave no trace in the layer being built.
//!
//! The kernel can only mount onto something that exists. Creating a missing `/etc/hosts`
//! (or `/proc`, or a `RUN --mount` target) in the merged overlay would write it, and a
//! copy-up of its parent directory, into the upper directory: the layer would contain it.
//! Instead:
//! - for an overlay root, the stubs live in an extra, topmost *lower* directory of the
//!   sandbox's own; the upper directory never sees them. Stub directories that stand for
//!   existing directories copy their mode, owner and times, so a later copy-up (when the
//!   command writes next to a stub) gives the layer the real directory's metadata;
//! - for a plain directory root, the stubs are created in it and removed after the run.
//!
//! Paths are resolved as the kernel will see them inside the sandbox: symlinks followed
//! within the root (an absolute link target starts at the root), and for overlays whiteouts
//! hide lower entries and opaque directories stop the merge.

use std::ffi::{CString, OsStr, OsString};
use std::fs;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Component, Path, PathBuf};

/// What a mount target must be: mounts of directories need a directory, of files a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TargetKind {
    Dir,
    File,
}

/// A view of one or more layered directories, topmost first.
pub(crate) struct LayeredView<'a> {
    pub layers: &'a [PathBuf],
    /// Interpret overlayfs whiteouts and opaque directories.
    pub overlay: bool,
}

enum Node {
    Missing,
    /// A directory and the layers that contribute to it, topmost first.
    Dir(Vec<usize>),
    Symlink(PathBuf),
    Other,
}

/// Where a stub is needed: the existing directories leading to it (relative path and the
/// topmost layer providing each) and the names to create below the last of them.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct StubPath {
    pub existing: Vec<(PathBuf, usize)>,
    pub missing: Vec<OsString>,
}

const MAX_SYMLINKS: usize = 40;

fn is_whiteout(meta: &fs::Metadata) -> bool {
    meta.file_type().is_char_device() && meta.rdev() == 0
}

fn is_opaque(path: &Path) -> bool {
    let Ok(cpath) = CString::new(path.as_os_str().as_bytes()) else {
        return false;
    };
    [c"trusted.overlay.opaque", c"user.overlay.opaque"]
        .iter()
        .any(|name| {
            let mut value = [0u8; 4];
            // SAFETY: path and name are NUL-terminated; the buffer is valid for its length.
            let n = unsafe {
                libc::lgetxattr(
                    cpath.as_ptr(),
                    name.as_ptr(),
                    value.as_mut_ptr().cast(),
                    value.len(),
                )
            };
            n == 1 && value[0] == b'y'
        })
}

impl LayeredView<'_> {
    fn lookup(&self, parent_layers: &[usize], parent: &Path, name: &OsStr) -> io::Result<Node> {
        let mut contributing = Vec::new();
        for &layer in parent_layers {
            let path = self.layers[layer].join(parent).join(name);
            let meta = match fs::symlink_metadata(&path) {
                Ok(meta) => meta,
                Err(e)
                    if e.kind() == io::ErrorKind::NotFound
                        || e.raw_os_error() == Some(libc::ENOTDIR) =>
                {
                    continue;
                }
                Err(e) => return Err(e),
            };
            if self.overlay && is_whiteout(&meta) {
                break;
            }
            if meta.is_dir() {
                contributing.push(layer);
                if self.overlay && is_opaque(&path) {
                    break;
                }
                continue;
            }
            if !contributing.is_empty() {
                break; // a non-directory below a directory is hidden by it
            }
            if meta.file_type().is_symlink() {
                return Ok(Node::Symlink(fs::read_link(&path)?));
            }
            return Ok(Node::Other);
        }
        Ok(if contributing.is_empty() {
            Node::Missing
        } else {
            Node::Dir(contributing)
        })
    }

    /// Resolves `target` (absolute, as seen inside the sandbox). Returns `None` when it
    /// exists already or cannot be created (a non-directory in the way: the mount itself
    /// will then report the error).
    pub(crate) fn stub_path(&self, target: &Path) -> io::Result<Option<StubPath>> {
        let all: Vec<usize> = (0..self.layers.len()).collect();
        let mut pending: Vec<OsString> = normal_components(target);
        pending.reverse(); // a stack: next component last
        let mut stack: Vec<(OsString, Vec<usize>)> = Vec::new();
        let mut links = 0;
        while let Some(name) = pending.pop() {
            if name == ".." {
                stack.pop();
                continue;
            }
            let parent: PathBuf = stack.iter().map(|(n, _)| n.as_os_str()).collect();
            let parent_layers = stack.last().map_or(&all, |(_, l)| l);
            match self.lookup(parent_layers, &parent, &name)? {
                Node::Dir(layers) => stack.push((name, layers)),
                Node::Symlink(link) => {
                    links += 1;
                    if links > MAX_SYMLINKS {
                        return Ok(None);
                    }
                    if link.is_absolute() {
                        stack.clear();
                    }
                    let mut link_parts = normal_components(&link);
                    link_parts.reverse();
                    pending.extend(link_parts);
                }
                Node::Other => return Ok(None),
                Node::Missing => {
                    let mut missing = vec![name];
                    missing.extend(pending.into_iter().rev().filter(|n| n != ".."));
                    let mut existing = Vec::new();
                    let mut rel = PathBuf::new();
                    for (n, layers) in stack {
                        rel.push(n);
                        existing.push((rel.clone(), layers[0]));
                    }
                    return Ok(Some(StubPath { existing, missing }));
                }
            }
        }
        Ok(None)
    }
}

/// The components of a path, without the root and `.`, keeping `..` for the resolver.
fn normal_components(path: &Path) -> Vec<OsString> {
    path.components()
        .filter_map(|c| match c {
            Component::Normal(n) => Some(n.to_os_string()),
            Component::ParentDir => Some(OsString::from("..")),
            _ => None,
        })
        .collect()
}

fn create_missing(
    base: &Path,
    stub: &StubPath,
    kind: TargetKind,
    created: &mut Vec<PathBuf>,
) -> io::Result<()> {
    let mut path = base.to_path_buf();
    if let Some((rel, _)) = stub.existing.last() {
        path.push(rel);
    }
    for (i, name) in stub.missing.iter().enumerate() {
        path.push(name);
        let last = i + 1 == stub.missing.len();
        let made = if last && kind == TargetKind::File {
            fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
                .map(drop)
        } else {
            fs::DirBuilder::new().create(&path)
        };
        match made {
            Ok(()) => created.push(path.clone()),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Copies mode, owner and times of `from` to the directory `to`. Ownership is best effort:
/// a rootless caller cannot give files away.
fn mirror_dir_metadata(from: &Path, to: &Path) -> io::Result<()> {
    let meta = fs::metadata(from)?;
    let _ = std::os::unix::fs::chown(to, Some(meta.uid()), Some(meta.gid()));
    fs::set_permissions(to, meta.permissions())?;
    let times = fs::FileTimes::new()
        .set_accessed(meta.accessed()?)
        .set_modified(meta.modified()?);
    fs::File::open(to)?.set_times(times)
}

/// Creates, in the stub layer `stub_dir`, every target missing from the overlay made of
/// `layers` (upper first, then the lowers).
pub(crate) fn create_overlay_stubs(
    layers: &[PathBuf],
    stub_dir: &Path,
    targets: &[(PathBuf, TargetKind)],
) -> io::Result<()> {
    let view = LayeredView {
        layers,
        overlay: true,
    };
    let mut mirrored: Vec<(PathBuf, usize)> = Vec::new();
    for (target, kind) in targets {
        let Some(stub) = view.stub_path(target)? else {
            continue;
        };
        for (rel, layer) in &stub.existing {
            if mirrored.iter().any(|(done, _)| done == rel) {
                continue;
            }
            let in_stub = stub_dir.join(rel);
            fs::DirBuilder::new().create(&in_stub).or_else(|e| {
                if e.kind() == io::ErrorKind::AlreadyExists {
                    Ok(())
                } else {
                    Err(e)
                }
            })?;
            mirrored.push((rel.clone(), *layer));
        }
        create_missing(stub_dir, &stub, *kind, &mut Vec::new())?;
    }
    // Metadata last, deepest first: creating entries above would change the times again.
    for (rel, layer) in mirrored.iter().rev() {
        mirror_dir_metadata(&layers[*layer].join(rel), &stub_dir.join(rel))?;
    }
    Ok(())
}

/// Creates every missing target directly in the plain root directory `root`, recording
/// what was created (in creation order, also on failure) in `created` for [`remove_stubs`].
pub(crate) fn create_dir_stubs(
    root: &Path,
    targets: &[(PathBuf, TargetKind)],
    created: &mut Vec<PathBuf>,
) -> io::Result<()> {
    let layers = [root.to_path_buf()];
    let view = LayeredView {
        layers: &layers,
        overlay: false,
    };
    for (target, kind) in targets {
        if let Some(stub) = view.stub_path(target)? {
            create_missing(root, &stub, *kind, created)?;
        }
    }
    Ok(())
}

/// Removes stubs made by [`create_dir_stubs`], newest first, leaving anything the command
/// put into them (a non-empty stub is kept).
pub(crate) fn remove_stubs(created: &[PathBuf]) {
    for path in created.iter().rev() {
        match fs::symlink_metadata(path) {
            Ok(m) if m.is_dir() => {
                let _ = fs::remove_dir(path);
            }
            Ok(m) if m.is_file() && m.len() == 0 => {
                let _ = fs::remove_file(path);
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn tree() -> (tempfile::TempDir, Vec<PathBuf>) {
        let dir = tempfile::tempdir().unwrap();
        let upper = dir.path().join("upper");
        let low1 = dir.path().join("low1");
        let low2 = dir.path().join("low2");
        for d in [&upper, &low1, &low2] {
            fs::create_dir_all(d).unwrap();
        }
        fs::create_dir_all(low2.join("etc")).unwrap();
        fs::write(low2.join("etc/hosts"), "x").unwrap();
        fs::create_dir_all(low2.join("run")).unwrap();
        fs::create_dir_all(low2.join("var")).unwrap();
        symlink("/run", low2.join("var/run")).unwrap();
        symlink("../../run/missing", low2.join("etc/resolv.conf")).unwrap();
        (dir, vec![upper, low1, low2])
    }

    #[test]
    fn existing_targets_need_no_stub() {
        let (_d, layers) = tree();
        let view = LayeredView {
            layers: &layers,
            overlay: true,
        };
        assert_eq!(view.stub_path(Path::new("/etc/hosts")).unwrap(), None);
        assert_eq!(view.stub_path(Path::new("/etc")).unwrap(), None);
    }

    #[test]
    fn symlinks_are_followed_inside_the_root() {
        let (_d, layers) = tree();
        let view = LayeredView {
            layers: &layers,
            overlay: true,
        };
        let stub = view
            .stub_path(Path::new("/var/run/cache"))
            .unwrap()
            .unwrap();
        assert_eq!(stub.existing, vec![(PathBuf::from("run"), 2)]);
        assert_eq!(stub.missing, vec![OsString::from("cache")]);
        let stub = view
            .stub_path(Path::new("/etc/resolv.conf"))
            .unwrap()
            .unwrap();
        assert_eq!(stub.existing, vec![(PathBuf::from("run"), 2)]);
        assert_eq!(stub.missing, vec![OsString::from("missing")]);
    }

    #[test]
    fn dotdot_cannot_climb_above_root() {
        let (_d, layers) = tree();
        let view = LayeredView {
            layers: &layers,
            overlay: true,
        };
        let stub = view.stub_path(Path::new("/../../proc")).unwrap().unwrap();
        assert!(stub.existing.is_empty());
        assert_eq!(stub.missing, vec![OsString::from("proc")]);
    }

    #[test]
    fn whiteouts_hide_lower_entries() {
        let (_d, layers) = tree();
        // A 0/0 character device needs CAP_MKNOD; skip the check where it is not allowed.
        let c = CString::new(layers[0].join("etc").as_os_str().as_bytes()).unwrap();
        // SAFETY: c is NUL-terminated.
        if unsafe { libc::mknod(c.as_ptr(), libc::S_IFCHR | 0o600, 0) } != 0 {
            eprintln!("skipping whiteout check: mknod not permitted");
            return;
        }
        let view = LayeredView {
            layers: &layers,
            overlay: true,
        };
        let stub = view.stub_path(Path::new("/etc/hosts")).unwrap().unwrap();
        assert_eq!(
            stub.missing,
            vec![OsString::from("etc"), OsString::from("hosts")]
        );
    }

    #[test]
    fn overlay_stubs_mirror_existing_dirs() {
        let (d, layers) = tree();
        fs::set_permissions(layers[2].join("run"), fs::Permissions::from_mode(0o711)).unwrap();
        let stubs = d.path().join("stubs");
        fs::create_dir(&stubs).unwrap();
        let targets = [
            (PathBuf::from("/proc"), TargetKind::Dir),
            (PathBuf::from("/etc/hosts"), TargetKind::File),
            (PathBuf::from("/var/run/x/y"), TargetKind::File),
        ];
        create_overlay_stubs(&layers, &stubs, &targets).unwrap();
        assert!(stubs.join("proc").is_dir());
        assert!(!stubs.join("etc").exists());
        assert!(stubs.join("run/x/y").is_file());
        let mode = fs::metadata(stubs.join("run"))
            .unwrap()
            .permissions()
            .mode()
            & 0o7777;
        assert_eq!(mode, 0o711);
        assert_eq!(
            fs::metadata(stubs.join("run")).unwrap().modified().unwrap(),
            fs::metadata(layers[2].join("run"))
                .unwrap()
                .modified()
                .unwrap()
        );
        // The upper directory is untouched.
        assert_eq!(fs::read_dir(&layers[0]).unwrap().count(), 0);
    }

    #[test]
    fn dir_stubs_are_created_and_removed() {
        let (_d, layers) = tree();
        let root = &layers[2];
        let targets = [
            (PathBuf::from("/proc"), TargetKind::Dir),
            (PathBuf::from("/a/b/c"), TargetKind::File),
        ];
        let mut created = Vec::new();
        create_dir_stubs(root, &targets, &mut created).unwrap();
        assert!(root.join("a/b/c").is_file());
        fs::write(root.join("a/keep"), "kept").unwrap();
        remove_stubs(&created);
        assert!(!root.join("proc").exists());
        assert!(!root.join("a/b").exists());
        assert!(
            root.join("a/keep").exists(),
            "content the command wrote is kept"
        );
    }

    use std::os::unix::fs::PermissionsExt;
}
