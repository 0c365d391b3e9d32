//! `rbuild build` end to end through the real binary: the ways to name the context and the
//! Dockerfile, docker build's flags, and the errors a user sees.

mod support;

use support::{Store, assert_failure, assert_success, can_run, context, path_str, stderr, stdout};

#[test]
fn implicit_build_with_a_tag_then_run_prints_the_cmd_output() {
    if !can_run() {
        return;
    }
    let store = Store::new();
    let ctx = context(
        "FROM busybox\nCOPY greeting /greeting\nCMD [\"cat\", \"/greeting\"]\n",
        &[("greeting", "Hello World\n")],
    );
    // `rbuild --root X -t NAME DIR`: no `build` word.
    let out = store.rbuild(&["-t", "hello", &path_str(ctx.path())]);
    assert_success(&out, "implicit build");
    let images = store.rbuild(&["images"]);
    assert_success(&images, "images");
    assert!(stdout(&images).contains("hello"), "{}", stdout(&images));
    let run = store.rbuild(&["run", "--rm", "hello"]);
    assert_success(&run, "run --rm");
    assert_eq!(stdout(&run), "Hello World\n");
}

#[test]
fn dockerfile_from_dash_f_and_as_the_context_argument() {
    if !can_run() {
        return;
    }
    let store = Store::new();
    let ctx = context(
        "FROM busybox\nRUN false\n",
        &[
            (
                "build/custom.Dockerfile",
                "FROM busybox\nCOPY data /data\nCMD [\"cat\", \"/data\"]\n",
            ),
            ("data", "from the context\n"),
            ("build/data", "beside the Dockerfile\n"),
        ],
    );
    let file = ctx.path().join("build/custom.Dockerfile");
    let out = store.rbuild(&[
        "build",
        "-f",
        &path_str(&file),
        "-t",
        "viaf",
        &path_str(ctx.path()),
    ]);
    assert_success(&out, "build -f FILE DIR");
    let run = store.rbuild(&["run", "--rm", "viaf"]);
    assert_eq!(stdout(&run), "from the context\n");

    // A Dockerfile path as the context: its folder is the context.
    let out = store.rbuild(&["-t", "viapath", &path_str(&file)]);
    assert_success(&out, "build with a Dockerfile path as the context");
    let run = store.rbuild(&["run", "--rm", "viapath"]);
    assert_eq!(stdout(&run), "beside the Dockerfile\n");
}

#[test]
fn dockerfile_on_stdin_builds_without_a_context_and_copy_fails_clearly() {
    if !can_run() {
        return;
    }
    let store = Store::new();
    let out = store.rbuild_stdin(
        &["build", "-t", "fromstdin", "-"],
        "FROM busybox\nRUN echo made > /made\nCMD [\"cat\", \"/made\"]\n",
    );
    assert_success(&out, "build -");
    let run = store.rbuild(&["run", "--rm", "fromstdin"]);
    assert_eq!(stdout(&run), "made\n");

    let out = store.rbuild_stdin(&["build", "-"], "FROM busybox\nCOPY a /a\n");
    let err = assert_failure(&out, 1, "COPY without a context");
    assert!(err.contains("COPY a"), "{err}");
    assert!(err.contains("no context"), "{err}");
}

#[test]
fn build_args_target_and_labels() {
    if !can_run() {
        return;
    }
    let store = Store::new();
    let ctx = context(
        "FROM busybox AS first\nARG COLOR=red\nRUN echo \"$COLOR\" > /color\nCMD [\"cat\", \"/color\"]\n\
         FROM first AS second\nRUN false\n",
        &[],
    );
    let dir = path_str(ctx.path());
    // The second stage's RUN false would fail the build: --target must not run it.
    let out = store.rbuild(&[
        "build",
        "-t",
        "args",
        "--target",
        "first",
        "--build-arg",
        "COLOR=blue",
        "--label",
        "org.example.team=builders",
        &dir,
    ]);
    assert_success(&out, "--target first with --build-arg and --label");
    let run = store.rbuild(&["run", "--rm", "args"]);
    assert_eq!(stdout(&run), "blue\n");
    let inspect = store.rbuild(&["inspect", "args"]);
    assert_success(&inspect, "inspect");
    assert!(
        stdout(&inspect).contains("\"org.example.team\": \"builders\""),
        "{}",
        stdout(&inspect)
    );

    let out = store.rbuild(&["build", &dir]);
    let err = assert_failure(&out, 1, "building the last stage runs RUN false");
    assert!(err.contains("exit code: 1"), "{err}");
}

