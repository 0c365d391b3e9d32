//! The docker-archive exporter: the tar `docker save` writes and `docker load`,
//! `podman load` and `skopeo … docker-archive:` read.
//!
//! ```text
//! <config-hex>.json          the config blob, byte for byte
//! <diff-id-hex>/layer.tar    each layer, UNcompressed (its digest is the diff_id)
//! manifest.json              [{"Config", "RepoTags", "Layers"}]
//! repositories               {"repo": {"tag": "<top layer dir>"}} for old loaders
//! ```

use std::collections::BTreeMap;
use std::io::{Seek, SeekFrom};

use serde::{Deserialize, Serialize};

use super::oci_layout::ExportImage;
use super::sink::FileSink;
use crate::compress::decompressing_reader;
use crate::error::{IoContext, OciError, json_err, stream_err};
use crate::store::ImageStore;

/// One entry of `manifest.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ArchiveManifestEntry {
    /// Path of the config file in the archive.
    pub config: String,
    /// Names, familiar form.
    #[serde(default)]
    pub repo_tags: Option<Vec<String>>,
    /// Paths of the layer tars, base first.
    pub layers: Vec<String>,
}

/// Writes a docker-archive of `images` into `sink`. Layers are decompressed through a
/// temporary file in the store (a tar header needs the size first), one at a time.
pub fn write_docker_archive(
    store: &ImageStore,
    images: &[ExportImage<'_>],
    sink: &mut dyn FileSink,
) -> Result<Vec<ArchiveManifestEntry>, OciError> {
    let mut entries = Vec::new();
    let mut repositories: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for export in images {
        let image = export.image;
        let config_path = format!("{}.json", image.id().hex());
        if !sink.contains(&config_path) {
            sink.add_file(&config_path, &store.content().blob_path(image.id()))?;
        }
        let diff_ids = &image.config.rootfs.diff_ids;
        if diff_ids.len() != image.manifest.layers.len() {
            return Err(OciError::InvalidImage {
                image: image.id().to_string(),
                reason: format!(
                    "{} layers but {} diff_ids",
                    image.manifest.layers.len(),
                    diff_ids.len()
                ),
            });
        }
        let mut layer_paths = Vec::new();
        for (layer, diff_id) in image.manifest.layers.iter().zip(diff_ids) {
            let path = format!("{}/layer.tar", diff_id.hex());
            if !sink.contains(&path) {
                let blob = store.content().open_blob(&layer.digest)?;
                let mut temp = tempfile::tempfile_in(store.root())
                    .ctx("create temporary file in", store.root())?;
                let size = std::io::copy(
                    &mut decompressing_reader(blob)
                        .map_err(stream_err(format!("reading layer {}", layer.digest)))?,
                    &mut temp,
                )
                .map_err(stream_err(format!("decompressing layer {}", layer.digest)))?;
                temp.seek(SeekFrom::Start(0)).ctx("rewind", store.root())?;
                sink.add_reader(&path, &mut temp, size)?;
            }
            layer_paths.push(path);
        }
        let tags: Vec<String> = export
            .names
            .iter()
            .filter(|n| n.tag().is_some())
            .map(|n| n.familiar())
            .collect();
        for name in export.names.iter() {
            if let (Some(tag), Some(top)) = (name.tag(), layer_paths.last()) {
                let top_dir = top.trim_end_matches("/layer.tar").to_string();
                repositories
                    .entry(name.familiar_name())
                    .or_default()
                    .insert(tag.to_string(), top_dir);
            }
        }
        entries.push(ArchiveManifestEntry {
            config: config_path,
            repo_tags: (!tags.is_empty()).then_some(tags),
            layers: layer_paths,
        });
    }
    sink.add_bytes(
        "manifest.json",
        &serde_json::to_vec(&entries).map_err(json_err("manifest.json"))?,
    )?;
    if !repositories.is_empty() {
        sink.add_bytes(
            "repositories",
            &serde_json::to_vec(&repositories).map_err(json_err("repositories"))?,
        )?;
    }
    Ok(entries)
}
