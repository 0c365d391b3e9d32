//! End to end: remote build contexts — git repositories served by `git daemon` (git://) and
//! over dumb HTTP, tarball and Dockerfile URLs — and ADD --checksum with sha384/sha512.
//! Every server listens on 127.0.0.1 only; builds run as root in a private store (CI runs
//! them).

mod support;

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rbuild_builder::build::BuildOptions;
use rbuild_builder::request::{
    ContextSpec, DockerfileSpec, NamedContext, PreparedContext, prepare_build_context,
    prepare_context_arg,
};
use sha2::Digest as _;
use support::*;

/// A store without a base image: these builds start `FROM scratch`.
fn empty_store() -> TestStore {
    TestStore {
        dir: tempfile::tempdir().unwrap(),
    }
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .current_dir(dir)
        .args(["-c", "user.name=t", "-c", "user.email=t@example.invalid"])
        .args(["-c", "init.defaultBranch=main", "-c", "tag.gpgSign=false"])
        .args(args)
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn write(dir: &Path, rel: &str, text: &str) {
    let path = dir.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// The repository every test fetches: served bare from `served/repo.git`.
///
/// - commit 1 (`first`): a.txt = "v1", sub/Dockerfile, sub/hello.txt; annotated tag `v1`
/// - branch `feature` from commit 1: feature.txt
/// - commit 2 on `main`: a.txt = "v2"
struct Repo {
    served: tempfile::TempDir,
    first: String,
}

fn make_repo() -> Repo {
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    git(w, &["init", "-q", "."]);
    write(w, "Dockerfile", "FROM scratch\nCOPY . /ctx/\n");
    write(w, "a.txt", "v1");
    write(w, "sub/Dockerfile", "FROM scratch\nCOPY . /sub/\n");
    write(w, "sub/hello.txt", "hello from sub");
    git(w, &["add", "."]);
    git(w, &["commit", "-q", "-m", "first"]);
    let first = git(w, &["rev-parse", "HEAD"]);
    git(w, &["tag", "-a", "v1", "-m", "version 1"]);
    git(w, &["checkout", "-q", "-b", "feature"]);
    write(w, "feature.txt", "feature work");
    git(w, &["add", "."]);
    git(w, &["commit", "-q", "-m", "feature"]);
    git(w, &["checkout", "-q", "main"]);
    write(w, "a.txt", "v2");
    git(w, &["commit", "-q", "-am", "second"]);
    let served = tempfile::tempdir().unwrap();
    git(
        served.path(),
        &["clone", "-q", "--bare", w.to_str().unwrap(), "repo.git"],
    );
    git(&served.path().join("repo.git"), &["update-server-info"]);
    Repo { served, first }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `git daemon` on 127.0.0.1, stopped when dropped.
struct GitDaemon {
    child: Child,
    port: u16,
}

impl GitDaemon {
    fn start(base: &Path) -> GitDaemon {
        let port = free_port();
        let child = Command::new("git")
            .arg("daemon")
            .arg("--reuseaddr")
            .arg(format!("--base-path={}", base.display()))
            .arg("--export-all")
            .arg("--listen=127.0.0.1")
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

    fn url(&self, rest: &str) -> String {
        format!("git://127.0.0.1:{}/{rest}", self.port)
    }
}

impl Drop for GitDaemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A static file server on 127.0.0.1 for a directory (enough for git's dumb HTTP protocol
/// and for tarball URLs). The query string is ignored; paths with `..` are refused.
fn serve_dir(root: PathBuf) -> u16 {
    serve_dir_logged(root).0
}

/// [`serve_dir`], also returning the paths requested so far.
fn serve_dir_logged(root: PathBuf) -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let log: Arc<Mutex<Vec<String>>> = Arc::default();
    let requests = log.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let Ok(clone) = stream.try_clone() else {
                continue;
            };
            let mut reader = BufReader::new(clone);
            let mut first = String::new();
            if reader.read_line(&mut first).is_err() {
                continue;
            }
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
            }
            let target = first.split_whitespace().nth(1).unwrap_or("/");
            let path = target.split('?').next().unwrap_or("/");
            requests.lock().unwrap().push(path.to_string());
            let file = (!path.contains(".."))
                .then(|| root.join(path.trim_start_matches('/')))
                .filter(|p| p.is_file());
            let (status, body) = match file.and_then(|p| std::fs::read(p).ok()) {
                Some(body) => ("200 OK", body),
                None => ("404 Not Found", b"not found".to_vec()),
            };
            let head = format!(
                "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(&body);
        }
    });
    (port, log)
}

/// Fetches `arg` like `rbuild build ARG` does and builds it in `store`.
fn build_remote(
    store: &TestStore,
    arg: &str,
    dockerfile_flag: Option<&str>,
) -> Result<tempfile::TempDir, String> {
    let prepared =
        prepare_context_arg(arg, dockerfile_flag, store.root()).map_err(|e| e.to_string())?;
    let outcome = store
        .build(options_for(&prepared))
        .map_err(|e| e.to_string())?;
    drop(prepared);
    assert_no_leftovers(store);
    Ok(store.rootfs(&outcome))
}

fn options_for(prepared: &PreparedContext) -> BuildOptions {
    let options = match &prepared.context {
        ContextSpec::Directory(dir) => BuildOptions::new(dir),
        ContextSpec::Empty => BuildOptions::without_context(),
    };
    match &prepared.dockerfile {
        DockerfileSpec::File(path) => options.dockerfile(path),
        DockerfileSpec::Text { name, text } => options.dockerfile_text(name, text),
        DockerfileSpec::Stdin => panic!("no test reads stdin"),
    }
}

#[test]
fn git_daemon_tag_with_subdir_branch_and_commit() {
    if !can_run() {
        return;
    }
    let repo = make_repo();
    let daemon = GitDaemon::start(repo.served.path());
    let store = empty_store();

    // A tag and a subdirectory: the subdirectory is the context and holds the Dockerfile.
    let fs = build_remote(&store, &daemon.url("repo.git#v1:sub"), None).unwrap();
    assert_eq!(read(fs.path(), "sub/hello.txt"), "hello from sub");
    assert!(!path(fs.path(), "sub/a.txt").exists());

    // The default branch, whole repository, without its .git directory.
    let fs = build_remote(&store, &daemon.url("repo.git"), None).unwrap();
    assert_eq!(read(fs.path(), "ctx/a.txt"), "v2");
    assert!(!path(fs.path(), "ctx/.git").exists());
    assert!(!path(fs.path(), "ctx/feature.txt").exists());

    // A full commit hash git daemon does not serve shallowly: the full-fetch fallback.
    let fs = build_remote(
        &store,
        &daemon.url(&format!("repo.git#{}", repo.first)),
        None,
    )
    .unwrap();
    assert_eq!(read(fs.path(), "ctx/a.txt"), "v1");

    // A branch through BuildKit's query form; -f names a file inside the context, where
    // `..` stops at the context's root (so this is sub/Dockerfile, not the repository's).
    let fs = build_remote(
        &store,
        &daemon.url("repo.git?branch=feature&subdir=sub"),
        Some("../Dockerfile"),
    )
    .unwrap();
    assert_eq!(read(fs.path(), "sub/hello.txt"), "hello from sub");

    // checksum= must match the commit the ref resolves to.
    let short = &repo.first[..12];
    let fs = build_remote(
        &store,
        &daemon.url(&format!("repo.git?tag=v1&checksum={short}")),
        None,
    )
    .unwrap();
    assert_eq!(read(fs.path(), "ctx/a.txt"), "v1");
    let err = build_remote(
        &store,
        &daemon.url(&format!("repo.git?ref=main&checksum={short}")),
        None,
    )
    .unwrap_err();
    assert!(err.contains("not the expected"), "{err}");
    assert_no_leftovers(&store);
}

#[test]
fn dumb_http_branch_and_named_context() {
    if !can_run() {
        return;
    }
    let repo = make_repo();
    let port = serve_dir(repo.served.path().to_path_buf());
    let store = empty_store();
    let url = format!("http://127.0.0.1:{port}/repo.git");

    // Dumb HTTP cannot fetch shallowly: the fallback fetches the branch in full.
    let fs = build_remote(&store, &format!("{url}#feature"), None).unwrap();
    assert_eq!(read(fs.path(), "ctx/feature.txt"), "feature work");
    assert_eq!(read(fs.path(), "ctx/a.txt"), "v1");

    // --build-context NAME=GITURL: a directory for COPY --from.
    let (name, named, fetched) =
        prepare_build_context(&format!("src={url}#v1:sub"), store.root()).unwrap();
    assert_eq!(name, "src");
    assert!(matches!(named, NamedContext::Directory(_)));
    let local = context(
        "FROM scratch\nCOPY --from=src hello.txt /from-src.txt\n",
        &[],
    );
    let outcome = store
        .build(BuildOptions::new(local.path()).named_context(&name, named))
        .unwrap();
    drop(fetched);
    assert_no_leftovers(&store);
    let fs = store.rootfs(&outcome);
    assert_eq!(read(fs.path(), "from-src.txt"), "hello from sub");
}

#[test]
fn missing_refs_and_unreachable_servers_are_clear_errors_without_credentials() {
    if !can_run() {
        return;
    }
    let repo = make_repo();
    let daemon = GitDaemon::start(repo.served.path());
    let store = empty_store();

    let err = build_remote(&store, &daemon.url("repo.git#no-such-branch"), None).unwrap_err();
    assert!(
        err.contains("ref \"no-such-branch\" not found") && err.contains("git://127.0.0.1"),
        "{err}"
    );
    let missing_hash = "0123456789abcdef0123456789abcdef01234567";
    let err = build_remote(
        &store,
        &daemon.url(&format!("repo.git#{missing_hash}")),
        None,
    )
    .unwrap_err();
    assert!(err.contains("not found"), "{err}");
    let err = build_remote(&store, &daemon.url("repo.git#v1:no/such/dir"), None).unwrap_err();
    assert!(err.contains("subdirectory no/such/dir"), "{err}");

    // Nobody listens on this port; the password never appears in the message.
    let closed = free_port();
    let err = build_remote(
        &store,
        &format!("http://me:hunter2@127.0.0.1:{closed}/repo.git#main"),
        None,
    )
    .unwrap_err();
    assert!(!err.contains("hunter2"), "{err}");
    assert!(err.contains("me:xxxxx@127.0.0.1"), "{err}");
    let err = build_remote(
        &store,
        &format!("http://TOKEN123@127.0.0.1:{closed}/ctx.tar.gz"),
        None,
    )
    .unwrap_err();
    assert!(
        !err.contains("TOKEN123") && err.contains("cannot fetch"),
        "{err}"
    );
    assert_no_leftovers(&store);
}

fn tar_gz(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, body) in entries {
        let mut h = tar::Header::new_gnu();
        h.set_size(body.len() as u64);
        h.set_mode(0o644);
        // set_path refuses `..`: write the raw name, as a hostile archive would.
        let bytes = name.as_bytes();
        h.as_old_mut().name[..bytes.len()].copy_from_slice(bytes);
        h.set_cksum();
        b.append(&h, *body).unwrap();
    }
    let raw = b.into_inner().unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&raw).unwrap();
    gz.finish().unwrap()
}

