//! `rbuild prune`: removes blobs and unpacked layers that no image and no build-cache record
//! uses, and says how much was freed.

use rbuild_builder::prune::{PruneOptions, prune};

#[derive(clap::Args)]
pub struct PruneArgs {
    /// Also drop the build cache, so only what images use is kept
    #[arg(short, long)]
    pub all: bool,
}

pub fn run(args: PruneArgs, root: Option<&std::path::Path>) -> anyhow::Result<i32> {
    let root = super::images::store_root(root);
    let outcome = prune(&root, PruneOptions { all: args.all })?;
    if args.all {
        println!(
            "removed {} build cache records",
            outcome.cache_records_removed
        );
    }
    println!(
        "removed {} blobs and {} unpacked layers; freed {}",
        outcome.store.blobs_removed.len(),
        outcome.store.layers_removed.len(),
        human_bytes(outcome.store.blob_bytes_freed)
    );
    Ok(0)
}

/// Bytes in the units `docker system prune` uses (decimal: kB, MB, GB).
fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["kB", "MB", "GB", "TB"];
    if bytes < 1000 {
        return format!("{bytes}B");
    }
    let mut value = bytes as f64;
    let mut unit = "B";
    for u in UNITS {
        if value < 1000.0 {
            break;
        }
        value /= 1000.0;
        unit = u;
    }
    format!("{value:.1}{unit}")
}

#[cfg(test)]
mod tests {
    use super::human_bytes;

    #[test]
    fn sizes_read_like_docker() {
        assert_eq!(human_bytes(0), "0B");
        assert_eq!(human_bytes(999), "999B");
        assert_eq!(human_bytes(1500), "1.5kB");
        assert_eq!(human_bytes(2_000_000), "2.0MB");
        assert_eq!(human_bytes(3_200_000_000), "3.2GB");
    }
}
