//! Fetching a git context with the `git` command, the way BuildKit's git source does:
//! `git init`, then a shallow `git fetch --depth 1 origin REF` of just the wanted ref,
//! falling back to a full fetch when the server cannot serve that shallowly (dumb HTTP, or
//! a commit hash the server does not advertise); the commit is checked out detached,
//! submodules are updated recursively, and `.git` is removed unless asked to keep it.
//!
//! git never prompts (no terminal, no askpass, ssh in batch mode) and never runs the
//! `file` or `ext` transports, so a repository's submodules cannot read the host's files
//! or run commands. Every message is redacted of URL credentials.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::RemoteError;
use super::git_url::GitSource;
use super::redact::{redact_text, redact_url};
use crate::context::resolve_in_root;

/// A checked-out repository.
#[derive(Debug, Clone)]
pub struct GitCheckout {
    /// The context directory: the checkout's root, or its subdirectory.
    pub context: PathBuf,
    /// The commit that was checked out (full hash).
    pub commit: String,
}

/// Fetches `source` into `work/checkout` (`work` must exist and be private to the caller).
pub fn fetch_git(source: &GitSource, work: &Path) -> Result<GitCheckout, RemoteError> {
    let checkout = work.join("checkout");
    Git { source, dir: work }.run(&["init", "-q", "checkout"], "initialise a repository")?;
    let git = Git {
        source,
        dir: &checkout,
    };
    git.run(
        &["remote", "add", "origin", &source.remote],
        "add the remote",
    )?;
    let commit = git.fetch_commit()?;
    if let Some(expected) = &source.checksum {
        let expected = expected.to_ascii_lowercase();
        if !commit.starts_with(&expected) {
            return Err(RemoteError::GitChecksum {
                url: redact_url(&source.remote),
                expected,
                actual: commit,
            });
        }
    }
    git.run(
        &[
            "-c",
            "advice.detachedHead=false",
            "checkout",
            "-q",
            "--detach",
            &commit,
        ],
        "check out the commit",
    )?;
    if source.submodules && checkout.join(".gitmodules").is_file() {
        let shallow = [
            "submodule",
            "update",
            "--init",
            "--recursive",
            "--depth",
            "1",
        ];
        if git.run(&shallow, "update submodules").is_err() {
            git.run(
                &["submodule", "update", "--init", "--recursive"],
                "update submodules",
            )?;
        }
    }
    if source.keep_git_dir {
        // The remote may carry credentials: keep a clean URL in the kept configuration.
        let clean = strip_credentials(&source.remote);
        git.run(&["remote", "set-url", "origin", &clean], "reset the remote")?;
    } else {
        remove_git_dirs(&checkout).map_err(|e| RemoteError::Scratch {
            path: checkout.clone(),
            error: e,
        })?;
    }
    let context = match &source.subdir {
        None => checkout,
        Some(subdir) => {
            let dir = resolve_in_root(&checkout, subdir, true).map_err(|e| {
                RemoteError::SubdirNotFound {
                    url: redact_url(&source.remote),
                    subdir: format!("{subdir} ({e})"),
                }
            })?;
            if !dir.is_dir() {
                return Err(RemoteError::SubdirNotFound {
                    url: redact_url(&source.remote),
                    subdir: subdir.clone(),
                });
            }
            dir
        }
    };
    Ok(GitCheckout { context, commit })
}

/// The commit `source` names on the remote, asked with `git ls-remote` (no fetch), so that
/// a cache hit needs no checkout. `None` when the listing cannot say (the ref is not among
/// the advertised names, e.g. an unadvertised commit): fetching will tell.
pub fn resolve_commit(source: &GitSource) -> Result<Option<String>, RemoteError> {
    let wanted = source.reference.as_deref().unwrap_or("HEAD");
    if is_full_hash(wanted) {
        return Ok(Some(wanted.to_ascii_lowercase()));
    }
    let cwd = std::env::temp_dir();
    let git = Git { source, dir: &cwd };
    let listing = git.run(&["ls-remote", "--", &source.remote], "list its refs")?;
    Ok(pick_ref(&listing, wanted))
}

