//! Parser throughput over the real-world corpus (`testdata/corpus`).
//!
//! Loads every Dockerfile into memory, then on one thread repeatedly parses
//! the whole set (and, separately, parses and plans it, and runs the build
//! checks), and prints the median throughput in MB/s of Dockerfile text.
//!
//! Two clocks: wall time, and the thread's own CPU time (from
//! `/proc/thread-self/schedstat`), which stays meaningful on a machine
//! shared with other jobs, where wall time also counts waiting for a core.
//!
//! Run: `cargo bench -p rbuild-parser --bench parse_corpus`
//! (`-- --rounds N` to change the number of timed rounds, default 30).

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rbuild_parser::plan::{PlanOptions, plan};

fn main() {
    let rounds = std::env::args()
        .skip_while(|a| a != "--rounds")
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(30usize);
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/corpus");
    let mut files = Vec::new();
    collect(&root, &mut files);
    let texts: Vec<String> = files
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .collect();
    let bytes: usize = texts.iter().map(String::len).sum();
    println!(
        "corpus: {} Dockerfiles, {:.2} MB, {rounds} rounds, one thread",
        texts.len(),
        mb(bytes)
    );

    let parse = measure(rounds, || {
        for text in &texts {
            let _ = black_box(rbuild_parser::parse_dockerfile(black_box(text), None));
        }
    });
    report("parse", bytes, &parse);

    let options = PlanOptions {
        all_stages: true,
        ..PlanOptions::default()
    };
    let parse_plan = measure(rounds, || {
        for text in &texts {
            if let Ok(dockerfile) = rbuild_parser::parse_dockerfile(black_box(text), None) {
                let _ = black_box(plan(&dockerfile, &options));
            }
        }
    });
    report("parse+plan", bytes, &parse_plan);

    let parse_check = measure(rounds, || {
        for text in &texts {
            if let Ok(dockerfile) = rbuild_parser::parse_dockerfile(black_box(text), None) {
                let _ = black_box(rbuild_parser::checks::check(&dockerfile, &options));
            }
        }
    });
    report("parse+check", bytes, &parse_check);
}

/// One timed run: wall time and, where Linux tells it, on-CPU time.
struct Sample {
    wall: Duration,
    cpu: Option<Duration>,
}

/// Time `rounds` runs of `work` after one warm-up run.
fn measure(rounds: usize, mut work: impl FnMut()) -> Vec<Sample> {
    work();
    (0..rounds.max(1))
        .map(|_| {
            let cpu_start = thread_cpu_time();
            let start = Instant::now();
            work();
            let wall = start.elapsed();
            let cpu = match (cpu_start, thread_cpu_time()) {
                (Some(a), Some(b)) => b.checked_sub(a),
                _ => None,
            };
            Sample { wall, cpu }
        })
        .collect()
}

/// Time this thread has spent running on a CPU (first field of schedstat).
fn thread_cpu_time() -> Option<Duration> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let nanos: u64 = text.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(nanos))
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn report(name: &str, bytes: usize, samples: &[Sample]) {
    let wall = median(samples.iter().map(|s| s.wall).collect());
    let best = samples.iter().map(|s| s.wall).min().unwrap_or(wall);
    let cpu: Option<Vec<Duration>> = samples.iter().map(|s| s.cpu).collect();
    let cpu_text = cpu
        .map(median)
        .filter(|d| !d.is_zero())
        .map(|d| {
            format!(
                ", CPU-time median {:>7.1} MB/s",
                mb(bytes) / d.as_secs_f64()
            )
        })
        .unwrap_or_default();
    println!(
        "{name:<12} wall median {:>7.1} MB/s ({:>6.2} ms per pass), best {:>7.1} MB/s{cpu_text}",
        mb(bytes) / wall.as_secs_f64(),
        wall.as_secs_f64() * 1e3,
        mb(bytes) / best.as_secs_f64(),
    );
}

fn mb(bytes: usize) -> f64 {
    bytes as f64 / 1e6
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().to_ascii_lowercase();
        if path.is_dir() {
            collect(&path, out);
        } else if name == "dockerfile"
            || (name.starts_with("dockerfile")
                && !name.ends_with(".dockerignore")
                && !name.ends_with(".md"))
            || name.ends_with(".dockerfile")
        {
            out.push(path);
        }
    }
}
