//! `--ssh default|ID[=SOCKET|KEY[,KEY...]]`: SSH agent sockets or keys that
//! `RUN --mount=type=ssh` may use.

use std::path::PathBuf;

/// One `--ssh` flag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SshSpec {
    pub id: String,
    /// Agent sockets or key files; empty means `$SSH_AUTH_SOCK`.
    pub paths: Vec<PathBuf>,
}

/// An `--ssh` value that cannot be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SshError {
    #[error("--ssh {0:?}: missing id (use --ssh default or --ssh ID=PATH)")]
    MissingId(String),
    #[error(
        "--ssh {0}: no path given and SSH_AUTH_SOCK is not set (start an ssh-agent or give ID=PATH)"
    )]
    NoAgent(String),
}

/// Parses one `--ssh` value; `auth_sock` is the caller's `$SSH_AUTH_SOCK`.
pub fn parse_ssh(text: &str, auth_sock: Option<&str>) -> Result<SshSpec, SshError> {
    let (id, paths) = match text.split_once('=') {
        Some((id, rest)) => (
            id.trim(),
            rest.split(',')
                .filter(|p| !p.is_empty())
                .map(PathBuf::from)
                .collect(),
        ),
        None => (text.trim(), Vec::new()),
    };
    if id.is_empty() {
        return Err(SshError::MissingId(text.to_string()));
    }
    let paths = if paths.is_empty() {
        match auth_sock.filter(|s| !s.is_empty()) {
            Some(sock) => vec![PathBuf::from(sock)],
            None => return Err(SshError::NoAgent(id.to_string())),
        }
    } else {
        paths
    };
    Ok(SshSpec {
        id: id.to_string(),
        paths,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_uses_the_agent() {
        assert_eq!(
            parse_ssh("default", Some("/run/agent.sock")).unwrap(),
            SshSpec {
                id: "default".into(),
                paths: vec!["/run/agent.sock".into()]
            }
        );
        assert_eq!(
            parse_ssh("default", None),
            Err(SshError::NoAgent("default".into()))
        );
        assert_eq!(parse_ssh("gh=/k1,/k2", None).unwrap().paths.len(), 2);
        assert!(parse_ssh("=x", None).is_err());
    }
}
