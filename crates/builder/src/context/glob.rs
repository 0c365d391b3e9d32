//! COPY/ADD source wildcards: Go's `filepath.Match` rules, one path element at a time.
//!
//! Unlike `.dockerignore` patterns, a source like `src/*.rs` is expanded against the files
//! that exist: each element with a wildcard is matched against the entries of the directory
//! reached so far (`*` and `?` never match `/`; `[...]` classes with `^` negation and
//! ranges; `\` escapes).

use std::path::Path;

use super::resolve::{ResolveError, resolve_in_root};

/// Does the source contain a wildcard that needs expanding?
pub fn has_wildcard(pattern: &str) -> bool {
    pattern.contains(['*', '?', '['])
}

/// Matches one path element against one pattern element (Go `filepath.Match` semantics).
/// A malformed class never matches.
pub fn match_element(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    match_from(&p, &n)
}

fn match_from(p: &[char], n: &[char]) -> bool {
    // Iterative with one backtrack point for the last `*`: linear in practice.
    let (mut pi, mut ni) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        if pi < p.len() {
            match p[pi] {
                '*' => {
                    star = Some((pi, ni));
                    pi += 1;
                    continue;
                }
                '?' => {
                    pi += 1;
                    ni += 1;
                    continue;
                }
                '[' => {
                    if let Some((matched, len)) = match_class(&p[pi..], n[ni])
                        && matched
                    {
                        pi += len;
                        ni += 1;
                        continue;
                    }
                }
                '\\' if pi + 1 < p.len() => {
                    if p[pi + 1] == n[ni] {
                        pi += 2;
                        ni += 1;
                        continue;
                    }
                }
                c => {
                    if c == n[ni] {
                        pi += 1;
                        ni += 1;
                        continue;
                    }
                }
            }
        }
        match star {
            Some((sp, sn)) => {
                pi = sp + 1;
                ni = sn + 1;
                star = Some((sp, sn + 1));
            }
            None => return false,
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// Matches `c` against the class starting at `p[0] == '['`; returns (matched, class length)
/// or None when the class is malformed.
fn match_class(p: &[char], c: char) -> Option<(bool, usize)> {
    let mut i = 1;
    let negated = matches!(p.get(i), Some('^'));
    if negated {
        i += 1;
    }
    let mut matched = false;
    let mut first = true;
    loop {
        let lo = match p.get(i)? {
            ']' if !first => break,
            '\\' => {
                i += 1;
                *p.get(i)?
            }
            &ch => ch,
        };
        first = false;
        i += 1;
        let mut hi = lo;
        if p.get(i) == Some(&'-') && p.get(i + 1).is_some_and(|&x| x != ']') {
            i += 1;
            hi = match p.get(i)? {
                '\\' => {
                    i += 1;
                    *p.get(i)?
                }
                &ch => ch,
            };
            i += 1;
        }
        if lo <= c && c <= hi {
            matched = true;
        }
    }
    Some((matched != negated, i + 1))
}

/// Expands a source pattern against the context: returns the matching context-relative
/// paths (slash-separated, sorted). Symlinked directories on the way are resolved inside
/// the root. A pattern without wildcards is returned as is, existing or not.
pub fn expand_source(root: &Path, pattern: &str) -> Result<Vec<String>, ResolveError> {
    let clean = super::pattern::clean_path(pattern.trim_start_matches('/'));
    if !has_wildcard(&clean) {
        return Ok(vec![clean]);
    }
    let mut prefixes = vec![String::new()];
    for element in clean.split('/') {
        let mut next = Vec::new();
        for prefix in &prefixes {
            let joined = join(prefix, element);
            if !has_wildcard(element) {
                next.push(joined);
                continue;
            }
            let dir = resolve_in_root(root, if prefix.is_empty() { "." } else { prefix }, true)?;
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries.flatten() {
                let name = entry.file_name();
                let Some(name) = name.to_str() else { continue };
                if match_element(element, name) {
                    next.push(join(prefix, name));
                }
            }
        }
        next.sort();
        prefixes = next;
    }
    // Every match must exist (literal elements after a wildcard may not).
    let mut out = Vec::new();
    for candidate in prefixes {
        let resolved = resolve_in_root(root, &candidate, false)?;
        if std::fs::symlink_metadata(&resolved).is_ok() {
            out.push(candidate);
        }
    }
    Ok(out)
}

fn join(prefix: &str, element: &str) -> String {
    if prefix.is_empty() {
        element.to_string()
    } else {
        format!("{prefix}/{element}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn element_matching_follows_go() {
        assert!(match_element("*.rs", "main.rs"));
        assert!(!match_element("*.rs", "main.rsx"));
        assert!(match_element("a*b*c", "aXXbYYc"));
        assert!(match_element("?at", "cat"));
        assert!(match_element("[a-c]at", "bat"));
        assert!(!match_element("[^a-c]at", "bat"));
        assert!(match_element("[^a-c]at", "rat"));
        assert!(match_element("\\*", "*"));
        assert!(!match_element("\\*", "x"));
        assert!(match_element("*", ""));
        assert!(!match_element("[", "["));
    }

    #[test]
    fn expands_against_existing_files() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("src/a")).unwrap();
        std::fs::create_dir_all(root.join("src/b")).unwrap();
        std::fs::write(root.join("src/a/x.txt"), "").unwrap();
        std::fs::write(root.join("src/b/y.txt"), "").unwrap();
        std::fs::write(root.join("src/b/z.md"), "").unwrap();
        assert_eq!(
            expand_source(root, "src/*/*.txt").unwrap(),
            vec!["src/a/x.txt", "src/b/y.txt"]
        );
        assert_eq!(
            expand_source(root, "/src/?").unwrap(),
            vec!["src/a", "src/b"]
        );
        assert!(expand_source(root, "nothing*").unwrap().is_empty());
        assert_eq!(
            expand_source(root, "./plain/../file").unwrap(),
            vec!["file"]
        );
    }
}
