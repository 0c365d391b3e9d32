//! Property: whatever entries a tar holds (names with `..`, `/`, links anywhere, links
//! to the outside by absolute path), extraction never panics and never changes anything
//! outside the target directory.

mod common;

use std::path::Path;

use common::{RawTar, tree};
use proptest::prelude::*;
use rbuild_snapshotter::{ExtractOptions, extract_layer};

#[derive(Debug, Clone)]
enum Entry {
    File(String),
    Dir(String),
    Symlink(String, String),
    Hardlink(String, String),
    Whiteout(String),
}

/// Paths from hostile pieces; `OUT` is replaced by the outside directory's absolute path.
fn name() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop::sample::select(vec![
            "a",
            "b",
            "..",
            ".",
            "",
            "OUT",
            ".wh.a",
            ".wh..wh..opq",
        ]),
        1..4,
    )
    .prop_map(|parts| parts.join("/"))
}

fn entry() -> impl Strategy<Value = Entry> {
    prop_oneof![
        name().prop_map(Entry::File),
        name().prop_map(Entry::Dir),
        (name(), name()).prop_map(|(a, b)| Entry::Symlink(a, b)),
        (
            name(),
            prop::sample::select(vec!["/", "..", "../..", "OUT", "OUT/secret", "a", "/etc"])
        )
            .prop_map(|(a, t)| Entry::Symlink(a, t.to_string())),
        (name(), name()).prop_map(|(a, b)| Entry::Hardlink(a, b)),
        name().prop_map(Entry::Whiteout),
    ]
}

fn build(entries: &[Entry], outside: &Path) -> Vec<u8> {
    let out = outside.to_str().unwrap();
    let fix = |s: &str| s.replace("OUT", out);
    let mut tar = RawTar::new();
    for e in entries {
        tar = match e {
            Entry::File(n) => tar.file(&fix(n), b"payload"),
            Entry::Dir(n) => tar.dir(&fix(n)),
            Entry::Symlink(n, t) => tar.symlink(&fix(n), &fix(t)),
            Entry::Hardlink(n, t) => tar.hardlink(&fix(n), &fix(t)),
            Entry::Whiteout(n) => tar.file(&format!("{}/.wh.victim", fix(n)), b""),
        };
    }
    tar.finish()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(300), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn nothing_outside_changes(entries in prop::collection::vec(entry(), 1..10)) {
        let tmp = tempfile::tempdir().unwrap();
        let outside = tmp.path().join("outside");
        std::fs::create_dir(&outside).unwrap();
        std::fs::write(outside.join("secret"), b"untouched").unwrap();
        std::fs::write(outside.join("victim"), b"untouched").unwrap();
        std::fs::create_dir(outside.join("a")).unwrap();
        std::fs::write(outside.join("a/victim"), b"untouched").unwrap();
        let before = tree(tmp.path());
        let root = tmp.path().join("root");
        std::fs::create_dir(&root).unwrap();
        let tar = build(&entries, &outside);
        // Success or a refusal: both are fine; a panic or an outside change is not.
        let _ = extract_layer(&tar[..], &root, &ExtractOptions::default());
        let mut after = tree(tmp.path());
        after.retain(|p, _| !p.starts_with("root"));
        prop_assert_eq!(before, after);
    }
}
