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
