//! `rbuild build GIT-URL` and `--build-context NAME=GIT-URL` through the real binary,
//! against `git daemon` on 127.0.0.1, and the error a user sees for a missing ref.

mod support;

use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use support::{Store, assert_failure, assert_success, can_run, context, path_str};

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .current_dir(dir)
        .args(["-c", "user.name=t", "-c", "user.email=t@example.invalid"])
        .args(["-c", "init.defaultBranch=main"])
        .args(args)
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `served/repo.git`: a main branch with sub/Dockerfile and sub/hello.txt, tagged `v1`.
fn make_repo(served: &Path) {
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    git(w, &["init", "-q", "."]);
    std::fs::create_dir(w.join("sub")).unwrap();
    std::fs::write(w.join("sub/Dockerfile"), "FROM scratch\nCOPY . /app/\n").unwrap();
    std::fs::write(w.join("sub/hello.txt"), "hello from git").unwrap();
    git(w, &["add", "."]);
    git(w, &["commit", "-q", "-m", "one"]);
    git(w, &["tag", "v1"]);
    git(
        served,
        &["clone", "-q", "--bare", w.to_str().unwrap(), "repo.git"],
    );
}

/// `git daemon` on a free 127.0.0.1 port; stopped when dropped.
struct GitDaemon {
    child: Child,
    port: u16,
}

impl GitDaemon {
    fn start(base: &Path) -> GitDaemon {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("git")
            .args([
                "daemon",
                "--reuseaddr",
                "--export-all",
                "--listen=127.0.0.1",
            ])
            .arg(format!("--base-path={}", base.display()))
            .arg(format!("--port={port}"))
            .arg(base)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("git daemon starts");
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "git daemon did not listen");
            std::thread::sleep(Duration::from_millis(50));
        }
        GitDaemon { child, port }
    }
}

impl Drop for GitDaemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn git_contexts_main_and_named() {
    if !can_run() {
        return;
    }
    let served = tempfile::tempdir().unwrap();
    make_repo(served.path());
    let daemon = GitDaemon::start(served.path());
    let repo = format!("git://127.0.0.1:{}/repo.git", daemon.port);
    // Only FROM scratch below: no base image needed.
    let store = Store {
        dir: tempfile::tempdir().unwrap(),
    };

    let out_dir = tempfile::tempdir().unwrap();
    let dest = out_dir.path().join("main");
    let out = store.rbuild(&[
        "build",
        "--progress=plain",
        "-o",
        &format!("type=local,dest={}", dest.display()),
        &format!("{repo}#v1:sub"),
    ]);
    assert_success(&out, "build from a git URL");
    assert_eq!(
        std::fs::read_to_string(dest.join("app/hello.txt")).unwrap(),
        "hello from git"
    );

    let ctx = context("FROM scratch\nCOPY --from=src hello.txt /named.txt\n", &[]);
    let dest = out_dir.path().join("named");
    let out = store.rbuild(&[
        "build",
        "--progress=plain",
        "--build-context",
        &format!("src={repo}#main:sub"),
        "-o",
        &format!("type=local,dest={}", dest.display()),
        &path_str(ctx.path()),
    ]);
    assert_success(&out, "build with a git named context");
    assert_eq!(
        std::fs::read_to_string(dest.join("named.txt")).unwrap(),
        "hello from git"
    );

    let out = store.rbuild(&["build", "--progress=plain", &format!("{repo}#nope")]);
    let err = assert_failure(&out, 1, "missing ref");
    assert!(err.contains("ref \"nope\" not found"), "{err}");

    // Without the git command, the error says what to install.
    let out = store
        .command(&["build", "--progress=plain", &format!("{repo}#v1")])
        .env("PATH", "/nonexistent")
        .output()
        .expect("running rbuild");
    let err = assert_failure(&out, 1, "no git");
    assert!(err.contains("need the git command"), "{err}");

    // Nothing fetched is left in the store's scratch area.
    let left: Vec<_> = std::fs::read_dir(store.root().join("run"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != "sandbox" && n != "mnt")
        .collect();
    assert!(left.is_empty(), "left in run/: {left:?}");
}
