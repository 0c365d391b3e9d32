//! One `.dockerignore` pattern, matched the way Docker's moby/patternmatcher matches it.
//!
//! Docker does not use gitignore semantics: `*` never crosses a `/`, a pattern is anchored at
//! the context root (`abc` matches only `./abc`, not `./x/abc`), `**` matches any number of
//! directories (including none), and a pattern that matches a directory also covers
//! everything below it (the caller checks parent directories, see [`IgnoreRules`]).
//! Patterns are translated to an anchored regular expression with the same rules Docker
//! uses, with cheap fast paths for the common exact, prefix (`dir/**`) and suffix
//! (`**/name`) shapes.
//!
//! [`IgnoreRules`]: super::IgnoreRules

use regex::Regex;

/// A pattern that cannot be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PatternError {
    /// `!` alone excludes nothing and is rejected by Docker too.
    #[error("illegal exclusion pattern: \"!\" (an exception needs a path after the `!`)")]
    BareExclusion,
    /// The glob is malformed, e.g. an unterminated `[` class.
    #[error("bad pattern {pattern:?}: {reason}")]
    Syntax { pattern: String, reason: String },
}

/// How a compiled pattern is matched: the cheap shapes avoid the regex entirely.
#[derive(Debug, Clone)]
enum Matcher {
    /// No wildcard at all: equal strings.
    Exact(String),
    /// `prefix/**`: everything below a directory.
    Prefix(String),
    /// `**/suffix` with a literal suffix.
    Suffix(String),
    Regex(Regex),
}

/// A compiled `.dockerignore` pattern.
#[derive(Debug, Clone)]
pub struct Pattern {
    /// The pattern text after cleaning, without a leading `!`.
    text: String,
    /// `!pattern`: re-includes what earlier patterns excluded.
    exclusion: bool,
    matcher: Matcher,
}

impl Pattern {
    /// Compiles one pattern line (already trimmed; a leading `!` marks an exception).
    pub fn new(line: &str) -> Result<Pattern, PatternError> {
        let line = line.trim();
        let (exclusion, body) = match line.strip_prefix('!') {
            Some(rest) => (true, rest.trim()),
            None => (false, line),
        };
        if exclusion && body.is_empty() {
            return Err(PatternError::BareExclusion);
        }
        let mut text = clean_path(body);
        // Patterns are relative to the context root: `/abc` means `abc`.
        if text.len() > 1 && text.starts_with('/') {
            text.remove(0);
        }
        validate_classes(&text)?;
        let matcher = compile(&text)?;
        Ok(Pattern {
            text,
            exclusion,
            matcher,
        })
    }

    /// True for `!pattern` lines.
    pub fn is_exclusion(&self) -> bool {
        self.exclusion
    }

    /// The cleaned pattern text (without `!`).
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Does this pattern match exactly this slash-separated, context-relative path?
    pub fn matches(&self, path: &str) -> bool {
        match &self.matcher {
            Matcher::Exact(p) => path == p,
            Matcher::Prefix(p) => path.starts_with(p.as_str()),
            Matcher::Suffix(s) => {
                path.ends_with(s.as_str()) || s.strip_prefix('/').is_some_and(|bare| path == bare)
            }
            Matcher::Regex(re) => re.is_match(path),
        }
    }
}

/// Lexically cleans a slash path like Go's `filepath.Clean`: collapses `//`, removes `.`
/// elements, resolves `..` against earlier elements, never goes above the root.
pub fn clean_path(path: &str) -> String {
    if path.is_empty() {
        return ".".to_string();
    }
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|p| *p != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            other => parts.push(other),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_string(),
        (false, false) => joined,
    }
}

