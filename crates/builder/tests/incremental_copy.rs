//! A COPY into a fresh destination is written straight into the snapshot's upper
//! directory, and a rebuild after a change links the unchanged files from the previous
//! build's layer: the image must be exactly the one a copy from scratch gives.

mod support;

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use rbuild_builder::build::{BuildEvent, BuildOptions, BuildOutcome};
use support::{TestStore, can_run, context, step_summary};

const EPOCH: i64 = 1_700_000_000;

/// The unpacked top layer of an image.
fn top_layer(store: &TestStore, outcome: &BuildOutcome) -> PathBuf {
    let diff_id = outcome.config.rootfs.diff_ids.last().expect("a layer");
    store.root().join("layers").join(diff_id.hex())
}

fn meta(path: &Path) -> std::fs::Metadata {
    std::fs::symlink_metadata(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn a_rebuild_links_unchanged_files_and_gives_the_image_a_fresh_copy_gives() {
    if !can_run() {
        return;
    }
    let store = TestStore::new();
    // WORKDIR makes /srv/app in a layer below: the COPY goes into an existing empty
    // directory, which must be copied up through the overlay first.
    let ctx = context(
        "FROM busybox\nWORKDIR /srv/app\nCOPY . .\n",
        &[
            ("a.txt", "A"),
            ("sub/b.txt", "B"),
            ("sub/deep/c.txt", "C"),
            ("change.txt", "before"),
            ("mode.txt", "M"),
        ],
    );
    std::os::unix::fs::symlink("a.txt", ctx.path().join("link")).unwrap();
    let build = |no_cache: bool| {
        store
            .build(
                BuildOptions::new(ctx.path())
                    .source_date_epoch(EPOCH)
                    .no_cache(no_cache),
            )
            .expect("build")
    };
    let first = build(false);
    let first_layer = top_layer(&store, &first);

    std::fs::write(ctx.path().join("change.txt"), "after").unwrap();
    let mode = ctx.path().join("mode.txt");
    std::fs::set_permissions(&mode, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let (second, events) = store.build_events(
        BuildOptions::new(ctx.path())
            .source_date_epoch(EPOCH)
            .no_cache(false),
    );
    let second = second.expect("rebuild");
    let (ran, _) = step_summary(&events);
    assert_eq!(
        ran,
        vec!["COPY . .".to_string()],
        "only the COPY runs again"
    );
    // The step says what it reused (the Dockerfile is in the context too).
    let output: String = events
        .iter()
        .filter_map(|e| match e {
            BuildEvent::StepOutput { data, .. } => Some(String::from_utf8_lossy(data).into_owned()),
            _ => None,
        })
        .collect();
    assert_eq!(
        output,
        "4 files unchanged since this step's last build, linked from its layer; 2 files copied\n"
    );
    let second_layer = top_layer(&store, &second);
    assert_ne!(first_layer, second_layer);

    // Unchanged files share the previous layer's inodes; changed ones do not.
    let app = |layer: &Path, rel: &str| layer.join("srv/app").join(rel);
    for rel in ["a.txt", "sub/b.txt", "sub/deep/c.txt"] {
        assert_eq!(
            meta(&app(&second_layer, rel)).ino(),
            meta(&app(&first_layer, rel)).ino(),
            "{rel} is linked"
        );
    }
    for rel in ["change.txt", "mode.txt"] {
        assert_ne!(
            meta(&app(&second_layer, rel)).ino(),
            meta(&app(&first_layer, rel)).ino(),
            "{rel} changed, so it is copied"
        );
    }
    assert_eq!(
        std::fs::read_to_string(app(&second_layer, "change.txt")).unwrap(),
        "after"
    );
    assert_eq!(meta(&app(&second_layer, "mode.txt")).mode() & 0o7777, 0o600);
    assert!(meta(&app(&second_layer, "link")).file_type().is_symlink());

    // A build from scratch (--no-cache links nothing) gives the very same layer.
    let fresh = build(true);
    assert_eq!(fresh.config.rootfs.diff_ids, second.config.rootfs.diff_ids);
    assert_eq!(fresh.manifest_digest, second.manifest_digest);

    // The image reads back as written: through an export of the layer tar.
    let fs = store.rootfs(&second);
    assert_eq!(support::read(fs.path(), "srv/app/sub/deep/c.txt"), "C");
    assert_eq!(support::read(fs.path(), "srv/app/change.txt"), "after");
    assert_eq!(
        std::fs::read_link(support::path(fs.path(), "srv/app/link")).unwrap(),
        Path::new("a.txt")
    );
    support::assert_no_leftovers(&store);
}

#[test]
fn other_owners_or_destinations_are_copied_not_linked() {
    if !can_run() {
        return;
    }
    let store = TestStore::new();
    let files = [("a.txt", "A"), ("b.txt", "B")];
    let plain = context("FROM busybox\nCOPY . /app\n", &files);
    let first = store.build(BuildOptions::new(plain.path())).expect("build");
    let first_layer = top_layer(&store, &first);

    // The same step with --chown: another instruction, its own files with their owner.
    std::fs::write(
        plain.path().join("Dockerfile"),
        "FROM busybox\nCOPY --chown=1000:50 . /app\n",
    )
    .unwrap();
    let chowned = store.build(BuildOptions::new(plain.path())).expect("build");
    let layer = top_layer(&store, &chowned);
    for rel in ["a.txt", "b.txt"] {
        let m = meta(&layer.join("app").join(rel));
        assert_eq!((m.uid(), m.gid()), (1000, 50));
        assert_ne!(m.ino(), meta(&first_layer.join("app").join(rel)).ino());
    }

    // Into a directory the base image already fills (/etc): copied through the overlay,
    // merged with what is there.
    std::fs::write(
        plain.path().join("Dockerfile"),
        "FROM busybox\nCOPY . /etc/\n",
    )
    .unwrap();
    let merged = store.build(BuildOptions::new(plain.path())).expect("build");
    let fs = store.rootfs(&merged);
    assert_eq!(support::read(fs.path(), "etc/a.txt"), "A");
    assert!(support::read(fs.path(), "etc/passwd").contains("root:x:0:0"));
}

/// With --chmod, --chown and a .dockerignore that re-includes a file below an excluded
/// directory (its parent is made by the path-based rules), a rebuild still links what it
/// can and gives exactly the layer of a copy from scratch.
#[test]
fn flags_and_ignore_exceptions_give_the_same_layer_as_a_fresh_copy() {
    if !can_run() {
        return;
    }
    let store = TestStore::new();
    let ctx = context(
        "FROM busybox\nCOPY --chmod=640 --chown=1000:50 . /opt/app\n",
        &[
            (".dockerignore", "skip/\n!skip/keep.txt\nDockerfile\n"),
            ("a.txt", "A"),
            ("deep/b.txt", "B"),
            ("skip/gone.txt", "ignored"),
            ("skip/keep.txt", "kept"),
            ("edit.txt", "one"),
        ],
    );
    let build = |no_cache: bool| {
        store.build_events(
            BuildOptions::new(ctx.path())
                .source_date_epoch(EPOCH)
                .no_cache(no_cache),
        )
    };
    build(false).0.expect("first build");
    std::fs::write(ctx.path().join("edit.txt"), "two").unwrap();
    let (incremental, events) = build(false);
    let incremental = incremental.expect("rebuild");
    let linked = events.iter().any(|e| {
        matches!(e, BuildEvent::StepOutput { data, .. }
            if String::from_utf8_lossy(data).contains("unchanged since this step's last build"))
    });
    assert!(linked, "the rebuild linked nothing");
    let (fresh, _) = build(true);
    let fresh = fresh.expect("--no-cache build");
    assert_eq!(
        fresh.config.rootfs.diff_ids,
        incremental.config.rootfs.diff_ids
    );

    let fs = store.rootfs(&incremental);
    assert_eq!(support::read(fs.path(), "opt/app/skip/keep.txt"), "kept");
    assert!(!support::path(fs.path(), "opt/app/skip/gone.txt").exists());
    assert_eq!(support::read(fs.path(), "opt/app/edit.txt"), "two");
    let m = meta(&support::path(fs.path(), "opt/app/deep/b.txt"));
    assert_eq!((m.mode() & 0o7777, m.uid(), m.gid()), (0o640, 1000, 50));
}
