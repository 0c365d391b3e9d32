//! End to end: real builds through the library API, on a private store with a busybox base
//! made locally, with real namespaces and overlayfs (as root; CI runs them).

mod support;

use std::os::unix::fs::MetadataExt;

use rbuild_builder::build::{BuildError, BuildOptions};
use support::*;

#[test]
fn hello_world_image_has_docker_config_and_layer() {
    if !can_run() {
        return;
    }
    let store = TestStore::new();
    let ctx = context(
        "FROM busybox\nMAINTAINER someone\nRUN echo hi > /hi\nCMD [\"echo\", \"Hello World\"]\n",
        &[],
    );
    let outcome = store
        .build(BuildOptions::new(ctx.path()).tag("hello"))
        .unwrap();
    let config = outcome.config.config.clone().unwrap();
    assert_eq!(config.cmd.unwrap(), ["echo", "Hello World"]);
    assert_eq!(outcome.config.author.as_deref(), Some("someone"));
    assert_eq!(
        outcome.config.rootfs.diff_ids.len(),
        2,
        "busybox layer + RUN layer"
    );
    let history: Vec<String> = outcome
        .config
        .history
        .iter()
        .filter_map(|h| h.created_by.clone())
        .collect();
    assert_eq!(
        &history[history.len() - 3..],
        [
            "MAINTAINER someone",
            "RUN /bin/sh -c echo hi > /hi # buildkit",
            "CMD [\"echo\" \"Hello World\"]"
        ]
    );
    let fs = store.rootfs(&outcome);
    assert_eq!(read(fs.path(), "hi"), "hi\n");
    assert!(path(fs.path(), "bin/busybox").exists());
    assert_eq!(outcome.tags, ["docker.io/library/hello:latest"]);
}

#[test]
fn cache_hits_and_precise_misses_with_reasons() {
    if !can_run() {
        return;
    }
    let store = TestStore::new();
    let dockerfile = "FROM busybox\nARG VERSION=1\nCOPY a.txt /a.txt\nCOPY b.txt /b.txt\nRUN echo $VERSION > /version\nLABEL x=y\n";
    let ctx = context(dockerfile, &[("a.txt", "A"), ("b.txt", "B")]);
    let options = || BuildOptions::new(ctx.path());

    let (first, events) = store.build_events(options());
    let first = first.unwrap();
    let (ran, cached) = step_summary(&events);
    assert_eq!(ran.len(), 3);
    assert!(cached.is_empty());

    // Nothing changed: every step is a hit, and the result is the same file system.
    let (again, events) = store.build_events(options());
    let again = again.unwrap();
    let (ran, cached) = step_summary(&events);
    assert!(ran.is_empty(), "unexpected misses: {ran:?}");
    assert_eq!(cached.len(), 3);
    assert_eq!(again.executed_steps, 0);
    // Times come from the cache too: a fully cached rebuild is the very same image.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let (third, _) = store.build_events(options());
    assert_eq!(third.unwrap().image_id, first.image_id);
    assert_eq!(again.image_id, first.image_id);

    // One file changes: its COPY and what follows miss; the other COPY before it hits.
    std::fs::write(ctx.path().join("b.txt"), "B2").unwrap();
    let (_, events) = store.build_events(options());
    let (ran, cached) = step_summary(&events);
    assert_eq!(cached, ["COPY a.txt /a.txt"]);
    assert_eq!(ran, ["COPY b.txt /b.txt", "RUN echo $VERSION > /version"]);
    let reasons = miss_reasons(&events);
    assert_eq!(reasons[0].1, ["file changed: b.txt (from b.txt)"]);
    assert_eq!(reasons[1].1, ["a previous step changed"]);

    // A build arg changes: only the RUN that sees it misses, and says why.
    let (result, events) = store.build_events(options().build_arg("VERSION", "2"));
    let fs = store.rootfs(&result.unwrap());
    assert_eq!(read(fs.path(), "version"), "2\n");
    let (ran, cached) = step_summary(&events);
    assert_eq!(cached, ["COPY a.txt /a.txt", "COPY b.txt /b.txt"]);
    assert_eq!(ran, ["RUN echo $VERSION > /version"]);
    assert_eq!(
        miss_reasons(&events)[0].1,
        ["VERSION changed: \"1\" → \"2\""]
    );

    // --no-cache runs everything again.
    let (_, events) = store.build_events(options().build_arg("VERSION", "2").no_cache(true));
    assert_eq!(step_summary(&events).0.len(), 3);
}

