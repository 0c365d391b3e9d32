//! Image references (`busybox`, `ghcr.io/org/app:v1`, `localhost:5000/x@sha256:…`), parsed
//! and normalised the way Docker's reference library does it.
//!
//! Normalisation rules (the ones users rely on):
//! - a name without a registry part goes to `docker.io`, and a one-part Docker Hub name gets the
//!   `library/` prefix (`busybox` → `docker.io/library/busybox`);
//! - the first path part is a registry only if it contains `.` or `:`, is `localhost`, or has
//!   uppercase letters; otherwise it is part of the repository (`user/app` is on Docker Hub);
//! - `index.docker.io` is the same registry as `docker.io`;
//! - repository paths must be lowercase; registries may have any case;
//! - with neither tag nor digest the tag is `latest`.

use std::fmt;
use std::str::FromStr;
use std::sync::LazyLock;

use rbuild_snapshotter::Digest;
use regex::Regex;

/// The registry Docker uses for names without a registry part.
pub const DOCKER_HUB: &str = "docker.io";
/// The tag used when a reference names neither a tag nor a digest.
pub const DEFAULT_TAG: &str = "latest";
const MAX_NAME_LEN: usize = 255;

/// A fully normalised image reference.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Reference {
    registry: String,
    repository: String,
    tag: Option<String>,
    digest: Option<Digest>,
}

/// Why a string is not a valid image reference.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid reference format {input:?}: {reason}")]
pub struct ReferenceError {
    /// The rejected text.
    pub input: String,
    /// What is wrong, in words a user can act on.
    pub reason: String,
}

