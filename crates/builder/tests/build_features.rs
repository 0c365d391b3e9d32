//! End to end: Docker features beyond the basics — ADD of URLs and archives, COPY --link and
//! --parents, RUN --mount=type=bind,from=..., ONBUILD triggers of base images — on a private
//! store with a locally made busybox base (as root; CI runs them). HTTP servers in these
//! tests listen on 127.0.0.1 only.

mod support;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use rbuild_builder::build::BuildOptions;
use sha2::Digest as _;
use support::*;

/// What the test server answers for a path: status, extra headers and body.
#[derive(Clone)]
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

fn ok(body: &[u8]) -> Reply {
    Reply {
        status: 200,
        headers: Vec::new(),
        body: body.to_vec(),
    }
}

/// A tiny HTTP/1.1 server on 127.0.0.1: serves fixed replies by path and counts requests.
struct TestServer {
    port: u16,
    routes: Arc<Mutex<BTreeMap<String, Reply>>>,
    requests: Arc<AtomicUsize>,
}

impl TestServer {
    fn start() -> TestServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let routes: Arc<Mutex<BTreeMap<String, Reply>>> = Arc::default();
        let requests = Arc::new(AtomicUsize::new(0));
        let (r, n) = (routes.clone(), requests.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
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
                n.fetch_add(1, Ordering::SeqCst);
                let path = first.split_whitespace().nth(1).unwrap_or("/").to_string();
                let reply = r.lock().unwrap().get(&path).cloned().unwrap_or(Reply {
                    status: 404,
                    headers: Vec::new(),
                    body: b"not found".to_vec(),
                });
                let mut head = format!(
                    "HTTP/1.1 {} X\r\nContent-Length: {}\r\nConnection: close\r\n",
                    reply.status,
                    reply.body.len()
                );
                for (k, v) in &reply.headers {
                    head.push_str(&format!("{k}: {v}\r\n"));
                }
                head.push_str("\r\n");
                let _ = stream.write_all(head.as_bytes());
                let _ = stream.write_all(&reply.body);
            }
        });
        TestServer {
            port,
            routes,
            requests,
        }
    }

    fn serve(&self, path: &str, reply: Reply) {
        self.routes.lock().unwrap().insert(path.to_string(), reply);
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

/// Every path of an unpacked image with its type, mode, owner and content (or link
/// target) — what must be equal for two builds to be equivalent.
fn tree(root: &std::path::Path) -> Vec<(String, u32, u32, u32, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![root.join("fs")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let p = entry.unwrap().path();
            let meta = std::fs::symlink_metadata(&p).unwrap();
            let content = if meta.is_file() {
                std::fs::read(&p).unwrap()
            } else if meta.file_type().is_symlink() {
                std::fs::read_link(&p)
                    .unwrap()
                    .into_os_string()
                    .into_encoded_bytes()
            } else {
                stack.push(p.clone());
                Vec::new()
            };
            let rel = p.strip_prefix(root).unwrap().display().to_string();
            out.push((rel, meta.mode(), meta.uid(), meta.gid(), content));
        }
    }
    out.sort();
    out
}

fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(sha2::Sha256::digest(bytes)))
}

/// A gzip-compressed tar holding `inner.txt`.
fn tar_gz() -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_size(5);
    h.set_mode(0o644);
    h.set_cksum();
    b.append_data(&mut h, "inner.txt", &b"inner"[..]).unwrap();
    let raw = b.into_inner().unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&raw).unwrap();
    gz.finish().unwrap()
}

