//! Shared setup for the builder's end-to-end tests: a private store with a busybox base
//! image made from Debian's busybox-static (no registry), and helpers to build and look
//! inside images.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rbuild_builder::build::{
    BuildError, BuildEvent, BuildOptions, BuildOutcome, build, export_outputs,
};
use rbuild_oci::ImageStore;
use rbuild_oci::output::OutputSpec;

/// Root and busybox are needed; in CI they must be there, elsewhere the test is skipped.
pub fn can_run() -> bool {
    let root = rustix::process::geteuid().is_root();
    let busybox = Path::new("/bin/busybox").exists();
    if root && busybox {
        return true;
    }
    assert!(
        std::env::var("CI").is_err(),
        "CI must run the builder tests: needs root and busybox-static (root={root}, busybox={busybox})"
    );
    eprintln!("skipped: needs root and /bin/busybox (apt-get install busybox-static)");
    false
}

/// A private store with `busybox:latest` in it.
pub struct TestStore {
    pub dir: tempfile::TempDir,
}

impl TestStore {
    pub fn new() -> TestStore {
        let dir = tempfile::tempdir().expect("temp store");
        let store = TestStore { dir };
        let ctx = tempfile::tempdir().expect("temp context");
        write_busybox_context(ctx.path());
        store
            .build(BuildOptions::new(ctx.path()).tag("busybox:latest"))
            .expect("busybox base image builds");
        store
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn images(&self) -> ImageStore {
        ImageStore::open(self.root()).expect("image store")
    }

    pub fn build(&self, options: BuildOptions) -> Result<BuildOutcome, BuildError> {
        build(&options.store_root(self.root()))
    }

    /// Builds and records every event.
    pub fn build_events(
        &self,
        options: BuildOptions,
    ) -> (Result<BuildOutcome, BuildError>, Vec<BuildEvent>) {
        let events = Arc::new(Mutex::new(Vec::new()));
        let sink = events.clone();
        let result = self.build(options.on_event(move |e| sink.lock().unwrap().push(e.clone())));
        let events = events.lock().unwrap().clone();
        (result, events)
    }

    /// The image's root file system, unpacked into a new directory.
    pub fn rootfs(&self, outcome: &BuildOutcome) -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("rootfs dir");
        let dest = dir.path().join("fs");
        let spec = OutputSpec::parse(&format!("type=local,dest={}", dest.display())).expect("spec");
        export_outputs(&self.images(), &outcome.manifest_digest, &[spec]).expect("export rootfs");
        dir
    }
}

/// Texts of the steps that ran and that came from the cache.
pub fn step_summary(events: &[BuildEvent]) -> (Vec<String>, Vec<String>) {
    let mut ran = Vec::new();
    let mut cached = Vec::new();
    for e in events {
        match e {
            BuildEvent::StepMissed { step, .. } => ran.push(step.text.clone()),
            BuildEvent::StepCached { step } => cached.push(step.text.clone()),
            _ => {}
        }
    }
    (ran, cached)
}

/// The reasons given for each missed step.
pub fn miss_reasons(events: &[BuildEvent]) -> Vec<(String, Vec<String>)> {
    events
        .iter()
        .filter_map(|e| match e {
            BuildEvent::StepMissed { step, reasons } => Some((step.text.clone(), reasons.clone())),
            _ => None,
        })
        .collect()
}

/// A busybox root file system and a FROM-scratch Dockerfile (what scripts/busybox-context.sh
/// writes).
pub fn write_busybox_context(dir: &Path) {
    // One definition of the base image's files: the script the README's command uses.
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/busybox-context.sh");
    let status = std::process::Command::new("bash")
        .arg(script)
        .arg(dir)
        .status()
        .unwrap();
    assert!(status.success(), "scripts/busybox-context.sh failed");
    // The tests' own users and groups.
    let rootfs = dir.join("rootfs");
    std::fs::write(
        rootfs.join("etc/passwd"),
        "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
    )
    .unwrap();
    std::fs::write(
        rootfs.join("etc/group"),
        "root:x:0:\napp:x:1000:\nstaff:x:50:\nnogroup:x:65534:\n",
    )
    .unwrap();
}

/// A context directory with a Dockerfile and files.
pub fn context(dockerfile: &str, files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("Dockerfile"), dockerfile).unwrap();
    for (path, content) in files {
        let p = dir.path().join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, content).unwrap();
    }
    dir
}

pub fn read(root: &Path, rel: &str) -> String {
    std::fs::read_to_string(root.join("fs").join(rel))
        .unwrap_or_else(|e| panic!("reading {rel}: {e}"))
}

pub fn path(root: &Path, rel: &str) -> PathBuf {
    root.join("fs").join(rel)
}

pub mod registry;

/// Nothing a build used is left behind in the store's scratch space: no download, no
/// fetched context, no rw overlay, no mount point. (A store no build has opened has no
/// scratch space at all.)
pub fn assert_no_leftovers(store: &TestStore) {
    let run = store.root().join("run");
    let Ok(entries) = std::fs::read_dir(&run) else {
        return;
    };
    let names: Vec<String> = entries
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != "sandbox" && n != "mnt")
        .collect();
    assert!(names.is_empty(), "left in run/: {names:?}");
    // A remote context fetched outside a build makes run/ but no mount directory.
    if let Ok(mounts) = std::fs::read_dir(run.join("mnt")) {
        let mounts: Vec<_> = mounts.collect();
        assert!(mounts.is_empty(), "left in run/mnt: {mounts:?}");
    }
}
