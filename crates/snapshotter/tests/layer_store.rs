//! Unpacked layers: extracted once (even concurrently), verified against the diffID,
//! stored in overlay format; prune; locks; crash leftovers cleaned.

mod common;

use std::collections::BTreeSet;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::{RawTar, privileged};
use rbuild_snapshotter::{
    ContentStore, Digest, FileLock, LayerStore, LockMode, PruneRoots, Snapshotter, StoreError,
    prune, store_lock_path,
};

fn sample_tar() -> Vec<u8> {
    RawTar::new()
        .dir("etc/")
        .file("etc/os-release", b"ID=test\n")
        .file("bin", b"\x7fELF")
        .finish()
}

#[test]
fn concurrent_unpacks_extract_once() {
    let dir = tempfile::tempdir().unwrap();
    let tar = Arc::new(sample_tar());
    let diff_id = Digest::of_bytes(&tar);
    let opened = Arc::new(AtomicUsize::new(0));
    let threads: Vec<_> = (0..6)
        .map(|_| {
            let root = dir.path().to_path_buf();
            let (tar, diff_id, opened) = (Arc::clone(&tar), diff_id.clone(), Arc::clone(&opened));
            std::thread::spawn(move || {
                // Each thread opens the store itself, as separate processes would.
                let store = LayerStore::open(&root).unwrap();
                store
                    .unpack_with(&diff_id, || {
                        opened.fetch_add(1, Ordering::SeqCst);
                        Ok(std::io::Cursor::new(tar.to_vec()))
                    })
                    .unwrap()
            })
        })
        .collect();
    let paths: BTreeSet<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    assert_eq!(paths.len(), 1);
    assert_eq!(opened.load(Ordering::SeqCst), 1, "the tar was read once");
    let store = LayerStore::open(dir.path()).unwrap();
    assert_eq!(store.list().unwrap(), vec![diff_id.clone()]);
    assert_eq!(
        std::fs::read(store.layer_path(&diff_id).join("etc/os-release")).unwrap(),
        b"ID=test\n"
    );
    assert_eq!(
        std::fs::read_dir(dir.path().join("tmp")).unwrap().count(),
        0
    );
}

#[test]
fn wrong_diff_id_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let store = LayerStore::open(dir.path()).unwrap();
    let claimed = Digest::of_bytes(b"another layer");
    let err = store.unpack(&claimed, &sample_tar()[..]).unwrap_err();
    assert!(matches!(err, StoreError::DigestMismatch { .. }), "{err}");
    assert!(!store.contains(&claimed));
    assert!(store.list().unwrap().is_empty());
    assert_eq!(
        std::fs::read_dir(dir.path().join("tmp")).unwrap().count(),
        0
    );
}

#[test]
fn malicious_layer_is_refused_and_not_kept() {
    let dir = tempfile::tempdir().unwrap();
    let store = LayerStore::open(dir.path()).unwrap();
    let tar = RawTar::new()
        .symlink("evil", "/")
        .file("evil/etc/pwned", b"x")
        .finish();
    let id = Digest::of_bytes(&tar);
    let err = store.unpack(&id, &tar[..]).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("evil/etc/pwned"), "{text}");
    assert!(!store.contains(&id));
}

#[test]
fn layers_are_stored_in_overlay_format() {
    if !privileged("layers_are_stored_in_overlay_format") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let store = LayerStore::open(dir.path()).unwrap();
    let tar = RawTar::new()
        .file(".wh.gone", b"")
        .dir("opq/")
        .file("opq/.wh..wh..opq", b"")
        .file("opq/new", b"n")
        .finish();
    let path = store.unpack(&Digest::of_bytes(&tar), &tar[..]).unwrap();
    let wh = std::fs::symlink_metadata(path.join("gone")).unwrap();
    assert!(
        wh.file_type().is_char_device() && wh.rdev() == 0,
        "whiteout is a 0/0 char device"
    );
    assert_eq!(
        xattr::get(path.join("opq"), store.opaque_xattr())
            .unwrap()
            .as_deref(),
        Some(&b"y"[..])
    );
    assert!(!path.join("opq/.wh..wh..opq").exists());
}

