//! `rbuild run` and `rbuild rm` end to end: the CMD's output, commands with arguments,
//! exit codes passed through, and named containers.

mod support;

use support::{Store, assert_failure, assert_success, can_run, context, path_str, stderr, stdout};

fn image(store: &Store) {
    let ctx = context(
        "FROM busybox\nENV WHO=World\nCMD [\"sh\", \"-c\", \"echo Hello $WHO\"]\n",
        &[],
    );
    assert_success(
        &store.rbuild(&["-q", "-t", "greeter", &path_str(ctx.path())]),
        "build",
    );
}

#[test]
fn run_prints_the_cmd_output_and_passes_exit_codes_through() {
    if !can_run() {
        return;
    }
    let store = Store::new();
    image(&store);
    let out = store.rbuild(&["run", "--rm", "greeter"]);
    assert_success(&out, "run --rm");
    assert_eq!(stdout(&out), "Hello World\n");

    let out = store.rbuild(&["run", "--rm", "-e", "WHO=rbuild", "greeter"]);
    assert_eq!(stdout(&out), "Hello rbuild\n");

    let out = store.rbuild(&[
        "run",
        "--rm",
        "greeter",
        "sh",
        "-c",
        "echo out; echo err >&2; exit 42",
    ]);
    assert_failure(&out, 42, "exit code passes through");
    assert_eq!(stdout(&out), "out\n");
    assert!(stderr(&out).contains("err"), "{}", stderr(&out));

    let out = store.rbuild(&["run", "--rm", "greeter", "echo", "a b", "c"]);
    assert_success(&out, "command with arguments");
    assert_eq!(stdout(&out), "a b c\n");

    let out = store.rbuild(&["run", "--rm", "no-such-image"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("no-such-image"), "{}", stderr(&out));
}

#[test]
fn named_container_is_kept_until_rm() {
    if !can_run() {
        return;
    }
    let store = Store::new();
    image(&store);
    let out = store.rbuild(&[
        "run",
        "--name",
        "keeper",
        "greeter",
        "sh",
        "-c",
        "echo kept > /state",
    ]);
    assert_success(&out, "run --name");
    let out = store.rbuild(&["rm", "keeper"]);
    assert_success(&out, "rm");
    assert_eq!(stdout(&out), "keeper\n");
    let out = store.rbuild(&["rm", "keeper"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "removing twice fails: {}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("keeper"), "{}", stderr(&out));
}

#[test]
fn workdir_user_and_entrypoint_flags_override_the_image() {
    if !can_run() {
        return;
    }
    let store = Store::new();
    let ctx = context(
        "FROM busybox\nWORKDIR /srv\nENTRYPOINT [\"echo\", \"ep\"]\nCMD [\"default\"]\n",
        &[],
    );
    assert_success(
        &store.rbuild(&["-q", "-t", "with-entrypoint", &path_str(ctx.path())]),
        "build",
    );
    let out = store.rbuild(&["run", "--rm", "with-entrypoint"]);
    assert_success(&out, "entrypoint and cmd");
    assert_eq!(stdout(&out), "ep default\n");
    let out = store.rbuild(&["run", "--rm", "with-entrypoint", "given"]);
    assert_eq!(stdout(&out), "ep given\n", "arguments replace CMD only");

    // --entrypoint replaces ENTRYPOINT and drops the image's CMD.
    let out = store.rbuild(&["run", "--rm", "--entrypoint", "pwd", "with-entrypoint"]);
    assert_success(&out, "--entrypoint");
    assert_eq!(stdout(&out), "/srv\n", "the image's WORKDIR");
    let out = store.rbuild(&[
        "run",
        "--rm",
        "--entrypoint",
        "sh",
        "with-entrypoint",
        "-c",
        "echo $0-$1",
        "a",
        "b",
    ]);
    assert_eq!(stdout(&out), "a-b\n");

    let out = store.rbuild(&[
        "run",
        "--rm",
        "-w",
        "/made/here",
        "--entrypoint",
        "pwd",
        "with-entrypoint",
    ]);
    assert_success(&out, "-w");
    assert_eq!(
        stdout(&out),
        "/made/here\n",
        "-w creates and enters the directory"
    );
    let out = store.rbuild(&[
        "run",
        "--rm",
        "--workdir=/tmp",
        "-u",
        "65534:65533",
        "--entrypoint",
        "sh",
        "with-entrypoint",
        "-c",
        "pwd; id -u; id -g",
    ]);
    assert_success(&out, "-u");
    assert_eq!(stdout(&out), "/tmp\n65534\n65533\n");
    let out = store.rbuild(&["run", "--rm", "--user", "nosuchuser", "with-entrypoint"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("nosuchuser"), "{}", stderr(&out));
}
