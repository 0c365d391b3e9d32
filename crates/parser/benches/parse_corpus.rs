//! Parser throughput over the real-world corpus (`testdata/corpus`).
//!
//! Loads every Dockerfile into memory, then on one thread repeatedly parses
//! the whole set (and, separately, parses and plans it, and runs the build
//! checks), and prints the median throughput in MB/s of Dockerfile text.
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

/// Time `rounds` runs of `work` after one warm-up run; sorted durations.
fn measure(rounds: usize, mut work: impl FnMut()) -> Vec<Duration> {
    work();
    let mut times: Vec<Duration> = (0..rounds.max(1))
        .map(|_| {
            let start = Instant::now();
            work();
            start.elapsed()
        })
        .collect();
    times.sort();
    times
}

fn report(name: &str, bytes: usize, sorted: &[Duration]) {
    let median = sorted[sorted.len() / 2];
    let best = sorted[0];
    println!(
        "{name:<12} median {:>8.1} MB/s ({:>7.2} ms per corpus pass), best {:>8.1} MB/s",
        mb(bytes) / median.as_secs_f64(),
        median.as_secs_f64() * 1e3,
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
