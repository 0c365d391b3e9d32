//! Rootless runs: a normal user gets a user namespace with its subordinate id ranges
//! (newuidmap/newgidmap), sees itself as root inside, and files land with mapped owners.
//! Runs the crate's `rbuild-sandbox-run` binary as a created user `rbuildtest`.

mod common;

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;

/// A user with subordinate id ranges (the normal rootless setup).
const TEST_USER: &str = "rbuildtest";
/// A user without them: the sandbox falls back to mapping only the caller.
const PLAIN_USER: &str = "rbuildtest-plain";
/// A user whose ranges newuidmap cannot apply.
const BROKEN_RANGES_USER: &str = "rbuildtest-badrange";

struct TestUser {
    name: &'static str,
    uid: u32,
    gid: u32,
    sub_uid: u32,
    sub_gid: u32,
}

fn id_of(user: &str, flag: &str) -> Option<u32> {
    let out = Command::new("id").args([flag, user]).output().ok()?;
    String::from_utf8_lossy(&out.stdout).trim().parse().ok()
}

fn sub_start(user: &str, file: &str) -> Option<u32> {
    fs::read_to_string(file).ok()?.lines().find_map(|line| {
        let mut f = line.split(':');
        (f.next()? == user)
            .then(|| f.next()?.parse().ok())
            .flatten()
    })
}

/// Creates a test user if needed, with or without subordinate ids; one test at a time.
/// How a test user's subordinate ids are set up.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Ranges {
    /// A proper range, as useradd makes it.
    Normal,
    /// None at all: the sandbox maps only the caller.
    Absent,
    /// A range overlapping the user's own id, which the kernel refuses when newuidmap writes
    /// it: the sandbox must fall back to the single mapping.
    OverlappingOwnId,
}

fn ensure_user(name: &'static str, ranges: Ranges) -> Result<TestUser, String> {
    static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _guard = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    if id_of(name, "-u").is_none() {
        let mut useradd = Command::new("useradd");
        useradd.arg("-m");
        if ranges != Ranges::Normal {
            useradd.args(["-K", "SUB_UID_COUNT=0", "-K", "SUB_GID_COUNT=0"]);
        }
        let status = useradd
            .arg(name)
            .status()
            .map_err(|e| format!("useradd: {e}"))?;
        if !status.success() {
            return Err(format!("useradd -m {name} failed"));
        }
    }
    let has_ranges =
        sub_start(name, "/etc/subuid").is_some() && sub_start(name, "/etc/subgid").is_some();
    let wanted = match ranges {
        Ranges::Normal => Some(("300000-365535".to_string(), "300000-365535".to_string())),
        Ranges::OverlappingOwnId => {
            let (uid, gid) = (
                id_of(name, "-u").ok_or("no uid")?,
                id_of(name, "-g").ok_or("no gid")?,
            );
            Some((format!("{uid}-{}", uid + 99), format!("{gid}-{}", gid + 99)))
        }
        Ranges::Absent => None,
    };
    if let (Some((subuids, subgids)), false) = (&wanted, has_ranges) {
        let status = Command::new("usermod")
            .args(["--add-subuids", subuids, "--add-subgids", subgids, name])
            .status()
            .map_err(|e| format!("usermod: {e}"))?;
        if !status.success() {
            return Err("usermod --add-subuids failed".into());
        }
    }
    if ranges == Ranges::Absent && has_ranges {
        return Err(format!("{name} unexpectedly has subordinate id ranges"));
    }
    Ok(TestUser {
        name,
        uid: id_of(name, "-u").ok_or("no uid")?,
        gid: id_of(name, "-g").ok_or("no gid")?,
        sub_uid: sub_start(name, "/etc/subuid").unwrap_or(0),
        sub_gid: sub_start(name, "/etc/subgid").unwrap_or(0),
    })
}

fn can_run_rootless(test: &str, name: &'static str, ranges: Ranges) -> Option<TestUser> {
    if !common::can_run(test) {
        return None;
    }
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    // SAFETY: geteuid cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipping {test}: creating and switching to the test user needs root");
        return None;
    }
    for tool in [
        "/usr/bin/newuidmap",
        "/usr/bin/newgidmap",
        "/usr/bin/setpriv",
    ] {
        if !Path::new(tool).exists() {
            assert!(
                !ci,
                "{tool} is missing in CI: install uidmap and util-linux"
            );
            eprintln!("skipping {test}: {tool} missing (install the uidmap package)");
            return None;
        }
    }
    match ensure_user(name, ranges) {
        Ok(user) => Some(user),
        Err(reason) => {
            assert!(!ci, "cannot prepare the rootless test user in CI: {reason}");
            eprintln!("skipping {test}: {reason}");
            None
        }
    }
}