#[test]
fn prune_keeps_roots_and_snapshot_parents() {
    let dir = tempfile::tempdir().unwrap();
    let content = ContentStore::open(dir.path()).unwrap();
    let blobs: Vec<Digest> = ["a", "b", "c"]
        .iter()
        .map(|s| content.put_bytes(s.as_bytes()).unwrap())
        .collect();
    let snap =
        Snapshotter::open_with_backend(dir.path(), rbuild_snapshotter::BackendKind::Copy).unwrap();
    let layers: Vec<Digest> = ["one", "two", "three"]
        .iter()
        .map(|name| {
            let tar = RawTar::new().file(name, name.as_bytes()).finish();
            let id = Digest::of_bytes(&tar);
            snap.layers().unpack(&id, &tar[..]).unwrap();
            id
        })
        .collect();
    snap.prepare("in-use", std::slice::from_ref(&layers[1]))
        .unwrap();
    let keep = PruneRoots {
        blobs: [blobs[0].clone()].into(),
        layers: [layers[0].clone()].into(),
    };
    let report = prune(dir.path(), &keep).unwrap();
    let mut removed_blobs = blobs[1..].to_vec();
    removed_blobs.sort();
    assert_eq!(report.blobs_removed, removed_blobs);
    assert_eq!(report.blob_bytes_freed, 2);
    assert_eq!(report.layers_removed, vec![layers[2].clone()]);
    assert_eq!(content.list().unwrap(), vec![blobs[0].clone()]);
    let mut left = vec![layers[0].clone(), layers[1].clone()];
    left.sort();
    assert_eq!(snap.layers().list().unwrap(), left);
    // Once the snapshot is gone its parent goes too.
    snap.remove("in-use").unwrap();
    let report = prune(dir.path(), &keep).unwrap();
    assert_eq!(report.layers_removed, vec![layers[1].clone()]);
}

#[test]
fn prune_waits_for_shared_users() {
    let dir = tempfile::tempdir().unwrap();
    let content = ContentStore::open(dir.path()).unwrap();
    let blob = content.put_bytes(b"x").unwrap();
    let shared = FileLock::acquire(&store_lock_path(dir.path()), LockMode::Shared).unwrap();
    assert!(
        FileLock::try_acquire(&store_lock_path(dir.path()), LockMode::Exclusive)
            .unwrap()
            .is_none()
    );
    let root = dir.path().to_path_buf();
    let pruner = std::thread::spawn(move || prune(&root, &PruneRoots::default()).unwrap());
    std::thread::sleep(std::time::Duration::from_millis(200));
    assert!(
        content.contains(&blob),
        "prune must wait for the shared lock holder"
    );
    drop(shared);
    let report = pruner.join().unwrap();
    assert_eq!(report.blobs_removed, vec![blob]);
}

#[test]
fn crash_leftovers_are_invisible_and_cleaned() {
    let dir = tempfile::tempdir().unwrap();
    let store = LayerStore::open(dir.path()).unwrap();
    // What a process killed mid-extraction leaves: a temporary directory nobody locks.
    let leftover = dir.path().join("tmp/layer-4242-0-0");
    std::fs::create_dir_all(leftover.join("usr/bin")).unwrap();
    std::fs::write(leftover.join("usr/bin/half"), b"half").unwrap();
    let old = std::time::SystemTime::now() - std::time::Duration::from_secs(600);
    std::fs::File::open(&leftover)
        .unwrap()
        .set_modified(old)
        .unwrap();
    assert!(
        store.list().unwrap().is_empty(),
        "nothing half-extracted is visible"
    );
    LayerStore::open(dir.path()).unwrap();
    assert!(!leftover.exists());
}

#[test]
fn prune_waits_for_blob_writers() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let content = ContentStore::open(dir.path()).unwrap();
    let mut writer = content.writer().unwrap();
    writer.write_all(b"being downloaded").unwrap();
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (root, flag) = (dir.path().to_path_buf(), Arc::clone(&done));
    let pruner = std::thread::spawn(move || {
        let report = prune(&root, &PruneRoots::default()).unwrap();
        flag.store(true, Ordering::SeqCst);
        report
    });
    std::thread::sleep(std::time::Duration::from_millis(200));
    assert!(
        !done.load(Ordering::SeqCst),
        "prune ran while a blob was being written"
    );
    let (digest, _) = writer.commit(None).unwrap();
    let report = pruner.join().unwrap();
    // The finished blob was unreferenced, so prune removed it whole, never half.
    assert_eq!(report.blobs_removed, vec![digest]);
    assert_eq!(
        std::fs::read_dir(dir.path().join("tmp")).unwrap().count(),
        0
    );
}
