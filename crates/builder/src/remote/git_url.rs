//! Which context arguments are git repositories, and what the fragment and query say,
//! following BuildKit's Dockerfile frontend:
//!
//! - `git://…`, `ssh://…`, SCP-like `user@host:path`, and `http(s)://…` whose path ends
//!   in `.git` (another http(s) URL is a tarball or a Dockerfile, not a repository);
//!   `github.com/…` is read as `https://github.com/…` (deprecated, still accepted).
//! - The fragment `#ref:subdir`: a branch, a tag, a full commit hash or a ref name, then a
//!   directory inside the repository; either part may be empty (`#:dir`). The CSV form
//!   `##ref=…,commit=…,subdir=…` is accepted too.
//! - The query (BuildKit v0.24, Dockerfile v1.18): `ref`, `tag` (`refs/tags/…`), `branch`
//!   (`refs/heads/…`), `subdir`, `checksum` (alias `commit`: the commit the ref must
//!   resolve to), `keep-git-dir` and `submodules` (booleans, bare means true). Unknown keys
//!   and conflicts with the fragment are errors.

use super::redact::redact_url;

/// A git repository to fetch, and which part of it is the context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitSource {
    /// The URL handed to git: without our fragment and query.
    pub remote: String,
    /// A branch, tag, commit hash or ref name; the remote's default branch when `None`.
    pub reference: Option<String>,
    /// A directory inside the repository that is the context; the root when `None`.
    pub subdir: Option<String>,
    /// The commit (or a prefix of its hash) the reference must resolve to.
    pub checksum: Option<String>,
    /// Keep the `.git` directory in the context (BuildKit drops it by default).
    pub keep_git_dir: bool,
    /// Check out submodules (BuildKit does by default).
    pub submodules: bool,
}

/// A git URL that cannot be used; the URL is shown redacted.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("invalid git URL {url}: {reason}")]
pub struct GitUrlError {
    pub url: String,
    pub reason: String,
}

/// Is `text` a git repository URL (rather than a local path or another URL)?
pub fn is_git_url(text: &str) -> bool {
    if text.starts_with("github.com/") || is_scp_like(text) {
        return true;
    }
    let Some((scheme, rest)) = text.split_once("://") else {
        return false;
    };
    match scheme.to_ascii_lowercase().as_str() {
        "git" | "ssh" => true,
        "http" | "https" => {
            let path_end = rest.find(['?', '#']).unwrap_or(rest.len());
            rest[..path_end].ends_with(".git")
        }
        _ => false,
    }
}

/// `user@host:path` with no scheme (git's SCP-like syntax).
fn is_scp_like(text: &str) -> bool {
    if text.contains("://") {
        return false;
    }
    let Some((user, after)) = text.split_once('@') else {
        return false;
    };
    let Some((host, _)) = after.split_once(':') else {
        return false;
    };
    !user.is_empty()
        && user
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
        && !host.is_empty()
        && !host.contains('/')
}

/// Parses a git URL (see the module docs for the accepted forms).
pub fn parse_git_url(text: &str) -> Result<GitSource, GitUrlError> {
    let fail = |reason: String| GitUrlError {
        url: redact_url(text),
        reason,
    };
    let (without_fragment, fragment) = match text.split_once('#') {
        Some((base, fragment)) => (base, Some(fragment)),
        None => (text, None),
    };
    // SCP-like URLs have no query: a '?' there is part of the path.
    let (base, query) = match without_fragment.split_once('?') {
        Some((base, query)) if !is_scp_like(text) => (base, Some(query)),
        _ => (without_fragment, None),
    };
    let remote = match base.strip_prefix("github.com/") {
        Some(path) => format!("https://github.com/{path}"),
        None => base.to_string(),
    };
    let mut source = GitSource {
        remote,
        reference: None,
        subdir: None,
        checksum: None,
        keep_git_dir: false,
        submodules: true,
    };
    if let Some(fragment) = fragment {
        if let Some(csv) = fragment.strip_prefix('#') {
            for field in csv.split(',').filter(|f| !f.is_empty()) {
                let (key, value) = field
                    .split_once('=')
                    .ok_or_else(|| fail(format!("fragment field {field:?} must be key=value")))?;
                match key.to_ascii_lowercase().as_str() {
                    "ref" => source.reference = non_empty(value),
                    "commit" => source.checksum = non_empty(value),
                    "subdir" => source.subdir = non_empty(value),
                    other => {
                        return Err(fail(format!(
                            "unexpected fragment key {other:?} (supported: ref, commit, subdir)"
                        )));
                    }
                }
            }
            if source.reference.is_none() {
                source.reference = source.checksum.clone();
            }
        } else {
            let (reference, subdir) = fragment.split_once(':').unwrap_or((fragment, ""));
            source.reference = non_empty(reference);
            source.subdir = non_empty(subdir);
        }
    }
    if let Some(query) = query {
        apply_query(&mut source, query).map_err(fail)?;
    }
    source.subdir = source
        .subdir
        .as_deref()
        .map(|s| s.trim_start_matches('/'))
        .and_then(non_empty);
    Ok(source)
}