#[test]
fn add_url_names_the_file_sets_mode_and_mtime_and_never_unpacks() {
    if !can_run() {
        return;
    }
    let store = TestStore::new();
    let server = TestServer::start();
    server.serve(
        "/files/tool.txt",
        Reply {
            headers: vec![(
                "Last-Modified".into(),
                "Sun, 06 Nov 1994 08:49:37 GMT".into(),
            )],
            ..ok(b"downloaded")
        },
    );
    server.serve("/files/a.tar.gz", ok(&tar_gz()));
    // The name comes from the URL's path only, as in BuildKit.
    server.serve(
        "/get/report.csv?id=7",
        Reply {
            headers: vec![(
                "Content-Disposition".into(),
                "attachment; filename=\"ignored.csv\"".into(),
            )],
            ..ok(b"a,b\n")
        },
    );
    let dockerfile = format!(
        "FROM busybox\nADD {} /opt/\nADD {} /named\nADD {} /tars/\nADD {} /reports/\n",
        server.url("/files/tool.txt"),
        server.url("/files/tool.txt"),
        server.url("/files/a.tar.gz"),
        server.url("/get/report.csv?id=7"),
    );
    let ctx = context(&dockerfile, &[]);
    let outcome = store.build(BuildOptions::new(ctx.path())).unwrap();
    let fs = store.rootfs(&outcome);
    assert_eq!(read(fs.path(), "opt/tool.txt"), "downloaded");
    assert_eq!(read(fs.path(), "named"), "downloaded");
    let meta = std::fs::metadata(path(fs.path(), "opt/tool.txt")).unwrap();
    assert_eq!(meta.permissions().mode() & 0o7777, 0o600);
    assert_eq!(meta.mtime(), 784_111_777, "mtime from Last-Modified");
    // A URL archive is added as it is, never unpacked.
    assert_eq!(
        std::fs::read(path(fs.path(), "tars/a.tar.gz")).unwrap(),
        tar_gz()
    );
    assert!(!path(fs.path(), "tars/inner.txt").exists());
    assert_eq!(read(fs.path(), "reports/report.csv"), "a,b\n");
    assert!(!path(fs.path(), "reports/ignored.csv").exists());

    // Without --checksum the content is fetched again to key the step; unchanged content
    // hits the cache.
    let before = server.requests();
    let (again, events) = store.build_events(BuildOptions::new(ctx.path()));
    again.unwrap();
    let (ran, cached) = step_summary(&events);
    assert!(ran.is_empty(), "{ran:?}");
    assert_eq!(cached.len(), 4);
    assert_eq!(server.requests() - before, 4);

    // New content behind the same URL misses its step (and those after it); the steps
    // before it still hit.
    server.serve("/files/a.tar.gz", ok(b"not a tar any more"));
    let (_, events) = store.build_events(BuildOptions::new(ctx.path()));
    let (ran, cached) = step_summary(&events);
    assert_eq!(ran.len(), 2, "{ran:?}");
    assert!(ran[0].contains("a.tar.gz"));
    assert!(cached.iter().all(|s| s.contains("tool.txt")), "{cached:?}");
    assert_no_leftovers(&store);
}

#[test]
fn add_url_checksum_is_verified_and_keys_the_cache_without_fetching() {
    if !can_run() {
        return;
    }
    let store = TestStore::new();
    let server = TestServer::start();
    server.serve("/blob", ok(b"payload"));
    let good = sha256(b"payload");
    let ctx = context(
        &format!(
            "FROM busybox\nADD --checksum={good} {} /blob\n",
            server.url("/blob")
        ),
        &[],
    );
    let outcome = store.build(BuildOptions::new(ctx.path())).unwrap();
    assert_eq!(read(store.rootfs(&outcome).path(), "blob"), "payload");
    assert_eq!(server.requests(), 1);
    // A cache hit keyed by the checksum needs no request at all.
    let (again, events) = store.build_events(BuildOptions::new(ctx.path()));
    again.unwrap();
    assert_eq!(step_summary(&events).1.len(), 1);
    assert_eq!(server.requests(), 1);

    let wrong = sha256(b"something else");
    let ctx = context(
        &format!(
            "FROM busybox\nADD --checksum={wrong} {} /blob\n",
            server.url("/blob")
        ),
        &[],
    );
    let message = store
        .build(BuildOptions::new(ctx.path()))
        .unwrap_err()
        .to_string();
    assert!(message.contains("checksum mismatch"), "{message}");
    assert!(message.contains(&wrong), "names the expected: {message}");
    assert!(message.contains(&good), "names the actual: {message}");

    // Nothing listening: a clear error.
    let closed = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let ctx = context(
        &format!("FROM busybox\nADD http://127.0.0.1:{port}/x /x\n"),
        &[],
    );
    let message = store
        .build(BuildOptions::new(ctx.path()))
        .unwrap_err()
        .to_string();
    assert!(message.contains("cannot fetch"), "{message}");

    // A server error is an error, not a file holding the error page.
    let ctx = context(
        &format!("FROM busybox\nADD {} /missing\n", server.url("/nope")),
        &[],
    );
    let message = store
        .build(BuildOptions::new(ctx.path()))
        .unwrap_err()
        .to_string();
    assert!(message.contains("404"), "{message}");
}

