//! Content store: atomic, verified, shareable between threads and processes.

use std::io::{Read, Write};
use std::sync::Arc;

use rbuild_snapshotter::{ContentStore, Digest, StoreError};

fn store() -> (tempfile::TempDir, ContentStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = ContentStore::open(dir.path()).unwrap();
    (dir, store)
}

#[test]
fn put_then_read_back() {
    let (_dir, store) = store();
    let d = store.put_bytes(b"{\"hello\":1}").unwrap();
    assert_eq!(d, Digest::of_bytes(b"{\"hello\":1}"));
    assert!(store.contains(&d));
    assert_eq!(store.size(&d).unwrap(), 11);
    let mut text = String::new();
    store
        .open_blob(&d)
        .unwrap()
        .read_to_string(&mut text)
        .unwrap();
    assert_eq!(text, "{\"hello\":1}");
    assert_eq!(store.list().unwrap(), vec![d.clone()]);
    assert!(
        store
            .blob_path(&d)
            .ends_with(format!("blobs/sha256/{}", d.hex()))
    );
    store.delete(&d).unwrap();
    assert!(!store.contains(&d));
    assert!(matches!(store.delete(&d), Err(StoreError::NotFound { .. })));
    assert!(matches!(
        store.open_blob(&d),
        Err(StoreError::NotFound { .. })
    ));
}

#[test]
fn wrong_digest_is_rejected_and_leaves_nothing() {
    let (dir, store) = store();
    let claimed = Digest::of_bytes(b"the real content");
    let mut w = store.writer().unwrap();
    w.write_all(b"tampered content").unwrap();
    let err = w.commit(Some(&claimed)).unwrap_err();
    match err {
        StoreError::DigestMismatch { expected, actual } => {
            assert_eq!(expected, claimed);
            assert_eq!(actual, Digest::of_bytes(b"tampered content"));
        }
        other => panic!("unexpected error {other}"),
    }
    assert!(!store.contains(&claimed));
    assert!(store.list().unwrap().is_empty());
    assert_eq!(
        std::fs::read_dir(dir.path().join("tmp")).unwrap().count(),
        0
    );
}

#[test]
fn expected_digest_accepted_when_right() {
    let (_dir, store) = store();
    let data = vec![7u8; 1 << 20];
    let expected = Digest::of_bytes(&data);
    let mut w = store.writer().unwrap();
    for chunk in data.chunks(4096) {
        w.write_all(chunk).unwrap();
    }
    assert_eq!(
        w.commit(Some(&expected)).unwrap(),
        (expected.clone(), 1 << 20)
    );
    assert_eq!(store.size(&expected).unwrap(), 1 << 20);
}

#[test]
fn dropped_writer_leaves_no_temp_file() {
    let (dir, store) = store();
    let mut w = store.writer().unwrap();
    w.write_all(b"partial").unwrap();
    drop(w);
    assert_eq!(
        std::fs::read_dir(dir.path().join("tmp")).unwrap().count(),
        0
    );
    assert!(store.list().unwrap().is_empty());
}

#[test]
fn concurrent_writers_of_the_same_blob() {
    let (_dir, store) = store();
    let store = Arc::new(store);
    let data: Arc<Vec<u8>> = Arc::new((0..200_000u32).map(|i| (i % 251) as u8).collect());
    let expected = Digest::of_bytes(&data);
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let store = Arc::clone(&store);
            let data = Arc::clone(&data);
            let expected = expected.clone();
            std::thread::spawn(move || {
                for _ in 0..5 {
                    let mut w = store.writer().unwrap();
                    for chunk in data.chunks(7919) {
                        w.write_all(chunk).unwrap();
                    }
                    let (d, size) = w.commit(Some(&expected)).unwrap();
                    assert_eq!(d, expected);
                    assert_eq!(size, data.len() as u64);
                    // Readers never see a partial blob.
                    let mut back = Vec::new();
                    store.open_blob(&d).unwrap().read_to_end(&mut back).unwrap();
                    assert_eq!(back.len(), data.len());
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(store.list().unwrap(), vec![expected]);
    let tmp_left = std::fs::read_dir(store.root().join("tmp")).unwrap().count();
    assert_eq!(tmp_left, 0);
}

#[test]
fn abandoned_temp_files_are_cleaned_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let _store = ContentStore::open(dir.path()).unwrap();
    // A temporary file no process holds a lock on, as a killed writer leaves it, and old.
    let stale = dir.path().join("tmp/blob-999999-0-0");
    std::fs::write(&stale, b"half a blob").unwrap();
    let old = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    std::fs::File::options()
        .write(true)
        .open(&stale)
        .unwrap()
        .set_modified(old)
        .unwrap();
    // One in use by a live writer must survive.
    let store = ContentStore::open(dir.path()).unwrap();
    let mut live = store.writer().unwrap();
    live.write_all(b"in progress").unwrap();
    assert!(!stale.exists(), "abandoned temp file was not removed");
    let _again = ContentStore::open(dir.path()).unwrap();
    let d = live.commit(None).unwrap().0;
    assert!(store.contains(&d));
}

#[test]
fn list_ignores_foreign_files() {
    let (dir, store) = store();
    std::fs::write(dir.path().join("blobs/sha256/not-a-digest"), b"x").unwrap();
    let d = store.put_bytes(b"a").unwrap();
    assert_eq!(store.list().unwrap(), vec![d]);
}

#[test]
fn read_bytes_verifies_content() {
    let (_dir, store) = store();
    let d = store.put_bytes(b"{\"config\":true}").unwrap();
    assert_eq!(store.read_bytes(&d).unwrap(), b"{\"config\":true}");
    // Corrupt it on disk (blobs are read-only; root ignores that, so make it writable).
    let path = store.blob_path(&d);
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    std::fs::write(&path, b"{\"config\":fals}").unwrap();
    assert!(matches!(
        store.read_bytes(&d),
        Err(StoreError::DigestMismatch { .. })
    ));
}

#[test]
fn put_reader_streams_and_verifies() {
    let (_dir, store) = store();
    let data = vec![9u8; 100_000];
    let d = Digest::of_bytes(&data);
    assert_eq!(
        store.put_reader(&data[..], Some(&d)).unwrap(),
        (d.clone(), 100_000)
    );
    let wrong = Digest::of_bytes(b"other");
    assert!(matches!(
        store.put_reader(&b"not it"[..], Some(&wrong)),
        Err(StoreError::DigestMismatch { .. })
    ));
}
