//! Exporters: OCI layout (directory or tar), docker-archive, and the root file system
//! (`type=local` directory, `type=tar`).

pub mod convert;
pub mod docker_archive;
pub mod oci_layout;
pub mod rootfs;
pub mod sink;

pub use convert::{convert_for_output, distributable};
pub use docker_archive::{ArchiveManifestEntry, write_docker_archive};
pub use oci_layout::{ExportImage, IMAGE_NAME, REF_NAME, write_oci_layout};
pub use rootfs::{write_rootfs_dir, write_rootfs_tar};
pub use sink::{DirSink, FileSink, TarSink};

use std::io::Write;

use crate::error::OciError;
use crate::reference::Reference;
use crate::store::{ImageStore, StoredImage};

/// The archive formats `rbuild save` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ArchiveFormat {
    /// docker-archive (`docker save`).
    #[default]
    Docker,
    /// OCI image layout in a tar.
    Oci,
}

/// Writes the images named by `names_or_ids` (from the store) as one archive to `out`.
/// Names given as references are recorded in the archive; IDs add no name.
pub fn save_images<W: Write>(
    store: &ImageStore,
    names_or_ids: &[String],
    format: ArchiveFormat,
    out: W,
) -> Result<W, OciError> {
    let mut images: Vec<(StoredImage, Vec<Reference>)> = Vec::new();
    for name in names_or_ids {
        let digest = store.lookup(name)?;
        let named = Reference::parse(name).ok().filter(|r| {
            store
                .names()
                .is_ok_and(|i| i.names.contains_key(&r.to_string()))
        });
        match images.iter_mut().find(|(i, _)| i.manifest_digest == digest) {
            Some((_, names)) => names.extend(named),
            None => images.push((store.image(&digest)?, named.into_iter().collect())),
        }
    }
    let exports: Vec<ExportImage<'_>> = images
        .iter()
        .map(|(image, names)| ExportImage {
            image,
            names: names.clone(),
        })
        .collect();
    let mut sink = TarSink::new(out);
    match format {
        ArchiveFormat::Docker => {
            write_docker_archive(store, &exports, &mut sink)?;
        }
        ArchiveFormat::Oci => {
            write_oci_layout(store, &exports, &mut sink)?;
        }
    }
    sink.finish()
}

/// What [`export_output`] did, for the caller to report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExportOutcome {
    /// Written to a file, a directory or standard output.
    Written,
    /// Tagged in the local store (and pushed when asked).
    Stored {
        /// Push reports, one per pushed name.
        pushed: Vec<crate::registry::PushReport>,
    },
}

/// Sends the stored image `manifest_digest` where `spec` says (BuildKit's `--output`).
/// `stdout` is used for `dest=-`. Layers stored uncompressed get `spec`'s compression (gzip
/// unless it says otherwise); already compressed ones keep theirs unless
/// `force-compression=true`; `oci-mediatypes=` switches media types (see
/// [`convert_for_output`]). `type=image` names the stored image itself and pushes the
/// compressed form.
pub fn export_output(
    store: &ImageStore,
    manifest_digest: &rbuild_snapshotter::Digest,
    spec: &crate::output::OutputSpec,
    stdout: &mut dyn Write,
) -> Result<ExportOutcome, OciError> {
    use crate::output::{Destination, OutputKind};
    let original = manifest_digest;
    let converted = match spec.kind {
        // Stored images and root file systems need no compressed layers.
        OutputKind::Image { push: false, .. }
        | OutputKind::Local { .. }
        | OutputKind::Tar { .. } => manifest_digest.clone(),
        _ => convert_for_output(store, manifest_digest, spec)?,
    };
    let manifest_digest = &converted;
    let image = store.image(manifest_digest)?;
    let write_tar = |dest: &Destination,
                     stdout: &mut dyn Write,
                     body: &dyn Fn(&mut dyn FileSink) -> Result<(), OciError>|
     -> Result<(), OciError> {
        match dest {
            Destination::Stdout => {
                let mut sink = TarSink::new(&mut *stdout);
                body(&mut sink)?;
                sink.finish()?;
            }
            Destination::Path(path) => {
                let file = std::fs::File::create(path).map_err(|source| OciError::Io {
                    action: "create",
                    path: path.clone(),
                    source,
                })?;
                let mut sink = TarSink::new(std::io::BufWriter::new(file));
                body(&mut sink)?;
                sink.finish()?
                    .flush()
                    .map_err(crate::error::stream_err(format!(
                        "writing {}",
                        path.display()
                    )))?;
            }
        }
        Ok(())
    };
    match &spec.kind {
        OutputKind::Oci { dest, names, tar } => {
            let exports = [ExportImage {
                image: &image,
                names: names.clone(),
            }];
            match (tar, dest) {
                (false, Destination::Path(dir)) => {
                    write_oci_layout(store, &exports, &mut DirSink::new(dir)?)?;
                }
                _ => write_tar(dest, stdout, &|sink| {
                    write_oci_layout(store, &exports, sink).map(|_| ())
                })?,
            }
            Ok(ExportOutcome::Written)
        }
        OutputKind::Docker { dest, names } => {
            let exports = [ExportImage {
                image: &image,
                names: names.clone(),
            }];
            write_tar(dest, stdout, &|sink| {
                write_docker_archive(store, &exports, sink).map(|_| ())
            })?;
            Ok(ExportOutcome::Written)
        }
        OutputKind::Image { names, push } => {
            let mut pushed = Vec::new();
            for name in names {
                store.tag(name, original)?;
            }
            if *push {
                let client = crate::registry::RegistryClient::from_environment()?;
                for name in names {
                    pushed.push(client.push(store, &manifest_digest.to_string(), name)?);
                }
            }
            Ok(ExportOutcome::Stored { pushed })
        }
        OutputKind::Local { dest } => {
            write_rootfs_dir(store, &image, dest)?;
            Ok(ExportOutcome::Written)
        }
        OutputKind::Tar { dest } => {
            match dest {
                Destination::Stdout => {
                    write_rootfs_tar(store, &image, &mut *stdout)?;
                }
                Destination::Path(path) => {
                    let file = std::fs::File::create(path).map_err(|source| OciError::Io {
                        action: "create",
                        path: path.clone(),
                        source,
                    })?;
                    write_rootfs_tar(store, &image, std::io::BufWriter::new(file))?
                        .flush()
                        .map_err(crate::error::stream_err(format!(
                            "writing {}",
                            path.display()
                        )))?;
                }
            }
            Ok(ExportOutcome::Written)
        }
    }
}