#[test]
fn add_unpacks_local_archives_of_every_compression_unless_unpack_false() {
    if !can_run() {
        return;
    }
    let store = TestStore::new();
    let ctx = tempfile::tempdir().unwrap();
    let src = ctx.path().join("src");
    std::fs::create_dir_all(src.join("pkg/sub")).unwrap();
    std::fs::write(src.join("pkg/sub/data.txt"), "archived").unwrap();
    let archives = [
        ("a.tar.gz", "-z"),
        ("a.tar.bz2", "-j"),
        ("a.tar.xz", "-J"),
        ("a.tar.zst", "--zstd"),
    ];
    let mut dockerfile = String::from("FROM busybox\n");
    for (name, flag) in archives {
        let status = std::process::Command::new("tar")
            .arg(flag)
            .arg("-cf")
            .arg(ctx.path().join(name))
            .arg("-C")
            .arg(&src)
            .arg("pkg")
            .status()
            .unwrap();
        assert!(status.success(), "tar {flag}");
        dockerfile.push_str(&format!("ADD {name} /out/{name}/\n"));
    }
    dockerfile.push_str("ADD --unpack=false a.tar.gz /kept/\n");
    std::fs::write(ctx.path().join("Dockerfile"), dockerfile).unwrap();
    let outcome = store.build(BuildOptions::new(ctx.path())).unwrap();
    let fs = store.rootfs(&outcome);
    for (name, _) in archives {
        assert_eq!(
            read(fs.path(), &format!("out/{name}/pkg/sub/data.txt")),
            "archived",
            "{name}"
        );
    }
    assert_eq!(
        std::fs::read(path(fs.path(), "kept/a.tar.gz")).unwrap(),
        std::fs::read(ctx.path().join("a.tar.gz")).unwrap()
    );
}

#[test]
fn copy_link_gives_the_same_result_as_copy() {
    if !can_run() {
        return;
    }
    let store = TestStore::new();
    let files = [("app/a.txt", "A"), ("app/b/c.txt", "C")];
    let plain = context(
        "FROM busybox\nWORKDIR /srv\nCOPY app/ ./app/\nCOPY app/a.txt /single\n",
        &files,
    );
    let linked = context(
        "FROM busybox\nWORKDIR /srv\nCOPY --link app/ ./app/\nCOPY --link app/a.txt /single\n",
        &files,
    );
    let plain = store.build(BuildOptions::new(plain.path())).unwrap();
    let linked = store.build(BuildOptions::new(linked.path())).unwrap();
    // The same files, modes, owners and contents (directory mtimes touched by the copy
    // may differ between two builds, so layers are compared by their trees).
    assert_eq!(
        plain.config.rootfs.diff_ids.len(),
        linked.config.rootfs.diff_ids.len()
    );
    let fs = store.rootfs(&linked);
    assert_eq!(tree(store.rootfs(&plain).path()), tree(fs.path()));
    assert_eq!(read(fs.path(), "srv/app/b/c.txt"), "C");
    assert_eq!(read(fs.path(), "single"), "A");
}

#[test]
fn copy_parents_with_wildcards_keeps_the_source_directories() {
    if !can_run() {
        return;
    }
    let store = TestStore::new();
    let ctx = context(
        "FROM busybox\nCOPY --parents ./x/*/file /dst/\nCOPY --parents y/*.txt /other/\n",
        &[
            ("x/a/file", "xa"),
            ("x/b/file", "xb"),
            ("x/b/other", "no"),
            ("y/one.txt", "1"),
            ("y/two.md", "no"),
        ],
    );
    let outcome = store.build(BuildOptions::new(ctx.path())).unwrap();
    let fs = store.rootfs(&outcome);
    assert_eq!(read(fs.path(), "dst/x/a/file"), "xa");
    assert_eq!(read(fs.path(), "dst/x/b/file"), "xb");
    assert!(!path(fs.path(), "dst/x/b/other").exists());
    assert!(!path(fs.path(), "dst/file").exists());
    assert_eq!(read(fs.path(), "other/y/one.txt"), "1");
    assert!(!path(fs.path(), "other/y/two.md").exists());
}

