//! Shared test support: a busybox root file system built from Debian's busybox-static, and
//! the rule for when kernel-feature tests run.
#![allow(dead_code)]

use std::fs;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::process::Command;

use rbuild_sandbox::{OverlayRoot, RootFs};

pub const BUSYBOX: &str = "/bin/busybox";

/// Whether namespace tests can run here. They must run in CI (`CI=true`) and as root; else
/// they are skipped with the reason printed.
pub fn can_run(test: &str) -> bool {
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    // SAFETY: geteuid cannot fail.
    let root = unsafe { libc::geteuid() } == 0;
    if !Path::new(BUSYBOX).exists() {
        assert!(!ci, "{BUSYBOX} is missing in CI: install busybox-static");
        eprintln!("skipping {test}: {BUSYBOX} missing (install busybox-static)");
        return false;
    }
    if !root && !ci {
        eprintln!("skipping {test}: needs root (or CI=true) for namespaces and mounts");
        return false;
    }
    true
}

/// Writes a busybox root file system into `dir`: /bin/busybox, its applets as symlinks,
/// /etc/passwd and /etc/group with root, nobody and app (1000), /tmp. No /proc, /dev, /sys
/// or /etc/hosts: the sandbox has to provide them without leaking into the layer.
pub fn build_busybox_rootfs(dir: &Path) {
    for sub in [
        "bin", "etc", "tmp", "root", "home/app", "usr/bin", "sbin", "usr/sbin",
    ] {
        fs::create_dir_all(dir.join(sub)).unwrap();
    }
    fs::set_permissions(dir.join("tmp"), fs::Permissions::from_mode(0o1777)).unwrap();
    fs::copy(BUSYBOX, dir.join("bin/busybox")).unwrap();
    let list = Command::new(BUSYBOX)
        .arg("--list")
        .output()
        .expect("busybox --list");
    for applet in String::from_utf8_lossy(&list.stdout).lines() {
        let link = dir.join("bin").join(applet);
        if applet != "busybox" && !link.exists() {
            symlink("busybox", link).unwrap();
        }
    }
    fs::write(
        dir.join("etc/passwd"),
        "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\napp:x:1000:1000:app:/home/app:/bin/sh\n",
    )
    .unwrap();
    fs::write(
        dir.join("etc/group"),
        "root:x:0:\nwheel:x:10:root,app\naudio:x:29:app\nnogroup:x:65534:\napp:x:1000:\n",
    )
    .unwrap();
    std::os::unix::fs::chown(dir.join("home/app"), Some(1000), Some(1000)).ok();
}

/// A busybox root plus fresh upper and work directories, all in one temp dir.
pub struct OverlayFixture {
    pub dir: tempfile::TempDir,
}

impl OverlayFixture {
    pub fn new() -> OverlayFixture {
        let dir = tempfile::tempdir().unwrap();
        build_busybox_rootfs(&dir.path().join("lower"));
        for sub in ["upper", "work"] {
            fs::create_dir(dir.path().join(sub)).unwrap();
        }
        OverlayFixture { dir }
    }

    pub fn lower(&self) -> PathBuf {
        self.dir.path().join("lower")
    }

    pub fn upper(&self) -> PathBuf {
        self.dir.path().join("upper")
    }

    pub fn rootfs(&self) -> RootFs {
        RootFs::Overlay(OverlayRoot {
            lowers: vec![self.lower()],
            upper: self.upper(),
            work: self.dir.path().join("work"),
        })
    }

    /// Every path in the upper directory, relative, sorted.
    pub fn upper_entries(&self) -> Vec<String> {
        let mut out = Vec::new();
        walk(&self.upper(), &self.upper(), &mut out);
        out.sort();
        out
    }
}

fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) {
    for entry in fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let path = entry.path();
        out.push(
            path.strip_prefix(base)
                .unwrap()
                .to_string_lossy()
                .into_owned(),
        );
        if entry.file_type().unwrap().is_dir() {
            walk(base, &path, out);
        }
    }
}

/// Runs `spec` and returns the outcome and output, failing the test with the error text.
pub fn run(
    spec: &rbuild_sandbox::SandboxSpec,
) -> (rbuild_sandbox::RunOutcome, rbuild_sandbox::CollectedOutput) {
    match spec.run_collect() {
        Ok(result) => result,
        Err(e) => panic!("sandbox run failed: {e}"),
    }
}

/// Runs a shell script in a fresh overlay over busybox and returns its stdout; asserts
/// success.
pub fn sh(fx: &OverlayFixture, script: &str) -> String {
    let (outcome, output) = run(&rbuild_sandbox::SandboxSpec::new(
        fx.rootfs(),
        ["sh", "-c", script],
    ));
    assert!(
        outcome.exit.success(),
        "{script:?} ended with {}; stderr: {}",
        outcome.exit,
        output.stderr()
    );
    output.stdout()
}