#[test]
fn tarball_and_dockerfile_urls() {
    if !can_run() {
        return;
    }
    let served = tempfile::tempdir().unwrap();
    let s = served.path();
    std::fs::write(
        s.join("ctx.tar.gz"),
        tar_gz(&[
            ("Dockerfile", b"FROM scratch\nCOPY data.txt /data.txt\n"),
            ("data.txt", b"from the tarball"),
        ]),
    )
    .unwrap();
    std::fs::write(
        s.join("evil.tar.gz"),
        tar_gz(&[("../../escaped.txt", b"outside")]),
    )
    .unwrap();
    std::fs::write(s.join("Dockerfile"), "FROM scratch\nLABEL from=url\n").unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(b"FROM scratch\nLABEL from=gzip\n").unwrap();
    std::fs::write(s.join("Dockerfile.gz"), gz.finish().unwrap()).unwrap();
    let raw_tar = {
        let mut b = tar::Builder::new(Vec::new());
        let body = b"FROM scratch\nCOPY Dockerfile /zstd-context\n";
        let mut h = tar::Header::new_gnu();
        h.set_size(body.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        b.append_data(&mut h, "Dockerfile", &body[..]).unwrap();
        b.into_inner().unwrap()
    };
    std::fs::write(
        s.join("ctx.tar.zst"),
        zstd::encode_all(&raw_tar[..], 3).unwrap(),
    )
    .unwrap();
    let port = serve_dir(s.to_path_buf());
    let url = |p: &str| format!("http://127.0.0.1:{port}/{p}");
    let store = empty_store();

    let fs = build_remote(&store, &url("ctx.tar.gz"), None).unwrap();
    assert_eq!(read(fs.path(), "data.txt"), "from the tarball");
    let fs = build_remote(&store, &url("ctx.tar.zst"), None).unwrap();
    assert!(read(fs.path(), "zstd-context").contains("COPY Dockerfile"));

    // A compressed Dockerfile is read decompressed.
    let prepared = prepare_context_arg(&url("Dockerfile.gz"), None, store.root()).unwrap();
    assert!(
        matches!(&prepared.dockerfile, DockerfileSpec::Text { text, .. } if text.contains("from=gzip"))
    );
    drop(prepared);

    // A plain-text URL is the Dockerfile, with an empty context.
    let prepared = prepare_context_arg(&url("Dockerfile"), None, store.root()).unwrap();
    assert_eq!(prepared.context, ContextSpec::Empty);
    let outcome = store.build(options_for(&prepared)).unwrap();
    let labels = outcome
        .config
        .config
        .as_ref()
        .and_then(|c| c.labels.clone());
    assert_eq!(
        labels.unwrap_or_default().get("from").map(String::as_str),
        Some("url")
    );
    drop(prepared);

    // An archive entry that climbs out fails the extraction; nothing lands outside.
    let err = build_remote(&store, &url("evil.tar.gz"), None).unwrap_err();
    assert!(err.contains("cannot unpack the context"), "{err}");
    assert!(!store.root().join("escaped.txt").exists());
    assert!(!store.root().join("run/escaped.txt").exists());

    let err = build_remote(&store, &url("missing.tar.gz"), None).unwrap_err();
    assert!(err.contains("404"), "{err}");
    assert_no_leftovers(&store);
}

#[test]
fn add_checksum_with_sha384_and_sha512() {
    if !can_run() {
        return;
    }
    let served = tempfile::tempdir().unwrap();
    let body = b"checked content\n";
    std::fs::write(served.path().join("file.txt"), body).unwrap();
    let port = serve_dir(served.path().to_path_buf());
    let url = format!("http://127.0.0.1:{port}/file.txt");
    let store = empty_store();
    let sha384 = hex::encode(sha2::Sha384::digest(body));
    let sha512 = hex::encode(sha2::Sha512::digest(body));
    for checksum in [format!("sha384:{sha384}"), format!("sha512:{sha512}")] {
        let ctx = context(
            &format!("FROM scratch\nADD --checksum={checksum} {url} /f.txt\n"),
            &[],
        );
        let outcome = store.build(BuildOptions::new(ctx.path())).unwrap();
        let fs = store.rootfs(&outcome);
        assert_eq!(read(fs.path(), "f.txt"), "checked content\n", "{checksum}");
    }
    let wrong = format!("sha512:{}", "0".repeat(128));
    let ctx = context(
        &format!("FROM scratch\nADD --checksum={wrong} {url} /f.txt\n"),
        &[],
    );
    let err = store
        .build(BuildOptions::new(ctx.path()))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("checksum mismatch") && err.contains(&format!("sha512:{sha512}")),
        "{err}"
    );
    let ctx = context(
        &format!("FROM scratch\nADD --checksum=md5:abc {url} /f.txt\n"),
        &[],
    );
    let err = store
        .build(BuildOptions::new(ctx.path()))
        .unwrap_err()
        .to_string();
    assert!(err.contains("sha384") && err.contains("sha512"), "{err}");
}

