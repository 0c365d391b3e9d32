//! What the builder's benchmarks share: the generated source tree and medians.

use std::path::Path;
use std::time::Duration;

/// `dirs` directories (`d0000`, ...) of `files_per_dir` files of 4 KiB each, with distinct
/// contents so that nothing deduplicates by accident.
pub fn make_tree(root: &Path, dirs: usize, files_per_dir: usize) {
    for d in 0..dirs {
        let dir = root.join(format!("d{d:04}"));
        std::fs::create_dir_all(&dir).expect("create directory");
        for f in 0..files_per_dir {
            let text = format!("{d:04}/{f:05}\n").repeat(4096 / 12);
            std::fs::write(dir.join(format!("f{f:05}.txt")), text).expect("write file");
        }
    }
}

pub fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}
