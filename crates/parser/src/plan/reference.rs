//! Docker image references: validation and normalisation.
//!
//! The planner must tell a stage name from an image, and the
//! `InvalidDefaultArgInFrom` check must know whether an expanded `FROM` value
//! is a valid image name at all. Both follow the grammar of the Docker
//! distribution project (`[domain/]path[:tag][@digest]`, lowercase path,
//! `docker.io/library/` implied for short names).

use std::fmt;

/// A parsed, normalised image reference such as `docker.io/library/alpine:3.20`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ImageReference {
    /// Registry host (with port), `docker.io` when none was written.
    pub domain: String,
    /// Repository path, with `library/` added for official images on docker.io.
    pub path: String,
    /// The tag, if one was written.
    pub tag: Option<String>,
    /// The digest (`algorithm:hex`), if one was written.
    pub digest: Option<String>,
}

/// Why a string is not a valid image reference.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReferenceError {
    /// Nothing to parse.
    #[error("image reference is empty")]
    Empty,
    /// The repository part has upper-case letters.
    #[error("invalid reference format: repository name ({0}) must be lowercase")]
    Uppercase(String),
    /// A 64-hex-character name is reserved for image IDs.
    #[error("invalid repository name ({0}), cannot specify 64-byte hexadecimal strings")]
    LooksLikeId(String),
    /// The name is longer than 255 characters.
    #[error("repository name must not be more than 255 characters")]
    TooLong,
    /// Anything else that breaks the grammar.
    #[error(
        "invalid reference format: expected [registry/]name[:tag][@digest] with a lowercase name"
    )]
    Invalid(String),
}

impl ImageReference {
    /// Parse and normalise `text` the way `docker pull` would.
    pub fn parse(text: &str) -> Result<Self, ReferenceError> {
        if text.is_empty() {
            return Err(ReferenceError::Empty);
        }
        if text.len() == 64
            && text
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        {
            return Err(ReferenceError::LooksLikeId(text.to_string()));
        }
        let invalid = || ReferenceError::Invalid(text.to_string());

        let (name_and_tag, digest) = match text.split_once('@') {
            Some((name, digest)) => {
                validate_digest(digest).ok_or_else(invalid)?;
                (name, Some(digest.to_string()))
            }
            None => (text, None),
        };
        // A tag follows the last ':' that comes after the last '/'.
        let last_slash = name_and_tag.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match name_and_tag[last_slash..].rfind(':') {
            Some(i) => {
                let at = last_slash + i;
                (&name_and_tag[..at], Some(&name_and_tag[at + 1..]))
            }
            None => (name_and_tag, None),
        };
        if let Some(tag) = tag
            && !valid_tag(tag)
        {
            return Err(invalid());
        }
        if name.len() > 255 {
            return Err(ReferenceError::TooLong);
        }

        let (domain, path) = split_domain(name);
        if path.to_ascii_lowercase() != path {
            return Err(ReferenceError::Uppercase(path.to_string()));
        }
        if let Some(domain) = domain
            && !valid_domain(domain)
        {
            return Err(invalid());
        }
        if path.is_empty() || !path.split('/').all(valid_path_component) {
            return Err(invalid());
        }
        let domain = match domain {
            None | Some("index.docker.io") => "docker.io",
            Some(d) => d,
        };
        let path = if domain == "docker.io" && !path.contains('/') {
            format!("library/{path}")
        } else {
            path.to_string()
        };
        Ok(ImageReference {
            domain: domain.to_string(),
            path,
            tag: tag.map(str::to_string),
            digest,
        })
    }

    /// The full name with `:latest` added when neither tag nor digest was written.
    pub fn with_default_tag(&self) -> String {
        let mut out = format!("{}/{}", self.domain, self.path);
        match (&self.tag, &self.digest) {
            (None, None) => out.push_str(":latest"),
            (tag, digest) => {
                if let Some(tag) = tag {
                    out.push(':');
                    out.push_str(tag);
                }
                if let Some(digest) = digest {
                    out.push('@');
                    out.push_str(digest);
                }
            }
        }
        out
    }
}

impl fmt::Display for ImageReference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.domain, self.path)?;
        if let Some(tag) = &self.tag {
            write!(f, ":{tag}")?;
        }
        if let Some(digest) = &self.digest {
            write!(f, "@{digest}")?;
        }
        Ok(())
    }
}