#[test]
fn add_a_git_repository_with_and_without_its_git_dir() {
    if !can_run() {
        return;
    }
    let repo = make_repo();
    let daemon = GitDaemon::start(repo.served.path());
    let store = empty_store();
    let url = daemon.url("repo.git");
    let ctx = context(
        &format!(
            "FROM scratch\n\
         ADD {url}#v1 /src/\n\
         ADD --keep-git-dir {url}?branch=feature /kept\n\
         ADD --checksum={first} {url}#v1:sub /sub-only\n",
            first = repo.first
        ),
        &[],
    );
    let (outcome, events) = store.build_events(BuildOptions::new(ctx.path()));
    let outcome = outcome.unwrap();
    assert_eq!(step_summary(&events).0.len(), 3);
    let fs = store.rootfs(&outcome);
    assert_eq!(read(fs.path(), "src/a.txt"), "v1");
    assert_eq!(read(fs.path(), "src/sub/hello.txt"), "hello from sub");
    assert!(!path(fs.path(), "src/.git").exists());
    assert_eq!(read(fs.path(), "kept/feature.txt"), "feature work");
    assert!(path(fs.path(), "kept/.git/HEAD").is_file());
    assert_eq!(read(fs.path(), "sub-only/hello.txt"), "hello from sub");
    assert!(!path(fs.path(), "sub-only/a.txt").exists());
    assert_no_leftovers(&store);

    // Same commits: every step is a cache hit.
    let (again, events) = store.build_events(BuildOptions::new(ctx.path()));
    assert_eq!(again.unwrap().image_id, outcome.image_id);
    let (ran, cached) = step_summary(&events);
    assert!(ran.is_empty() && cached.len() == 3, "{ran:?}");

    let bad = context(&format!("FROM scratch\nADD {url}#no-such-tag /x/\n"), &[]);
    let err = store
        .build(BuildOptions::new(bad.path()))
        .unwrap_err()
        .to_string();
    assert!(err.contains("ref \"no-such-tag\" not found"), "{err}");
    let wrong = context(
        &format!("FROM scratch\nADD --checksum=abcdef0 {url}#v1 /x/\n"),
        &[],
    );
    let err = store
        .build(BuildOptions::new(wrong.path()))
        .unwrap_err()
        .to_string();
    assert!(err.contains("not the expected abcdef0"), "{err}");
    assert_no_leftovers(&store);
}

