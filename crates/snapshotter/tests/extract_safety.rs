//! Malicious layer tars are refused with an error naming the entry, and nothing is
//! written outside the target.

mod common;

use std::path::Path;

use common::RawTar;
use rbuild_snapshotter::{ExtractError, ExtractOptions, extract_layer};

/// Extracts `tar` into `<tmp>/root` with a sentinel file beside it; returns the result
/// and checks the outside stayed untouched.
fn extract_guarded(tar: &[u8]) -> (tempfile::TempDir, Result<(), ExtractError>) {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("outside"), b"untouched").unwrap();
    let root = tmp.path().join("root");
    std::fs::create_dir(&root).unwrap();
    let result = extract_layer(tar, &root, &ExtractOptions::default()).map(|_| ());
    let names: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    let mut names = names;
    names.sort();
    assert_eq!(
        names,
        vec!["outside", "root"],
        "something was written outside the root"
    );
    assert_eq!(
        std::fs::read(tmp.path().join("outside")).unwrap(),
        b"untouched"
    );
    (tmp, result)
}

fn assert_refused(tar: Vec<u8>, entry: &str) {
    let (_tmp, result) = extract_guarded(&tar);
    match result {
        Err(ExtractError::Refused { entry: e, reason }) => {
            assert_eq!(e, entry, "error names the wrong entry ({reason})");
            let text = ExtractError::Refused { entry: e, reason }.to_string();
            assert!(text.contains(entry));
        }
        other => panic!("expected refusal of {entry:?}, got {other:?}"),
    }
}

#[test]
fn dot_dot_is_refused() {
    assert_refused(
        RawTar::new().file("../outside", b"pwned").finish(),
        "../outside",
    );
    assert_refused(
        RawTar::new().file("a/../../outside", b"pwned").finish(),
        "a/../../outside",
    );
}

#[test]
fn absolute_path_is_refused() {
    assert_refused(
        RawTar::new().file("/etc/rbuild-test-x", b"pwned").finish(),
        "/etc/rbuild-test-x",
    );
    assert!(!Path::new("/etc/rbuild-test-x").exists());
}

#[test]
fn write_through_symlink_is_refused() {
    // The classic: a link to / (or to ..), then a file "through" it.
    assert_refused(
        RawTar::new()
            .symlink("evil", "/")
            .file("evil/tmp/rbuild-pwned", b"x")
            .finish(),
        "evil/tmp/rbuild-pwned",
    );
    assert_refused(
        RawTar::new()
            .symlink("up", "..")
            .file("up/outside", b"pwned")
            .finish(),
        "up/outside",
    );
    assert_refused(
        RawTar::new().symlink("up", "..").dir("up/newdir/").finish(),
        "up/newdir/",
    );
    assert!(!Path::new("/tmp/rbuild-pwned").exists());
}

