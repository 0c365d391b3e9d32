//! `.dockerignore` files: reading them and deciding whether a context path is excluded.
//!
//! The decision follows Docker's rules (moby/patternmatcher `MatchesOrParentMatches`):
//! patterns are tried in file order, later ones win, `!pattern` re-includes, and a pattern
//! that matches any parent directory of a path also matches the path. An excluded directory
//! is still walked when some exception might re-include something below it.

use std::path::{Path, PathBuf};

use super::pattern::{Pattern, PatternError};

/// A `.dockerignore` file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum IgnoreFileError {
    #[error("{file}:{line}: {source}")]
    Pattern {
        file: String,
        line: usize,
        #[source]
        source: PatternError,
    },
    #[error("cannot read {file}: {source}")]
    Read {
        file: String,
        #[source]
        source: std::io::Error,
    },
}

/// The compiled exclusion rules of a build context.
#[derive(Debug, Clone, Default)]
pub struct IgnoreRules {
    patterns: Vec<Pattern>,
    has_exceptions: bool,
}

impl IgnoreRules {
    /// Rules that exclude nothing.
    pub fn none() -> IgnoreRules {
        IgnoreRules::default()
    }

    /// Parses the text of a `.dockerignore` file; `file` names it in errors.
    pub fn parse(text: &str, file: &str) -> Result<IgnoreRules, IgnoreFileError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut patterns = Vec::new();
        for (index, raw) in text.lines().enumerate() {
            // Comments are recognised before trimming, like Docker: ` # x` is a pattern.
            if raw.starts_with('#') {
                continue;
            }
            let line = raw.trim();
            if line.is_empty() {
                continue;
            }
            let pattern = Pattern::new(line).map_err(|source| IgnoreFileError::Pattern {
                file: file.to_string(),
                line: index + 1,
                source,
            })?;
            patterns.push(pattern);
        }
        Ok(IgnoreRules::from_patterns(patterns))
    }

    /// Rules from patterns given one by one (e.g. `COPY --exclude`).
    pub fn from_lines<'a>(
        lines: impl IntoIterator<Item = &'a str>,
    ) -> Result<IgnoreRules, PatternError> {
        let patterns = lines
            .into_iter()
            .filter(|l| !l.trim().is_empty())
            .map(Pattern::new)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(IgnoreRules::from_patterns(patterns))
    }

    fn from_patterns(patterns: Vec<Pattern>) -> IgnoreRules {
        let has_exceptions = patterns.iter().any(Pattern::is_exclusion);
        IgnoreRules {
            patterns,
            has_exceptions,
        }
    }

    /// Reads and parses a `.dockerignore` file.
    pub fn read(path: &Path) -> Result<IgnoreRules, IgnoreFileError> {
        let text = std::fs::read(path).map_err(|source| IgnoreFileError::Read {
            file: path.display().to_string(),
            source,
        })?;
        IgnoreRules::parse(&String::from_utf8_lossy(&text), &path.display().to_string())
    }

    /// True when there are no patterns at all.
    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// The patterns in file order.
    pub fn patterns(&self) -> &[Pattern] {
        &self.patterns
    }

    /// Is this context-relative, slash-separated path excluded from the context?
    pub fn is_excluded(&self, path: &str) -> bool {
        let path = path.trim_start_matches("./").trim_start_matches('/');
        let parents: Vec<usize> = path
            .match_indices('/')
            .map(|(i, _)| i)
            .filter(|&i| i > 0)
            .collect();
        let mut excluded = false;
        for pattern in &self.patterns {
            // An include pattern cannot change an already excluded path, an exception
            // cannot change a path that is not excluded.
            if pattern.is_exclusion() != excluded {
                continue;
            }
            let hit = pattern.matches(path) || parents.iter().any(|&i| pattern.matches(&path[..i]));
            if hit {
                excluded = !pattern.is_exclusion();
            }
        }
        excluded
    }

    /// May a walk skip this excluded directory without looking inside? Only when no
    /// exception could re-include something below it.
    pub fn can_skip_excluded_dir(&self, dir: &str) -> bool {
        if !self.has_exceptions {
            return true;
        }
        let dir_parts: Vec<&str> = dir.split('/').filter(|p| !p.is_empty()).collect();
        !self
            .patterns
            .iter()
            .filter(|p| p.is_exclusion())
            .any(|p| could_match_below(p.text(), &dir_parts))
    }
}

