//! Adding layer tars to the store: compressed on the way in (or stored as plain tars),
//! several at once.

use std::io::Read;
use std::path::PathBuf;

use rbuild_snapshotter::Digest;

use super::ImageStore;
use crate::compress::pool::for_each_in_lanes;
use crate::compress::{Compression, CompressionOptions, compress, decompressing_reader};
use crate::error::{OciError, stream_err};
use crate::model::{Descriptor, media_types};

/// A layer blob in the store, with what its manifest and config need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerBlob {
    /// The (compressed) blob's descriptor, for the manifest.
    pub descriptor: Descriptor,
    /// The uncompressed tar's digest, for the config's `rootfs.diff_ids`.
    pub diff_id: Digest,
    /// The uncompressed tar's size.
    pub uncompressed_size: u64,
}

impl ImageStore {
    /// Compresses the layer tar `tar` into a new blob. `oci_media_types` picks the OCI layer
    /// media types instead of Docker's.
    pub fn add_layer<R: Read>(
        &self,
        tar: R,
        options: CompressionOptions,
        oci_media_types: bool,
    ) -> Result<LayerBlob, OciError> {
        let mut writer = self.content().writer()?;
        if options.compression == Compression::Uncompressed {
            // The blob is the tar: the content store's own digest is the diff_id, so no
            // second hashing pass.
            let copied = std::io::copy(
                &mut std::io::BufReader::with_capacity(1 << 20, tar),
                &mut writer,
            )
            .map_err(stream_err("storing layer".to_string()))?;
            let (digest, size) = writer.commit(None)?;
            debug_assert_eq!(copied, size);
            return Ok(LayerBlob {
                descriptor: Descriptor::new(
                    media_types::layer_media_type(options.compression, oci_media_types),
                    digest.clone(),
                    size,
                ),
                diff_id: digest,
                uncompressed_size: size,
            });
        }
        let layer = compress(tar, &mut writer, options).map_err(stream_err(format!(
            "compressing layer with {}",
            options.compression
        )))?;
        let (digest, size) = writer.commit(None)?;
        Ok(LayerBlob {
            descriptor: Descriptor::new(
                media_types::layer_media_type(options.compression, oci_media_types),
                digest,
                size,
            ),
            diff_id: layer.diff_id,
            uncompressed_size: layer.uncompressed_size,
        })
    }

    /// Compresses several layer tar files (plain, or gzip/zstd which are decompressed first:
    /// the diff_id is always that of the plain tar) at once (each one also in parallel blocks), keeping
    /// their order in the result. At most as many layers run at once as there are
    /// compression threads, so memory stays bounded.
    pub fn add_layer_files(
        &self,
        files: &[PathBuf],
        options: CompressionOptions,
        oci_media_types: bool,
    ) -> Result<Vec<LayerBlob>, OciError> {
        for_each_in_lanes(
            files,
            |path| {
                let file = std::fs::File::open(path).map_err(|source| OciError::Io {
                    action: "open layer",
                    path: path.clone(),
                    source,
                })?;
                let tar = decompressing_reader(file)
                    .map_err(stream_err(format!("reading {}", path.display())))?;
                self.add_layer(tar, options, oci_media_types)
            },
            |path| format!("compressing {}", path.display()),
        )
    }
}