#[test]
fn failing_run_reports_command_exit_code_and_source() {
    if !can_run() {
        return;
    }
    let store = TestStore::new();
    let ctx = context("FROM busybox\nRUN echo about to fail && exit 3\n", &[]);
    let err = store.build(BuildOptions::new(ctx.path())).unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, BuildError::RunFailed { .. }), "{text}");
    assert!(
        text.contains("process \"/bin/sh -c echo about to fail && exit 3\" did not complete successfully: exit code: 3"),
        "{text}"
    );
    assert!(text.contains("Dockerfile:2"), "{text}");
    assert!(
        text.contains(">>>    2 | RUN echo about to fail && exit 3"),
        "{text}"
    );
    assert!(
        text.contains("about to fail"),
        "the command's output is repeated: {text}"
    );
    // A failed step leaves no snapshot behind.
    let active = rbuild_snapshotter::Snapshotter::open(store.root())
        .unwrap()
        .list()
        .unwrap();
    assert!(active.is_empty(), "left over snapshots: {active:?}");
}

#[test]
fn copy_semantics_ownership_modes_ignore_and_stages() {
    if !can_run() {
        return;
    }
    let store = TestStore::new();
    let dockerfile = r#"FROM busybox AS build
WORKDIR /src
COPY src/ ./
RUN cat *.txt > /combined
FROM busybox
COPY --from=build /combined /out/combined
COPY --chown=app:staff --chmod=640 conf/*.conf /etc/app/
COPY docs /docs
COPY <<EOF /greeting
hello from a heredoc
EOF
"#;
    let ctx = context(
        dockerfile,
        &[
            ("src/a.txt", "a"),
            ("src/b.txt", "b"),
            ("conf/one.conf", "1"),
            ("conf/two.conf", "2"),
            ("conf/skip.ini", "x"),
            ("docs/keep.md", "keep"),
            ("docs/secret.md", "secret"),
            (".dockerignore", "docs/secret.md\n"),
        ],
    );
    let outcome = store.build(BuildOptions::new(ctx.path())).unwrap();
    let fs = store.rootfs(&outcome);
    assert_eq!(read(fs.path(), "out/combined"), "ab");
    for conf in ["one.conf", "two.conf"] {
        let meta = std::fs::metadata(path(fs.path(), &format!("etc/app/{conf}"))).unwrap();
        assert_eq!(
            (meta.uid(), meta.gid(), meta.mode() & 0o7777),
            (1000, 50, 0o640),
            "{conf}"
        );
    }
    assert!(!path(fs.path(), "etc/app/skip.ini").exists());
    assert_eq!(read(fs.path(), "docs/keep.md"), "keep");
    assert!(
        !path(fs.path(), "docs/secret.md").exists(),
        ".dockerignore applies"
    );
    assert_eq!(read(fs.path(), "greeting"), "hello from a heredoc\n");
    // The build stage's files did not leak into the final image.
    assert!(!path(fs.path(), "src").exists());
}

#[test]
fn env_arg_workdir_user_reach_run() {
    if !can_run() {
        return;
    }
    let store = TestStore::new();
    let dockerfile = r#"FROM busybox
ARG GREETING=hi
ENV NAME=world
WORKDIR /work/dir
RUN echo "$GREETING $NAME from $(pwd)" > out.txt
USER app
RUN id -u > /tmp/uid
"#;
    let ctx = context(dockerfile, &[]);
    let outcome = store.build(BuildOptions::new(ctx.path())).unwrap();
    let fs = store.rootfs(&outcome);
    assert_eq!(
        read(fs.path(), "work/dir/out.txt"),
        "hi world from /work/dir\n"
    );
    assert_eq!(read(fs.path(), "tmp/uid"), "1000\n");
    let config = outcome.config.config.unwrap();
    assert_eq!(config.working_dir.as_deref(), Some("/work/dir"));
    assert_eq!(config.user.as_deref(), Some("app"));
    assert!(config.env.unwrap().contains(&"NAME=world".to_string()));
}

#[test]
fn missing_source_and_bad_dockerfile_are_clear_errors() {
    if !can_run() {
        return;
    }
    let store = TestStore::new();
    let ctx = context("FROM busybox\nCOPY nothere.txt /\n", &[]);
    let text = store
        .build(BuildOptions::new(ctx.path()))
        .unwrap_err()
        .to_string();
    assert!(
        text.contains("\"nothere.txt\" not found in the build context"),
        "{text}"
    );
    assert!(text.contains("Dockerfile:2"), "{text}");

    let ctx = context("FROM busybox\nRUNN echo\n", &[]);
    let text = store
        .build(BuildOptions::new(ctx.path()))
        .unwrap_err()
        .to_string();
    assert!(text.contains("unknown instruction: RUNN"), "{text}");
    assert!(text.contains("did you mean RUN?"), "{text}");
}

#[test]
fn secrets_are_readable_but_never_stored_and_cache_mounts_persist() {
    if !can_run() {
        return;
    }
    let store = TestStore::new();
    let secret_file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(secret_file.path(), "s3cret-file").unwrap();
    // The Dockerfile compares digests so that the secret values never appear in it (its
    // text is in the history).
    let dockerfile = r#"FROM busybox
RUN --mount=type=secret,id=tok test "$(md5sum < /run/secrets/tok)" = "6491ed15624f4c9cd69ea034e318b6bf  -" && echo ok > /file-secret-ok
RUN --mount=type=secret,id=envtok,env=TOKEN test "$(printf %s "$TOKEN" | md5sum)" = "2917823f1c3e51866b72d832f64f86c5  -" && echo ok > /env-secret-ok
RUN --mount=type=cache,target=/cache echo run >> /cache/log && cp /cache/log /seen
RUN --mount=type=tmpfs,target=/scratch touch /scratch/x && test -f /scratch/x
"#;
    let ctx = context(dockerfile, &[]);
    // SAFETY: tests in this binary do not read this variable concurrently.
    unsafe { std::env::set_var("RBUILD_TEST_SECRET_ENV", "s3cret-env") };
    let options = || {
        BuildOptions::new(ctx.path())
            .secret(
                rbuild_builder::request::parse_secret(&format!(
                    "id=tok,src={}",
                    secret_file.path().display()
                ))
                .unwrap(),
            )
            .secret(
                rbuild_builder::request::parse_secret("id=envtok,env=RBUILD_TEST_SECRET_ENV")
                    .unwrap(),
            )
    };
    let outcome = store.build(options()).unwrap();
    let fs = store.rootfs(&outcome);
    assert_eq!(read(fs.path(), "file-secret-ok"), "ok\n");
    assert_eq!(read(fs.path(), "env-secret-ok"), "ok\n");
    assert!(
        !path(fs.path(), "run/secrets/tok").exists(),
        "the secret mount point leaves no trace"
    );
    assert!(
        !path(fs.path(), "scratch/x").exists(),
        "tmpfs content is not in the layer"
    );
    assert!(
        !path(fs.path(), "cache/log").exists(),
        "cache mount content is not in the layer"
    );
    let config_json = serde_json::to_string(&outcome.config).unwrap();
    assert!(
        !config_json.contains("s3cret"),
        "no secret in config or history"
    );
    // Nothing secret stays in the store either.
    let grep = std::process::Command::new("grep")
        .args(["-r", "-l", "s3cret"])
        .arg(store.root())
        .output()
        .unwrap();
    assert!(
        grep.stdout.is_empty(),
        "secret found in the store: {}",
        String::from_utf8_lossy(&grep.stdout)
    );
    // The cache mount keeps its content for the next build that runs the step.
    let outcome = store.build(options().no_cache(true)).unwrap();
    let fs = store.rootfs(&outcome);
    assert_eq!(read(fs.path(), "seen"), "run\nrun\n");
}

#[test]
fn independent_stages_overlap_and_unneeded_stages_never_run() {
    if !can_run() {
        return;
    }
    let store = TestStore::new();
    let dockerfile = r#"FROM busybox AS a
RUN sleep 1 && echo a > /a
FROM busybox AS b
RUN sleep 1 && echo b > /b
FROM busybox AS broken
RUN exit 1
FROM busybox AS c
RUN sleep 1 && echo c > /c
FROM busybox
COPY --from=a /a /a
COPY --from=b /b /b
COPY --from=c /c /c
"#;
    let ctx = context(dockerfile, &[]);
    let (result, events) = store.build_events(BuildOptions::new(ctx.path()).jobs(3));
    let fs = store.rootfs(&result.unwrap());
    for name in ["a", "b", "c"] {
        assert_eq!(read(fs.path(), name), format!("{name}\n"));
    }
    // Overlap, shown by event order rather than timing: some stage's RUN starts before
    // another stage's RUN has finished.
    let mut running = 0usize;
    let mut max_running = 0usize;
    for e in &events {
        match e {
            rbuild_builder::build::BuildEvent::StepStarted { step }
                if step.text.starts_with("RUN") =>
            {
                running += 1;
                max_running = max_running.max(running);
            }
            rbuild_builder::build::BuildEvent::StepFinished { step, .. }
                if step.text.starts_with("RUN") =>
            {
                running -= 1;
            }
            _ => {}
        }
    }
    assert!(max_running >= 2, "independent stages ran one after another");
    let stages: Vec<String> = events
        .iter()
        .filter_map(|e| match e {
            rbuild_builder::build::BuildEvent::StepStarted { step } => Some(step.stage.clone()),
            _ => None,
        })
        .collect();
    assert!(
        !stages.iter().any(|s| s == "broken"),
        "a stage the target does not need ran"
    );
}

#[test]
fn base_images_come_from_a_registry_mirror_and_by_host_name() {
    if !can_run() {
        return;
    }
    let Some(registry) = support::registry::TestRegistry::start() else {
        return;
    };
    use rbuild_oci::Reference;
    use rbuild_oci::registry::{Mirror, RegistryClient, RegistrySettings};
    let settings = RegistrySettings {
        mirrors: vec![Mirror::parse(&format!("http://{}", registry.host))],
        insecure: vec![registry.host.clone()],
        // Never reach for Docker Hub from a test.
        fallback_to_hub: false,
    };
    // Publish the locally made busybox as library/busybox on the registry.
    let source = TestStore::new();
    let client = RegistryClient::new(settings.clone()).unwrap();
    let target = Reference::parse(&format!("{}/library/busybox:latest", registry.host)).unwrap();
    client
        .push(&source.images(), "busybox:latest", &target)
        .unwrap();

    // A fresh store has no busybox: `FROM busybox` is pulled through the mirror, and a
    // `host:port/` reference straight from the registry.
    let empty = tempfile::tempdir().unwrap();
    let dockerfile = format!(
        "FROM {}/library/busybox AS direct\nRUN echo direct > /d\nFROM busybox\nCOPY --from=direct /d /d\nRUN cat /d\n",
        registry.host
    );
    let ctx = context(&dockerfile, &[]);
    let result = rbuild_builder::build::build(
        &BuildOptions::new(ctx.path())
            .store_root(empty.path())
            .registry_settings(settings.clone()),
    )
    .unwrap();
    assert_eq!(result.config.rootfs.diff_ids.len(), 2);

    // Nothing answers: a clear error, no hang.
    let dead = RegistrySettings {
        mirrors: vec![Mirror::parse("http://127.0.0.1:1")],
        insecure: Vec::new(),
        fallback_to_hub: false,
    };
    let other = tempfile::tempdir().unwrap();
    let ctx = context("FROM busybox\n", &[]);
    let err = rbuild_builder::build::build(
        &BuildOptions::new(ctx.path())
            .store_root(other.path())
            .registry_settings(dead),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("127.0.0.1:1"), "{err}");
}

/// A RUN that renames a directory and chmods a file from a layer below: the step's layer
/// must hold the whole moved tree and the file's content, whatever the host's overlay
/// defaults (a redirect or a metadata-only copy-up would leave them out of the upper
/// directory the layer is made from).
#[test]
fn run_renaming_and_chmodding_lower_files_keeps_their_content() {
    if !can_run() {
        return;
    }
    let store = TestStore::new();
    let ctx = context(
        "FROM busybox\n\
         RUN mkdir -p /data/sub && echo content > /data/sub/f && echo kept > /keep\n\
         RUN mv /data /moved && chmod 600 /moved/sub/f && chmod 700 /keep\n",
        &[],
    );
    let outcome = store.build(BuildOptions::new(ctx.path())).unwrap();
    let fs = store.rootfs(&outcome);
    assert_eq!(read(fs.path(), "moved/sub/f"), "content\n");
    assert_eq!(read(fs.path(), "keep"), "kept\n");
    let mode = |rel: &str| std::fs::metadata(path(fs.path(), rel)).unwrap().mode() & 0o7777;
    assert_eq!(mode("moved/sub/f"), 0o600);
    assert_eq!(mode("keep"), 0o700);
    assert!(!path(fs.path(), "data").exists());
}