/// Could a pattern match some path below `dir`? Compares the pattern's leading elements
/// with the directory's; any wildcard element (or `**`) counts as a possible match.
fn could_match_below(pattern: &str, dir_parts: &[&str]) -> bool {
    let pattern_parts: Vec<&str> = pattern.split('/').collect();
    for (i, dir_part) in dir_parts.iter().enumerate() {
        let Some(pp) = pattern_parts.get(i) else {
            // The pattern is shorter than the directory path: it names a parent, which
            // the exception re-includes with everything below.
            return true;
        };
        if pp.contains("**") {
            return true;
        }
        let literal = !pp.contains(['*', '?', '[', '\\']);
        if literal && pp != dir_part {
            return false;
        }
        if !literal && !Pattern::new(pp).is_ok_and(|single| single.matches(dir_part)) {
            return false;
        }
    }
    true
}

/// Finds the ignore file for a build: `<Dockerfile name>.dockerignore` next to the
/// Dockerfile wins over `.dockerignore` at the context root, as in BuildKit.
pub fn find_ignore_file(context: &Path, dockerfile: Option<&Path>) -> Option<PathBuf> {
    if let Some(dockerfile) = dockerfile
        && let Some(name) = dockerfile.file_name()
    {
        let mut specific = name.to_os_string();
        specific.push(".dockerignore");
        let candidate = dockerfile.with_file_name(specific);
        if candidate.is_file() {
            return Some(candidate);
        }
    }
    let default = context.join(".dockerignore");
    default.is_file().then_some(default)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(text: &str) -> IgnoreRules {
        IgnoreRules::parse(text, ".dockerignore").unwrap()
    }

    #[test]
    fn parent_directory_match_excludes_children() {
        let r = rules("node_modules\n");
        assert!(r.is_excluded("node_modules"));
        assert!(r.is_excluded("node_modules/a/b.js"));
        assert!(!r.is_excluded("src/node_modules"));
    }

    #[test]
    fn exceptions_reinclude_and_later_lines_win() {
        let r = rules("*.md\n!README.md\n");
        assert!(r.is_excluded("CHANGES.md"));
        assert!(!r.is_excluded("README.md"));
        let r = rules("!README.md\n*.md\n");
        assert!(r.is_excluded("README.md"));
    }

    #[test]
    fn exception_inside_excluded_directory() {
        let r = rules("docs\n!docs/keep.txt\n");
        assert!(r.is_excluded("docs/other.txt"));
        assert!(!r.is_excluded("docs/keep.txt"));
        assert!(r.is_excluded("docs"));
        assert!(!r.can_skip_excluded_dir("docs"));
        assert!(r.can_skip_excluded_dir("other"));
    }

    #[test]
    fn comments_blank_lines_bom_and_leading_slash() {
        let r = rules("\u{feff}# comment\n\n   \n/build\n  tmp  \n");
        assert_eq!(r.patterns().len(), 2);
        assert!(r.is_excluded("build/out"));
        assert!(r.is_excluded("tmp"));
        assert!(!r.is_excluded("# comment"));
    }

    #[test]
    fn everything_but_one_directory() {
        let r = rules("*\n!src\n");
        assert!(r.is_excluded("Dockerfile"));
        assert!(!r.is_excluded("src"));
        assert!(!r.is_excluded("src/main.rs"));
    }

    #[test]
    fn bad_line_names_file_and_line() {
        let err = IgnoreRules::parse("a\n!\n", "ctx/.dockerignore").unwrap_err();
        assert_eq!(
            err.to_string(),
            "ctx/.dockerignore:2: illegal exclusion pattern: \"!\" (an exception needs a path after the `!`)"
        );
    }

    #[test]
    fn dockerfile_specific_ignore_file_wins() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(".dockerignore"), "a").unwrap();
        let df = dir.path().join("app.Dockerfile");
        assert_eq!(
            find_ignore_file(dir.path(), Some(&df)),
            Some(dir.path().join(".dockerignore"))
        );
        std::fs::write(dir.path().join("app.Dockerfile.dockerignore"), "b").unwrap();
        assert_eq!(
            find_ignore_file(dir.path(), Some(&df)),
            Some(dir.path().join("app.Dockerfile.dockerignore"))
        );
    }
}
