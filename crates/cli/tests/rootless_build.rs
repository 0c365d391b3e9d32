//! Rootless: a created, unprivileged user builds and runs images with no daemon and no
//! root — rbuild re-executes itself in a user namespace with the user's subordinate ids.

use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::Command;

const USER: &str = "rbuild-rootless";

fn can_run() -> bool {
    let root = rustix::process::geteuid().is_root();
    let tools = ["/usr/bin/setpriv", "/usr/bin/newuidmap", "/bin/busybox"]
        .iter()
        .all(|p| Path::new(p).exists());
    if root && tools {
        return true;
    }
    assert!(
        std::env::var("CI").is_err(),
        "CI must run the rootless test (root={root}, tools={tools})"
    );
    eprintln!(
        "skipped: needs root (to create the test user), setpriv, newuidmap (uidmap) and busybox-static"
    );
    false
}

/// Creates the test user with subordinate id ranges (useradd adds them on Debian; added
/// by hand when it did not).
fn ensure_user() -> (u32, u32) {
    if Command::new("id")
        .arg(USER)
        .output()
        .map(|o| !o.status.success())
        .unwrap_or(true)
    {
        let status = Command::new("useradd")
            .args(["-m", "-s", "/bin/sh", USER])
            .status()
            .unwrap();
        assert!(status.success(), "useradd {USER}");
    }
    for file in ["/etc/subuid", "/etc/subgid"] {
        let text = std::fs::read_to_string(file).unwrap_or_default();
        if !text.lines().any(|l| l.starts_with(&format!("{USER}:"))) {
            let mut text = text;
            if !text.is_empty() && !text.ends_with('\n') {
                text.push('\n');
            }
            text.push_str(&format!("{USER}:300000:65536\n"));
            std::fs::write(file, text).unwrap();
        }
    }
    let id = |flag: &str| -> u32 {
        let out = Command::new("id").args([flag, USER]).output().unwrap();
        String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
    };
    (id("-u"), id("-g"))
}

/// Runs the rbuild binary (copied to `dir`) as the test user.
fn as_user(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new("setpriv")
        .args(["--reuid", USER, "--regid", USER, "--init-groups"])
        .arg(dir.join("rbuild"))
        .args(args)
        .current_dir(dir)
        .env_clear()
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .env("HOME", dir)
        .env("XDG_DATA_HOME", dir.join("data"))
        .output()
        .unwrap()
}

/// Gives `path` and everything below it to the test user.
fn chown_to_user(path: &Path) {
    let status = Command::new("chown")
        .args(["-R", USER])
        .arg(path)
        .status()
        .unwrap();
    assert!(status.success(), "chown -R {USER} {}", path.display());
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

#[test]
fn unprivileged_user_builds_and_runs_images() {
    if !can_run() {
        return;
    }
    let (uid, _gid) = ensure_user();
    let dir = tempfile::Builder::new()
        .prefix("rbuild-rootless")
        .tempdir_in("/tmp")
        .unwrap();
    let d = dir.path();
    std::fs::copy(env!("CARGO_BIN_EXE_rbuild"), d.join("rbuild")).unwrap();
    // The busybox base context, as scripts/busybox-context.sh writes it.
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/busybox-context.sh");
    let status = Command::new("bash")
        .arg(script)
        .arg(d.join("bb"))
        .status()
        .unwrap();
    assert!(status.success());
    write(
        &d.join("bb/rootfs/etc/passwd"),
        "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n",
    );
    write(&d.join("bb/rootfs/etc/group"), "root:x:0:\napp:x:1000:\n");
    write(
        &d.join("app/Dockerfile"),
        "FROM busybox\nCOPY --chown=app:app hello.txt /home/app/hello.txt\nUSER app\nRUN id -u > /tmp/uid && cat /home/app/hello.txt\nCMD [\"cat\", \"/tmp/uid\"]\n",
    );
    write(&d.join("app/hello.txt"), "hello from the context\n");
    chown_to_user(d);

    let out = as_user(d, &["-t", "busybox", "bb"]);
    assert!(
        out.status.success(),
        "busybox build failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = as_user(d, &["-t", "app", "app"]);
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "app build failed: {log}");
    assert!(
        log.contains("hello from the context"),
        "RUN output missing: {log}"
    );
    let out = as_user(d, &["run", "--rm", "app"]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "1000\n",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // An incremental COPY in the user namespace: the second build links the unchanged
    // file from the first build's layer (or the step would not say so) and copies the
    // changed one.
    write(
        &d.join("tree/Dockerfile"),
        "FROM busybox\nCOPY --chown=app:app src/ /srv/app/\nRUN cat /srv/app/a /srv/app/sub/b\n",
    );
    write(&d.join("tree/src/a"), "first a\n");
    write(&d.join("tree/src/sub/b"), "unchanged b\n");
    chown_to_user(&d.join("tree"));
    let out = as_user(d, &["-t", "tree", "tree"]);
    assert!(
        out.status.success(),
        "tree build failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    write(&d.join("tree/src/a"), "second a\n");
    chown_to_user(&d.join("tree"));
    let out = as_user(d, &["-t", "tree", "tree"]);
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "tree rebuild failed: {log}");
    assert!(
        log.contains(
            "1 file unchanged since this step's last build, linked from its layer; 1 file copied"
        ),
        "no incremental COPY: {log}"
    );
    assert!(
        log.contains("second a") && log.contains("unchanged b"),
        "{log}"
    );

    // The store is the user's own, in their data directory, owned by them on the host.
    let store = d.join("data/rbuild");
    assert_eq!(std::fs::metadata(&store).unwrap().uid(), uid);
    assert_eq!(std::fs::metadata(store.join("blobs")).unwrap().uid(), uid);
}
