//! COPY's file writing: a directory of 20,000 files of 4 KiB (100 directories) copied into
//! a fresh destination by `copy_selection` — into an empty directory (the parallel path:
//! one top-level subtree per thread) and into one that already holds a file (one thread,
//! the `*at` fast path) — against `cp -a` of the same tree as the baseline.
//!
//! `cargo bench -p rbuild-builder --bench copy_tree` runs the full size; as a test target
//! (without `--bench`) it runs a small smoke version. Prints medians.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use rbuild_builder::context::{IgnoreRules, walk_source};
use rbuild_builder::copy::{CopyOptions, DestinationKind, copy_selection};

mod support;
use support::{make_tree, median};

/// Runs `body` on a fresh destination directory `runs` times; times only `body`. The
/// destinations are kept until the end: on ext4, creating files right after deleting as
/// many makes inode allocation scan past the recently freed ones (`recently_deleted`),
/// which would time the previous run's deletion rather than the copy.
fn time(
    runs: usize,
    kept: &mut Vec<tempfile::TempDir>,
    prepare: impl Fn(&Path),
    body: impl Fn(&Path),
) -> Duration {
    median(
        (0..runs)
            .map(|_| {
                let dest = tempfile::tempdir().expect("temporary directory");
                prepare(dest.path());
                let started = Instant::now();
                body(dest.path());
                let took = started.elapsed();
                kept.push(dest);
                took
            })
            .collect(),
    )
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let (dirs, files_per_dir, runs) = if full { (100, 200, 5) } else { (4, 300, 2) };
    let context = tempfile::tempdir().expect("temporary directory");
    let source = context.path().join("src");
    make_tree(&source, dirs, files_per_dir);
    let entries = walk_source("src", &source, &IgnoreRules::default()).expect("walk");
    assert_eq!(entries.len(), 1 + dirs + dirs * files_per_dir);
    let copy = |root: &Path| {
        let stats = copy_selection(
            root,
            &entries,
            "src",
            "/app/",
            DestinationKind::Directory,
            &CopyOptions::default(),
        )
        .expect("copy");
        assert_eq!(stats.files, dirs * files_per_dir);
    };
    let empty = |_: &Path| {};
    let occupied = |root: &Path| {
        std::fs::create_dir_all(root.join("app")).expect("create directory");
        std::fs::write(root.join("app/already-here"), "x").expect("write file");
    };
    let mut kept = Vec::new();
    let parallel = time(runs, &mut kept, empty, copy);
    let one_thread = time(runs, &mut kept, occupied, copy);
    let cp = time(runs, &mut kept, empty, |root| {
        let status = Command::new("cp")
            .arg("-a")
            .arg(&source)
            .arg(root.join("app"))
            .status()
            .expect("run cp");
        assert!(status.success());
    });
    let files = dirs * files_per_dir;
    println!("copy_tree: {files} files of 4 KiB in {dirs} directories, median of {runs}");
    println!(
        "  into an empty directory (parallel) {:8.1} ms",
        ms(parallel)
    );
    println!(
        "  into an occupied one (one thread)  {:8.1} ms",
        ms(one_thread)
    );
    println!("  cp -a (baseline)                   {:8.1} ms", ms(cp));
    println!(
        "  ratio parallel / cp -a {:.2}, one thread / cp -a {:.2}",
        parallel.as_secs_f64() / cp.as_secs_f64(),
        one_thread.as_secs_f64() / cp.as_secs_f64()
    );
}
