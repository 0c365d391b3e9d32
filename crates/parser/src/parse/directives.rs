//! Parser directives (`# syntax=`, `# escape=`, `# check=`).
//!
//! BuildKit's rules: directives are only recognised while every line so far
//! has been a directive. The first line that is anything else (blank line,
//! plain comment, unknown directive name, instruction) ends the scan for
//! good. Names are case-insensitive; each may appear once; `escape` accepts
//! only `\` and `` ` ``.

use crate::ast::{Directive, Directives};
use crate::error::ParseErrorKind;
use crate::parse::lines::PhysicalLine;

/// Directive names BuildKit knows.
const KNOWN: [&str; 3] = ["syntax", "escape", "check"];

/// Scans lines for directives until the first non-directive line.
#[derive(Debug, Default)]
pub struct DirectiveScanner {
    done: bool,
    /// Directives found so far.
    pub directives: Directives,
}

impl DirectiveScanner {
    /// Looks at one line (already left-trimmed, without its newline).
    /// Returns an error for a repeated directive or a bad escape token.
    pub fn observe(
        &mut self,
        trimmed: &str,
        line: &PhysicalLine<'_>,
    ) -> Result<(), ParseErrorKind> {
        if self.done {
            return Ok(());
        }
        let Some((name, value)) = split_directive(trimmed) else {
            self.done = true;
            return Ok(());
        };
        let Some(known) = KNOWN.iter().find(|k| k.eq_ignore_ascii_case(name)) else {
            self.done = true;
            return Ok(());
        };
        let slot = match *known {
            "syntax" => &mut self.directives.syntax,
            "escape" => &mut self.directives.escape,
            _ => &mut self.directives.check,
        };
        if slot.is_some() {
            return Err(ParseErrorKind::DuplicateDirective {
                name: (*known).to_string(),
            });
        }
        if *known == "escape" && value != "\\" && value != "`" {
            return Err(ParseErrorKind::InvalidEscapeToken {
                value: value.to_string(),
            });
        }
        *slot = Some(Directive {
            name: name.to_string(),
            value: value.to_string(),
            span: line.span(),
        });
        Ok(())
    }
}

/// Go RE2's `\s`: ASCII space, tab, newline, form feed, carriage return.
fn is_re_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\x0c' | '\r')
}

/// Matches `^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$`, returning the name
/// and the trimmed value.
pub fn split_directive(line: &str) -> Option<(&str, &str)> {
    let rest = line.strip_prefix('#')?.trim_start_matches(is_re_space);
    let name_len = rest
        .char_indices()
        .find(|&(i, c)| !(c.is_ascii_alphabetic() || (i > 0 && c.is_ascii_digit())))
        .map_or(rest.len(), |(i, _)| i);
    if name_len == 0 {
        return None;
    }
    let (name, rest) = rest.split_at(name_len);
    let rest = rest.trim_start_matches(is_re_space).strip_prefix('=')?;
    let value = rest.trim_matches(is_re_space);
    if value.is_empty() {
        return None;
    }
    Some((name, value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directive_syntax() {
        assert_eq!(split_directive("# escape=`"), Some(("escape", "`")));
        assert_eq!(split_directive("#EScape = \\ "), Some(("EScape", "\\")));
        assert_eq!(
            split_directive("# syntax=docker/dockerfile:1 // x"),
            Some(("syntax", "docker/dockerfile:1 // x"))
        );
        assert_eq!(split_directive("# key = value"), Some(("key", "value")));
        assert_eq!(split_directive("# escape="), None);
        assert_eq!(split_directive("# 1x=y"), None);
        assert_eq!(split_directive("# just a comment"), None);
        assert_eq!(split_directive("FROM x"), None);
    }
}

/// The `syntax` directive as BuildKit's frontend selection finds it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SyntaxDirective {
    /// The frontend image: the value up to the first space
    /// (`docker/dockerfile:1` for `docker/dockerfile:1 // opts`).
    pub frontend: String,
    /// The whole value.
    pub value: String,
    /// 1-based line of the directive (1 for the JSON form).
    pub line: u32,
}

/// Finds the `syntax` directive the way BuildKit selects a frontend: a BOM
/// and a `#!` first line are skipped; then a whole-file JSON object with a
/// `"syntax"` key, or leading `//syntax=` lines, or leading `# syntax=`
/// lines are accepted.
pub fn detect_syntax(text: &str) -> Option<SyntaxDirective> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let (text, first_line) = match text.strip_prefix("#!") {
        Some(rest) => (rest.split_once('\n').map_or("", |(_, r)| r), 2),
        None => (text, 1),
    };
    let found = |value: &str, line: u32| {
        let frontend = value.split(' ').next().unwrap_or_default().to_string();
        Some(SyntaxDirective {
            frontend,
            value: value.to_string(),
            line,
        })
    };
    if let Ok(object) = serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(text)
        && let Some(serde_json::Value::String(value)) = object.get("syntax")
    {
        return found(value, first_line);
    }
    for prefix in ["//", "#"] {
        for (index, line) in text.lines().enumerate() {
            let Some(rest) = line.trim_start().strip_prefix(prefix) else {
                break;
            };
            let Some((name, value)) =
                split_directive(&format!("#{rest}")).map(|(n, v)| (n.to_string(), v.to_string()))
            else {
                break;
            };
            if !name.eq_ignore_ascii_case("syntax") {
                // Other known directives may come first (`# check=...`).
                if KNOWN.iter().any(|k| k.eq_ignore_ascii_case(&name)) {
                    continue;
                }
                break;
            }
            let line_number = first_line + u32::try_from(index).unwrap_or(u32::MAX - 2);
            return found(&value, line_number);
        }
    }
    None
}

#[cfg(test)]
mod detect_tests {
    use super::*;

    fn frontend(text: &str) -> Option<(String, u32)> {
        detect_syntax(text).map(|d| (d.frontend, d.line))
    }

    #[test]
    fn detect_syntax_like_buildkit() {
        let d =
            detect_syntax("# syntax = dockerfile:experimental // opts\nFROM busybox\n").unwrap();
        assert_eq!(d.frontend, "dockerfile:experimental");
        assert_eq!(d.value, "dockerfile:experimental // opts");
        assert_eq!(d.line, 1);
        assert_eq!(
            frontend("#!/bin/sh\n# syntax = dockerfile:experimental\nFROM busybox\n"),
            Some(("dockerfile:experimental".into(), 2))
        );
        assert_eq!(
            frontend("#!/bin/sh\n\n# syntax = dockerfile:experimental\n"),
            None
        );
        assert_eq!(frontend("FROM busybox\nRUN ls\n"), None);
        assert_eq!(
            frontend("//syntax=foo\n//key=value"),
            Some(("foo".into(), 1))
        );
        assert_eq!(frontend("#!/bin/sh\n//syntax=x"), Some(("x".into(), 2)));
        assert_eq!(
            frontend(r#"{"syntax": "foo", "bar": ["abc"]}"#),
            Some(("foo".into(), 1))
        );
        assert_eq!(frontend(r#"{"syntax": "foo""#), None);
        assert_eq!(frontend("{\"syntax\": \"foo\"}\n# syntax=bar"), None);
        assert_eq!(
            frontend("\u{feff}# syntax = myfrontend\nFROM busybox\n"),
            Some(("myfrontend".into(), 1))
        );
    }
}
