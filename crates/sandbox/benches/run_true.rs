//! End-to-end cost of a RUN of `true` in an overlay over a busybox root file system
//! (namespaces + mounts + exec + teardown), against the same step done by hand with
//! `unshare` + `mount -t overlay` + `chroot` as a baseline. Needs root; prints both medians.
//!
//! `cargo bench -p rbuild-sandbox --bench run_true` (RUNS=N to change the count, default 50).

#[path = "../tests/common/mod.rs"]
mod common;

use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use rbuild_sandbox::{OverlayRoot, RootFs, SandboxSpec};

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn fresh_dirs(base: &Path, i: usize) -> (std::path::PathBuf, std::path::PathBuf) {
    let upper = base.join(format!("upper{i}"));
    let work = base.join(format!("work{i}"));
    fs::create_dir(&upper).unwrap();
    fs::create_dir(&work).unwrap();
    (upper, work)
}

fn main() {
    // SAFETY: geteuid cannot fail.
    if unsafe { libc::geteuid() } != 0 || !Path::new(common::BUSYBOX).exists() {
        eprintln!("run_true: skipped (needs root and {})", common::BUSYBOX);
        return;
    }
    // `cargo bench` passes --bench; `cargo test --all-targets` runs this binary without it,
    // and then a few runs are enough to show it still works.
    let benchmarking = std::env::args().any(|a| a == "--bench");
    let default_runs = if benchmarking { 50 } else { 3 };
    let runs: usize = std::env::var("RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default_runs);
    let dir = tempfile::tempdir().unwrap();
    let lower = dir.path().join("lower");
    common::build_busybox_rootfs(&lower);

    let mut sandbox = Vec::with_capacity(runs);
    for i in 0..runs {
        let (upper, work) = fresh_dirs(dir.path(), i);
        let spec = SandboxSpec::new(
            RootFs::Overlay(OverlayRoot {
                lowers: vec![lower.clone()],
                upper,
                work,
            }),
            ["true"],
        );
        let start = Instant::now();
        let outcome = spec.run(|_, _| {}).expect("sandbox run");
        sandbox.push(start.elapsed());
        assert!(outcome.exit.success());
    }

    let mut by_hand = Vec::with_capacity(runs);
    for i in 0..runs {
        let (upper, work) = fresh_dirs(dir.path(), runs + i);
        let merged = dir.path().join(format!("merged{i}"));
        fs::create_dir(&merged).unwrap();
        let script = format!(
            "mount -t overlay overlay -o lowerdir={},upperdir={},workdir={} {m} && chroot {m} /bin/true",
            lower.display(),
            upper.display(),
            work.display(),
            m = merged.display()
        );
        let start = Instant::now();
        let status = Command::new("unshare")
            .args(["-m", "-p", "-f", "-u", "-i", "sh", "-c", &script])
            .status()
            .unwrap();
        by_hand.push(start.elapsed());
        assert!(status.success());
    }

    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let (ours, theirs) = (median(sandbox.clone()), median(by_hand));
    println!("run_true: {runs} runs of `true` in an overlay over busybox");
    println!(
        "  rbuild-sandbox      median {:7.2} ms  (min {:.2}, max {:.2}; target < 15 ms)",
        ms(ours),
        ms(*sandbox.iter().min().unwrap()),
        ms(*sandbox.iter().max().unwrap())
    );
    println!(
        "  unshare+mount+chroot median {:7.2} ms  (baseline, no /proc /dev /sys setup)",
        ms(theirs)
    );
}