#[test]
fn submodules_are_checked_out_unless_disabled() {
    if !can_run() {
        return;
    }
    let served = tempfile::tempdir().unwrap();
    let s = served.path();
    let lib = tempfile::tempdir().unwrap();
    git(lib.path(), &["init", "-q", "."]);
    write(lib.path(), "lib.txt", "library");
    git(lib.path(), &["add", "."]);
    git(lib.path(), &["commit", "-q", "-m", "lib"]);
    git(
        s,
        &[
            "clone",
            "-q",
            "--bare",
            lib.path().to_str().unwrap(),
            "lib.git",
        ],
    );

    let app = tempfile::tempdir().unwrap();
    let a = app.path();
    git(a, &["init", "-q", "."]);
    write(a, "Dockerfile", "FROM scratch\nCOPY . /ctx/\n");
    let lib_path = s.join("lib.git");
    git(
        a,
        &[
            "-c",
            "protocol.file.allow=always",
            "submodule",
            "add",
            "-q",
            lib_path.to_str().unwrap(),
            "vendor/lib",
        ],
    );
    // Relative to the superproject's remote, as hosted repositories usually write it.
    git(
        a,
        &[
            "config",
            "-f",
            ".gitmodules",
            "submodule.vendor/lib.url",
            "../lib.git",
        ],
    );
    git(a, &["add", "."]);
    git(a, &["commit", "-q", "-m", "app with a submodule"]);
    git(
        s,
        &["clone", "-q", "--bare", a.to_str().unwrap(), "app.git"],
    );

    let daemon = GitDaemon::start(s);
    let store = empty_store();
    let fs = build_remote(&store, &daemon.url("app.git"), None).unwrap();
    assert_eq!(read(fs.path(), "ctx/vendor/lib/lib.txt"), "library");
    assert!(!path(fs.path(), "ctx/vendor/lib/.git").exists());
    assert!(!path(fs.path(), "ctx/.git").exists());

    let fs = build_remote(&store, &daemon.url("app.git?submodules=false"), None).unwrap();
    assert!(!path(fs.path(), "ctx/vendor/lib/lib.txt").exists());
    assert_no_leftovers(&store);
}

