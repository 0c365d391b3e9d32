//! `--build-context NAME=VALUE`: replaces a stage, an image or a named context, as buildx
//! does. VALUE is a local directory, `docker-image://REF`, `oci-layout://PATH[:TAG|@DIGEST]`,
//! or a remote context — a git repository or an http(s) URL of a tarball (or of one file) —
//! which [`prepare_build_context`] fetches into a directory first.

use std::path::{Path, PathBuf};

use crate::remote::{FetchedContext, RemoteContext, RemoteError};

/// What a named context stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NamedContext {
    /// A local directory (usable by `COPY --from=NAME` and as a `FROM NAME` rootfs).
    Directory(PathBuf),
    /// An image reference, resolved like a `FROM` line.
    Image(String),
    /// An image inside an OCI layout directory.
    OciLayout {
        path: PathBuf,
        /// A tag (`:tag`) or digest (`@sha256:...`); `latest` when absent.
        reference: String,
    },
}

/// A `--build-context` value that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum NamedContextError {
    #[error(
        "--build-context {0:?}: expected NAME=VALUE (e.g. --build-context base=docker-image://alpine:3.20)"
    )]
    Syntax(String),
    #[error(
        "--build-context {name}: {scheme}:// contexts are not supported (use a local directory, docker-image:// or oci-layout://)"
    )]
    UnsupportedScheme { name: String, scheme: String },
    #[error(
        "--build-context {name}: {url} is a remote context: it must be fetched first (rbuild_builder::request::prepare_build_context)"
    )]
    Remote { name: String, url: String },
    // The cause is shown inline (not as a `source`), so that a chain printer shows it once.
    #[error("--build-context {name}: {error}")]
    Fetch { name: String, error: RemoteError },
}

/// Parses one `--build-context` value like [`parse_build_context`], fetching a remote one
/// into the scratch area of the store at `store_root`: it is then a directory, which lives
/// as long as the returned [`FetchedContext`].
pub fn prepare_build_context(
    text: &str,
    store_root: &Path,
) -> Result<(String, NamedContext, Option<FetchedContext>), NamedContextError> {
    let remote = text
        .split_once('=')
        .and_then(|(name, value)| Some((name.trim(), RemoteContext::parse(value)?)));
    let Some((name, remote)) = remote else {
        let (name, context) = parse_build_context(text)?;
        return Ok((name, context, None));
    };
    let fetch_error = |error: RemoteError| NamedContextError::Fetch {
        name: name.to_string(),
        error,
    };
    let remote = remote.map_err(|e| fetch_error(e.into()))?;
    let fetched = FetchedContext::fetch(&remote, store_root, false).map_err(fetch_error)?;
    let Some(dir) = fetched.directory.clone() else {
        return Err(NamedContextError::Syntax(text.to_string()));
    };
    Ok((
        name.to_string(),
        NamedContext::Directory(dir),
        Some(fetched),
    ))
}

/// Parses one `--build-context` value into its name and context.
pub fn parse_build_context(text: &str) -> Result<(String, NamedContext), NamedContextError> {
    let (name, value) = text
        .split_once('=')
        .filter(|(n, v)| !n.trim().is_empty() && !v.is_empty())
        .ok_or_else(|| NamedContextError::Syntax(text.to_string()))?;
    let name = name.trim().to_string();
    let context = if let Some(reference) = value.strip_prefix("docker-image://") {
        NamedContext::Image(reference.to_string())
    } else if let Some(rest) = value.strip_prefix("oci-layout://") {
        let (path, reference) = split_layout(rest);
        NamedContext::OciLayout { path, reference }
    } else if let Some(remote) = RemoteContext::parse(value) {
        let url = match remote {
            Ok(remote) => remote.display_url(),
            Err(e) => e.url,
        };
        return Err(NamedContextError::Remote { name, url });
    } else if let Some((scheme, _)) = value.split_once("://") {
        return Err(NamedContextError::UnsupportedScheme {
            name,
            scheme: scheme.to_string(),
        });
    } else {
        NamedContext::Directory(PathBuf::from(value))
    };
    Ok((name, context))
}

/// `path@sha256:...`, `path:tag` (a `:` after the last `/`) or just `path`.
fn split_layout(rest: &str) -> (PathBuf, String) {
    if let Some((path, digest)) = rest.rsplit_once('@') {
        return (PathBuf::from(path), digest.to_string());
    }
    let last_slash = rest.rfind('/').map(|i| i + 1).unwrap_or(0);
    match rest[last_slash..].rfind(':') {
        Some(i) => (
            PathBuf::from(&rest[..last_slash + i]),
            rest[last_slash + i + 1..].to_string(),
        ),
        None => (PathBuf::from(rest), "latest".to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_three_kinds() {
        assert_eq!(
            parse_build_context("src=../common").unwrap(),
            ("src".into(), NamedContext::Directory("../common".into()))
        );
        assert_eq!(
            parse_build_context("alpine=docker-image://localhost:5000/alpine:3.20")
                .unwrap()
                .1,
            NamedContext::Image("localhost:5000/alpine:3.20".into())
        );
        assert_eq!(
            parse_build_context("base=oci-layout:///srv/layouts/base:v2")
                .unwrap()
                .1,
            NamedContext::OciLayout {
                path: "/srv/layouts/base".into(),
                reference: "v2".into()
            }
        );
        assert_eq!(
            parse_build_context("base=oci-layout://./out").unwrap().1,
            NamedContext::OciLayout {
                path: "./out".into(),
                reference: "latest".into()
            }
        );
        assert_eq!(
            parse_build_context("b=oci-layout://out@sha256:abc")
                .unwrap()
                .1,
            NamedContext::OciLayout {
                path: "out".into(),
                reference: "sha256:abc".into()
            }
        );
    }

    #[test]
    fn errors() {
        assert!(matches!(
            parse_build_context("nothing"),
            Err(NamedContextError::Syntax(_))
        ));
        assert!(matches!(
            parse_build_context("x=https://example.invalid/repo.git"),
            Err(NamedContextError::Remote { .. })
        ));
        assert!(matches!(
            parse_build_context("x=ftp://example.invalid/x"),
            Err(NamedContextError::UnsupportedScheme { .. })
        ));
    }
}
