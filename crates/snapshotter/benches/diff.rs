//! Diff cost on a large base: a lower layer of 100,000 files, a step that changes one
//! file, then diff + layer tar of the snapshot (overlay backend). Target: under 20 ms,
//! independent of the base's size. Prints the median of several runs.
//!
//! `cargo bench -p rbuild-snapshotter` runs the full size; without `--bench` (as a test
//! target) it runs a small smoke version so the suite stays fast.

use std::io::Write;
use std::time::{Duration, Instant};

use rbuild_snapshotter::{BackendKind, Digest, LayerTarOptions, Snapshotter, unmount};

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let (dirs, files_per_dir, runs) = if full { (100, 1000, 15) } else { (10, 100, 3) };
    if !rustix::process::geteuid().is_root() {
        println!("diff benchmark skipped: overlay mounts need root");
        return;
    }
    let store = tempfile::tempdir().expect("temporary directory");
    let snap = Snapshotter::open(store.path()).expect("open snapshotter");
    if snap.backend() != BackendKind::Overlay {
        println!("diff benchmark skipped: overlayfs is not usable for a store here");
        return;
    }

    let started = Instant::now();
    let base_tar = base_layer_tar(dirs, files_per_dir);
    let base = Digest::of_bytes(&base_tar);
    snap.layers()
        .unpack(&base, &base_tar[..])
        .expect("unpack base layer");
    drop(base_tar);
    println!(
        "base layer: {} files in {} directories, unpacked in {:.1?}",
        dirs * files_per_dir,
        dirs,
        started.elapsed()
    );

    let mount = snap
        .prepare("bench-step", std::slice::from_ref(&base))
        .expect("prepare");
    let target = tempfile::tempdir().expect("mount point");
    mount.mount_at(target.path()).expect("mount overlay");
    let changed = target
        .path()
        .join(format!("d{:03}/f{:05}", dirs / 2, files_per_dir / 2));
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(&changed)
        .expect("open file");
    file.write_all(b"changed by the step\n").expect("write");
    drop(file);
    unmount(target.path()).expect("unmount");
    // Let write-back of the setup (100k files) finish first, so the timed runs measure
    // the diff rather than a file system still flushing.
    let store_dir = std::fs::File::open(store.path()).expect("open store");
    rustix::fs::syncfs(&store_dir).expect("syncfs");

    let mut times = Vec::with_capacity(runs);
    let mut last = None;
    for _ in 0..runs {
        let start = Instant::now();
        let summary = snap
            .diff("bench-step", std::io::sink(), &LayerTarOptions::default())
            .expect("diff");
        times.push(start.elapsed());
        last = Some(summary);
    }
    // Reported apart: the first run is the one a build step actually pays once.
    let first = times[0];
    times.sort();
    let median = times[times.len() / 2];
    println!("first run: {:.3} ms", ms(first));
    let summary = last.expect("at least one run");
    println!(
        "diff + tar of one changed file over {} files: median {:.3} ms (min {:.3} ms, max {:.3} ms, {} runs; {} entries, {} bytes)",
        dirs * files_per_dir,
        ms(median),
        ms(times[0]),
        ms(times[times.len() - 1]),
        runs,
        summary.entries,
        summary.bytes
    );
    println!(
        "target < 20 ms: {}",
        if median < Duration::from_millis(20) {
            "met"
        } else {
            "NOT met"
        }
    );
    baseline_gnu_tar(&snap.writable_dir("bench-step").expect("upper dir"), runs);
    snap.remove("bench-step").expect("remove snapshot");
}

/// The same upper directory archived by hand with GNU tar (process start included), as a
/// point of comparison. Skipped when `tar` is not installed.
fn baseline_gnu_tar(upper: &std::path::Path, runs: usize) {
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let start = Instant::now();
        let status = std::process::Command::new("tar")
            .args(["--xattrs", "-cf", "/dev/null", "-C"])
            .arg(upper)
            .arg(".")
            .status();
        match status {
            Ok(s) if s.success() => times.push(start.elapsed()),
            _ => {
                println!("baseline skipped: GNU tar unavailable");
                return;
            }
        }
    }
    times.sort();
    println!(
        "baseline, `tar -cf /dev/null` of the same upper dir by hand: median {:.3} ms",
        ms(times[times.len() / 2])
    );
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// A layer tar of `dirs` directories with `per_dir` small files each, built in memory.
fn base_layer_tar(dirs: usize, per_dir: usize) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::with_capacity(dirs * per_dir * 1024 + 1024));
    for d in 0..dirs {
        let dir = format!("d{d:03}/");
        let mut header = tar::Header::new_ustar();
        header.set_entry_type(tar::EntryType::Directory);
        header.set_mode(0o755);
        header.set_size(0);
        header.set_mtime(1_700_000_000);
        builder
            .append_data(&mut header, &dir, std::io::empty())
            .expect("append dir");
        for f in 0..per_dir {
            let body = format!("file {f} of directory {d}\n");
            let mut header = tar::Header::new_ustar();
            header.set_entry_type(tar::EntryType::Regular);
            header.set_mode(0o644);
            header.set_size(body.len() as u64);
            header.set_mtime(1_700_000_000);
            builder
                .append_data(&mut header, format!("{dir}f{f:05}"), body.as_bytes())
                .expect("append file");
        }
    }
    builder.into_inner().expect("finish tar")
}
