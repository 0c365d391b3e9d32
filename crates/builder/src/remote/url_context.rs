//! An http(s) URL as the build context, as `docker build URL` takes it: the download is
//! streamed to disk; a tar (plain, gzip, bzip2, xz or zstd — recognised by its content,
//! like ADD's archives) is unpacked with the snapshotter's safe extraction and becomes the
//! context; anything else is the Dockerfile itself (decompressed when it is compressed),
//! with an empty context.

use std::io::Read;
use std::path::{Path, PathBuf};

use rbuild_snapshotter::{ExtractOptions, extract_layer};

use super::RemoteError;
use super::redact::redact_url;
use crate::add::{download, open_archive, open_decompressed};

/// A Dockerfile fetched as the whole context is read into memory: this caps its size.
const MAX_DOCKERFILE_BYTES: u64 = 16 * 1024 * 1024;

/// What a URL turned out to hold.
#[derive(Debug, Clone)]
pub enum UrlContent {
    /// An archive, unpacked into this directory.
    Context(PathBuf),
    /// A Dockerfile's text (the context is empty).
    Dockerfile(String),
    /// A single file that is not an archive, kept as it is in this directory (a named
    /// context of one file).
    File(PathBuf),
}

/// Downloads `url` into `work` and unpacks it when it is an archive; `text_is_dockerfile`
/// decides what another file is (the Dockerfile for the main context, a one-file directory
/// for a named context).
pub fn fetch_url_context(
    url: &str,
    work: &Path,
    text_is_dockerfile: bool,
) -> Result<UrlContent, RemoteError> {
    let download_dir = work.join("download");
    let scratch = |path: &Path| {
        let path = path.to_path_buf();
        move |error| RemoteError::Scratch { path, error }
    };
    std::fs::create_dir_all(&download_dir).map_err(scratch(&download_dir))?;
    let fetched = download(url, &download_dir, None)?;
    let archive = open_archive(&fetched.path).map_err(scratch(&fetched.path))?;
    if let Some((_, reader)) = archive {
        let target = work.join("context");
        let options = ExtractOptions {
            // The context belongs to whoever builds; owners in the tar are not kept.
            same_owner: false,
            ..ExtractOptions::default()
        };
        extract_layer(reader, &target, &options).map_err(|e| RemoteError::Extract {
            url: redact_url(url),
            message: e.to_string(),
        })?;
        let _ = std::fs::remove_dir_all(&download_dir);
        return Ok(UrlContent::Context(target));
    }
    if !text_is_dockerfile {
        return Ok(UrlContent::File(download_dir));
    }
    // A compressed Dockerfile is read decompressed (as docker does), and never more of it
    // than a Dockerfile can be.
    let mut bytes = Vec::new();
    open_decompressed(&fetched.path)
        .and_then(|reader| {
            reader
                .take(MAX_DOCKERFILE_BYTES + 1)
                .read_to_end(&mut bytes)
        })
        .map_err(|e| RemoteError::NotAContext {
            url: redact_url(url),
            reason: format!("it is neither a tar archive nor a readable Dockerfile ({e})"),
        })?;
    if bytes.len() as u64 > MAX_DOCKERFILE_BYTES {
        return Err(RemoteError::NotAContext {
            url: redact_url(url),
            reason: format!(
                "it is neither a tar archive nor a Dockerfile (larger than {MAX_DOCKERFILE_BYTES} bytes)"
            ),
        });
    }
    let text = String::from_utf8(bytes).map_err(|_| RemoteError::NotAContext {
        url: redact_url(url),
        reason: "it is neither a tar archive nor a text Dockerfile (not UTF-8)".into(),
    })?;
    let _ = std::fs::remove_dir_all(&download_dir);
    Ok(UrlContent::Dockerfile(text))
}
