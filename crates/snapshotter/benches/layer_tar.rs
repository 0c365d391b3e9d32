//! Writing and hashing a large layer tar, as committing a big COPY does: 20,000 files of
//! up to 24 KiB in 200 directories, through `write_layer_tar` into sha256. Next to it,
//! GNU tar piped into `sha256sum` over the same tree. Prints medians.
//!
//! `cargo bench -p rbuild-snapshotter --bench layer_tar` runs the full size; without
//! `--bench` (as a test target) a small smoke version keeps the suite fast.

use std::io::Write;
use std::time::{Duration, Instant};

use rbuild_snapshotter::{LayerTarOptions, tree_changes, write_layer_tar};
use sha2::{Digest as _, Sha256};

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let (dirs, per_dir, runs) = if full { (200, 100, 7) } else { (20, 60, 2) };
    let scratch = tempfile::tempdir().expect("temporary directory");
    let tree = scratch.path().join("tree");
    let bytes = make_tree(&tree, dirs, per_dir);
    let empty = scratch.path().join("empty");
    std::fs::create_dir(&empty).expect("empty directory");
    let changes = tree_changes(&empty, &tree, None).expect("list the tree");
    println!(
        "tree: {} files, {:.1} MB in {dirs} directories",
        dirs * per_dir,
        bytes as f64 / 1e6
    );

    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let start = Instant::now();
        let mut sink = HashingSink(Sha256::new());
        let summary = write_layer_tar(&tree, &changes, &mut sink, &LayerTarOptions::default())
            .expect("write layer tar");
        std::hint::black_box((sink.0.finalize(), summary));
        times.push(start.elapsed());
    }
    println!(
        "write_layer_tar into sha256: median {:.1} ms ({runs} runs)",
        ms(median(&mut times))
    );

    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let start = Instant::now();
        let status = std::process::Command::new("sh")
            .arg("-c")
            .arg("tar --xattrs -cf - -C \"$0\" . | sha256sum >/dev/null")
            .arg(&tree)
            .status();
        match status {
            Ok(s) if s.success() => times.push(start.elapsed()),
            _ => {
                println!("baseline skipped: GNU tar or sha256sum unavailable");
                return;
            }
        }
    }
    println!(
        "baseline, `tar -cf - | sha256sum` of the same tree: median {:.1} ms",
        ms(median(&mut times))
    );
}

/// Files of pseudo-random sizes and half-random content (like the whole-build
/// benchmark's context); returns the bytes written.
fn make_tree(root: &std::path::Path, dirs: usize, per_dir: usize) -> u64 {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut total = 0;
    for d in 0..dirs {
        let dir = root.join(format!("d{d:04}"));
        std::fs::create_dir_all(&dir).expect("create directory");
        for f in 0..per_dir {
            let size = (next() % (24 * 1024)) as usize;
            let mut body: Vec<u8> = (0..size / 2).map(|_| next() as u8).collect();
            body.resize(size, b'x');
            std::fs::write(dir.join(format!("f{f:05}")), &body).expect("write file");
            total += size as u64;
        }
    }
    total
}

struct HashingSink(Sha256);

impl Write for HashingSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn median(times: &mut [Duration]) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