#[test]
fn add_git_cache_hits_check_nothing_out() {
    if !can_run() {
        return;
    }
    let repo = make_repo();
    let (port, requests) = serve_dir_logged(repo.served.path().to_path_buf());
    let store = empty_store();
    let url = format!("http://127.0.0.1:{port}/repo.git");
    let ctx = context(
        &format!("FROM scratch\nADD {url} /default/\nADD {url}#v1 /v1/\n"),
        &[],
    );
    let outcome = store.build(BuildOptions::new(ctx.path())).unwrap();
    let fs = store.rootfs(&outcome);
    assert_eq!(read(fs.path(), "default/a.txt"), "v2");
    assert_eq!(read(fs.path(), "v1/a.txt"), "v1");
    let objects = |log: &Arc<Mutex<Vec<String>>>| {
        log.lock()
            .unwrap()
            .iter()
            .filter(|p| p.contains("/objects/"))
            .count()
    };
    assert!(objects(&requests) > 0);

    // The rebuild asks only for the refs (git ls-remote): no object is fetched.
    requests.lock().unwrap().clear();
    let (again, events) = store.build_events(BuildOptions::new(ctx.path()));
    assert_eq!(again.unwrap().image_id, outcome.image_id);
    assert_eq!(step_summary(&events).1.len(), 2);
    assert_eq!(objects(&requests), 0, "{:?}", requests.lock().unwrap());
    assert_no_leftovers(&store);
}