fn chown_tree(path: &Path, uid: u32, gid: u32) {
    std::os::unix::fs::lchown(path, Some(uid), Some(gid)).unwrap();
    if fs::symlink_metadata(path).unwrap().is_dir() {
        for entry in fs::read_dir(path).unwrap() {
            chown_tree(&entry.unwrap().path(), uid, gid);
        }
    }
}

/// A world-traversable directory with the binary, a lower layer owned as a rootless
/// extraction would own it, and upper/work owned by the user.
struct RootlessFixture {
    dir: tempfile::TempDir,
    binary: PathBuf,
}

impl RootlessFixture {
    fn new(user: &TestUser) -> RootlessFixture {
        let dir = tempfile::tempdir().unwrap();
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
        let lower = dir.path().join("lower");
        common::build_busybox_rootfs(&lower);
        chown_tree(&lower, user.uid, user.gid);
        chown_tree(
            &lower.join("home/app"),
            user.sub_uid + 999,
            user.sub_gid + 999,
        );
        for sub in ["upper", "work"] {
            fs::create_dir(dir.path().join(sub)).unwrap();
            chown_tree(&dir.path().join(sub), user.uid, user.gid);
        }
        let binary = dir.path().join("rbuild-sandbox-run");
        fs::copy(env!("CARGO_BIN_EXE_rbuild-sandbox-run"), &binary).unwrap();
        fs::set_permissions(&binary, fs::Permissions::from_mode(0o755)).unwrap();
        RootlessFixture { dir, binary }
    }

    fn upper(&self) -> PathBuf {
        self.dir.path().join("upper")
    }