/// Picks the commit of `wanted` from `git ls-remote` output, with git's order for short
/// names (`refs/X`, `refs/tags/X`, `refs/heads/X`, `refs/remotes/X`); a tag's peeled
/// commit (`X^{}`) wins over the tag object.
fn pick_ref(listing: &str, wanted: &str) -> Option<String> {
    let refs: Vec<(&str, &str)> = listing
        .lines()
        .filter_map(|line| line.split_once('\t'))
        .collect();
    let lookup = |name: &str| {
        let peeled = format!("{name}^{{}}");
        refs.iter()
            .find(|(_, r)| *r == peeled)
            .or_else(|| refs.iter().find(|(_, r)| *r == name))
            .map(|(sha, _)| sha.to_string())
    };
    let candidates = if wanted == "HEAD" || wanted.starts_with("refs/") {
        vec![wanted.to_string()]
    } else {
        vec![
            format!("refs/{wanted}"),
            format!("refs/tags/{wanted}"),
            format!("refs/heads/{wanted}"),
            format!("refs/remotes/{wanted}"),
        ]
    };
    candidates.iter().find_map(|c| lookup(c))
}

fn is_full_hash(text: &str) -> bool {
    text.len() == 40 && text.chars().all(|c| c.is_ascii_hexdigit())
}

struct Git<'a> {
    source: &'a GitSource,
    dir: &'a Path,
}

/// How one git command ended.
struct Failure {
    stderr: String,
}

impl Git<'_> {
    /// Fetches the wanted ref (shallow first) and returns the commit it names.
    fn fetch_commit(&self) -> Result<String, RemoteError> {
        let wanted = self.source.reference.as_deref().unwrap_or("HEAD");
        let is_hash = is_full_hash(wanted);
        let shallow = self.attempt(&["fetch", "-q", "--no-tags", "--depth=1", "origin", wanted])?;
        if shallow.is_ok() {
            return self.rev_parse("FETCH_HEAD^{commit}", wanted);
        }
        if is_hash {
            // The server would not send an unadvertised commit: fetch every branch and tag,
            // then look for it.
            let all = [
                "fetch",
                "-q",
                "origin",
                "+refs/heads/*:refs/remotes/origin/*",
                "+refs/tags/*:refs/tags/*",
            ];
            self.attempt(&all)?
                .map_err(|f| self.fetch_error(wanted, f))?;
            return self.rev_parse(&format!("{wanted}^{{commit}}"), wanted);
        }
        self.attempt(&["fetch", "-q", "--no-tags", "origin", wanted])?
            .map_err(|f| self.fetch_error(wanted, f))?;
        self.rev_parse("FETCH_HEAD^{commit}", wanted)
    }

    fn rev_parse(&self, rev: &str, wanted: &str) -> Result<String, RemoteError> {
        match self.attempt(&["rev-parse", "--verify", "-q", rev])? {
            Ok(out) => Ok(out.trim().to_string()),
            Err(_) => Err(RemoteError::RefNotFound {
                url: redact_url(&self.source.remote),
                reference: wanted.to_string(),
            }),
        }
    }

    fn fetch_error(&self, wanted: &str, failure: Failure) -> RemoteError {
        let text = failure.stderr.to_ascii_lowercase();
        if text.contains("couldn't find remote ref")
            || text.contains("not our ref")
            || text.contains("unadvertised object")
        {
            return RemoteError::RefNotFound {
                url: redact_url(&self.source.remote),
                reference: wanted.to_string(),
            };
        }
        let action = match &self.source.reference {
            Some(reference) => format!("fetch {reference}"),
            None => "fetch the default branch".to_string(),
        };
        RemoteError::Git {
            url: redact_url(&self.source.remote),
            action,
            message: failure.stderr,
        }
    }

    /// Runs git and requires success; `action` says what failed.
    fn run(&self, args: &[&str], action: &str) -> Result<String, RemoteError> {
        self.attempt(args)?.map_err(|f| RemoteError::Git {
            url: redact_url(&self.source.remote),
            action: action.to_string(),
            message: f.stderr,
        })
    }

    /// Runs git in `self.dir`: `Ok(Ok(stdout))` when it succeeded, `Ok(Err(_))` when it ran
    /// and failed (the caller decides what that means), `Err` when it could not run.
    fn attempt(&self, args: &[&str]) -> Result<Result<String, Failure>, RemoteError> {
        let mut command = Command::new("git");
        command
            .current_dir(self.dir)
            .args([
                "-c",
                "protocol.file.allow=never",
                "-c",
                "protocol.ext.allow=never",
                "-c",
                "core.hooksPath=/dev/null",
            ])
            .args(args)
            .env("GIT_TERMINAL_PROMPT", "0")
            .env("GIT_ASKPASS", "true")
            .env("LC_ALL", "C")
            .stdin(Stdio::null());
        if std::env::var_os("GIT_SSH_COMMAND").is_none() {
            command.env("GIT_SSH_COMMAND", "ssh -o BatchMode=yes");
        }
        let output = match command.output() {
            Ok(output) => output,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(RemoteError::GitMissing);
            }
            Err(e) => {
                return Err(RemoteError::Git {
                    url: redact_url(&self.source.remote),
                    action: format!("run git {}", args.first().copied().unwrap_or_default()),
                    message: e.to_string(),
                });
            }
        };
        if output.status.success() {
            Ok(Ok(String::from_utf8_lossy(&output.stdout).into_owned()))
        } else {
            let stderr = String::from_utf8_lossy(&output.stderr);
            Ok(Err(Failure {
                stderr: redact_text(stderr.trim()),
            }))
        }
    }
}

