//! The overlay path inside a user namespace (how rootless builds run): opaque markers as
//! `user.overlay.opaque`, overlay mounted with `userxattr`, whiteouts and opaque
//! directories still found by the diff. The test re-runs itself under
//! `unshare --user --map-root-user --mount`.

mod common;

use std::path::Path;
use std::process::Command;

use common::{RawTar, privileged, tar_names};
use rbuild_snapshotter::{BackendKind, Digest, LayerTarOptions, Snapshotter, USER_OPAQUE, unmount};

const ROOT: &str = "RBUILD_SNAPSHOTTER_USERNS_ROOT";

#[test]
fn overlay_snapshots_work_in_a_user_namespace() {
    if !privileged("overlay_snapshots_work_in_a_user_namespace") {
        return;
    }
    if Command::new("unshare").arg("--version").output().is_err() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "unshare (util-linux) is needed under CI=true"
        );
        eprintln!("SKIP overlay_snapshots_work_in_a_user_namespace: unshare not installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new("unshare")
        .args(["--user", "--map-root-user", "--mount"])
        .arg(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "userns_worker",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(ROOT, dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "worker failed:\n{stdout}\n{stderr}");
    assert!(
        stdout.contains("userns worker done"),
        "worker did not run:\n{stdout}\n{stderr}"
    );
}

/// Runs inside the user namespace; does nothing when started directly.
#[test]
fn userns_worker() {
    let Ok(root) = std::env::var(ROOT) else {
        return;
    };
    let root = Path::new(&root);
    let snap = Snapshotter::open_with_backend(root, BackendKind::Overlay).unwrap();
    assert_eq!(
        snap.layers().opaque_xattr(),
        USER_OPAQUE,
        "trusted.* is not ours to set here"
    );
    Snapshotter::probe_overlay(root).unwrap();

    let base_tar = RawTar::new()
        .dir("keep/")
        .file("keep/a", b"a")
        .file("gone", b"g")
        .dir("opq/")
        .file("opq/old", b"o")
        .finish();
    let base = Digest::of_bytes(&base_tar);
    let layer_dir = snap.layers().unpack(&base, &base_tar[..]).unwrap();
    assert!(layer_dir.join("keep/a").is_file());

    let mount = snap.prepare("step", std::slice::from_ref(&base)).unwrap();
    assert!(mount.options.iter().any(|o| o == "userxattr"), "{mount:?}");
    let target = tempfile::tempdir().unwrap();
    mount.mount_at(target.path()).unwrap();
    std::fs::remove_file(target.path().join("gone")).unwrap();
    std::fs::remove_dir_all(target.path().join("opq")).unwrap();
    std::fs::create_dir(target.path().join("opq")).unwrap();
    std::fs::write(target.path().join("opq/new"), b"n").unwrap();
    unmount(target.path()).unwrap();

    let mut tar = Vec::new();
    let layer = snap
        .commit("step", &mut tar, &LayerTarOptions::default())
        .unwrap();
    let names = tar_names(&tar);
    assert!(names.contains(&".wh.gone".to_string()), "{names:?}");
    assert!(names.contains(&"opq/.wh..wh..opq".to_string()), "{names:?}");

    // The committed layer stacks: the view shows the step's result.
    let view = snap.view("v", &[base, layer.diff_id]).unwrap();
    let target = tempfile::tempdir().unwrap();
    view.mount_at(target.path()).unwrap();
    assert!(!target.path().join("gone").exists());
    assert!(!target.path().join("opq/old").exists());
    assert_eq!(std::fs::read(target.path().join("opq/new")).unwrap(), b"n");
    assert_eq!(std::fs::read(target.path().join("keep/a")).unwrap(), b"a");
    unmount(target.path()).unwrap();
    println!("userns worker done");
}
