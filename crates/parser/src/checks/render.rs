//! Text rendering of findings, shaped like `docker build --check` output:
//! a header with the rule and its documentation link, the message, the
//! location, and the source lines with `>>>` marking the instruction.

use std::fmt::Write as _;

use crate::span::Span;

use super::CheckWarning;

/// How many lines to show before the marked ones.
const CONTEXT_BEFORE: u32 = 2;
/// At most this many marked lines are shown (long RUN scripts are cut).
const MAX_MARKED: u32 = 6;

/// Render one warning of file `file` whose text is `source`.
pub fn render_warning(warning: &CheckWarning, file: &str, source: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "WARNING: {} - {}", warning.rule, warning.url);
    let _ = writeln!(out, "{}", warning.message);
    out.push_str(&render_snippet(file, source, warning.span));
    out
}

/// `file:line`, then the lines of `span` marked with `>>>` and up to two
/// lines of context before them, between rules.
pub fn render_snippet(file: &str, source: &str, span: Span) -> String {
    let mut out = String::new();
    let first = span.start.line.max(1);
    let last = span.end.line.max(first);
    let location = if last > first {
        format!("{file}:{first}-{last}")
    } else {
        format!("{file}:{first}")
    };
    let _ = writeln!(out, "{location}");
    let _ = writeln!(out, "--------------------");
    let lines: Vec<&str> = source.lines().collect();
    let shown_last = last.min(first + MAX_MARKED - 1);
    let width = shown_last.to_string().len().max(3);
    for line_number in first.saturating_sub(CONTEXT_BEFORE).max(1)..=shown_last {
        let Some(text) = lines.get(line_number as usize - 1) else {
            break;
        };
        let marker = if line_number >= first { ">>>" } else { "   " };
        let _ = writeln!(
            out,
            " {line_number:>width$} | {marker} {}",
            text.trim_end_matches('\r')
        );
    }
    if shown_last < last {
        let _ = writeln!(
            out,
            " {:>width$} | ... ({} more lines)",
            "",
            last - shown_last
        );
    }
    let _ = writeln!(out, "--------------------");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::Rule;
    use crate::span::Position;

    fn span(first: u32, last: u32) -> Span {
        Span::new(
            Position {
                line: first,
                column: 1,
                offset: 0,
            },
            Position {
                line: last,
                column: 5,
                offset: 0,
            },
        )
    }

    #[test]
    fn marks_the_instruction_lines_with_context() {
        let source = "FROM alpine\n\nRUN a \\\n  b\nCMD x\n";
        let text = render_snippet("Dockerfile", source, span(3, 4));
        assert_eq!(
            text,
            "Dockerfile:3-4\n--------------------\n   1 |     FROM alpine\n   2 |     \n   3 | >>> RUN a \\\n   4 | >>>   b\n--------------------\n"
        );
    }

    #[test]
    fn long_instructions_are_cut() {
        let source = (1..=20).map(|i| format!("line{i}\n")).collect::<String>();
        let text = render_snippet("f", &source, span(1, 20));
        assert!(text.contains("line6") && !text.contains("line7"));
        assert!(text.contains("(14 more lines)"));
    }

    #[test]
    fn warning_header_names_rule_and_link() {
        let warning = CheckWarning {
            rule: Rule::MaintainerDeprecated,
            message: "Maintainer instruction is deprecated in favor of using label".into(),
            description: Rule::MaintainerDeprecated.description().into(),
            url: Rule::MaintainerDeprecated.url(),
            span: span(1, 1),
        };
        let text = render_warning(&warning, "Dockerfile", "MAINTAINER me\n");
        assert!(text.starts_with(
            "WARNING: MaintainerDeprecated - https://docs.docker.com/go/dockerfile/rule/maintainer-deprecated/\n"
        ));
        assert!(text.contains(" 1 | >>> MAINTAINER me"));
    }

    #[test]
    fn spans_past_the_end_do_not_panic() {
        let text = render_snippet("f", "FROM a", span(7, 9));
        assert!(text.starts_with("f:7-9\n"));
    }
}