/// The URL without its user information (for a `.git/config` that stays in an image).
fn strip_credentials(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}://{}", &rest[at + 1..]),
        None => url.to_string(),
    }
}

/// Removes every `.git` entry (the repository's directory, and the files submodules use to
/// point into it). git never tracks a path named `.git`, so nothing of the tree is lost.
fn remove_git_dirs(dir: &Path) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        let path = entry.path();
        if entry.file_name() == ".git" {
            if kind.is_dir() {
                std::fs::remove_dir_all(&path)?;
            } else {
                std::fs::remove_file(&path)?;
            }
        } else if kind.is_dir() {
            remove_git_dirs(&path)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refs_are_picked_like_git_does() {
        let listing = "aaa\tHEAD\nbbb\trefs/heads/main\nccc\trefs/tags/v1\nddd\trefs/tags/v1^{}\neee\trefs/heads/v1\nfff\trefs/tags/lw\n";
        assert_eq!(pick_ref(listing, "HEAD").as_deref(), Some("aaa"));
        assert_eq!(pick_ref(listing, "main").as_deref(), Some("bbb"));
        // A tag wins over a branch of the same name, and is peeled to its commit.
        assert_eq!(pick_ref(listing, "v1").as_deref(), Some("ddd"));
        assert_eq!(pick_ref(listing, "refs/heads/v1").as_deref(), Some("eee"));
        assert_eq!(pick_ref(listing, "lw").as_deref(), Some("fff"));
        assert_eq!(pick_ref(listing, "nope"), None);
    }

    #[test]
    fn credentials_are_stripped() {
        assert_eq!(strip_credentials("https://u:p@h/r.git"), "https://h/r.git");
        assert_eq!(strip_credentials("git@h:r.git"), "git@h:r.git");
        assert_eq!(strip_credentials("git://h/r"), "git://h/r");
    }
}