/// Rejects malformed `[...]` classes up front, as Docker does by test-matching the pattern
/// with `filepath.Match`, so that the error names the pattern instead of failing later.
fn validate_classes(text: &str) -> Result<(), PatternError> {
    let bad = |reason: &str| PatternError::Syntax {
        pattern: text.to_string(),
        reason: reason.to_string(),
    };
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                chars.next();
            }
            '[' => {
                let mut closed = false;
                let mut first = true;
                while let Some(c) = chars.next() {
                    match c {
                        // The escaped character is consumed by the guard.
                        '\\' if chars.next().is_none() => {
                            return Err(bad("escape at the end of a character class"));
                        }
                        ']' if !first => {
                            closed = true;
                            break;
                        }
                        '^' | '!' if first => continue,
                        _ => {}
                    }
                    first = false;
                }
                if !closed {
                    return Err(bad("unterminated character class `[`"));
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// Characters that are special in a regex but literal in a Docker pattern.
fn needs_regex_escape(c: char) -> bool {
    matches!(c, '.' | '+' | '(' | ')' | '|' | '{' | '}' | '$')
}

#[derive(PartialEq, Clone, Copy)]
enum Shape {
    Exact,
    Prefix,
    Suffix,
    Regex,
}

/// Translates the pattern into Docker's regex and picks the cheapest equivalent matcher.
fn compile(text: &str) -> Result<Matcher, PatternError> {
    let mut re = String::from("^");
    let mut shape = Shape::Exact;
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let at_start = i == 0;
        i += 1;
        match c {
            '*' if chars.get(i) == Some(&'*') => {
                i += 1;
                // `**/` is treated as `**`: the slash is part of the any-directories match.
                if chars.get(i) == Some(&'/') {
                    i += 1;
                }
                if i == chars.len() {
                    // A trailing `**` accepts everything below.
                    if shape == Shape::Exact {
                        shape = Shape::Prefix;
                    } else {
                        re.push_str(".*");
                        shape = Shape::Regex;
                    }
                } else {
                    re.push_str("(.*/)?");
                    shape = Shape::Regex;
                }
                if at_start {
                    shape = Shape::Suffix;
                }
            }
            '*' => {
                re.push_str("[^/]*");
                shape = Shape::Regex;
            }
            '?' => {
                re.push_str("[^/]");
                shape = Shape::Regex;
            }
            '\\' => match chars.get(i) {
                Some(next) => {
                    re.push_str(&regex::escape(&next.to_string()));
                    i += 1;
                    shape = Shape::Regex;
                }
                None => re.push_str("\\\\"),
            },
            '[' | ']' => {
                re.push(c);
                shape = Shape::Regex;
            }
            c if needs_regex_escape(c) => {
                re.push('\\');
                re.push(c);
            }
            c => re.push(c),
        }
    }
    re.push('$');
    Ok(match shape {
        Shape::Exact => Matcher::Exact(text.to_string()),
        // `dir/**`: the prefix is the text without the trailing `**`.
        Shape::Prefix => Matcher::Prefix(text[..text.len() - 2].to_string()),
        Shape::Suffix => Matcher::Suffix(text[2..].to_string()),
        Shape::Regex => Matcher::Regex(Regex::new(&re).map_err(|e| PatternError::Syntax {
            pattern: text.to_string(),
            reason: e.to_string(),
        })?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(pattern: &str, path: &str) -> bool {
        Pattern::new(pattern).unwrap().matches(path)
    }

    #[test]
    fn star_stays_within_one_directory() {
        assert!(m("*.go", "main.go"));
        assert!(!m("*.go", "cmd/main.go"));
        assert!(m("*/*.go", "cmd/main.go"));
        assert!(m("docs/*", "docs/readme"));
        assert!(!m("docs/*", "docs/a/readme"));
    }

    #[test]
    fn plain_names_are_anchored_at_the_root() {
        assert!(m("abc", "abc"));
        assert!(!m("abc", "x/abc"));
        assert!(m("/abc", "abc"));
        assert!(m("./abc", "abc"));
        assert!(m("a/../abc", "abc"));
    }

    #[test]
    fn double_star_spans_directories() {
        assert!(m("**/foo", "foo"));
        assert!(m("**/foo", "a/b/foo"));
        assert!(!m("**/foo", "a/bfoo"));
        assert!(m("**/*.go", "a/b/c.go"));
        assert!(m("**/*.go", "c.go"));
        assert!(m("a/**/b", "a/b"));
        assert!(m("a/**/b", "a/x/y/b"));
        assert!(m("dir/**", "dir/x/y"));
        assert!(!m("dir/**", "dir"));
        assert!(m("**", "anything/at/all"));
        assert!(m("a**", "abc/def"));
    }

    #[test]
    fn question_mark_and_classes() {
        assert!(m("file?.txt", "file1.txt"));
        assert!(!m("file?.txt", "file/.txt"));
        assert!(m("[a-c]x", "bx"));
        assert!(!m("[a-c]x", "dx"));
        assert!(m("[^a-c]x", "dx"));
    }

    #[test]
    fn regex_metacharacters_are_literal() {
        assert!(m("a.b", "a.b"));
        assert!(!m("a.b*", "axb"));
        assert!(m("(x)+{y}$|", "(x)+{y}$|"));
        assert!(m("a+.txt*", "a+.txt.bak"));
    }

    #[test]
    fn backslash_escapes_the_next_character() {
        assert!(m("\\*", "*"));
        assert!(!m("\\*", "x"));
        assert!(m("a\\?", "a?"));
    }

    #[test]
    fn bad_patterns_are_errors() {
        assert_eq!(Pattern::new("!").unwrap_err(), PatternError::BareExclusion);
        assert!(matches!(
            Pattern::new("[abc").unwrap_err(),
            PatternError::Syntax { .. }
        ));
    }

    #[test]
    fn clean_path_matches_go() {
        assert_eq!(clean_path("a//b/./c/.."), "a/b");
        assert_eq!(clean_path("/../a"), "/a");
        assert_eq!(clean_path("../a"), "../a");
        assert_eq!(clean_path("a/.."), ".");
        assert_eq!(clean_path(""), ".");
    }
}