#[test]
fn file_replaces_planted_symlink_instead_of_following_it() {
    let tmp = tempfile::tempdir().unwrap();
    let outside = tmp.path().join("outside");
    std::fs::write(&outside, b"untouched").unwrap();
    let root = tmp.path().join("root");
    let link_target = outside.to_str().unwrap().to_string();
    let tar = RawTar::new()
        .symlink("x", &link_target)
        .file("x", b"new")
        .finish();
    extract_layer(&tar[..], &root, &ExtractOptions::default()).unwrap();
    assert_eq!(std::fs::read(&outside).unwrap(), b"untouched");
    assert_eq!(std::fs::read(root.join("x")).unwrap(), b"new");
    assert!(
        !std::fs::symlink_metadata(root.join("x"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
}

/// A directory's mode and times are set after its contents; by then a later entry may
/// have replaced it by a symbolic link out of the root (found by `extract_safety_prop`).
#[test]
fn directory_metadata_never_follows_a_link_that_replaced_the_directory() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let tmp = tempfile::tempdir().unwrap();
    let outside = tmp.path().join("outside");
    std::fs::write(&outside, b"untouched").unwrap();
    std::fs::set_permissions(&outside, std::fs::Permissions::from_mode(0o600)).unwrap();
    let before = std::fs::metadata(&outside).unwrap();
    let root = tmp.path().join("root");
    let tar = RawTar::new()
        .dir("b")
        .symlink("b", outside.to_str().unwrap())
        .finish();
    extract_layer(&tar[..], &root, &ExtractOptions::default()).unwrap();
    let after = std::fs::metadata(&outside).unwrap();
    assert_eq!(
        after.mode() & 0o7777,
        0o600,
        "the directory's 0755 reached the outside"
    );
    assert_eq!(after.mtime(), before.mtime());
    assert!(
        std::fs::symlink_metadata(root.join("b"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
}

#[test]
fn hard_links_to_outside_are_refused() {
    assert_refused(RawTar::new().hardlink("h", "../outside").finish(), "h");
    assert_refused(RawTar::new().hardlink("h", "/etc/passwd").finish(), "h");
    assert_refused(
        RawTar::new()
            .symlink("up", "..")
            .hardlink("h", "up/outside")
            .finish(),
        "h",
    );
}

#[test]
fn whiteout_of_dot_is_refused() {
    assert_refused(
        RawTar::new()
            .dir("d/")
            .file("d/keep", b"k")
            .file("d/.wh..", b"")
            .finish(),
        "d/.wh..",
    );
    assert_refused(RawTar::new().file(".wh...", b"").finish(), ".wh...");
}

#[test]
fn hard_links_inside_are_kept() {
    let tmp = tempfile::tempdir().unwrap();
    let tar = RawTar::new()
        .dir("d/")
        .file("d/a", b"shared")
        .hardlink("d/b", "d/a")
        .hardlink("c", "d/a")
        .finish();
    extract_layer(&tar[..], tmp.path(), &ExtractOptions::default()).unwrap();
    use std::os::unix::fs::MetadataExt;
    let ino = |p: &str| std::fs::metadata(tmp.path().join(p)).unwrap().ino();
    assert_eq!(ino("d/a"), ino("d/b"));
    assert_eq!(ino("d/a"), ino("c"));
    assert_eq!(std::fs::read(tmp.path().join("c")).unwrap(), b"shared");
}

#[test]
fn truncated_tar_is_an_error_not_a_panic() {
    let tar = RawTar::new().file("a", &[1u8; 4000]).finish();
    let tmp = tempfile::tempdir().unwrap();
    let result = extract_layer(&tar[..1500], tmp.path(), &ExtractOptions::default());
    assert!(result.is_err());
}

#[test]
fn whiteouts_and_opaque_applied() {
    let tmp = tempfile::tempdir().unwrap();
    let base = RawTar::new()
        .dir("keep/")
        .file("keep/a", b"a")
        .file("gone", b"g")
        .dir("opq/")
        .file("opq/old", b"o")
        .finish();
    extract_layer(&base[..], tmp.path(), &ExtractOptions::default()).unwrap();
    let layer = RawTar::new()
        .file(".wh.gone", b"")
        .dir("opq/")
        .file("opq/.wh..wh..opq", b"")
        .file("opq/new", b"n")
        .finish();
    extract_layer(&layer[..], tmp.path(), &ExtractOptions::default()).unwrap();
    assert!(!tmp.path().join("gone").exists());
    assert!(!tmp.path().join("opq/old").exists());
    assert_eq!(std::fs::read(tmp.path().join("opq/new")).unwrap(), b"n");
    assert_eq!(std::fs::read(tmp.path().join("keep/a")).unwrap(), b"a");
}

/// Found by the property test: a link whose name equals its target's base name.
#[test]
fn hard_link_with_same_base_name_as_target() {
    let tmp = tempfile::tempdir().unwrap();
    let tar = RawTar::new()
        .dir("b/")
        .file("b/c", b"x")
        .hardlink("c", "b/c")
        .finish();
    extract_layer(&tar[..], tmp.path(), &ExtractOptions::default()).unwrap();
    assert_eq!(std::fs::read(tmp.path().join("c")).unwrap(), b"x");
    // And a link naming itself is harmless.
    let tar = RawTar::new().file("s", b"y").hardlink("s", "s").finish();
    extract_layer(&tar[..], tmp.path(), &ExtractOptions::default()).unwrap();
    assert_eq!(std::fs::read(tmp.path().join("s")).unwrap(), b"y");
}

#[test]
fn empty_numeric_fields_read_as_zero() {
    // tar::Header::new_ustar() leaves uid/gid empty, as some writers do.
    let mut builder = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_ustar();
    header.set_entry_type(tar::EntryType::Regular);
    header.set_mode(0o640);
    header.set_size(2);
    builder.append_data(&mut header, "f", &b"hi"[..]).unwrap();
    let tar = builder.into_inner().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    extract_layer(&tar[..], tmp.path(), &ExtractOptions::default()).unwrap();
    assert_eq!(std::fs::read(tmp.path().join("f")).unwrap(), b"hi");
}

#[test]
fn garbage_numeric_field_is_refused() {
    let mut tar = RawTar::new().file("g", b"x").finish();
    tar[108..116].copy_from_slice(b"zzzzzzz\0"); // uid field
    let sum: u32 = tar[..512]
        .iter()
        .enumerate()
        .map(|(i, b)| {
            if (148..156).contains(&i) {
                32
            } else {
                u32::from(*b)
            }
        })
        .sum();
    tar[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    let tmp = tempfile::tempdir().unwrap();
    let err = extract_layer(&tar[..], tmp.path(), &ExtractOptions::default()).unwrap_err();
    assert!(err.to_string().contains("uid"), "{err}");
}

#[test]
fn directory_replaced_by_symlink_then_written_through_is_refused() {
    // Entries under `a/` warm up the extractor's parent-directory reuse; then `a` becomes
    // a link to the outside and an entry tries to write through it.
    assert_refused(
        RawTar::new()
            .dir("a/")
            .file("a/x", b"1")
            .file("a/y", b"2")
            .symlink("a", "..")
            .file("a/outside", b"pwned")
            .finish(),
        "a/outside",
    );
}
