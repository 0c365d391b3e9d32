//! Exporting a built image as the `-o/--output` specs ask (OCI layout or archive, docker
//! archive, registry push, root file system as a directory or tar). The image is always in
//! the local store first; `rbuild_oci::export::export_output` reads it from there.

use std::io::Write;

use rbuild_oci::ImageStore;
use rbuild_oci::export::{ExportOutcome, export_output};
use rbuild_oci::output::{Destination, OutputKind, OutputSpec};
use rbuild_snapshotter::Digest;

use super::error::{BuildError, io_error};

/// What an export did, for the caller's summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportReport {
    pub description: String,
}

/// Writes the image `manifest` (in `store`) to every output; `dest=-` goes to stdout.
pub fn export_outputs(
    store: &ImageStore,
    manifest: &Digest,
    outputs: &[OutputSpec],
) -> Result<Vec<ExportReport>, BuildError> {
    let mut reports = Vec::new();
    for spec in outputs {
        let mut stdout = std::io::stdout().lock();
        let outcome = export_output(store, manifest, spec, &mut stdout)?;
        stdout
            .flush()
            .map_err(io_error("write", "standard output"))?;
        let description = match (&spec.kind, outcome) {
            (OutputKind::Image { names, .. }, ExportOutcome::Stored { pushed }) => format!(
                "image {}{}",
                names
                    .iter()
                    .map(|n| n.to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
                if pushed.is_empty() { "" } else { " (pushed)" }
            ),
            (OutputKind::Oci { dest, .. }, _) => format!("OCI image to {}", show(dest)),
            (OutputKind::Docker { dest, .. }, _) => format!("docker archive to {}", show(dest)),
            (OutputKind::Local { dest }, _) => format!("root file system to {}", dest.display()),
            (OutputKind::Tar { dest }, _) => format!("root file system tar to {}", show(dest)),
            (OutputKind::Image { .. }, _) => "image".to_string(),
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