#[test]
fn quiet_iidfile_and_metadata_file_agree_on_the_image_id() {
    if !can_run() {
        return;
    }
    let store = Store::new();
    let ctx = context("FROM busybox\nRUN echo x > /x\n", &[]);
    let files = tempfile::tempdir().unwrap();
    let iid = files.path().join("iid");
    let meta = files.path().join("meta.json");
    let out = store.rbuild(&[
        "build",
        "-q",
        "-t",
        "quiet",
        "--iidfile",
        &path_str(&iid),
        "--metadata-file",
        &path_str(&meta),
        &path_str(ctx.path()),
    ]);
    assert_success(&out, "build -q");
    let printed = stdout(&out);
    let id = printed.trim();
    assert_eq!(printed, format!("{id}\n"), "-q prints only the ID");
    assert!(id.starts_with("sha256:") && id.len() == 71, "{id}");
    assert!(stderr(&out).is_empty(), "-q is silent: {}", stderr(&out));
    assert_eq!(std::fs::read_to_string(&iid).unwrap(), id);
    let meta: serde_json::Value = serde_json::from_slice(&std::fs::read(&meta).unwrap()).unwrap();
    assert_eq!(meta["containerimage.config.digest"], id);
    assert!(
        meta["containerimage.digest"]
            .as_str()
            .is_some_and(|d| d.starts_with("sha256:")),
        "{meta}"
    );
    assert_eq!(meta["image.name"], "docker.io/library/quiet:latest");
}

#[test]
fn errors_have_messages_and_exit_codes() {
    if !can_run() {
        return;
    }
    let store = Store::new();
    let ctx = context(
        "FROM busybox\nRUNN echo hi\n",
        &[("fail.Dockerfile", "FROM busybox\nRUN echo before; exit 3\n")],
    );
    let dir = path_str(ctx.path());
    let out = store.rbuild(&["build", &dir]);
    let err = assert_failure(&out, 1, "unknown instruction");
    assert!(err.contains("unknown instruction: RUNN"), "{err}");
    assert!(err.contains("did you mean RUN?"), "{err}");
    assert!(!err.contains("ERROR: error:"), "one heading: {err}");

    let file = ctx.path().join("fail.Dockerfile");
    let out = store.rbuild(&["build", "--progress=plain", "-f", &path_str(&file), &dir]);
    let err = assert_failure(&out, 1, "failing RUN");
    assert!(
        err.contains(
            "process \"/bin/sh -c echo before; exit 3\" did not complete successfully: exit code: 3"
        ),
        "{err}"
    );
    assert!(err.contains("before"), "the step's output is shown: {err}");

    let out = store.rbuild(&["build", "--platform", "linux/s390x", &dir]);
    let err = assert_failure(&out, 1, "foreign platform");
    assert!(err.contains("--platform linux/s390x"), "{err}");
    assert!(err.contains("native platform only"), "{err}");

    let out = store.rbuild(&["build", "--progress=fancy", &dir]);
    let err = assert_failure(&out, 1, "unknown progress mode");
    assert!(err.contains("--progress fancy"), "{err}");

    let missing = ctx.path().join("does-not-exist");
    let out = store.rbuild(&["build", &path_str(&missing)]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(!stderr(&out).is_empty());
}