static PATH_COMPONENT: LazyLock<Regex> =
    LazyLock::new(|| re(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$"));
static DOMAIN: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"^(?:(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?$",
    )
});
// Docker's `\w` is ASCII: a Unicode class would accept tags Docker rejects (and costs a
// large automaton, built 128 times over for the repetition).
static TAG: LazyLock<Regex> = LazyLock::new(|| re(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$"));
static DIGEST_SHAPE: LazyLock<Regex> =
    LazyLock::new(|| re(r"^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$"));
static HEX64: LazyLock<Regex> = LazyLock::new(|| re(r"^[a-f0-9]{64}$"));

fn re(pattern: &str) -> Regex {
    // The patterns are constants checked by the unit tests; a failure here is a programming error.
    #[allow(clippy::expect_used)]
    Regex::new(pattern).expect("constant regex compiles")
}

impl Reference {
    /// Parses and normalises `input` like `docker pull` does.
    pub fn parse(input: &str) -> Result<Self, ReferenceError> {
        let err = |reason: &str| ReferenceError {
            input: input.to_string(),
            reason: reason.to_string(),
        };
        if input.is_empty() {
            return Err(err("the reference is empty"));
        }
        if HEX64.is_match(input) {
            return Err(err(
                "a 64-character hexadecimal string is an image ID, not a repository name",
            ));
        }
        let (rest, digest) = match input.split_once('@') {
            Some((rest, digest)) => (rest, Some(digest)),
            None => (input, None),
        };
        // A tag is after the last ':' that follows the last '/' (a ':' before it is a port).
        let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match rest[last_slash..].rfind(':') {
            Some(i) => (&rest[..last_slash + i], Some(&rest[last_slash + i + 1..])),
            None => (rest, None),
        };
        if name.is_empty() {
            return Err(err("the repository name is empty"));
        }
        let (registry, remainder) = split_registry(name);
        if let Some(registry) = &registry
            && !DOMAIN.is_match(registry)
        {
            return Err(err(&format!(
                "registry {registry:?} is not a valid host name or host:port"
            )));
        }
        if remainder.to_lowercase() != remainder {
            return Err(err(&format!(
                "repository name {remainder:?} must be lowercase"
            )));
        }
        for component in remainder.split('/') {
            if !PATH_COMPONENT.is_match(component) {
                return Err(err(&format!(
                    "path component {component:?} must be lowercase letters and digits, separated by '.', '_', '__' or '-'"
                )));
            }
        }
        if name.len() > MAX_NAME_LEN {
            return Err(err("the repository name is longer than 255 characters"));
        }
        let tag = match tag {
            Some(tag) if !TAG.is_match(tag) => {
                return Err(err(&format!(
                    "tag {tag:?} must be 1 to 128 of letters, digits, '_', '.' or '-', not starting with '.' or '-'"
                )));
            }
            other => other.map(str::to_string),
        };
        let digest = match digest {
            None => None,
            Some(d) if !DIGEST_SHAPE.is_match(d) => {
                return Err(err(&format!(
                    "digest {d:?} must look like sha256:<64 hex digits>"
                )));
            }
            Some(d) => Some(d.parse::<Digest>().map_err(|e| err(&e.to_string()))?),
        };
        let registry = match registry.as_deref() {
            None | Some("index.docker.io") => DOCKER_HUB.to_string(),
            Some(other) => other.to_string(),
        };
        let repository = if registry == DOCKER_HUB && !remainder.contains('/') {
            format!("library/{remainder}")
        } else {
            remainder.to_string()
        };
        let tag = match (&tag, &digest) {
            (None, None) => Some(DEFAULT_TAG.to_string()),
            _ => tag,
        };
        Ok(Reference {
            registry,
            repository,
            tag,
            digest,
        })
    }

    /// Builds a reference from parts already known to be valid (e.g. read from our own index).
    pub fn from_parts(
        registry: &str,
        repository: &str,
        tag: Option<&str>,
        digest: Option<Digest>,
    ) -> Result<Self, ReferenceError> {
        let mut text = format!("{registry}/{repository}");
        if let Some(tag) = tag {
            text.push(':');
            text.push_str(tag);
        }
        if let Some(digest) = &digest {
            text.push('@');
            text.push_str(&digest.to_string());
        }
        Reference::parse(&text)
    }

    /// The registry host (and port), e.g. `docker.io` or `127.0.0.1:5000`.
    pub fn registry(&self) -> &str {
        &self.registry
    }
    /// The repository path, e.g. `library/busybox`.
    pub fn repository(&self) -> &str {
        &self.repository
    }
    /// The tag, if any (`latest` when the input had neither tag nor digest).
    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }
    /// The digest, if the reference pins one.
    pub fn digest(&self) -> Option<&Digest> {
        self.digest.as_ref()
    }

    /// `registry/repository` without tag or digest.
    pub fn name(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }

    /// The short form Docker prints: `busybox` for `docker.io/library/busybox`,
    /// `user/app` for `docker.io/user/app`, the full name elsewhere.
    pub fn familiar_name(&self) -> String {
        if self.registry == DOCKER_HUB {
            match self.repository.strip_prefix("library/") {
                Some(short) if !short.contains('/') => short.to_string(),
                _ => self.repository.clone(),
            }
        } else {
            self.name()
        }
    }

    /// The familiar form with the tag and/or digest, e.g. `busybox:latest`.
    pub fn familiar(&self) -> String {
        self.with_suffix(self.familiar_name())
    }

    /// The same name with another tag (and no digest).
    pub fn with_tag(&self, tag: &str) -> Result<Self, ReferenceError> {
        Reference::from_parts(&self.registry, &self.repository, Some(tag), None)
    }

    /// The same name pinned to `digest` (and no tag).
    pub fn with_digest(&self, digest: Digest) -> Self {
        Reference {
            registry: self.registry.clone(),
            repository: self.repository.clone(),
            tag: None,
            digest: Some(digest),
        }
    }

    /// The tag or digest a registry should be asked for: the digest wins when both are given.
    pub fn manifest_selector(&self) -> String {
        match (&self.digest, &self.tag) {
            (Some(d), _) => d.to_string(),
            (None, Some(t)) => t.clone(),
            (None, None) => DEFAULT_TAG.to_string(),
        }
    }

    fn with_suffix(&self, mut text: String) -> String {
        if let Some(tag) = &self.tag {
            text.push(':');
            text.push_str(tag);
        }
        if let Some(digest) = &self.digest {
            text.push('@');
            text.push_str(&digest.to_string());
        }
        text
    }
}

/// Splits off the registry part the way Docker decides whether the first component is a host.
fn split_registry(name: &str) -> (Option<String>, &str) {
    match name.split_once('/') {
        Some((first, rest))
            if first.contains(['.', ':'])
                || first == "localhost"
                || first.to_lowercase() != first =>
        {
            (Some(first.to_string()), rest)
        }
        _ => (None, name),
    }
}

impl FromStr for Reference {
    type Err = ReferenceError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Reference::parse(s)
    }
}

impl fmt::Display for Reference {
    /// The fully qualified form, e.g. `docker.io/library/busybox:latest`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.with_suffix(self.name()))
    }
}

