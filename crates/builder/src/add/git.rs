//! `ADD <git URL> <dest>`: BuildKit's ADD of a git repository. The repository is fetched
//! like a git build context ([`crate::remote`]): the ref and subdirectory come from the
//! URL's fragment or query, `--keep-git-dir` keeps `.git`, and `--checksum` names the
//! commit the ref must resolve to. The step's cache key uses the commit, as BuildKit does,
//! asked with `git ls-remote` first so that a cache hit checks nothing out.

use std::path::{Path, PathBuf};

use crate::remote::{
    FetchedContext, RemoteContext, RemoteError, parse_git_url, redact_url, resolve_commit,
};

/// Is this ADD source a git repository? The bare `github.com/…` form is a local path for
/// ADD (BuildKit accepts it only as a build context).
pub fn is_git_source(source: &str) -> bool {
    crate::remote::is_git_url(source) && !source.starts_with("github.com/")
}

/// A repository checked out for ADD; its files are removed when this is dropped.
#[derive(Debug)]
pub struct FetchedRepository {
    /// The directory whose contents ADD copies (the checkout, or its subdirectory).
    pub directory: PathBuf,
    /// The commit checked out.
    pub commit: String,
    /// Holds the files: keep it until they are copied.
    pub scratch: tempfile::TempDir,
}

/// The commit ADD would copy, from `git ls-remote` (no checkout), checked against
/// `--checksum`; `None` when only a fetch can tell.
pub fn resolve_repository(
    url: &str,
    checksum: Option<&str>,
) -> Result<Option<String>, RemoteError> {
    let source = parse_git_url(url)?;
    let Some(commit) = resolve_commit(&source)? else {
        return Ok(None);
    };
    let expected = checksum.or(source.checksum.as_deref());
    if let Some(expected) = expected.map(str::to_ascii_lowercase)
        && !commit.starts_with(&expected)
    {
        return Err(RemoteError::GitChecksum {
            url: redact_url(&source.remote),
            expected,
            actual: commit,
        });
    }
    Ok(Some(commit))
}

/// Fetches `url` into the scratch area of the store at `store_root`.
pub fn fetch_repository(
    url: &str,
    keep_git_dir: bool,
    checksum: Option<&str>,
    store_root: &Path,
) -> Result<FetchedRepository, RemoteError> {
    let mut source = parse_git_url(url)?;
    source.keep_git_dir |= keep_git_dir;
    if let Some(checksum) = checksum {
        source.checksum = Some(checksum.to_string());
    }
    let fetched = FetchedContext::fetch(&RemoteContext::Git(source), store_root, false)?;
    let (Some(directory), Some(commit)) = (fetched.directory.clone(), fetched.commit.clone())
    else {
        return Err(RemoteError::NotAContext {
            url: redact_url(url),
            reason: "the git checkout produced no directory".into(),
        });
    };
    Ok(FetchedRepository {
        directory,
        commit,
        scratch: fetched.into_scratch(),
    })
}