fn non_empty(text: &str) -> Option<String> {
    (!text.is_empty()).then(|| text.to_string())
}

/// Applies `ref=…&tag=…&branch=…&subdir=…&checksum=…&keep-git-dir&submodules=…`.
fn apply_query(source: &mut GitSource, query: &str) -> Result<(), String> {
    let mut seen = std::collections::BTreeSet::new();
    let (mut tag, mut branch) = (None, None);
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = match pair.split_once('=') {
            Some((k, v)) => (percent_decode(k)?, Some(percent_decode(v)?)),
            None => (percent_decode(pair)?, None),
        };
        if !seen.insert(key.clone()) {
            return Err(format!("query {key:?} has multiple values"));
        }
        let value = value.filter(|v| !v.is_empty());
        let required = |value: Option<String>| value.ok_or(format!("query {key:?} has no value"));
        let boolean = |value: Option<String>| match value.as_deref() {
            None | Some("1" | "t" | "T" | "true" | "TRUE" | "True") => Ok(true),
            Some("0" | "f" | "F" | "false" | "FALSE" | "False") => Ok(false),
            Some(other) => Err(format!("invalid {key} value: {other:?}")),
        };
        match key.as_str() {
            "ref" => set_once(&mut source.reference, required(value)?, "ref")?,
            "tag" => tag = Some(required(value)?),
            "branch" => branch = Some(required(value)?),
            "subdir" => set_once(&mut source.subdir, required(value)?, "subdir")?,
            "checksum" | "commit" => source.checksum = Some(required(value)?),
            "keep-git-dir" => source.keep_git_dir = boolean(value)?,
            "submodules" => source.submodules = boolean(value)?,
            other => {
                return Err(format!(
                    "unexpected query {other:?} (supported: ref, tag, branch, subdir, checksum, commit, keep-git-dir, submodules)"
                ));
            }
        }
    }
    if tag.is_some() && branch.is_some() {
        return Err("branch conflicts with tag".into());
    }
    if let Some(tag) = tag {
        set_once(&mut source.reference, with_prefix("refs/tags/", tag), "ref")?;
    }
    if let Some(branch) = branch {
        set_once(
            &mut source.reference,
            with_prefix("refs/heads/", branch),
            "ref",
        )?;
    }
    Ok(())
}

fn with_prefix(prefix: &str, name: String) -> String {
    if name.starts_with(prefix) {
        name
    } else {
        format!("{prefix}{name}")
    }
}

/// Sets a field the fragment may already have set; two different values conflict.
fn set_once(slot: &mut Option<String>, value: String, what: &str) -> Result<(), String> {
    match slot {
        Some(existing) if *existing != value => {
            Err(format!("{what} conflicts: {existing:?} vs {value:?}"))
        }
        _ => {
            *slot = Some(value);
            Ok(())
        }
    }
}

