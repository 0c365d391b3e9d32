//! Local image commands: `rbuild images`, `rbuild tag`, `rbuild rmi`, `rbuild inspect`,
//! and the store-root choice they share with pull/push/save/load.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use rbuild_oci::{ImageStore, Reference};

/// The store root: `--root`, else `$RBUILD_ROOT`, else the snapshotter's default.
pub fn store_root(root: Option<&Path>) -> PathBuf {
    match root {
        Some(root) => root.to_path_buf(),
        None => rbuild_snapshotter::default_store_root(),
    }
}

/// Opens the image store at the chosen root.
pub fn open_store(root: Option<&Path>) -> anyhow::Result<ImageStore> {
    let root = store_root(root);
    ImageStore::open(&root)
        .with_context(|| format!("opening the image store at {}", root.display()))
}

#[derive(clap::Args)]
pub struct ImagesArgs {
    /// Show only image IDs
    #[arg(short, long)]
    pub quiet: bool,
    /// Show manifest digests
    #[arg(long)]
    pub digests: bool,
    /// Print JSON instead of a table
    #[arg(long)]
    pub json: bool,
}

pub fn run_images(args: ImagesArgs, root: Option<&Path>) -> anyhow::Result<i32> {
    let store = open_store(root)?;
    let rows = store.list()?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(0);
    }
    if args.quiet {
        for row in &rows {
            println!("{}", short_id(&row.id.to_string()));
        }
        return Ok(0);
    }
    let mut table = vec![vec![
        "REPOSITORY".to_string(),
        "TAG".to_string(),
        "IMAGE ID".to_string(),
        "CREATED".to_string(),
        "SIZE".to_string(),
    ]];
    if args.digests {
        table[0].insert(2, "DIGEST".to_string());
    }
    // Multi-platform images list their platforms in an extra column.
    let any_multi = rows.iter().any(|r| !r.platforms.is_empty());
    if any_multi {
        table[0].push("PLATFORMS".to_string());
    }
    for row in &rows {
        let names: Vec<(String, String)> = if row.repo_tags.is_empty() {
            vec![("<none>".to_string(), "<none>".to_string())]
        } else {
            row.repo_tags
                .iter()
                .map(
                    |t| match t.rsplit_once(':').filter(|(_, tag)| !tag.contains('/')) {
                        Some((repo, tag)) => (repo.to_string(), tag.to_string()),
                        None => (t.clone(), "<none>".to_string()),
                    },
                )
                .collect()
        };
        for (repo, tag) in names {
            let mut line = vec![
                repo,
                tag,
                short_id(&row.id.to_string()),
                row.created.clone().unwrap_or_default(),
                human_size(row.size),
            ];
            if args.digests {
                line.insert(2, row.manifest_digest.to_string());
            }
            if any_multi {
                line.push(row.platforms.join(","));
            }
            table.push(line);
        }
    }
    print_table(&table);
    Ok(0)
}

#[derive(clap::Args)]
pub struct TagArgs {
    /// The image to tag (name or ID)
    pub source: String,
    /// The new name
    pub target: String,
}

pub fn run_tag(args: TagArgs, root: Option<&Path>) -> anyhow::Result<i32> {
    let store = open_store(root)?;
    let digest = store.lookup(&args.source)?;
    let target = Reference::parse(&args.target)?;
    store.tag(&target, &digest)?;
    Ok(0)
}

#[derive(clap::Args)]
pub struct RmiArgs {
    /// Remove every tag of an image given by ID
    #[arg(short, long)]
    pub force: bool,
    /// Images to remove (names or IDs)
    #[arg(required = true)]
    pub images: Vec<String>,
}

pub fn run_rmi(args: RmiArgs, root: Option<&Path>) -> anyhow::Result<i32> {
    let store = open_store(root)?;
    let mut failed = false;
    for image in &args.images {
        match store.remove(image, args.force) {
            Ok(names) => {
                for name in names {
                    println!("Untagged: {}", familiar(&name));
                }
            }
            Err(e) => {
                eprintln!("error: {e}");
                failed = true;
            }
        }
    }
    Ok(i32::from(failed))
}

#[derive(clap::Args)]
pub struct InspectArgs {
    /// Images to inspect (names or IDs)
    #[arg(required = true)]
    pub images: Vec<String>,
}

pub fn run_inspect(args: InspectArgs, root: Option<&Path>) -> anyhow::Result<i32> {
    let store = open_store(root)?;
    let mut docs = Vec::new();
    let mut failed = false;
    for image in &args.images {
        match store.inspect(image) {
            Ok(doc) => docs.push(doc),
            Err(e) => {
                eprintln!("error: {e}");
                failed = true;
            }
        }
    }
    println!("{}", serde_json::to_string_pretty(&docs)?);
    Ok(i32::from(failed))
}

fn familiar(name: &str) -> String {
    Reference::parse(name).map_or_else(|_| name.to_string(), |r| r.familiar())
}

fn short_id(id: &str) -> String {
    id.trim_start_matches("sha256:").chars().take(12).collect()
}

/// Sizes the way Docker prints them (decimal units).
pub fn human_size(bytes: u64) -> String {
    let units = ["B", "kB", "MB", "GB", "TB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < units.len() {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes}B")
    } else {
        format!("{value:.3}")
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_string()
            + units[unit]
    }
}

fn print_table(rows: &[Vec<String>]) {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(String::len)
                .max()
                .unwrap_or(0)
        })
        .collect();
    for row in rows {
        let line: Vec<String> = row
            .iter()
            .enumerate()
            .map(|(i, cell)| format!("{cell:<width$}", width = widths[i]))
            .collect();
        println!("{}", line.join("   ").trim_end());
    }
}
