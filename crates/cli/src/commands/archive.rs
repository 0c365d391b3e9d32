//! `rbuild save` (docker-archive by default, `--format oci`) and `rbuild load` (both).

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use rbuild_oci::export::{ArchiveFormat, save_images};
use rbuild_oci::import::{load_path, load_reader};

use super::images::open_store;

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum SaveFormat {
    /// docker-archive, as `docker save` writes
    Docker,
    /// OCI image layout in a tar
    Oci,
}

#[derive(clap::Args)]
pub struct SaveArgs {
    /// Write to FILE instead of standard output
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Archive format
    #[arg(long, value_enum, default_value_t = SaveFormat::Docker)]
    pub format: SaveFormat,
    /// Images to save (names or IDs)
    #[arg(required = true)]
    pub images: Vec<String>,
}

pub fn run_save(args: SaveArgs, root: Option<&Path>) -> anyhow::Result<i32> {
    let store = open_store(root)?;
    let format = match args.format {
        SaveFormat::Docker => ArchiveFormat::Docker,
        SaveFormat::Oci => ArchiveFormat::Oci,
    };
    match &args.output {
        Some(path) => {
            // Write next to the target and rename, so a failed save leaves no partial file.
            let mut temp_name = path.as_os_str().to_owned();
            temp_name.push(format!(".rbuild-save-{}", std::process::id()));
            let temp = PathBuf::from(temp_name);
            let result = std::fs::File::create(&temp)
                .with_context(|| format!("creating {}", temp.display()))
                .and_then(|file| {
                    let mut out =
                        save_images(&store, &args.images, format, std::io::BufWriter::new(file))?;
                    out.flush()
                        .with_context(|| format!("writing {}", temp.display()))?;
                    std::fs::rename(&temp, path)
                        .with_context(|| format!("writing {}", path.display()))
                });
            if result.is_err() {
                let _ = std::fs::remove_file(&temp);
            }
            result?;
        }
        None => {
            if std::io::stdout().is_terminal() {
                anyhow::bail!(
                    "refusing to write an image archive to a terminal; use -o FILE or redirect standard output"
                );
            }
            let stdout = std::io::stdout().lock();
            let mut out = save_images(
                &store,
                &args.images,
                format,
                std::io::BufWriter::new(stdout),
            )?;
            out.flush().context("writing to standard output")?;
        }
    }
    Ok(0)
}

#[derive(clap::Args)]
pub struct LoadArgs {
    /// Read from FILE (a tar or an OCI layout directory) instead of standard input
    #[arg(short, long, value_name = "FILE")]
    pub input: Option<PathBuf>,
}

pub fn run_load(args: LoadArgs, root: Option<&Path>) -> anyhow::Result<i32> {
    let store = open_store(root)?;
    let loaded = match &args.input {
        Some(path) => load_path(&store, path)?,
        None => load_reader(&store, std::io::stdin().lock(), Path::new("<stdin>"))?,
    };
    for image in loaded {
        if image.names.is_empty() {
            println!("Loaded image ID: {}", image.id);
        }
        for name in image.names {
            println!("Loaded image: {}", name.familiar());
        }
    }
    Ok(0)
}
