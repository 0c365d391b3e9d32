//! The terminal progress display, run in a pseudo-terminal made by `script` (util-linux):
//! steps' summary lines stay, cache hits are marked, and a failed step's complete output is
//! printed.

mod support;

use std::process::{Command, Stdio};

use support::{Store, can_run, context, have_program, path_str, rbuild_bin};

/// Runs `rbuild --root STORE ARGS...` with a terminal as its standard error; returns the exit
/// code and everything the terminal received.
fn in_terminal(store: &Store, args: &str) -> (Option<i32>, String) {
    let command = format!("{} --root {} {args}", rbuild_bin(), path_str(store.root()));
    let out = Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .stdin(Stdio::null())
        .env_remove("CI")
        .env("TERM", "xterm")
        .output()
        .expect("running script");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn tty_progress_keeps_summaries_marks_cache_hits_and_prints_failed_output() {
    if !can_run() {
        return;
    }
    if !have_program("script") {
        assert!(
            std::env::var("CI").is_err(),
            "CI must have script (bsdutils)"
        );
        eprintln!("skipped: needs script (util-linux/bsdutils)");
        return;
    }
    let store = Store::new();
    let ctx = context(
        "FROM busybox\nRUN echo first-step\nRUN echo second-step\n",
        &[(
            "fail.Dockerfile",
            "FROM busybox\nRUN echo first-step\nRUN for i in 1 2 3 4 5 6 7 8; do echo failing-$i; done; exit 5\n",
        )],
    );
    let dir = path_str(ctx.path());
    let (code, screen) = in_terminal(&store, &format!("build --progress=auto {dir}"));
    assert_eq!(code, Some(0), "{screen}");
    assert!(screen.contains("✔ RUN echo first-step"), "{screen}");
    assert!(screen.contains("✔ RUN echo second-step"), "{screen}");
    assert!(
        !screen.contains("#1 "),
        "auto in a terminal is not plain: {screen}"
    );

    let (code, screen) = in_terminal(&store, &format!("build --progress=tty {dir}"));
    assert_eq!(code, Some(0), "{screen}");
    assert!(screen.contains("CACHED RUN echo first-step"), "{screen}");
    assert!(screen.contains("CACHED RUN echo second-step"), "{screen}");

    let file = ctx.path().join("fail.Dockerfile");
    let (code, screen) = in_terminal(
        &store,
        &format!("build --progress=tty -f {} {dir}", path_str(&file)),
    );
    assert_eq!(code, Some(1), "{screen}");
    assert!(screen.contains("CACHED RUN echo first-step"), "{screen}");
    assert!(screen.contains("------ output of RUN for i"), "{screen}");
    for i in 1..=8 {
        assert!(
            screen.contains(&format!("failing-{i}")),
            "line {i} of the output: {screen}"
        );
    }
    assert!(screen.contains("exit code: 5"), "{screen}");
}