impl fmt::Debug for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Reference({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    fn full(input: &str) -> String {
        match Reference::parse(input) {
            Ok(r) => r.to_string(),
            Err(e) => panic!("{input:?} rejected: {e}"),
        }
    }

    #[test]
    fn tags_are_ascii_like_dockers() {
        assert!(Reference::parse("busybox:v1.2_rc-3").is_ok());
        assert!(Reference::parse("busybox:tag\u{e9}").is_err());
        assert!(Reference::parse("busybox:.hidden").is_err());
        let long = format!("busybox:{}", "a".repeat(128));
        assert!(Reference::parse(&long).is_ok());
        let too_long = format!("busybox:{}", "a".repeat(129));
        assert!(Reference::parse(&too_long).is_err());
    }

    #[test]
    fn normalises_like_docker() {
        let cases = [
            ("busybox", "docker.io/library/busybox:latest"),
            ("busybox:1.36", "docker.io/library/busybox:1.36"),
            ("library/busybox", "docker.io/library/busybox:latest"),
            ("docker.io/busybox", "docker.io/library/busybox:latest"),
            (
                "index.docker.io/busybox",
                "docker.io/library/busybox:latest",
            ),
            ("index.docker.io/user/app:v1", "docker.io/user/app:v1"),
            ("user/app", "docker.io/user/app:latest"),
            ("user/app/sub", "docker.io/user/app/sub:latest"),
            ("localhost/app", "localhost/app:latest"),
            ("localhost:5000/app", "localhost:5000/app:latest"),
            ("127.0.0.1:5000/a/b:tag", "127.0.0.1:5000/a/b:tag"),
            ("ghcr.io/org/app:v1.2.3", "ghcr.io/org/app:v1.2.3"),
            (
                "Registry.Example.com/app",
                "Registry.Example.com/app:latest",
            ),
            ("UPPER/app", "UPPER/app:latest"),
            ("[::1]:5000/app", "[::1]:5000/app:latest"),
            (
                "example.com/a_b/c__d/e-f/g--h/i.j",
                "example.com/a_b/c__d/e-f/g--h/i.j:latest",
            ),
            (
                "busybox:Latest_1.x-y",
                "docker.io/library/busybox:Latest_1.x-y",
            ),
            (
                &format!("busybox@sha256:{HEX}"),
                &format!("docker.io/library/busybox@sha256:{HEX}"),
            ),
            (
                &format!("localhost:5000/x:t@sha256:{HEX}"),
                &format!("localhost:5000/x:t@sha256:{HEX}"),
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(full(input), expected, "input {input:?}");
        }
    }

    #[test]
    fn parts_and_familiar_forms() {
        let r = Reference::parse("busybox").unwrap();
        assert_eq!(r.registry(), "docker.io");
        assert_eq!(r.repository(), "library/busybox");
        assert_eq!(r.tag(), Some("latest"));
        assert_eq!(r.digest(), None);
        assert_eq!(r.familiar(), "busybox:latest");
        assert_eq!(r.manifest_selector(), "latest");
        let r = Reference::parse("user/app:v1").unwrap();
        assert_eq!(r.familiar(), "user/app:v1");
        let r = Reference::parse("localhost:5000/app").unwrap();
        assert_eq!(r.familiar(), "localhost:5000/app:latest");
        assert_eq!(r.registry(), "localhost:5000");
        let r = Reference::parse(&format!("x:t@sha256:{HEX}")).unwrap();
        assert_eq!(r.manifest_selector(), format!("sha256:{HEX}"));
        assert_eq!(r.with_tag("new").unwrap().familiar(), "x:new");
    }

    #[test]
    fn rejects_with_reasons() {
        let cases = [
            ("", "empty"),
            (HEX, "image ID"),
            ("Busybox", "lowercase"),
            ("docker.io/Library/busybox", "lowercase"),
            ("busybox:", "tag"),
            ("busybox:-x", "tag"),
            ("busybox:.x", "tag"),
            ("busybox:a b", "tag"),
            (&format!("busybox:{}", "a".repeat(129)), "tag"),
            ("busybox@sha256:abc", "digest"),
            ("busybox@", "digest"),
            (&format!("busybox@sha512:{HEX}{HEX}"), "sha256"),
            ("a//b", "path component"),
            ("a/", "path component"),
            ("/a", "path component"),
            ("-a", "path component"),
            ("a-", "path component"),
            ("a...b", "path component"),
            ("a___b", "path component"),
            ("a@b@c", "digest"),
            (":tag", "empty"),
            ("-host.com/a", "registry"),
            ("host.com:port/a", "registry"),
            (&format!("example.com/{}", "a".repeat(250)), "255"),
        ];
        for (input, needle) in cases {
            match Reference::parse(input) {
                Ok(r) => panic!("{input:?} accepted as {r}"),
                Err(e) => assert!(
                    e.to_string().contains(needle),
                    "{input:?}: error {e} does not mention {needle:?}"
                ),
            }
        }
    }

    #[test]
    fn display_parses_back_to_the_same_reference() {
        for input in ["busybox", "a/b:c", "localhost:5000/x/y:z", "Host.io/p"] {
            let r = Reference::parse(input).unwrap();
            assert_eq!(Reference::parse(&r.to_string()).unwrap(), r);
            assert_eq!(Reference::parse(&r.familiar()).unwrap(), r);
        }
    }
}
