//! Helpers shared by the integration tests: privilege checks, tree snapshots for exact
//! comparison, tar construction (including malformed entries), mounting.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::Read;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use rbuild_snapshotter::{
    BackendKind, Change, ChangeKind, LayerTarOptions, Mount, write_layer_tar,
};

/// Whether we may mount and chown. When not, a test that needs it prints why it skips,
/// unless CI=true, where skipping is not allowed.
pub fn privileged(test: &str) -> bool {
    if rustix::process::geteuid().is_root() {
        return true;
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("{test}: needs root (mounts, chown, device nodes) and CI=true forbids skipping");
    }
    eprintln!("SKIP {test}: needs root (mounts, chown, device nodes); run as root or with CI=true");
    false
}

/// One entry of a tree, as compared by the tests: everything but times and inode numbers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    pub kind: &'static str,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    /// Length and digest of a regular file's content (not the bytes: failures stay readable).
    pub content: (usize, String),
    pub link: Option<PathBuf>,
    pub rdev: u64,
    pub xattrs: Vec<(String, Vec<u8>)>,
}

/// Every entry below `root` (root excluded), keyed by relative path.
pub fn tree(root: &Path) -> BTreeMap<PathBuf, Node> {
    let mut out = BTreeMap::new();
    walk(root, Path::new(""), &mut out);
    out
}

fn walk(root: &Path, rel: &Path, out: &mut BTreeMap<PathBuf, Node>) {
    let mut names: Vec<_> = std::fs::read_dir(root.join(rel))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    names.sort();
    for name in names {
        let child = rel.join(&name);
        let path = root.join(&child);
        let meta = std::fs::symlink_metadata(&path).unwrap();
        let ft = meta.file_type();
        let kind = if ft.is_dir() {
            "dir"
        } else if ft.is_symlink() {
            "symlink"
        } else if ft.is_file() {
            "file"
        } else if ft.is_char_device() {
            "char"
        } else if ft.is_block_device() {
            "block"
        } else if ft.is_fifo() {
            "fifo"
        } else {
            "other"
        };
        let mut content = Vec::new();
        if ft.is_file() {
            std::fs::File::open(&path)
                .unwrap()
                .read_to_end(&mut content)
                .unwrap();
        }
        let xattrs = if ft.is_symlink() {
            Vec::new()
        } else {
            let mut v: Vec<_> = xattr::list(&path)
                .unwrap()
                .filter_map(|n| n.to_str().map(str::to_string))
                .filter(|n| !n.starts_with("trusted.overlay.") && !n.starts_with("user.overlay."))
                .map(|n| {
                    let value = xattr::get(&path, &n).unwrap().unwrap_or_default();
                    (n, value)
                })
                .collect();
            v.sort();
            v
        };
        out.insert(
            child.clone(),
            Node {
                kind,
                mode: meta.mode() & 0o7777,
                uid: meta.uid(),
                gid: meta.gid(),
                content: (
                    content.len(),
                    rbuild_snapshotter::Digest::of_bytes(&content).hex()[..12].to_string(),
                ),
                link: ft.is_symlink().then(|| std::fs::read_link(&path).unwrap()),
                rdev: meta.rdev(),
                xattrs,
            },
        );
        if ft.is_dir() {
            walk(root, &child, out);
        }
    }
}

/// Asserts two trees are equal, reporting the first differing path.
pub fn assert_same_tree(expected: &BTreeMap<PathBuf, Node>, actual: &BTreeMap<PathBuf, Node>) {
    for (path, node) in expected {
        match actual.get(path) {
            None => panic!("{} missing", path.display()),
            Some(a) => assert_eq!(a, node, "{} differs", path.display()),
        }
    }
    for path in actual.keys() {
        assert!(expected.contains_key(path), "{} unexpected", path.display());
    }
}

/// A full layer tar of the tree at `dir` (every entry added).
pub fn full_tar(dir: &Path) -> Vec<u8> {
    let changes: Vec<Change> = tree(dir)
        .keys()
        .map(|p| Change {
            path: p.clone(),
            kind: ChangeKind::Entry,
        })
        .collect();
    let mut out = Vec::new();
    write_layer_tar(dir, &changes, &mut out, &LayerTarOptions::default()).unwrap();
    out
}

/// Names of the entries of a tar, in order.
pub fn tar_names(tar: &[u8]) -> Vec<String> {
    let mut archive = tar::Archive::new(tar);
    archive
        .entries()
        .unwrap()
        .map(|e| String::from_utf8_lossy(&e.unwrap().path_bytes()).into_owned())
        .collect()
}

/// Builds tars entry by entry with raw names (so malformed names can be written).
pub struct RawTar {
    out: Vec<u8>,
}

impl RawTar {
    pub fn new() -> Self {
        RawTar { out: Vec::new() }
    }

    fn header(name: &str, kind: tar::EntryType, size: u64, link: &str) -> tar::Header {
        let mut h = tar::Header::new_ustar();
        h.set_entry_type(kind);
        h.set_size(size);
        h.set_mode(if kind == tar::EntryType::Directory {
            0o755
        } else {
            0o644
        });
        h.set_uid(0);
        h.set_gid(0);
        h.set_mtime(1_600_000_000);
        let ustar = h.as_ustar_mut().unwrap();
        ustar.name[..name.len()].copy_from_slice(name.as_bytes());
        ustar.linkname[..link.len()].copy_from_slice(link.as_bytes());
        h.set_cksum();
        h
    }

    pub fn file(mut self, name: &str, data: &[u8]) -> Self {
        let h = Self::header(name, tar::EntryType::Regular, data.len() as u64, "");
        self.push(&h, data);
        self
    }

    pub fn dir(mut self, name: &str) -> Self {
        let h = Self::header(name, tar::EntryType::Directory, 0, "");
        self.push(&h, &[]);
        self
    }

    pub fn symlink(mut self, name: &str, target: &str) -> Self {
        let h = Self::header(name, tar::EntryType::Symlink, 0, target);
        self.push(&h, &[]);
        self
    }

    pub fn hardlink(mut self, name: &str, target: &str) -> Self {
        let h = Self::header(name, tar::EntryType::Link, 0, target);
        self.push(&h, &[]);
        self
    }

    fn push(&mut self, h: &tar::Header, data: &[u8]) {
        self.out.extend_from_slice(h.as_bytes());
        self.out.extend_from_slice(data);
        let pad = (512 - data.len() % 512) % 512;
        self.out.extend(std::iter::repeat_n(0u8, pad));
    }

    pub fn finish(mut self) -> Vec<u8> {
        self.out.extend_from_slice(&[0u8; 1024]);
        self.out
    }
}

/// The backends every snapshot test runs against. Both need mounts (the copy backend's
/// are bind mounts) and chown, so both need root; none when skipping.
pub fn backends(test: &str) -> Vec<BackendKind> {
    if privileged(test) {
        vec![BackendKind::Copy, BackendKind::Overlay]
    } else {
        Vec::new()
    }
}

/// Mounts `mount` on a fresh directory, runs `f` on it, unmounts.
pub fn with_mounted<T>(mount: &Mount, f: impl FnOnce(&Path) -> T) -> T {
    let target = tempfile::tempdir().unwrap();
    mount.mount_at(target.path()).unwrap();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(target.path())));
    rbuild_snapshotter::unmount(target.path()).unwrap();
    match result {
        Ok(v) => v,
        Err(p) => std::panic::resume_unwind(p),
    }
}
