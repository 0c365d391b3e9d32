//! Context hashing, the work every COPY of a context does before its cache lookup: the walk
//! (one statx per entry), the content digest with an empty stat cache (every file read and
//! hashed), the same with a warm stat cache (no file read: what a cached rebuild pays), and
//! saving and loading the persistent stat cache.
//!
//! `cargo bench -p rbuild-builder --bench context_digest` runs 20,000 files of 4 KiB; as a
//! test target (without `--bench`) it runs a small smoke version. Prints medians.

use std::time::{Duration, Instant};

use rbuild_builder::context::{IgnoreRules, StatCache, digest_entries, walk_source};

mod support;
use support::{make_tree, median};

fn time<T>(runs: usize, mut body: impl FnMut() -> T) -> Duration {
    median(
        (0..runs)
            .map(|_| {
                let started = Instant::now();
                std::hint::black_box(body());
                started.elapsed()
            })
            .collect(),
    )
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let (dirs, files_per_dir, runs) = if full { (100, 200, 7) } else { (5, 20, 3) };
    let context = tempfile::tempdir().expect("temporary directory");
    make_tree(context.path(), dirs, files_per_dir);
    // The stat cache does not trust files changed in the last 2 s ("racy" files).
    std::thread::sleep(Duration::from_millis(2100));
    let files = dirs * files_per_dir;
    let rules = IgnoreRules::default();
    let walk = || walk_source(".", context.path(), &rules).expect("walk");
    let entries = walk();
    assert_eq!(entries.len(), 1 + dirs + files);

    let walked = time(runs, walk);
    let cold = time(runs, || {
        let mut cache = StatCache::in_memory();
        digest_entries(&entries, &mut cache).expect("digest")
    });
    let mut warm_cache = StatCache::in_memory();
    let first = digest_entries(&entries, &mut warm_cache).expect("digest");
    let warm = time(runs, || {
        let digest = digest_entries(&entries, &mut warm_cache).expect("digest");
        assert_eq!(digest.files_read, 0, "a warm stat cache reads no file");
        assert_eq!(digest.digest, first.digest);
    });
    let store = tempfile::tempdir().expect("temporary directory");
    let cache_file = store.path().join("stat-cache");
    let merged = time(1, || {
        let mut cache = StatCache::load(&cache_file);
        digest_entries(&entries, &mut cache).expect("digest")
    });
    assert_eq!(
        StatCache::load(&cache_file).len(),
        files,
        "the cache file holds every file"
    );
    let warm_file = time(runs, || {
        let mut cache = StatCache::load(&cache_file);
        let digest = digest_entries(&entries, &mut cache).expect("digest");
        assert_eq!(
            digest.files_read, 0,
            "the file cache vouches for every file"
        );
    });

    println!("context: {files} files of 4 KiB in {dirs} directories");
    println!("walk (statx per entry)        {walked:>10.1?}");
    println!("digest, cold stat cache       {cold:>10.1?}  (every file read)");
    println!("digest, warm stat cache       {warm:>10.1?}  (no file read)");
    println!("digest + write cache file     {merged:>10.1?}  (every file read)");
    println!("digest, warm cache file       {warm_file:>10.1?}  (no file read)");
}
