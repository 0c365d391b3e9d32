//! Where the build context and the Dockerfile come from, given `docker build`'s positional
//! argument and `-f`:
//!
//! - `rbuild build DIR` — DIR is the context, `DIR/Dockerfile` the Dockerfile (or
//!   `DIR/dockerfile`, as Docker also accepts).
//! - `rbuild build -f FILE DIR` — FILE (relative to the current directory) is the Dockerfile.
//! - `rbuild build -` — the Dockerfile comes from standard input; there is no context.
//! - `rbuild build -f - DIR` — the Dockerfile from standard input, DIR the context.
//! - `rbuild build path/to/Dockerfile` — the file is the Dockerfile and its folder the context.
//! - `rbuild build GIT-URL` or `rbuild build https://host/ctx.tar.gz` — a remote context
//!   ([`crate::remote`]), fetched by [`prepare_context_arg`]. `-f` then names a file inside
//!   the fetched context (an absolute `-f` is a local file, as with buildx); a URL that is
//!   not an archive is the Dockerfile itself, with an empty context.

use std::path::{Path, PathBuf};

use crate::context::resolve_in_root;
use crate::remote::{FetchedContext, RemoteContext, RemoteError, redact_url};

/// The context directory of a build, if it has one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContextSpec {
    Directory(PathBuf),
    /// `-`: no files can be copied from the context.
    Empty,
}

/// Where the Dockerfile is read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DockerfileSpec {
    File(PathBuf),
    Stdin,
    /// Text fetched from a URL; `name` (the redacted URL) appears in errors.
    Text {
        name: String,
        text: String,
    },
}

/// The positional argument and `-f` do not describe a usable build.
#[derive(Debug, thiserror::Error)]
pub enum ContextArgError {
    #[error("unable to prepare context: path {0:?} not found")]
    NotFound(String),
    #[error(
        "cannot read the Dockerfile from standard input twice: use either `rbuild build -` or `-f -`, not both"
    )]
    StdinTwice,
    #[error("{0:?} is a Dockerfile given as the context, so -f cannot name another one")]
    FileContextWithDashF(String),
    #[error("no Dockerfile in {dir}: expected {dir}/Dockerfile (or give one with -f)")]
    NoDockerfile { dir: String },
    #[error(
        "{0} is a remote context: it must be fetched first (rbuild_builder::request::prepare_context_arg)"
    )]
    Remote(String),
    #[error(transparent)]
    Fetch(#[from] RemoteError),
    #[error(
        "the remote context {url} has no Dockerfile at {path} (give its path inside the context with -f)"
    )]
    NoRemoteDockerfile { url: String, path: String },
}

/// A context argument made ready to build.
#[derive(Debug)]
pub struct PreparedContext {
    pub context: ContextSpec,
    pub dockerfile: DockerfileSpec,
    /// A fetched remote context: its files are removed when this is dropped, so keep it
    /// until the build is over.
    pub fetched: Option<FetchedContext>,
}

/// Resolves the positional argument and `-f` like [`resolve_context_arg`], fetching a
/// remote context (git repository or URL) into the scratch area of the store at
/// `store_root` first.
pub fn prepare_context_arg(
    positional: &str,
    dockerfile_flag: Option<&str>,
    store_root: &Path,
) -> Result<PreparedContext, ContextArgError> {
    let Some(remote) = RemoteContext::parse(positional) else {
        let (context, dockerfile) = resolve_context_arg(positional, dockerfile_flag)?;
        return Ok(PreparedContext {
            context,
            dockerfile,
            fetched: None,
        });
    };
    let remote = remote.map_err(RemoteError::from)?;
    let fetched = FetchedContext::fetch(&remote, store_root, true)?;
    let url = remote.display_url();
    let (context, dockerfile) = match (&fetched.directory, &fetched.dockerfile_text) {
        (Some(dir), _) => (
            ContextSpec::Directory(dir.clone()),
            remote_dockerfile(dir, dockerfile_flag, &url)?,
        ),
        (None, Some(text)) => {
            if dockerfile_flag.is_some() {
                return Err(ContextArgError::FileContextWithDashF(url));
            }
            let text = text.clone();
            (ContextSpec::Empty, DockerfileSpec::Text { name: url, text })
        }
        (None, None) => (ContextSpec::Empty, DockerfileSpec::Stdin),
    };
    Ok(PreparedContext {
        context,
        dockerfile,
        fetched: Some(fetched),
    })
}

/// The Dockerfile of a fetched context: `-` is stdin, an absolute path a local file, and a
/// relative one (or the default `Dockerfile`) a file inside the context, resolved so that it
/// cannot name anything outside.
fn remote_dockerfile(
    dir: &Path,
    flag: Option<&str>,
    url: &str,
) -> Result<DockerfileSpec, ContextArgError> {
    let missing = |path: &str| ContextArgError::NoRemoteDockerfile {
        url: redact_url(url),
        path: path.to_string(),
    };
    match flag {
        Some("-") => Ok(DockerfileSpec::Stdin),
        Some(file) if Path::new(file).is_absolute() => {
            if !Path::new(file).is_file() {
                return Err(ContextArgError::NotFound(file.to_string()));
            }
            Ok(DockerfileSpec::File(PathBuf::from(file)))
        }
        Some(file) => match resolve_in_root(dir, file, true) {
            Ok(path) if path.is_file() => Ok(DockerfileSpec::File(path)),
            _ => Err(missing(file)),
        },
        None => ["Dockerfile", "dockerfile"]
            .iter()
            .filter_map(|name| resolve_in_root(dir, name, true).ok())
            .find(|path| path.is_file())
            .map(DockerfileSpec::File)
            .ok_or_else(|| missing("Dockerfile")),
    }
}

