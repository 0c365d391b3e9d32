//! The layer tar writer: deterministic, PAX for long names and xattrs, hard links as
//! links, special files, exact owners and modes, mtime clamping; extraction round-trips.

mod common;

use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::Path;

use common::{assert_same_tree, full_tar, privileged, tar_names, tree};
use rbuild_snapshotter::{
    ExtractOptions, LayerTarOptions, extract_layer, tree_changes, write_layer_tar,
};

fn sample_tree(dir: &Path) {
    let long_dir = "d".repeat(120);
    std::fs::create_dir_all(dir.join("etc/sub")).unwrap();
    std::fs::create_dir_all(dir.join(&long_dir)).unwrap();
    std::fs::write(dir.join("etc/hosts"), b"127.0.0.1 localhost\n").unwrap();
    std::fs::write(
        dir.join(format!("{long_dir}/{}", "f".repeat(150))),
        b"long name",
    )
    .unwrap();
    std::fs::write(dir.join("big"), vec![42u8; 300_000]).unwrap();
    std::fs::hard_link(dir.join("big"), dir.join("etc/big-link")).unwrap();
    symlink("../big", dir.join("etc/sub/rel-link")).unwrap();
    symlink("t".repeat(200), dir.join("long-target")).unwrap();
    std::fs::set_permissions(
        dir.join("etc/hosts"),
        std::fs::Permissions::from_mode(0o4751),
    )
    .unwrap();
    xattr::set(dir.join("etc/hosts"), "user.note", b"kept").unwrap();
    rustix::fs::mknodat(
        rustix::fs::CWD,
        dir.join("fifo"),
        rustix::fs::FileType::Fifo,
        rustix::fs::Mode::from_raw_mode(0o640),
        0,
    )
    .unwrap();
}

#[test]
fn deterministic_sorted_and_round_trips() {
    let src = tempfile::tempdir().unwrap();
    sample_tree(src.path());
    let a = full_tar(src.path());
    let b = full_tar(src.path());
    assert_eq!(a, b, "same tree, same bytes");
    let names = tar_names(&a);
    let mut sorted = names.clone();
    sorted.sort_by(|x, y| Path::new(x).cmp(Path::new(y)));
    assert_eq!(names, sorted);
    assert!(names.contains(&"etc/".to_string()), "{names:?}");
    assert!(
        names.iter().any(|n| n.len() > 250),
        "long name kept via PAX: {names:?}"
    );

    let dst = tempfile::tempdir().unwrap();
    extract_layer(&a[..], dst.path(), &ExtractOptions::default()).unwrap();
    assert_same_tree(&tree(src.path()), &tree(dst.path()));
    // The hard link survived as a link.
    use std::os::unix::fs::MetadataExt;
    let m1 = std::fs::metadata(dst.path().join("big")).unwrap();
    let m2 = std::fs::metadata(dst.path().join("etc/big-link")).unwrap();
    assert_eq!(m1.ino(), m2.ino());
    assert_eq!(m1.nlink(), 2);
}

#[test]
fn hard_link_written_as_link_entry() {
    let src = tempfile::tempdir().unwrap();
    sample_tree(src.path());
    let tar = full_tar(src.path());
    let mut archive = tar::Archive::new(&tar[..]);
    let mut link_entries = 0;
    for e in archive.entries().unwrap() {
        let e = e.unwrap();
        if e.header().entry_type() == tar::EntryType::Link {
            link_entries += 1;
            assert_eq!(&*e.path_bytes(), b"etc/big-link");
            assert_eq!(&*e.link_name_bytes().unwrap(), b"big");
            assert_eq!(e.size(), 0);
        }
    }
    assert_eq!(link_entries, 1);
}

#[test]
fn pax_carries_xattrs_and_long_link_targets() {
    let src = tempfile::tempdir().unwrap();
    sample_tree(src.path());
    let tar = full_tar(src.path());
    let mut archive = tar::Archive::new(&tar[..]);
    let mut saw_xattr = false;
    let mut saw_long_target = false;
    for e in archive.entries().unwrap() {
        let mut e = e.unwrap();
        if &*e.path_bytes() == b"etc/hosts" {
            let exts = e.pax_extensions().unwrap().expect("PAX header present");
            for ext in exts {
                let ext = ext.unwrap();
                if ext.key().unwrap() == "SCHILY.xattr.user.note" {
                    assert_eq!(ext.value_bytes(), b"kept");
                    saw_xattr = true;
                }
            }
            assert_eq!(e.header().mode().unwrap(), 0o4751);
        }
        if &*e.path_bytes() == b"long-target" {
            assert_eq!(e.link_name_bytes().unwrap().len(), 200);
            saw_long_target = true;
        }
    }
    assert!(saw_xattr && saw_long_target);
}

