//! Interoperability with GNU tar (always on Debian): our layers unpack with it, its
//! archives (PAX and GNU formats) unpack with us.

mod common;

use std::os::unix::fs::symlink;
use std::path::Path;
use std::process::Command;

use common::{assert_same_tree, full_tar, privileged, tree};
use rbuild_snapshotter::{ExtractOptions, extract_layer};

fn sample(dir: &Path) {
    let deep = dir.join("a".repeat(60)).join("b".repeat(60));
    std::fs::create_dir_all(&deep).unwrap();
    std::fs::write(deep.join("c".repeat(90)), b"long path content").unwrap();
    std::fs::write(dir.join("plain"), b"plain").unwrap();
    std::fs::hard_link(dir.join("plain"), dir.join("plain-link")).unwrap();
    symlink("t".repeat(150), dir.join("long-link")).unwrap();
    xattr::set(dir.join("plain"), "user.k", b"v\nw").unwrap();
    std::os::unix::fs::lchown(dir.join("plain"), Some(1234), Some(4321)).unwrap();
}

#[test]
fn gnu_tar_unpacks_our_layers() {
    if !privileged("gnu_tar_unpacks_our_layers") {
        return;
    }
    let src = tempfile::tempdir().unwrap();
    sample(src.path());
    let tar_file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(tar_file.path(), full_tar(src.path())).unwrap();
    let dst = tempfile::tempdir().unwrap();
    let status = Command::new("tar")
        .args(["--xattrs", "--xattrs-include=*", "--same-owner", "-xpf"])
        .arg(tar_file.path())
        .arg("-C")
        .arg(dst.path())
        .status()
        .unwrap();
    assert!(status.success());
    assert_same_tree(&tree(src.path()), &tree(dst.path()));
}

#[test]
fn we_unpack_gnu_tar_archives() {
    if !privileged("we_unpack_gnu_tar_archives") {
        return;
    }
    let src = tempfile::tempdir().unwrap();
    sample(src.path());
    for format in ["pax", "gnu"] {
        let tar_file = tempfile::NamedTempFile::new().unwrap();
        let mut cmd = Command::new("tar");
        cmd.arg(format!("--format={format}"));
        if format == "pax" {
            cmd.args(["--xattrs", "--xattrs-include=*"]);
        }
        let status = cmd
            .arg("-cf")
            .arg(tar_file.path())
            .arg("-C")
            .arg(src.path())
            .arg(".")
            .status()
            .unwrap();
        assert!(status.success());
        let dst = tempfile::tempdir().unwrap();
        let bytes = std::fs::read(tar_file.path()).unwrap();
        extract_layer(&bytes[..], dst.path(), &ExtractOptions::default()).unwrap();
        let mut expected = tree(src.path());
        if format == "gnu" {
            // The GNU format has no xattrs.
            for node in expected.values_mut() {
                node.xattrs.clear();
            }
        }
        assert_same_tree(&expected, &tree(dst.path()));
    }
}
