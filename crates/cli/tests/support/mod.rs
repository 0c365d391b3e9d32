//! Shared setup for the CLI's end-to-end tests: the real `rbuild` binary against a private
//! store (`--root TMPDIR`) holding a busybox base image made from Debian's busybox-static
//! with rbuild itself (what scripts/busybox-context.sh does), so no registry is needed.

#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// Root and busybox are needed; in CI they must be there, elsewhere the test is skipped.
pub fn can_run() -> bool {
    let root = unsafe_free_euid_is_root();
    let busybox = Path::new("/bin/busybox").exists();
    if root && busybox {
        return true;
    }
    assert!(
        std::env::var("CI").is_err(),
        "CI must run the CLI tests: needs root and busybox-static (root={root}, busybox={busybox})"
    );
    eprintln!("skipped: needs root and /bin/busybox (apt-get install busybox-static)");
    false
}

/// The effective uid from /proc (no libc call needed in tests).
fn unsafe_free_euid_is_root() -> bool {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("Uid:"))
        .and_then(|l| l.split_whitespace().nth(2))
        .is_some_and(|euid| euid == "0")
}

/// Whether a program is on PATH (skopeo comes from scripts/test.sh).
pub fn have_program(name: &str) -> bool {
    Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {name}"))
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The binary under test.
pub fn rbuild_bin() -> &'static str {
    env!("CARGO_BIN_EXE_rbuild")
}

/// A private store with `busybox:latest` in it, built by the CLI.
pub struct Store {
    pub dir: tempfile::TempDir,
}

impl Store {
    pub fn new() -> Store {
        let store = Store {
            dir: tempfile::tempdir().expect("temp store"),
        };
        let ctx = tempfile::tempdir().expect("temp context");
        write_busybox_context(ctx.path());
        let out = store.rbuild(&[
            "build",
            "-q",
            "-t",
            "busybox",
            &ctx.path().display().to_string(),
        ]);
        assert_success(&out, "building the busybox base image");
        store
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    /// `rbuild --root STORE ARGS...` with no standard input.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(rbuild_bin());
        cmd.arg("--root").arg(self.root()).args(args);
        cmd.stdin(Stdio::null());
        cmd.env_remove("RBUILD_ROOT");
        cmd
    }

    pub fn rbuild(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("running rbuild")
    }

    /// Runs rbuild with `input` on its standard input.
    pub fn rbuild_stdin(&self, args: &[&str], input: &str) -> Output {
        let mut child = self
            .command(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("running rbuild");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input.as_bytes())
            .expect("writing stdin");
        child.wait_with_output().expect("rbuild output")
    }
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[track_caller]
pub fn assert_success(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "{what}: exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        stdout(out),
        stderr(out)
    );
}

/// Asserts a failure with this exit code and returns stderr.
#[track_caller]
pub fn assert_failure(out: &Output, code: i32, what: &str) -> String {
    assert_eq!(
        out.status.code(),
        Some(code),
        "{what}: expected exit {code}\nstdout:\n{}\nstderr:\n{}",
        stdout(out),
        stderr(out)
    );
    stderr(out)
}

/// A busybox root file system and a FROM-scratch Dockerfile.
pub fn write_busybox_context(dir: &Path) {
    // One definition of the base image's files: the script the README's command uses.
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/busybox-context.sh");
    let status = Command::new("bash").arg(script).arg(dir).status().unwrap();
    assert!(status.success(), "scripts/busybox-context.sh failed");
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

pub fn path_str(p: &Path) -> String {
    p.display().to_string()
}

pub fn join(dir: &Path, name: &str) -> PathBuf {
    dir.join(name)
}

/// Mount points under `/proc/self/mountinfo` whose path mentions `needle`.
pub fn mounts_mentioning(needle: &Path) -> Vec<String> {
    let needle = needle.display().to_string();
    std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains(&needle))
        .map(str::to_string)
        .collect()
}