/// Resolves the positional context argument and the `-f` flag.
pub fn resolve_context_arg(
    positional: &str,
    dockerfile_flag: Option<&str>,
) -> Result<(ContextSpec, DockerfileSpec), ContextArgError> {
    if let Some(remote) = RemoteContext::parse(positional) {
        let shown = match remote {
            Ok(remote) => remote.display_url(),
            Err(_) => redact_url(positional),
        };
        return Err(ContextArgError::Remote(shown));
    }
    if positional == "-" {
        return match dockerfile_flag {
            Some("-") => Err(ContextArgError::StdinTwice),
            // `docker build -f x -` ignores -f; say nothing and read stdin like Docker.
            _ => Ok((ContextSpec::Empty, DockerfileSpec::Stdin)),
        };
    }
    let path = Path::new(positional);
    let meta =
        std::fs::metadata(path).map_err(|_| ContextArgError::NotFound(positional.to_string()))?;
    if meta.is_file() {
        if dockerfile_flag.is_some() {
            return Err(ContextArgError::FileContextWithDashF(
                positional.to_string(),
            ));
        }
        let dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        return Ok((
            ContextSpec::Directory(dir.to_path_buf()),
            DockerfileSpec::File(path.to_path_buf()),
        ));
    }
    let dockerfile = match dockerfile_flag {
        Some("-") => DockerfileSpec::Stdin,
        Some(file) => {
            if !Path::new(file).is_file() {
                return Err(ContextArgError::NotFound(file.to_string()));
            }
            DockerfileSpec::File(PathBuf::from(file))
        }
        None => {
            let default = path.join("Dockerfile");
            let lower = path.join("dockerfile");
            if default.is_file() {
                DockerfileSpec::File(default)
            } else if lower.is_file() {
                DockerfileSpec::File(lower)
            } else {
                return Err(ContextArgError::NoDockerfile {
                    dir: positional.trim_end_matches('/').to_string(),
                });
            }
        }
    };
    Ok((ContextSpec::Directory(path.to_path_buf()), dockerfile))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_forms() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().to_str().unwrap();
        assert!(matches!(
            resolve_context_arg(d, None),
            Err(ContextArgError::NoDockerfile { dir }) if dir == d
        ));
        std::fs::write(dir.path().join("Dockerfile"), "FROM scratch").unwrap();
        std::fs::write(dir.path().join("other.Dockerfile"), "FROM scratch").unwrap();
        assert_eq!(
            resolve_context_arg(d, None).unwrap(),
            (
                ContextSpec::Directory(dir.path().into()),
                DockerfileSpec::File(dir.path().join("Dockerfile"))
            )
        );
        let other = dir.path().join("other.Dockerfile");
        assert_eq!(
            resolve_context_arg(other.to_str().unwrap(), None).unwrap(),
            (
                ContextSpec::Directory(dir.path().into()),
                DockerfileSpec::File(other.clone())
            )
        );
        assert_eq!(
            resolve_context_arg(d, Some(other.to_str().unwrap()))
                .unwrap()
                .1,
            DockerfileSpec::File(other.clone())
        );
        assert_eq!(
            resolve_context_arg(d, Some("-")).unwrap().1,
            DockerfileSpec::Stdin
        );
        assert_eq!(
            resolve_context_arg("-", None).unwrap(),
            (ContextSpec::Empty, DockerfileSpec::Stdin)
        );
        assert!(matches!(
            resolve_context_arg("-", Some("-")),
            Err(ContextArgError::StdinTwice)
        ));
        assert!(matches!(
            resolve_context_arg(other.to_str().unwrap(), Some("x")),
            Err(ContextArgError::FileContextWithDashF(_))
        ));
        assert!(matches!(
            resolve_context_arg("/nonexistent/ctx", None),
            Err(ContextArgError::NotFound(_))
        ));
        assert!(matches!(
            resolve_context_arg("https://example.invalid/x.git", None),
            Err(ContextArgError::Remote(_))
        ));
    }

    #[test]
    fn a_remote_dockerfile_stays_inside_the_context() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(dir.path().join("sub/Build.df"), "FROM scratch").unwrap();
        std::fs::write(dir.path().join("dockerfile"), "FROM scratch").unwrap();
        std::os::unix::fs::symlink("/etc/hostname", dir.path().join("escape")).unwrap();
        let url = "https://h/r.git";
        assert_eq!(
            remote_dockerfile(dir.path(), None, url).unwrap(),
            DockerfileSpec::File(dir.path().join("dockerfile"))
        );
        assert_eq!(
            remote_dockerfile(dir.path(), Some("sub/Build.df"), url).unwrap(),
            DockerfileSpec::File(dir.path().join("sub/Build.df"))
        );
        for outside in ["../../../../etc/hostname", "escape"] {
            assert!(matches!(
                remote_dockerfile(dir.path(), Some(outside), url),
                Err(ContextArgError::NoRemoteDockerfile { .. })
            ));
        }
        assert_eq!(
            remote_dockerfile(dir.path(), Some("-"), url).unwrap(),
            DockerfileSpec::Stdin
        );
    }
}
