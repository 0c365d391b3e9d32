//! The JSON `rbuild inspect` prints: the main fields of `docker image inspect`.

use serde_json::{Value, json};

use super::StoredImage;
use super::names::NameIndex;
use crate::reference::Reference;

/// Builds the inspect document for `image`, with its names taken from `index`.
pub(super) fn inspect_json(image: &StoredImage, index: &NameIndex) -> Value {
    let mut repo_tags = Vec::new();
    let mut repo_digests = Vec::new();
    for (name, digest) in &index.names {
        if *digest != image.manifest_digest {
            continue;
        }
        match Reference::parse(name) {
            Ok(r) if r.digest().is_some() => repo_digests.push(r.familiar()),
            Ok(r) => repo_tags.push(r.familiar()),
            Err(_) => {}
        }
    }
    let config = &image.config;
    let extra_str = |key: &str| config.extra.get(key).cloned().unwrap_or(json!(""));
    let mut doc = json!({
        "Id": image.id().to_string(),
        "RepoTags": repo_tags,
        "RepoDigests": repo_digests,
        "Parent": extra_str("parent"),
        "Comment": extra_str("comment"),
        "Created": config.created.clone().unwrap_or_default(),
        "DockerVersion": extra_str("docker_version"),
        "Author": config.author.clone().unwrap_or_default(),
        "Config": config.config.clone(),
        "Architecture": config.architecture,
        "Os": config.os,
        "Size": image.content_size(),
        "RootFS": {
            "Type": config.rootfs.kind,
            "Layers": config.rootfs.diff_ids.iter().map(ToString::to_string).collect::<Vec<_>>(),
        },
        "Descriptor": image.descriptor(),
    });
    if let (Some(variant), Some(map)) = (&config.variant, doc.as_object_mut()) {
        map.insert("Variant".to_string(), json!(variant));
    }
    doc
}
