//! Layer blobs kept as recipes: a committed overlay layer's tar is written from the
//! unpacked layer on first use, byte for byte the tar the commit hashed, and the content
//! store treats the recipe as the blob (contains, size, list, delete, prune).

mod common;

use std::collections::BTreeSet;
use std::os::unix::fs::PermissionsExt;

use common::{privileged, with_mounted};
use rbuild_snapshotter::{
    BackendKind, ContentStore, Digest, LayerTarOptions, PruneRoots, Snapshotter, StoreError, prune,
};

/// Commits a snapshot with a few kinds of change over a base layer; returns the tar bytes
/// the commit produced and the snapshotter.
fn committed_layer(
    root: &std::path::Path,
    options: &LayerTarOptions,
) -> (Snapshotter, Vec<u8>, Digest) {
    let snap = Snapshotter::open_with_backend(root, BackendKind::Overlay).unwrap();
    let base_src = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(base_src.path().join("etc/old")).unwrap();
    std::fs::write(base_src.path().join("etc/gone"), "gone").unwrap();
    std::fs::write(base_src.path().join("etc/old/x"), "x").unwrap();
    let base_tar = common::full_tar(base_src.path());
    let base = Digest::of_bytes(&base_tar);
    snap.layers().unpack(&base, &base_tar[..]).unwrap();

    let mount = snap.prepare("step", std::slice::from_ref(&base)).unwrap();
    with_mounted(&mount, |r| {
        std::fs::remove_file(r.join("etc/gone")).unwrap();
        std::fs::remove_dir_all(r.join("etc/old")).unwrap();
        std::fs::create_dir(r.join("etc/old")).unwrap();
        std::fs::create_dir_all(r.join("app/sub")).unwrap();
        std::fs::write(r.join("app/sub/data"), vec![7u8; 100_000]).unwrap();
        std::fs::write(r.join("app/run.sh"), "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(
            r.join("app/run.sh"),
            std::fs::Permissions::from_mode(0o4755),
        )
        .unwrap();
        std::fs::hard_link(r.join("app/run.sh"), r.join("app/again.sh")).unwrap();
        std::os::unix::fs::symlink("sub/data", r.join("app/link")).unwrap();
    });
    let mut tar = Vec::new();
    let committed = snap.commit("step", &mut tar, options).unwrap();
    assert_eq!(committed.diff_id, Digest::of_bytes(&tar));
    (snap, tar, committed.diff_id)
}

#[test]
fn a_recipe_blob_is_written_on_first_open_exactly_as_committed() {
    if !privileged("a_recipe_blob_is_written_on_first_open_exactly_as_committed") {
        return;
    }
    for epoch in [None, Some(1_000)] {
        let dir = tempfile::tempdir().unwrap();
        let options = LayerTarOptions {
            source_date_epoch: epoch,
        };
        let (_snap, tar, diff_id) = committed_layer(dir.path(), &options);
        let content = ContentStore::open(dir.path()).unwrap();
        assert!(!content.contains(&diff_id));
        content
            .add_layer_recipe(&diff_id, tar.len() as u64, &options)
            .unwrap();
        assert!(content.contains(&diff_id));
        assert!(!content.blob_path(&diff_id).exists(), "nothing written yet");
        assert_eq!(content.size(&diff_id).unwrap(), tar.len() as u64);
        assert!(content.list().unwrap().contains(&diff_id));

        let mut opened = Vec::new();
        std::io::Read::read_to_end(&mut content.open_blob(&diff_id).unwrap(), &mut opened).unwrap();
        assert!(
            opened == tar,
            "epoch {epoch:?}: the regenerated tar differs"
        );
        assert!(content.blob_path(&diff_id).is_file(), "written once, kept");
        assert_eq!(
            content
                .list()
                .unwrap()
                .iter()
                .filter(|d| **d == diff_id)
                .count(),
            1
        );

        content.delete(&diff_id).unwrap();
        assert!(!content.contains(&diff_id));
        assert!(matches!(
            content.delete(&diff_id),
            Err(StoreError::NotFound { .. })
        ));
    }
}

/// A committed layer whose blob is recorded as a recipe only (default tar options).
fn recorded_recipe() -> (tempfile::TempDir, Snapshotter, ContentStore, Digest) {
    let dir = tempfile::tempdir().unwrap();
    let options = LayerTarOptions::default();
    let (snap, tar, diff_id) = committed_layer(dir.path(), &options);
    let content = ContentStore::open(dir.path()).unwrap();
    content
        .add_layer_recipe(&diff_id, tar.len() as u64, &options)
        .unwrap();
    (dir, snap, content, diff_id)
}

#[test]
fn a_changed_layer_is_reported_never_served() {
    if !privileged("a_changed_layer_is_reported_never_served") {
        return;
    }
    let (dir, snap, content, diff_id) = recorded_recipe();
    let layer = snap.layers().layer_path(&diff_id);
    std::fs::write(layer.join("app/run.sh"), "#!/bin/sh\nevil\n").unwrap();
    let err = content.open_blob(&diff_id).unwrap_err();
    assert!(matches!(err, StoreError::LayerChanged { .. }), "{err}");
    assert!(err.to_string().contains("rbuild prune"), "{err}");
    assert!(!content.blob_path(&diff_id).exists(), "no bad blob kept");
    assert_eq!(
        std::fs::read_dir(dir.path().join("tmp")).unwrap().count(),
        0,
        "no temporary file left"
    );
}

#[test]
fn prune_removes_an_unused_recipe_and_keeps_a_used_one_with_its_layer() {
    if !privileged("prune_removes_an_unused_recipe_and_keeps_a_used_one_with_its_layer") {
        return;
    }
    let (dir, snap, content, diff_id) = recorded_recipe();
    let keep = PruneRoots {
        blobs: BTreeSet::from([diff_id.clone()]),
        layers: BTreeSet::from([diff_id.clone()]),
    };
    prune(dir.path(), &keep).unwrap();
    assert!(content.contains(&diff_id));
    let report = prune(dir.path(), &PruneRoots::default()).unwrap();
    assert!(report.blobs_removed.contains(&diff_id));
    assert!(!content.contains(&diff_id));
    assert!(!snap.layers().contains(&diff_id));
    // Without its layer a recipe is no blob: it cannot be recorded either.
    assert!(matches!(
        content.add_layer_recipe(&diff_id, 1, &LayerTarOptions::default()),
        Err(StoreError::NotFound { what: "layer", .. })
    ));
}