/// Split off a registry domain: the first component is a domain only when it
/// looks like one (has a '.' or ':', or is `localhost`, or has upper case).
fn split_domain(name: &str) -> (Option<&str>, &str) {
    match name.split_once('/') {
        Some((first, rest))
            if first.contains('.')
                || first.contains(':')
                || first == "localhost"
                || first.to_ascii_lowercase() != first =>
        {
            (Some(first), rest)
        }
        _ => (None, name),
    }
}

fn valid_domain(domain: &str) -> bool {
    let (host, port) = if let Some(rest) = domain.strip_prefix('[') {
        // [IPv6]:port
        let Some((ip, after)) = rest.split_once(']') else {
            return false;
        };
        if ip.is_empty()
            || !ip
                .bytes()
                .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
        {
            return false;
        }
        match after.strip_prefix(':') {
            Some(port) => ("", Some(port)),
            None if after.is_empty() => ("", None),
            None => return false,
        }
    } else {
        match domain.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (domain, None),
        }
    };
    if let Some(port) = port
        && (port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()))
    {
        return false;
    }
    if domain.starts_with('[') {
        return true;
    }
    !host.is_empty()
        && host.split('.').all(|c| {
            !c.is_empty()
                && c.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !c.starts_with('-')
                && !c.ends_with('-')
        })
}

/// `[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*`
fn valid_path_component(component: &str) -> bool {
    let bytes = component.as_bytes();
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    if bytes.is_empty() || !alnum(bytes[0]) || !alnum(bytes[bytes.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < bytes.len() {
        if alnum(bytes[i]) {
            i += 1;
            continue;
        }
        // A separator run: '.', '_', '__' or one or more '-'.
        let start = i;
        while i < bytes.len() && !alnum(bytes[i]) {
            i += 1;
        }
        let sep = &component[start..i];
        let ok = matches!(sep, "." | "_" | "__") || sep.bytes().all(|b| b == b'-');
        if !ok {
            return false;
        }
    }
    true
}

/// `[\w][\w.-]{0,127}`
fn valid_tag(tag: &str) -> bool {
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let bytes = tag.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 128
        && word(bytes[0])
        && bytes.iter().all(|&b| word(b) || b == b'.' || b == b'-')
}

/// `algorithm:hex` with a known algorithm and the hex length it implies.
fn validate_digest(digest: &str) -> Option<()> {
    let (algorithm, hex) = digest.split_once(':')?;
    let expected = match algorithm {
        "sha256" => 64,
        "sha384" => 96,
        "sha512" => 128,
        _ => return None,
    };
    (hex.len() == expected
        && hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
    .then_some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full(s: &str) -> String {
        ImageReference::parse(s)
            .map(|r| r.with_default_tag())
            .unwrap_or_else(|e| format!("ERR {e}"))
    }

    #[test]
    fn normalises_like_docker() {
        assert_eq!(full("alpine"), "docker.io/library/alpine:latest");
        assert_eq!(full("alpine:3.20"), "docker.io/library/alpine:3.20");
        assert_eq!(full("tonistiigi/xx:1.6"), "docker.io/tonistiigi/xx:1.6");
        assert_eq!(
            full("localhost:5000/busybox"),
            "localhost:5000/busybox:latest"
        );
        assert_eq!(full("127.0.0.1:5000/a/b:t"), "127.0.0.1:5000/a/b:t");
        assert_eq!(
            full("index.docker.io/golang"),
            "docker.io/library/golang:latest"
        );
        let digest = format!("sha256:{}", "a".repeat(64));
        assert_eq!(
            full(&format!("busybox@{digest}")),
            format!("docker.io/library/busybox@{digest}")
        );
        assert_eq!(full("scratch"), "docker.io/library/scratch:latest");
    }

    #[test]
    fn rejects_invalid_names() {
        for bad in [
            "",
            ":latest",
            "alpine:",
            "Alpine",
            "a//b",
            "-a",
            "a-",
            "a:b:c",
            "foo@sha256:abc",
            "x/y:",
        ] {
            assert!(
                ImageReference::parse(bad).is_err(),
                "{bad} should be invalid"
            );
        }
        assert!(matches!(
            ImageReference::parse("Builder"),
            Err(ReferenceError::Uppercase(_))
        ));
        assert!(matches!(
            ImageReference::parse(&"ab".repeat(32)),
            Err(ReferenceError::LooksLikeId(_))
        ));
    }

    #[test]
    fn separators_follow_the_grammar() {
        assert!(valid_path_component("a.b_c__d---e"));
        assert!(!valid_path_component("a..b"));
        assert!(!valid_path_component("a___b"));
        assert!(!valid_path_component("a-_b"));
    }
}
