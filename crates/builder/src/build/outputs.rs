//! Exporting a built image as the `-o/--output` specs ask: OCI layout or archive, docker
//! archive, a registry push, or the root file system as a directory or tar. The image is
//! always in the local store first; exporters read it from there.

use std::fs::File;
use std::io::Write;

use rbuild_oci::ImageStore;
use rbuild_oci::export::{ArchiveFormat, save_images, write_rootfs_dir, write_rootfs_tar};
use rbuild_oci::output::{Destination, OutputKind, OutputSpec};
use rbuild_oci::registry::RegistryClient;
use rbuild_snapshotter::Digest;

use super::error::{BuildError, io_error};

/// What an export did, for the caller's summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportReport {
    pub description: String,
}

/// Writes the image `manifest` (in `store`) to every output.
pub fn export_outputs(
    store: &ImageStore,
    manifest: &Digest,
    outputs: &[OutputSpec],
) -> Result<Vec<ExportReport>, BuildError> {
    let mut reports = Vec::new();
    if outputs.is_empty() {
        return Ok(reports);
    }
    let image = store.image(manifest)?;
    let id = manifest.to_string();
    for spec in outputs {
        let description = match &spec.kind {
            OutputKind::Oci { dest, names, .. } | OutputKind::Docker { dest, names } => {
                let format = if matches!(spec.kind, OutputKind::Oci { .. }) {
                    ArchiveFormat::Oci
                } else {
                    ArchiveFormat::Docker
                };
                for name in names {
                    store.tag(name, manifest)?;
                }
                let selectors: Vec<String> = if names.is_empty() {
                    vec![id.clone()]
                } else {
                    names.iter().map(|n| n.to_string()).collect()
                };
                write_to(dest, |out| Ok(save_images(store, &selectors, format, out)?))?;
                format!("{format:?} archive to {}", show(dest))
            }
            OutputKind::Image { names, push } => {
                for name in names {
                    store.tag(name, manifest)?;
                }
                if *push {
                    let client = RegistryClient::from_environment()?;
                    for name in names {
                        client.push(store, &id, name)?;
                    }
                }
                format!(
                    "image {}",
                    names
                        .iter()
                        .map(|n| n.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }
            OutputKind::Local { dest } => {
                write_rootfs_dir(store, &image, dest)?;
                format!("root file system to {}", dest.display())
            }
            OutputKind::Tar { dest } => {
                write_to(dest, |out| Ok(write_rootfs_tar(store, &image, out)?))?;
                format!("root file system tar to {}", show(dest))
            }
        };
        reports.push(ExportReport { description });
    }
    Ok(reports)
}

fn show(dest: &Destination) -> String {
    match dest {
        Destination::Path(p) => p.display().to_string(),
        Destination::Stdout => "standard output".to_string(),
    }
}

/// Writes to a file (atomically: a temporary name, renamed when complete) or stdout.
fn write_to(
    dest: &Destination,
    write: impl FnOnce(Box<dyn Write>) -> Result<Box<dyn Write>, BuildError>,
) -> Result<(), BuildError> {
    match dest {
        Destination::Stdout => {
            let mut out = write(Box::new(std::io::stdout().lock()))?;
            out.flush().map_err(io_error("write", "standard output"))
        }
        Destination::Path(path) => {
            let dir = path
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(std::path::Path::new("."));
            let tmp = tempfile::NamedTempFile::new_in(dir)
                .map_err(io_error("create temporary file in", dir.display()))?;
            let file: File = tmp
                .reopen()
                .map_err(io_error("open", tmp.path().display()))?;
            let mut out = write(Box::new(std::io::BufWriter::new(file)))?;
            out.flush().map_err(io_error("write", path.display()))?;
            drop(out);
            tmp.persist(path)
                .map_err(|e| io_error("write", path.display())(e.error))?;
            Ok(())
        }
    }
}