#[test]
fn mtimes_clamped_to_source_date_epoch() {
    let src = tempfile::tempdir().unwrap();
    std::fs::write(src.path().join("new"), b"x").unwrap();
    std::fs::write(src.path().join("old"), b"y").unwrap();
    let old = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_000);
    std::fs::File::options()
        .write(true)
        .open(src.path().join("old"))
        .unwrap()
        .set_modified(old)
        .unwrap();
    let empty = tempfile::tempdir().unwrap();
    let changes = tree_changes(empty.path(), src.path(), None).unwrap();
    let mut out = Vec::new();
    let opts = LayerTarOptions {
        source_date_epoch: Some(5_000),
    };
    write_layer_tar(src.path(), &changes, &mut out, &opts).unwrap();
    let mut archive = tar::Archive::new(&out[..]);
    let times: Vec<(String, u64)> = archive
        .entries()
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                String::from_utf8_lossy(&e.path_bytes()).into_owned(),
                e.header().mtime().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        times,
        vec![("new".to_string(), 5_000), ("old".to_string(), 1_000)]
    );
}

#[test]
fn devices_owners_and_modes_exact() {
    if !privileged("devices_owners_and_modes_exact") {
        return;
    }
    let src = tempfile::tempdir().unwrap();
    let dev = rustix::fs::makedev(1, 3);
    rustix::fs::mknodat(
        rustix::fs::CWD,
        src.path().join("null"),
        rustix::fs::FileType::CharacterDevice,
        rustix::fs::Mode::from_raw_mode(0o666),
        dev,
    )
    .unwrap();
    rustix::fs::mknodat(
        rustix::fs::CWD,
        src.path().join("blk"),
        rustix::fs::FileType::BlockDevice,
        rustix::fs::Mode::from_raw_mode(0o600),
        rustix::fs::makedev(7, 0),
    )
    .unwrap();
    std::fs::write(src.path().join("owned"), b"o").unwrap();
    std::os::unix::fs::lchown(src.path().join("owned"), Some(1234), Some(5678)).unwrap();
    std::fs::create_dir(src.path().join("big-ids")).unwrap();
    std::os::unix::fs::lchown(src.path().join("big-ids"), Some(3_000_000), Some(4_000_000))
        .unwrap();
    xattr::set(
        src.path().join("owned"),
        "security.capability",
        &cap_net_bind(),
    )
    .unwrap();
    let tar = full_tar(src.path());
    let dst = tempfile::tempdir().unwrap();
    extract_layer(&tar[..], dst.path(), &ExtractOptions::default()).unwrap();
    assert_same_tree(&tree(src.path()), &tree(dst.path()));
}

/// A version-2 file capability blob granting cap_net_bind_service (bit 10), permitted.
fn cap_net_bind() -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(&0x0200_0000u32.to_le_bytes());
    v.extend_from_slice(&(1u32 << 10).to_le_bytes());
    v.extend_from_slice(&0u32.to_le_bytes());
    v.extend_from_slice(&0u32.to_le_bytes());
    v.extend_from_slice(&0u32.to_le_bytes());
    v
}

#[test]
fn binary_xattr_with_newline_round_trips() {
    let src = tempfile::tempdir().unwrap();
    let long = "n".repeat(130);
    std::fs::write(src.path().join(&long), b"data").unwrap();
    // Bytes 0x0a and '=' inside the value: only a length-based PAX parser keeps them.
    let value = b"\x01\n\x0a=\x00\xff".to_vec();
    xattr::set(src.path().join(&long), "user.bin", &value).unwrap();
    let tar = full_tar(src.path());
    // Readers that split PAX on newlines still find the long path (it comes first).
    let mut archive = tar::Archive::new(&tar[..]);
    let first = archive.entries().unwrap().next().unwrap().unwrap();
    assert_eq!(first.path_bytes().len(), 130);
    let dst = tempfile::tempdir().unwrap();
    extract_layer(&tar[..], dst.path(), &ExtractOptions::default()).unwrap();
    assert_eq!(
        xattr::get(dst.path().join(&long), "user.bin").unwrap(),
        Some(value)
    );
    assert_same_tree(&tree(src.path()), &tree(dst.path()));
}
