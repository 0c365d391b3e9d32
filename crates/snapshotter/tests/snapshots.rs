//! Snapshot verbs on both backends, with real mounts (root; CI=true forbids skipping).
//! Every test runs for each backend: the copy fallback and overlayfs.

mod common;

use std::collections::BTreeMap;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};

use common::{
    Node, assert_same_tree, backends, full_tar, privileged, tar_names, tree, with_mounted,
};
use rbuild_snapshotter::{
    BackendKind, Digest, ExtractOptions, LayerTarOptions, SnapshotError, Snapshotter, StoreError,
    extract_layer,
};

/// A base layer: the tree, its tar and its diffID (unpacked into the store).
fn base_layer(snap: &Snapshotter) -> (Vec<u8>, Digest) {
    let src = tempfile::tempdir().unwrap();
    let p = src.path();
    for d in ["etc", "dir/sub", "opq/inner", "tofile/deep", "kept"] {
        std::fs::create_dir_all(p.join(d)).unwrap();
    }
    for (f, data) in [
        ("etc/hosts", "127.0.0.1 localhost\n"),
        ("dir/a", "a"),
        ("dir/sub/b", "b"),
        ("opq/x", "x"),
        ("opq/inner/y", "y"),
        ("gone", "gone"),
        ("todir", "file that becomes a directory"),
        ("tofile/deep/z", "z"),
        ("kept/k", "k"),
    ] {
        std::fs::write(p.join(f), data).unwrap();
    }
    symlink("etc/hosts", p.join("hosts-link")).unwrap();
    std::fs::set_permissions(p.join("dir/a"), std::fs::Permissions::from_mode(0o600)).unwrap();
    let tar = full_tar(p);
    let diff_id = Digest::of_bytes(&tar);
    snap.layers().unpack(&diff_id, &tar[..]).unwrap();
    (tar, diff_id)
}