/// `%XX` escapes and `+` (a blank in query strings).
fn percent_decode(text: &str) -> Result<String, String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = text
                    .get(i + 1..i + 3)
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| format!("invalid escape in query {text:?}"))?;
                out.push(hex);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).map_err(|_| format!("query {text:?} is not UTF-8"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> GitSource {
        parse_git_url(text).unwrap()
    }

    #[test]
    fn which_arguments_are_git() {
        for yes in [
            "https://github.com/o/r.git",
            "http://127.0.0.1:9/r.git#main",
            "https://h/r.git?branch=x",
            "git://127.0.0.1:9418/r.git",
            "ssh://git@h/r",
            "git@github.com:o/r.git",
            "github.com/o/r",
        ] {
            assert!(is_git_url(yes), "{yes}");
        }
        for no in [
            "https://h/ctx.tar.gz",
            "https://h/Dockerfile",
            "http://h/r.git/file",
            ".",
            "dir/with@sign:x/y",
            "docker-image://alpine",
            "/abs/path",
        ] {
            assert!(!is_git_url(no), "{no}");
        }
    }

    #[test]
    fn fragments() {
        let s = parsed("https://h/r.git#v1.0:sub/dir");
        assert_eq!(s.remote, "https://h/r.git");
        assert_eq!(s.reference.as_deref(), Some("v1.0"));
        assert_eq!(s.subdir.as_deref(), Some("sub/dir"));
        assert!(s.submodules && !s.keep_git_dir);
        let s = parsed("git@h:o/r.git#:/docker");
        assert_eq!(
            (s.remote.as_str(), s.reference, s.subdir.as_deref()),
            ("git@h:o/r.git", None, Some("docker"))
        );
        let s = parsed("https://h/r.git#refs/pull/1/head");
        assert_eq!(s.reference.as_deref(), Some("refs/pull/1/head"));
        assert_eq!(s.subdir, None);
        let s = parsed("https://h/r.git##ref=main,subdir=x");
        assert_eq!(
            (s.reference.as_deref(), s.subdir.as_deref()),
            (Some("main"), Some("x"))
        );
        let s = parsed("https://h/r.git##commit=abc123");
        assert_eq!(s.reference.as_deref(), Some("abc123"));
        assert_eq!(s.checksum.as_deref(), Some("abc123"));
        assert_eq!(parsed("github.com/o/r").remote, "https://github.com/o/r");
    }

    #[test]
    fn queries() {
        let s = parsed("https://h/r.git?branch=dev&subdir=a%2Fb&keep-git-dir&submodules=false");
        assert_eq!(s.remote, "https://h/r.git");
        assert_eq!(s.reference.as_deref(), Some("refs/heads/dev"));
        assert_eq!(s.subdir.as_deref(), Some("a/b"));
        assert!(s.keep_git_dir && !s.submodules);
        let s = parsed("https://h/r.git?tag=v1&checksum=deadbeef");
        assert_eq!(s.reference.as_deref(), Some("refs/tags/v1"));
        assert_eq!(s.checksum.as_deref(), Some("deadbeef"));
        // The same value twice (fragment and query) is fine.
        assert_eq!(
            parsed("https://h/r.git?ref=main#main").reference.as_deref(),
            Some("main")
        );
    }

    #[test]
    fn bad_urls_say_why_without_secrets() {
        let cases = [
            ("https://u:pw@h/r.git?color=red", "unexpected query"),
            (
                "https://u:pw@h/r.git?tag=a&branch=b",
                "branch conflicts with tag",
            ),
            ("https://u:pw@h/r.git?ref=a#b", "ref conflicts"),
            ("https://u:pw@h/r.git?subdir=", "has no value"),
            (
                "https://u:pw@h/r.git?keep-git-dir=maybe",
                "invalid keep-git-dir",
            ),
            ("https://u:pw@h/r.git##x=1", "unexpected fragment key"),
            ("https://u:pw@h/r.git?ref=%zz", "invalid escape"),
        ];
        for (url, reason) in cases {
            let e = parse_git_url(url).unwrap_err().to_string();
            assert!(e.contains(reason), "{url}: {e}");
            assert!(!e.contains("pw"), "{url}: {e}");
        }
    }
}
