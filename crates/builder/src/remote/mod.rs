//! Remote build contexts, as `docker build` (BuildKit) takes them: a git repository
//! (`https://host/repo.git#ref:subdir`, `git://…`, `ssh://…`, `git@host:repo.git`, with
//! BuildKit's fragment and query forms) or an http(s) URL of a tarball or a Dockerfile.
//!
//! [`FetchedContext::fetch`] puts the context in a temporary directory under the store's
//! `run/` scratch area, removed when the [`FetchedContext`] is dropped; the build then reads
//! it like a local directory. Nothing fetched can name a file outside that directory: the
//! subdirectory is resolved inside the checkout ([`crate::context::resolve_in_root`]) and
//! tarballs are unpacked with the snapshotter's safe extraction. Messages never show the
//! credentials a URL may carry ([`redact_url`]).

mod git;
mod git_url;
mod redact;
mod url_context;

use std::path::{Path, PathBuf};

pub use git::{GitCheckout, fetch_git, resolve_commit};
pub use git_url::{GitSource, GitUrlError, is_git_url, parse_git_url};
pub use redact::{redact_text, redact_url};
pub use url_context::{UrlContent, fetch_url_context};

use crate::add::DownloadError;

/// A context that is not on the local disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RemoteContext {
    Git(GitSource),
    /// An http(s) URL of a tarball or a Dockerfile.
    Url(String),
}

impl RemoteContext {
    /// Recognises a remote context argument: `None` for anything else (a local path, `-`).
    pub fn parse(text: &str) -> Option<Result<RemoteContext, GitUrlError>> {
        if is_git_url(text) {
            return Some(parse_git_url(text).map(RemoteContext::Git));
        }
        let lower = text.to_ascii_lowercase();
        (lower.starts_with("http://") || lower.starts_with("https://"))
            .then(|| Ok(RemoteContext::Url(text.to_string())))
    }

    /// The URL for messages, without credentials.
    pub fn display_url(&self) -> String {
        match self {
            RemoteContext::Git(source) => redact_url(&source.remote),
            RemoteContext::Url(url) => redact_url(url),
        }
    }
}

/// A remote context that could not be fetched. URLs in it are redacted.
#[derive(Debug, thiserror::Error)]
pub enum RemoteError {
    #[error(transparent)]
    GitUrl(#[from] GitUrlError),
    #[error(
        "git contexts need the git command, which is not installed (install it, e.g. apt-get install git)"
    )]
    GitMissing,
    #[error(
        "git repository {url}: ref {reference:?} not found (give a branch, a tag, or a full 40-character commit hash)"
    )]
    RefNotFound { url: String, reference: String },
    #[error("git repository {url}: cannot {action}: {message}")]
    Git {
        url: String,
        action: String,
        message: String,
    },
    #[error(
        "git repository {url}: the ref resolved to commit {actual}, not the expected {expected}"
    )]
    GitChecksum {
        url: String,
        expected: String,
        actual: String,
    },
    #[error("git repository {url}: subdirectory {subdir} is not a directory in the repository")]
    SubdirNotFound { url: String, subdir: String },
    #[error(transparent)]
    Download(#[from] DownloadError),
    #[error("cannot unpack the context from {url}: {message}")]
    Extract { url: String, message: String },
    #[error("{url} cannot be a build context: {reason}")]
    NotAContext { url: String, reason: String },
    #[error("cannot prepare the remote context's scratch directory {path}: {error}")]
    Scratch {
        path: PathBuf,
        error: std::io::Error,
    },
}

/// A remote context on local disk, for as long as this value lives.
#[derive(Debug)]
pub struct FetchedContext {
    /// The context directory; `None` when the URL was a Dockerfile (an empty context).
    pub directory: Option<PathBuf>,
    /// The Dockerfile's text when the URL was the Dockerfile itself.
    pub dockerfile_text: Option<String>,
    /// The commit checked out, for a git context.
    pub commit: Option<String>,
    /// Where everything lives; removed on drop.
    scratch: tempfile::TempDir,
}

impl FetchedContext {
    /// Fetches `remote` into a new directory under `store_root/run`. For a URL that is
    /// neither a git repository nor an archive, `text_is_dockerfile` says whether it is the
    /// Dockerfile (the main context, like docker) or a one-file directory (a named context).
    pub fn fetch(
        remote: &RemoteContext,
        store_root: &Path,
        text_is_dockerfile: bool,
    ) -> Result<FetchedContext, RemoteError> {
        let run = store_root.join("run");
        std::fs::create_dir_all(&run).map_err(|error| RemoteError::Scratch {
            path: run.clone(),
            error,
        })?;
        let scratch = tempfile::Builder::new()
            .prefix("remote-context-")
            .tempdir_in(&run)
            .map_err(|error| RemoteError::Scratch {
                path: run.clone(),
                error,
            })?;
        let mut fetched = FetchedContext {
            directory: None,
            dockerfile_text: None,
            commit: None,
            scratch,
        };
        match remote {
            RemoteContext::Git(source) => {
                let checkout = fetch_git(source, fetched.scratch.path())?;
                fetched.directory = Some(checkout.context);
                fetched.commit = Some(checkout.commit);
            }
            RemoteContext::Url(url) => {
                match fetch_url_context(url, fetched.scratch.path(), text_is_dockerfile)? {
                    UrlContent::Context(dir) | UrlContent::File(dir) => {
                        fetched.directory = Some(dir)
                    }
                    UrlContent::Dockerfile(text) => fetched.dockerfile_text = Some(text),
                }
            }
        }
        Ok(fetched)
    }

    /// The scratch directory holding the fetched files.
    pub fn scratch_dir(&self) -> &Path {
        self.scratch.path()
    }

    /// The scratch directory itself, for a caller that keeps it with other temporary
    /// directories (the files go when it is dropped).
    pub fn into_scratch(self) -> tempfile::TempDir {
        self.scratch
    }
}