/// The changes a RUN step might make: delete, replace a dir by a file and a file by a
/// dir, recreate a dir (opaque), modify, chmod, chown, add.
fn mutate(root: &Path) {
    std::fs::remove_file(root.join("gone")).unwrap();
    std::fs::remove_dir_all(root.join("tofile")).unwrap();
    std::fs::write(root.join("tofile"), b"now a file").unwrap();
    std::fs::remove_file(root.join("todir")).unwrap();
    std::fs::create_dir(root.join("todir")).unwrap();
    std::fs::write(root.join("todir/f"), b"inside").unwrap();
    std::fs::remove_dir_all(root.join("opq")).unwrap();
    std::fs::create_dir(root.join("opq")).unwrap();
    std::fs::write(root.join("opq/new"), b"fresh").unwrap();
    std::fs::write(root.join("etc/hosts"), b"10.0.0.1 changed\n").unwrap();
    std::fs::set_permissions(
        root.join("dir/sub/b"),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    std::os::unix::fs::lchown(root.join("dir/a"), Some(1000), Some(1000)).unwrap();
    std::fs::create_dir_all(root.join("added/deeper")).unwrap();
    std::fs::write(root.join("added/deeper/file"), b"added").unwrap();
}

fn open(backend: BackendKind) -> (tempfile::TempDir, Snapshotter) {
    let dir = tempfile::tempdir().unwrap();
    let snap = Snapshotter::open_with_backend(dir.path(), backend).unwrap();
    assert_eq!(snap.backend(), backend);
    (dir, snap)
}

fn apply_all(tars: &[&[u8]]) -> BTreeMap<PathBuf, Node> {
    let dir = tempfile::tempdir().unwrap();
    for tar in tars {
        extract_layer(*tar, dir.path(), &ExtractOptions::default()).unwrap();
    }
    tree(dir.path())
}

#[test]
fn whiteouts_for_delete_replace_and_opaque() {
    for backend in backends("whiteouts_for_delete_replace_and_opaque") {
        let (_dir, snap) = open(backend);
        let (base_tar, base) = base_layer(&snap);
        let mount = snap.prepare("step", std::slice::from_ref(&base)).unwrap();
        let expected = with_mounted(&mount, |root| {
            mutate(root);
            tree(root)
        });
        let mut layer = Vec::new();
        let committed = snap
            .commit("step", &mut layer, &LayerTarOptions::default())
            .unwrap();
        assert_eq!(committed.diff_id, Digest::of_bytes(&layer), "{backend:?}");
        assert!(matches!(snap.info("step"), Err(SnapshotError::NotFound(_))));

        let names = tar_names(&layer);
        assert!(
            names.contains(&".wh.gone".to_string()),
            "{backend:?}: {names:?}"
        );
        assert!(
            names.contains(&"tofile".to_string()),
            "{backend:?}: {names:?}"
        );
        assert!(names.contains(&"todir/".to_string()) && names.contains(&"todir/f".to_string()));
        let opaque = names.contains(&"opq/.wh..wh..opq".to_string());
        let explicit = names.contains(&"opq/.wh.x".to_string())
            && names.contains(&"opq/.wh.inner".to_string());
        assert!(
            opaque || explicit,
            "{backend:?}: recreated dir hides the old content: {names:?}"
        );
        if backend == BackendKind::Overlay {
            assert!(
                opaque,
                "overlay marks a recreated directory opaque: {names:?}"
            );
        }
        assert!(
            !names.iter().any(|n| n.starts_with("kept")),
            "unchanged paths are not in the diff: {names:?}"
        );

        // The diff applied on the lower reproduces the merged tree exactly.
        assert_same_tree(&expected, &apply_all(&[&base_tar, &layer]));

        // The committed layer is usable as a parent, through the backend's own mounts.
        let layers = [base.clone(), committed.diff_id.clone()];
        let view = snap.view("view", &layers).unwrap();
        assert!(view.is_read_only());
        assert_same_tree(&expected, &with_mounted(&view, tree));
        let next = snap.prepare("next", &layers).unwrap();
        assert_same_tree(&expected, &with_mounted(&next, tree));
        snap.remove("view").unwrap();
        snap.remove("next").unwrap();
    }
}

#[test]
fn unchanged_snapshot_has_an_empty_diff() {
    for backend in backends("unchanged_snapshot_has_an_empty_diff") {
        let (_dir, snap) = open(backend);
        let (_, base) = base_layer(&snap);
        let mount = snap.prepare("noop", &[base]).unwrap();
        with_mounted(&mount, |_| ());
        let mut out = Vec::new();
        let summary = snap
            .diff("noop", &mut out, &LayerTarOptions::default())
            .unwrap();
        assert_eq!(summary.entries, 0, "{backend:?}: {:?}", tar_names(&out));
    }
}

#[test]
fn snapshot_without_parents() {
    for backend in backends("snapshot_without_parents") {
        let (_dir, snap) = open(backend);
        let mount = snap.prepare("scratch", &[]).unwrap();
        let expected = with_mounted(&mount, |root| {
            std::fs::create_dir(root.join("bin")).unwrap();
            std::fs::write(root.join("bin/tool"), b"#!/bin/sh\n").unwrap();
            tree(root)
        });
        let mut layer = Vec::new();
        let committed = snap
            .commit("scratch", &mut layer, &LayerTarOptions::default())
            .unwrap();
        assert_same_tree(&expected, &apply_all(&[&layer]));
        let view = snap.view("v", &[committed.diff_id]).unwrap();
        assert_same_tree(&expected, &with_mounted(&view, tree));
        let empty = snap.view("empty", &[]).unwrap();
        assert!(with_mounted(&empty, tree).is_empty());
    }
}

#[test]
fn verbs_report_errors_and_usage() {
    for backend in backends("verbs_report_errors_and_usage") {
        let (_dir, snap) = open(backend);
        let (_, base) = base_layer(&snap);
        let mount = snap.prepare("s", std::slice::from_ref(&base)).unwrap();
        with_mounted(&mount, |root| {
            std::fs::write(root.join("blob"), vec![1u8; 200_000]).unwrap()
        });
        let usage = snap.usage("s").unwrap();
        assert!(usage.size >= 200_000, "{backend:?}: {usage:?}");
        assert!(usage.inodes >= 2);
        assert!(matches!(
            snap.prepare("s", &[]),
            Err(SnapshotError::Exists(_))
        ));
        let missing = Digest::of_bytes(b"no such layer");
        assert!(matches!(
            snap.prepare("t", &[missing]),
            Err(SnapshotError::Store(StoreError::NotFound {
                what: "layer",
                ..
            }))
        ));
        snap.view("ro", std::slice::from_ref(&base)).unwrap();
        assert!(matches!(
            snap.diff("ro", Vec::new(), &LayerTarOptions::default()),
            Err(SnapshotError::NotActive(_))
        ));
        let keys: Vec<String> = snap.list().unwrap().into_iter().map(|i| i.key).collect();
        assert_eq!(keys, vec!["ro".to_string(), "s".to_string()]);
        snap.remove("s").unwrap();
        assert!(matches!(snap.remove("s"), Err(SnapshotError::NotFound(_))));
        assert!(matches!(snap.usage("s"), Err(SnapshotError::NotFound(_))));
    }
}

#[test]
fn same_layer_committed_twice_is_stored_once() {
    for backend in backends("same_layer_committed_twice_is_stored_once") {
        let (_dir, snap) = open(backend);
        let (_, base) = base_layer(&snap);
        let mut ids = Vec::new();
        for key in ["one", "two"] {
            let mount = snap.prepare(key, std::slice::from_ref(&base)).unwrap();
            with_mounted(&mount, |root| {
                std::fs::remove_file(root.join("gone")).unwrap()
            });
            let opts = LayerTarOptions {
                source_date_epoch: Some(0),
            };
            ids.push(snap.commit(key, Vec::new(), &opts).unwrap().diff_id);
        }
        assert_eq!(
            ids[0], ids[1],
            "{backend:?}: same change, same clamped layer"
        );
        assert_eq!(snap.layers().list().unwrap().len(), 2);
    }
}

#[test]
fn overlay_chosen_automatically_and_fallback_when_refused() {
    if !privileged("overlay_chosen_automatically_and_fallback_when_refused") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let snap = Snapshotter::open(dir.path()).unwrap();
    assert_eq!(
        snap.backend(),
        BackendKind::Overlay,
        "overlay works on this file system as root"
    );

    // A store on an overlay mount: overlayfs refuses an overlay as upper directory.
    let outer = tempfile::tempdir().unwrap();
    let [lower, upper, work, merged] = ["l", "u", "w", "m"].map(|n| outer.path().join(n));
    for d in [&lower, &upper, &work, &merged] {
        std::fs::create_dir(d).unwrap();
    }
    let options = format!(
        "lowerdir={},upperdir={},workdir={}",
        lower.display(),
        upper.display(),
        work.display()
    );
    let mount = rbuild_snapshotter::Mount {
        fstype: "overlay".into(),
        source: "overlay".into(),
        options: vec![options],
    };
    mount.mount_at(&merged).unwrap();
    let result = std::panic::catch_unwind(|| {
        let snap = Snapshotter::open(&merged.join("store")).unwrap();
        assert_eq!(
            snap.backend(),
            BackendKind::Copy,
            "fallback when overlay refuses the store"
        );
    });
    rbuild_snapshotter::unmount(&merged).unwrap();
    if let Err(p) = result {
        std::panic::resume_unwind(p);
    }
}

/// A store whose disk is full cannot even hold the overlay probe: that is an error naming
/// the full disk, not a silent switch to the copy backend (which would copy whole layers).
#[test]
fn a_full_disk_is_an_error_not_a_switch_to_the_copy_backend() {
    if !privileged("a_full_disk_is_an_error_not_a_switch_to_the_copy_backend") {
        return;
    }
    let disk = tempfile::tempdir().unwrap();
    rustix::mount::mount(
        "tmpfs",
        disk.path(),
        "tmpfs",
        rustix::mount::MountFlags::empty(),
        c"size=1m",
    )
    .unwrap();
    let result = std::panic::catch_unwind(|| {
        let root = disk.path().join("store");
        let first = Snapshotter::open(&root).unwrap();
        assert_eq!(first.backend(), BackendKind::Overlay);
        // Fill what is left.
        let mut filler = std::fs::File::create(disk.path().join("filler")).unwrap();
        let block = vec![0u8; 64 * 1024];
        while std::io::Write::write_all(&mut filler, &block).is_ok() {}
        match Snapshotter::open(&root) {
            Err(e) => assert!(e.to_string().contains("disk is full"), "{e}"),
            Ok(s) => panic!("opened with the {:?} backend on a full disk", s.backend()),
        }
    });
    rbuild_snapshotter::unmount(disk.path()).unwrap();
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}
