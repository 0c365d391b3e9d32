//! `rbuild prune`: removes what no image or cache record uses; the cache survives a prune
//! without `--all`.

mod support;

use support::{Store, assert_success, can_run, context, path_str, stderr, stdout};

/// The number before `word` in prune's report (`removed 3 blobs ...`).
fn count_before(text: &str, word: &str) -> usize {
    let words: Vec<&str> = text.split_whitespace().collect();
    words
        .windows(2)
        .find(|w| w[1] == word)
        .and_then(|w| w[0].parse().ok())
        .unwrap_or_else(|| panic!("no count of {word} in {text:?}"))
}

#[test]
fn prune_frees_removed_images_but_keeps_the_cache_unless_all() {
    if !can_run() {
        return;
    }
    let store = Store::new();
    let ctx = context("FROM busybox\nRUN echo layer > /layer\nLABEL x=y\n", &[]);
    let dir = path_str(ctx.path());
    assert_success(&store.rbuild(&["build", "-q", "-t", "temp", &dir]), "build");

    // Nothing unused yet: the busybox image and temp are named.
    let out = store.rbuild(&["prune"]);
    assert_success(&out, "prune with nothing to do");
    assert_eq!(count_before(&stdout(&out), "blobs"), 0, "{}", stdout(&out));

    assert_success(&store.rbuild(&["rmi", "temp"]), "rmi");
    let out = store.rbuild(&["prune"]);
    assert_success(&out, "prune");
    // The manifest and config go; the RUN layer stays for the cache.
    assert_eq!(count_before(&stdout(&out), "blobs"), 2, "{}", stdout(&out));
    assert!(stdout(&out).contains("freed"), "{}", stdout(&out));

    let out = store.rbuild(&["build", "--progress=plain", "-t", "temp", &dir]);
    assert_success(&out, "rebuild after prune");
    assert!(
        stderr(&out).contains("CACHED"),
        "the cache still hits: {}",
        stderr(&out)
    );
    assert!(!stderr(&out).contains("cache miss"), "{}", stderr(&out));
    let run = store.rbuild(&["run", "--rm", "temp", "cat", "/layer"]);
    assert_eq!(stdout(&run), "layer\n", "{}", stderr(&run));

    assert_success(&store.rbuild(&["rmi", "temp"]), "rmi again");
    let out = store.rbuild(&["prune", "--all"]);
    assert_success(&out, "prune --all");
    assert!(
        count_before(&stdout(&out), "build") >= 1,
        "{}",
        stdout(&out)
    );
    // Manifest, config and the RUN layer blob.
    assert_eq!(count_before(&stdout(&out), "blobs"), 3, "{}", stdout(&out));

    // The base image survived; a rebuild runs the step again.
    let out = store.rbuild(&["build", "--progress=plain", "-t", "temp", &dir]);
    assert_success(&out, "rebuild after prune --all");
    assert!(stderr(&out).contains("cache miss"), "{}", stderr(&out));
    let run = store.rbuild(&["run", "--rm", "temp", "cat", "/layer"]);
    assert_eq!(stdout(&run), "layer\n", "{}", stderr(&run));
}
