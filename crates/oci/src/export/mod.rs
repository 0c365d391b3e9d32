//! Exporters: OCI layout (directory or tar), docker-archive, and the root file system
//! (`type=local` directory, `type=tar`).

pub mod docker_archive;
pub mod oci_layout;
pub mod rootfs;
pub mod sink;

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
