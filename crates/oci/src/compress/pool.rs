//! The thread pool that compresses blocks. Layer drivers never run on it (they block on its
//! results), so any number of layers can be compressed at once without deadlock.

use std::io;
use std::sync::OnceLock;

use rayon::{ThreadPool, ThreadPoolBuilder};

/// Environment variable overriding the number of compression threads.
pub const THREADS_ENV: &str = "RBUILD_COMPRESSION_THREADS";

/// The process-wide compression pool, sized to the available cores (or [`THREADS_ENV`]).
pub fn compression_pool() -> io::Result<&'static ThreadPool> {
    static POOL: OnceLock<Result<ThreadPool, String>> = OnceLock::new();
    POOL.get_or_init(|| {
        ThreadPoolBuilder::new()
            .num_threads(compression_threads())
            .thread_name(|i| format!("rbuild-compress-{i}"))
            .build()
            .map_err(|e| e.to_string())
    })
    .as_ref()
    .map_err(|e| io::Error::other(format!("cannot start compression threads: {e}")))
}

/// Number of worker threads used for compression (at least 1).
pub fn compression_threads() -> usize {
    std::env::var(THREADS_ENV)
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|n| *n > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from))
}

/// Runs `job` on every item, as many at once as there are compression threads (each job
/// drives a compressor, which itself uses the pool; bounding the jobs bounds the memory in
/// flight), and returns the results in the items' order. `describe` names an item for the
/// error reported if its thread dies.
pub(crate) fn for_each_in_lanes<T: Sync, R: Send>(
    items: &[T],
    job: impl Fn(&T) -> Result<R, crate::OciError> + Sync,
    describe: impl Fn(&T) -> String,
) -> Result<Vec<R>, crate::OciError> {
    let lanes = compression_threads().clamp(1, items.len().max(1));
    let mut results: Vec<Option<Result<R, crate::OciError>>> = items.iter().map(|_| None).collect();
    for (chunk, slots) in items.chunks(lanes).zip(results.chunks_mut(lanes)) {
        std::thread::scope(|scope| {
            for (item, slot) in chunk.iter().zip(slots.iter_mut()) {
                let job = &job;
                scope.spawn(move || *slot = Some(job(item)));
            }
        });
    }
    results
        .into_iter()
        .zip(items)
        .map(|(result, item)| {
            result.unwrap_or_else(|| {
                Err(crate::OciError::Stream {
                    action: describe(item),
                    source: io::Error::other("compression thread stopped"),
                })
            })
        })
        .collect()
}
