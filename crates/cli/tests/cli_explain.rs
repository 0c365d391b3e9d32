//! `--explain-cache`: after the build, every step that missed and why — also with `-q`.

mod support;

use support::*;

#[test]
fn explain_cache_names_the_changed_file_and_the_followers() {
    if !can_run() {
        return;
    }
    let store = Store::new();
    let ctx = context(
        "FROM busybox\nCOPY f.txt /f\nRUN cat /f\n",
        &[("f.txt", "one\n")],
    );
    let dir = path_str(ctx.path());
    let first = store.rbuild(&["build", "-q", "--explain-cache", &dir]);
    assert_success(&first, "first build");
    assert!(
        stderr(&first).contains("no earlier build of this step"),
        "{}",
        stderr(&first)
    );

    let again = store.rbuild(&["build", "-q", "--explain-cache", &dir]);
    assert_success(&again, "cached build");
    assert!(
        stderr(&again).contains("cache: every step was a hit"),
        "{}",
        stderr(&again)
    );

    std::fs::write(ctx.path().join("f.txt"), "two\n").unwrap();
    let changed = store.rbuild(&["build", "-q", "--explain-cache", &dir]);
    assert_success(&changed, "changed build");
    let err = stderr(&changed);
    assert!(
        err.contains("COPY f.txt /f (line 2): file changed: f.txt (from f.txt)"),
        "{err}"
    );
    assert!(
        err.contains("RUN cat /f (line 3): a previous step changed"),
        "{err}"
    );
    // -q still prints only the ID on stdout.
    assert!(stdout(&changed).trim().starts_with("sha256:"));
    assert_eq!(stdout(&changed).lines().count(), 1);
}
