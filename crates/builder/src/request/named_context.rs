//! `--build-context NAME=VALUE`: replaces a stage, an image or a named context, as buildx
//! does. VALUE is a local directory, `docker-image://REF` or `oci-layout://PATH[:TAG|@DIGEST]`.

use std::path::PathBuf;

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
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum NamedContextError {
    #[error(
        "--build-context {0:?}: expected NAME=VALUE (e.g. --build-context base=docker-image://alpine:3.20)"
    )]
    Syntax(String),
    #[error(
        "--build-context {name}: {scheme}:// contexts are not supported (use a local directory, docker-image:// or oci-layout://)"
    )]
    UnsupportedScheme { name: String, scheme: String },
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
            Err(NamedContextError::UnsupportedScheme { .. })
        ));
    }
}