    /// Runs the sandbox as the test user; returns (exit code, stdout, stderr).
    fn run(&self, user: &TestUser, options: &[&str], script: &str) -> (i32, String, String) {
        // Tests run in parallel threads: one may fork while another still has its freshly
        // copied binary open for writing, and exec then fails with ETXTBSY until that
        // child execs too. Retry that, and only that.
        for _ in 0..50 {
            let result = self.run_once(user, options, script);
            if !(result.0 == 126 && result.2.contains("Text file busy")) {
                return result;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        self.run_once(user, options, script)
    }

    fn run_once(&self, user: &TestUser, options: &[&str], script: &str) -> (i32, String, String) {
        let d = self.dir.path();
        let output = Command::new("setpriv")
            .args([
                "--reuid",
                &user.uid.to_string(),
                "--regid",
                &user.gid.to_string(),
                "--clear-groups",
                "--",
            ])
            .arg(&self.binary)
            .args(["--lower", &d.join("lower").to_string_lossy()])
            .args(["--upper", &d.join("upper").to_string_lossy()])
            .args(["--work", &d.join("work").to_string_lossy()])
            .args(options)
            .args(["--", "sh", "-c", script])
            .env_remove("TMPDIR")
            .output()
            .unwrap();
        (
            output.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    }
}

#[test]
fn rootless_user_is_root_inside_and_files_get_mapped_owners() {
    let Some(user) = can_run_rootless(
        "rootless_user_is_root_inside_and_files_get_mapped_owners",
        TEST_USER,
        Ranges::Normal,
    ) else {
        return;
    };
    let fx = RootlessFixture::new(&user);
    let (code, out, err) = fx.run(&user, &[], "id -u; id -g; echo $$; hostname; echo x > /by-root; ls /sys/class > /dev/null && echo sys-ok");
    assert_eq!(code, 0, "stderr: {err}");
    assert_eq!(out, "0\n0\n2\nrbuild\nsys-ok\n");
    let meta = fs::metadata(fx.upper().join("by-root")).unwrap();
    assert_eq!(
        (meta.uid(), meta.gid()),
        (user.uid, user.gid),
        "inside root is the calling user outside"
    );

    let (code, out, err) = fx.run(
        &user,
        &["--user", "app", "--cwd", "/home/app/src"],
        "id -u; id -G; echo y > mine",
    );
    assert_eq!(code, 0, "stderr: {err}");
    assert_eq!(out, "1000\n1000 10 29\n");
    let meta = fs::metadata(fx.upper().join("home/app/src/mine")).unwrap();
    assert_eq!(
        (meta.uid(), meta.gid()),
        (user.sub_uid + 999, user.sub_gid + 999),
        "app maps into the subordinate range"
    );
    // The layer holds only what the commands wrote.
    let mut entries: Vec<String> = walk(&fx.upper());
    entries.sort();
    assert_eq!(
        entries,
        [
            "by-root",
            "home",
            "home/app",
            "home/app/src",
            "home/app/src/mine"
        ]
    );
}

#[test]
fn rootless_network_none_and_errors() {
    let Some(user) = can_run_rootless(
        "rootless_network_none_and_errors",
        TEST_USER,
        Ranges::Normal,
    ) else {
        return;
    };
    let fx = RootlessFixture::new(&user);
    let (code, out, err) = fx.run(&user, &["--net", "none"], "ls /sys/class/net");
    assert_eq!(code, 0, "stderr: {err}");
    assert_eq!(out, "lo\n");
    let (code, _, err) = fx.run(&user, &[], "exec /missing/tool");
    assert_eq!(code, 127, "sh reports its own exec failure: {err}");
}

fn walk(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in fs::read_dir(&d).unwrap() {
            let p = entry.unwrap().path();
            out.push(p.strip_prefix(dir).unwrap().to_string_lossy().into_owned());
            if p.is_dir() {
                stack.push(p);
            }
        }
    }
    out
}

#[test]
fn rootless_without_subordinate_ids_maps_only_the_caller() {
    let Some(user) = can_run_rootless(
        "rootless_without_subordinate_ids_maps_only_the_caller",
        PLAIN_USER,
        Ranges::Absent,
    ) else {
        return;
    };
    let fx = RootlessFixture::new(&user);
    let (code, out, err) = fx.run(&user, &[], "id -u; id -g; echo z > /plain; ls /dev/pts");
    assert_eq!(code, 0, "{} stderr: {err}", user.name);
    assert_eq!(out.lines().take(2).collect::<Vec<_>>(), ["0", "0"]);
    let meta = fs::metadata(fx.upper().join("plain")).unwrap();
    assert_eq!((meta.uid(), meta.gid()), (user.uid, user.gid));
    // Other users do not exist in this namespace: a clear error, not a mystery.
    let (code, _, err) = fx.run(&user, &["--user", "app"], "true");
    assert_eq!(code, 125);
    assert!(
        err.contains("not mapped") && err.contains("/etc/subuid"),
        "{err}"
    );
}

#[test]
fn rootless_falls_back_when_newuidmap_fails() {
    let Some(user) = can_run_rootless(
        "rootless_falls_back_when_newuidmap_fails",
        BROKEN_RANGES_USER,
        Ranges::OverlappingOwnId,
    ) else {
        return;
    };
    let fx = RootlessFixture::new(&user);
    let (code, out, err) = fx.run(&user, &[], "id -u; ls /dev/pts > /dev/null && echo pts-ok");
    assert_eq!(code, 0, "stderr: {err}");
    assert_eq!(out, "0\npts-ok\n");
    let (code, _, err) = fx.run(&user, &["--user", "app"], "true");
    assert_eq!(code, 125);
    assert!(err.contains("not mapped"), "{err}");
}

#[test]
fn rootless_terminal_is_the_sandboxs_own_and_belongs_to_the_user() {
    let Some(user) = can_run_rootless(
        "rootless_terminal_is_the_sandboxs_own_and_belongs_to_the_user",
        TEST_USER,
        Ranges::Normal,
    ) else {
        return;
    };
    let fx = RootlessFixture::new(&user);
    let (code, out, err) = fx.run(
        &user,
        &["--tty", "30x90", "--user", "app"],
        "tty; stty size; stat -c '%u %g' $(tty); exit 6",
    );
    assert_eq!(code, 6, "stderr: {err}");
    assert_eq!(out, "/dev/pts/0\r\n30 90\r\n1000 5\r\n");
}

#[test]
fn rootless_terminal_with_only_the_caller_mapped() {
    let Some(user) = can_run_rootless(
        "rootless_terminal_with_only_the_caller_mapped",
        PLAIN_USER,
        Ranges::Absent,
    ) else {
        return;
    };
    let fx = RootlessFixture::new(&user);
    let (code, out, err) = fx.run(&user, &["--tty", "24x80"], "tty; test -t 0 && echo tty-ok");
    assert_eq!(code, 0, "stderr: {err}");
    assert_eq!(out, "/dev/pts/0\r\ntty-ok\r\n");
}