#[test]
fn run_mount_bind_from_a_stage_or_image_is_visible_and_keyed_by_its_source() {
    if !can_run() {
        return;
    }
    let store = TestStore::new();
    let dockerfile = "FROM busybox AS tools\nARG V=1\nRUN mkdir -p /opt/tools && echo tool-v$V > /opt/tools/version\n\
        FROM busybox\n\
        RUN --mount=type=bind,from=tools,source=/opt/tools,target=/mnt/t cat /mnt/t/version > /seen && (touch /mnt/t/x 2>/dev/null && echo writable || echo readonly) > /mode\n\
        RUN --mount=type=bind,from=tools,target=/mnt/all,rw touch /mnt/all/opt/tools/scratch && ls /mnt/all/opt/tools > /rw\n\
        RUN --mount=type=bind,from=busybox,source=etc/passwd,target=/p grep -c root /p > /image\n";
    let ctx = context(dockerfile, &[]);
    let outcome = store.build(BuildOptions::new(ctx.path())).unwrap();
    let fs = store.rootfs(&outcome);
    assert_eq!(read(fs.path(), "seen"), "tool-v1\n");
    assert_eq!(
        read(fs.path(), "mode"),
        "readonly\n",
        "bind mounts default to read-only"
    );
    assert_eq!(read(fs.path(), "rw"), "scratch\nversion\n");
    assert_eq!(read(fs.path(), "image"), "1\n");
    assert!(
        !path(fs.path(), "opt/tools").exists(),
        "the mounted stage's files are not in the image"
    );

    // Unchanged: all hits. The source stage changes: the mounting steps miss and see it.
    let (_, events) = store.build_events(BuildOptions::new(ctx.path()));
    let (ran, _) = step_summary(&events);
    assert!(ran.is_empty(), "{ran:?}");
    let (second, events) = store.build_events(BuildOptions::new(ctx.path()).build_arg("V", "2"));
    let (ran, _) = step_summary(&events);
    assert_eq!(ran.len(), 4, "{ran:?}");
    assert_eq!(
        read(store.rootfs(&second.unwrap()).path(), "seen"),
        "tool-v2\n"
    );

    // A missing source is a clear error.
    let ctx = context(
        "FROM busybox AS tools\nFROM busybox\nRUN --mount=type=bind,from=tools,source=/nope,target=/x true\n",
        &[],
    );
    let message = store
        .build(BuildOptions::new(ctx.path()))
        .unwrap_err()
        .to_string();
    assert!(message.contains("/nope"), "{message}");
    assert_no_leftovers(&store);
}

#[test]
fn onbuild_triggers_of_a_base_image_run_first_in_the_child() {
    if !can_run() {
        return;
    }
    let store = TestStore::new();
    let parent = context(
        "FROM busybox\nENV DIR=/app\nONBUILD COPY app.txt $DIR/\nONBUILD RUN echo built-$(cat $DIR/app.txt) > $DIR/built\n",
        &[],
    );
    let parent = store
        .build(BuildOptions::new(parent.path()).tag("onbuild-parent"))
        .unwrap();
    let triggers = parent.config.config.clone().unwrap().on_build.unwrap();
    assert_eq!(triggers.len(), 2, "{triggers:?}");

    let child = context(
        "FROM onbuild-parent\nRUN cat /app/built > /child\n",
        &[("app.txt", "from-child")],
    );
    let (outcome, events) = store.build_events(BuildOptions::new(child.path()));
    let outcome = outcome.unwrap();
    let (ran, _) = step_summary(&events);
    assert_eq!(ran.len(), 3, "both triggers, then the child's RUN: {ran:?}");
    let fs = store.rootfs(&outcome);
    assert_eq!(read(fs.path(), "app/app.txt"), "from-child");
    assert_eq!(read(fs.path(), "child"), "built-from-child\n");
    let config = outcome.config.config.clone().unwrap();
    assert!(
        config.on_build.as_ref().is_none_or(|t| t.is_empty()),
        "the child image carries no triggers: {:?}",
        config.on_build
    );

    // In a context without the file, the trigger fails with a message naming it.
    let without = context("FROM onbuild-parent\n", &[]);
    let message = store
        .build(BuildOptions::new(without.path()))
        .unwrap_err()
        .to_string();
    assert!(
        message.contains("app.txt"),
        "a trigger's failure names its source: {message}"
    );
}

