//! The OCI image layout exporter (directory or tar): `oci-layout`, `index.json`,
//! `blobs/sha256/…`, as `skopeo`, `umoci` and BuildKit's `type=oci` read it.

use std::collections::BTreeMap;

use super::sink::FileSink;
use crate::error::{OciError, json_err};
use crate::model::{Descriptor, Index, canonical_json, media_types};
use crate::reference::Reference;
use crate::store::{ImageStore, StoredImage};

/// Annotation naming an index entry by tag (what `skopeo … oci:DIR:TAG` matches).
pub const REF_NAME: &str = "org.opencontainers.image.ref.name";
/// Annotation carrying the full image name (containerd's convention).
pub const IMAGE_NAME: &str = "io.containerd.image.name";

/// One image to export, with the names to record for it.
pub struct ExportImage<'a> {
    /// The image.
    pub image: &'a StoredImage,
    /// Its names (one index entry each; none gives one unnamed entry).
    pub names: Vec<Reference>,
}

/// Writes an OCI layout holding `images` into `sink`.
pub fn write_oci_layout(
    store: &ImageStore,
    images: &[ExportImage<'_>],
    sink: &mut dyn FileSink,
) -> Result<Index, OciError> {
    sink.add_bytes("oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#)?;
    let mut entries = Vec::new();
    for export in images {
        let image = export.image;
        let mut blobs = vec![
            image.manifest_digest.clone(),
            image.manifest.config.digest.clone(),
        ];
        blobs.extend(image.manifest.layers.iter().map(|l| l.digest.clone()));
        for digest in blobs {
            let path = format!("blobs/sha256/{}", digest.hex());
            if !sink.contains(&path) {
                sink.add_file(&path, &store.content().materialize(&digest)?)?;
            }
        }
        let named = export.names.iter().map(Some).collect::<Vec<_>>();
        for name in if named.is_empty() { vec![None] } else { named } {
            let mut descriptor = image.descriptor();
            if let Some(name) = name {
                let mut annotations = BTreeMap::new();
                annotations.insert(IMAGE_NAME.to_string(), name.to_string());
                if let Some(tag) = name.tag() {
                    annotations.insert(REF_NAME.to_string(), tag.to_string());
                }
                descriptor.annotations = Some(annotations);
            }
            entries.push(descriptor);
        }
    }
    let index = Index {
        schema_version: 2,
        media_type: Some(media_types::OCI_INDEX.to_string()),
        manifests: entries,
        annotations: None,
    };
    sink.add_bytes(
        "index.json",
        &canonical_json(&index).map_err(json_err("index.json"))?,
    )?;
    Ok(index)
}

/// The names recorded for an index entry: the full name, else a tag-only `ref.name` (which
/// is a full reference when other tools wrote it that way).
pub fn entry_name(descriptor: &Descriptor) -> Option<Reference> {
    descriptor
        .annotation(IMAGE_NAME)
        .or_else(|| {
            descriptor
                .annotation(REF_NAME)
                .filter(|n| n.contains([':', '/']))
        })
        .and_then(|n| Reference::parse(n).ok())
}
