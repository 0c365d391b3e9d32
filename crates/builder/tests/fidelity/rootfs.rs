//! An image's root file system, computed from its layers in memory: each layer tar is
//! applied in order, whiteouts (`.wh.NAME`) and opaque markers (`.wh..wh..opq`) included,
//! so the result is what a runtime would see — without extracting anything to disk.
//! scripts/fidelity/normalise.py does the same for the peers' images.

use std::collections::BTreeMap;
use std::io::Read;

use rbuild_oci::ImageStore;
use rbuild_snapshotter::Digest;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

/// Path (absolute, normalised) to its entry `{path, type, mode, uid, gid, size, sha256, link}`.
pub type Rootfs = BTreeMap<String, Value>;

/// `./a/b/`, `/a/b` and `a/b` are all `/a/b`; `.` is `/`.
pub fn clean_path(name: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in name.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    format!("/{}", parts.join("/"))
}

/// The root file system of the stored image `manifest`, without the root directory's
/// own entry.
pub fn image_rootfs(store: &ImageStore, manifest: &Digest) -> Result<Rootfs, String> {
    let image = store.image(manifest).map_err(|e| e.to_string())?;
    let mut fs = Rootfs::new();
    for layer in &image.manifest.layers {
        let blob = store
            .content()
            .open_blob(&layer.digest)
            .map_err(|e| format!("layer {}: {e}", layer.digest))?;
        let reader = rbuild_oci::compress::decompressing_reader(blob)
            .map_err(|e| format!("layer {}: {e}", layer.digest))?;
        apply_layer(&mut fs, reader).map_err(|e| format!("layer {}: {e}", layer.digest))?;
    }
    fs.remove("/");
    Ok(fs)
}

fn apply_layer(fs: &mut Rootfs, layer: impl Read) -> Result<(), String> {
    let mut archive = tar::Archive::new(layer);
    for entry in archive.entries().map_err(|e| e.to_string())? {
        let mut entry = entry.map_err(|e| e.to_string())?;
        let raw = entry.path().map_err(|e| e.to_string())?;
        let path = clean_path(&raw.to_string_lossy());
        let (parent, base) = path.rsplit_once('/').unwrap_or(("", &path));
        let parent = if parent.is_empty() { "/" } else { parent };
        if base == ".wh..wh..opq" {
            let prefix = format!("{}/", parent.trim_end_matches('/'));
            fs.retain(|p, _| !p.starts_with(&prefix));
            continue;
        }
        if let Some(hidden) = base.strip_prefix(".wh.") {
            remove_tree(fs, &clean_path(&format!("{parent}/{hidden}")));
            continue;
        }
        let header = entry.header().clone();
        let kind = header.entry_type();
        let mut value = if kind.is_hard_link() {
            let target = header
                .link_name()
                .map_err(|e| e.to_string())?
                .map(|t| clean_path(&t.to_string_lossy()))
                .unwrap_or_default();
            fs.get(&target)
                .cloned()
                .ok_or_else(|| format!("hard link {path} to missing {target}"))?
        } else {
            describe(&mut entry, &path)?
        };
        value["path"] = json!(path);
        let replaces_dir_with_dir = fs
            .get(&path)
            .is_some_and(|old| old["type"] == "dir" && value["type"] == "dir");
        if !replaces_dir_with_dir {
            remove_tree(fs, &path);
        }
        fs.insert(path, value);
    }
    Ok(())
}

fn describe(entry: &mut tar::Entry<impl Read>, path: &str) -> Result<Value, String> {
    let header = entry.header();
    let kind = match header.entry_type() {
        t if t.is_file() => "file",
        t if t.is_dir() => "dir",
        t if t.is_symlink() => "symlink",
        t if t.is_fifo() => "fifo",
        t if t.is_character_special() => "char",
        t if t.is_block_special() => "block",
        t => return Err(format!("{path}: unexpected tar entry type {t:?}")),
    };
    let mode = header.mode().map_err(|e| e.to_string())? & 0o7777;
    let mut value = json!({
        "path": path,
        "type": kind,
        "mode": format!("{mode:04o}"),
        "uid": header.uid().map_err(|e| e.to_string())?,
        "gid": header.gid().map_err(|e| e.to_string())?,
    });
    match kind {
        "file" => {
            let mut data = Vec::new();
            entry.read_to_end(&mut data).map_err(|e| e.to_string())?;
            value["size"] = json!(data.len());
            value["sha256"] = json!(hex::encode(Sha256::digest(&data)));
        }
        "symlink" => {
            let link = entry
                .link_name()
                .map_err(|e| e.to_string())?
                .map(|l| l.to_string_lossy().into_owned())
                .unwrap_or_default();
            value["link"] = json!(link);
        }
        "char" | "block" => {
            let major = header.device_major().ok().flatten().unwrap_or(0);
            let minor = header.device_minor().ok().flatten().unwrap_or(0);
            value["device"] = json!(format!("{major}:{minor}"));
        }
        _ => {}
    }
    Ok(value)
}

fn remove_tree(fs: &mut Rootfs, path: &str) {
    let prefix = format!("{}/", path.trim_end_matches('/'));
    fs.retain(|p, _| p != path && !p.starts_with(&prefix));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_normalised() {
        assert_eq!(clean_path("./"), "/");
        assert_eq!(clean_path("./.dockerignore"), "/.dockerignore");
        assert_eq!(clean_path("a/b/"), "/a/b");
        assert_eq!(clean_path("/a/./b"), "/a/b");
    }
}