#[test]
fn build_contexts_replace_stages_images_and_load_oci_layouts() {
    if !can_run() {
        return;
    }
    use rbuild_builder::request::NamedContext;
    let store = TestStore::new();

    // A directory context wins over the stage of the same name, for COPY --from.
    let shared = tempfile::tempdir().unwrap();
    std::fs::write(shared.path().join("data.txt"), "from the named context").unwrap();
    let ctx = context(
        "FROM busybox AS shared\nRUN echo from-the-stage > /data.txt\nFROM busybox\nCOPY --from=shared data.txt /data.txt\n",
        &[],
    );
    let options = || {
        BuildOptions::new(ctx.path()).named_context(
            "shared",
            NamedContext::Directory(shared.path().to_path_buf()),
        )
    };
    let outcome = store.build(options()).unwrap();
    assert_eq!(
        read(store.rootfs(&outcome).path(), "data.txt"),
        "from the named context"
    );
    // Its content keys the COPY: a change misses it.
    std::fs::write(shared.path().join("data.txt"), "changed").unwrap();
    let (changed, events) = store.build_events(options());
    assert_eq!(
        step_summary(&events).0,
        ["COPY --from=shared data.txt /data.txt"]
    );
    assert_eq!(
        read(store.rootfs(&changed.unwrap()).path(), "data.txt"),
        "changed"
    );

    // docker-image:// replaces FROM NAME and COPY --from=NAME.
    let ctx = context(
        "FROM base\nCOPY --from=tools /etc/group /copied-group\nRUN test -x /bin/busybox\n",
        &[],
    );
    let outcome = store
        .build(
            BuildOptions::new(ctx.path())
                .named_context("base", NamedContext::Image("busybox".into()))
                .named_context("tools", NamedContext::Image("busybox:latest".into())),
        )
        .unwrap();
    assert!(read(store.rootfs(&outcome).path(), "copied-group").contains("staff"));

    // A named context also replaces a stage of that name used as a base, and that stage is
    // not built at all (it would fail). The replacing image's ONBUILD triggers run.
    let parent = context("FROM busybox\nONBUILD RUN echo triggered > /trigger\n", &[]);
    store
        .build(BuildOptions::new(parent.path()).tag("with-trigger"))
        .unwrap();
    let ctx = context(
        "FROM busybox AS base\nRUN echo stage > /which && exit 7\nFROM base\nRUN (cat /which || echo replaced) > /seen\nCOPY --from=base /etc/group /copied\n",
        &[],
    );
    let (outcome, events) = store.build_events(
        BuildOptions::new(ctx.path())
            .named_context("base", NamedContext::Image("with-trigger".into())),
    );
    let outcome = outcome.unwrap();
    let (ran, _) = step_summary(&events);
    assert!(
        !ran.iter().any(|step| step.contains("exit 7")),
        "the replaced stage did not run: {ran:?}"
    );
    let fs = store.rootfs(&outcome);
    assert_eq!(read(fs.path(), "seen"), "replaced\n");
    assert_eq!(read(fs.path(), "trigger"), "triggered\n");
    assert!(
        read(fs.path(), "copied").contains("root"),
        "COPY --from the replaced stage"
    );

    // A directory as FROM NAME is the whole root file system.
    let rootdir = tempfile::tempdir().unwrap();
    std::fs::create_dir(rootdir.path().join("etc")).unwrap();
    std::fs::write(rootdir.path().join("etc/base.txt"), "base").unwrap();
    let ctx = context(
        "FROM dirbase\nCOPY extra.txt /\n",
        &[("extra.txt", "extra")],
    );
    let outcome = store
        .build(BuildOptions::new(ctx.path()).named_context(
            "dirbase",
            NamedContext::Directory(rootdir.path().to_path_buf()),
        ))
        .unwrap();
    let fs = store.rootfs(&outcome);
    assert_eq!(read(fs.path(), "etc/base.txt"), "base");
    assert_eq!(read(fs.path(), "extra.txt"), "extra");
    assert!(!path(fs.path(), "bin/busybox").exists());

    // oci-layout:// loads the image from the layout into the (other) store first.
    let marked = context("FROM busybox\nRUN echo layout > /marker\n", &[]);
    let marked = store.build(BuildOptions::new(marked.path())).unwrap();
    let layout = tempfile::tempdir().unwrap();
    let dest = layout.path().join("oci");
    let spec = rbuild_oci::output::OutputSpec::parse(&format!(
        "type=oci,dest={},tar=false",
        dest.display()
    ))
    .unwrap();
    rbuild_builder::build::export_outputs(&store.images(), &marked.manifest_digest, &[spec])
        .unwrap();
    let other = TestStore::new();
    let ctx = context("FROM app\nRUN cat /marker > /seen\n", &[]);
    let outcome = other
        .build(BuildOptions::new(ctx.path()).named_context(
            "app",
            NamedContext::OciLayout {
                path: dest.clone(),
                reference: "latest".into(),
            },
        ))
        .unwrap();
    assert_eq!(read(other.rootfs(&outcome).path(), "seen"), "layout\n");
    let message = other
        .build(BuildOptions::new(ctx.path()).named_context(
            "app",
            NamedContext::OciLayout {
                path: dest,
                reference: "no-such-tag".into(),
            },
        ))
        .unwrap_err()
        .to_string();
    assert!(message.contains("no-such-tag"), "{message}");
}

