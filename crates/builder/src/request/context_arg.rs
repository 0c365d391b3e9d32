//! Where the build context and the Dockerfile come from, given `docker build`'s positional
//! argument and `-f`:
//!
//! - `rbuild build DIR` — DIR is the context, `DIR/Dockerfile` the Dockerfile (or
//!   `DIR/dockerfile`, as Docker also accepts).
//! - `rbuild build -f FILE DIR` — FILE (relative to the current directory) is the Dockerfile.
//! - `rbuild build -` — the Dockerfile comes from standard input; there is no context.
//! - `rbuild build -f - DIR` — the Dockerfile from standard input, DIR the context.
//! - `rbuild build path/to/Dockerfile` — the file is the Dockerfile and its folder the context.

use std::path::{Path, PathBuf};

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
}

/// The positional argument and `-f` do not describe a usable build.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
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
        "remote contexts ({0}) are not supported: clone or download it and give the local directory"
    )]
    Remote(String),
}

/// Resolves the positional context argument and the `-f` flag.
pub fn resolve_context_arg(
    positional: &str,
    dockerfile_flag: Option<&str>,
) -> Result<(ContextSpec, DockerfileSpec), ContextArgError> {
    if positional.contains("://") || positional.starts_with("git@") {
        return Err(ContextArgError::Remote(positional.to_string()));
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
        assert_eq!(
            resolve_context_arg(d, None),
            Err(ContextArgError::NoDockerfile { dir: d.to_string() })
        );
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
        assert_eq!(
            resolve_context_arg("-", Some("-")),
            Err(ContextArgError::StdinTwice)
        );
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
}