#[test]
fn run_bind_mounts_of_directories_are_keyed_by_content_and_rw_never_writes_the_host() {
    if !can_run() {
        return;
    }
    use rbuild_builder::request::NamedContext;
    let store = TestStore::new();
    let extra = tempfile::tempdir().unwrap();
    std::fs::write(extra.path().join("f"), "extra-1").unwrap();
    let ctx = context(
        "FROM busybox\n\
         RUN --mount=type=bind,source=data.txt,target=/d cat /d > /seen\n\
         RUN --mount=type=bind,target=/ctx,rw echo x > /ctx/written && cat /ctx/written > /rw\n\
         RUN --mount=type=bind,from=extra,target=/e cat /e/f > /extra\n",
        &[("data.txt", "data-1")],
    );
    let options = || {
        BuildOptions::new(ctx.path())
            .named_context("extra", NamedContext::Directory(extra.path().to_path_buf()))
    };
    let outcome = store.build(options()).unwrap();
    let fs = store.rootfs(&outcome);
    assert_eq!(read(fs.path(), "seen"), "data-1");
    assert_eq!(read(fs.path(), "rw"), "x\n");
    assert_eq!(read(fs.path(), "extra"), "extra-1");
    assert!(
        !ctx.path().join("written").exists(),
        "an rw bind's writes are discarded, never written into the context"
    );

    let (_, events) = store.build_events(options());
    assert!(step_summary(&events).0.is_empty());
    // The mounted file's content is part of the key.
    std::fs::write(ctx.path().join("data.txt"), "data-2").unwrap();
    std::fs::write(extra.path().join("f"), "extra-2").unwrap();
    let (changed, events) = store.build_events(options());
    assert_eq!(step_summary(&events).0.len(), 3);
    let fs = store.rootfs(&changed.unwrap());
    assert_eq!(read(fs.path(), "seen"), "data-2");
    assert_eq!(read(fs.path(), "extra"), "extra-2");
    assert_no_leftovers(&store);
}

#[test]
fn copy_from_a_stage_with_thousands_of_files_sees_them_all() {
    if !can_run() {
        return;
    }
    // Large enough for the walk to stat entries on several threads, which must see the
    // stage's snapshot mounted only for the copying thread.
    let store = TestStore::new();
    let ctx = context(
        "FROM busybox AS many\nRUN mkdir /d && cd /d && for i in $(seq 5000); do echo $i > f$i; done\nFROM busybox\nCOPY --from=many /d /d\n",
        &[],
    );
    let outcome = store.build(BuildOptions::new(ctx.path())).unwrap();
    let fs = store.rootfs(&outcome);
    assert_eq!(
        std::fs::read_dir(path(fs.path(), "d")).unwrap().count(),
        5000
    );
    assert_eq!(read(fs.path(), "d/f4321"), "4321\n");
}
