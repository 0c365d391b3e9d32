//! The raw-level parser: source text → [`SyntaxTree`].
//!
//! One pass over the physical lines, in the spirit of BuildKit's
//! `parser.Parse`: directives at the top, comments dropped, continuation
//! lines joined, each logical line turned into a [`Node`] by
//! [`line_rules`], heredoc bodies read after their instruction line.
//! Linear in the input; single-line instructions are not copied before
//! they are split.

pub mod directives;
pub(crate) mod heredoc;
pub(crate) mod json;
pub(crate) mod line_rules;
pub(crate) mod lines;
pub(crate) mod words;

use std::borrow::Cow;

use crate::ast::{Heredoc, Warning, WarningKind};
use crate::error::{ParseError, ParseErrorKind};
use crate::node::{Node, Segment, SyntaxTree};
use crate::span::{Position, Span};
use directives::DirectiveScanner;
use lines::{LineReader, PhysicalLine};

/// Parses `source` to the raw syntax tree. `file` names the source in
/// errors.
pub fn parse_syntax_tree(source: &str, file: &str) -> Result<SyntaxTree, ParseError> {
    let fail = |span: Span, kind: ParseErrorKind| ParseError::new(file, span, kind);
    let mut reader = LineReader::new(source);
    let mut scanner = DirectiveScanner::default();
    let mut nodes: Vec<Node> = Vec::new();
    let mut warnings = Vec::new();
    let mut last_consumed: Option<PhysicalLine<'_>> = None;

    while let Some(first) = next_line(&mut reader, file)? {
        last_consumed = Some(first);
        let trimmed = first.text.trim_start();
        scanner
            .observe(trimmed, &first)
            .map_err(|kind| fail(first.span(), kind))?;
        if trimmed.starts_with('#') {
            continue;
        }
        let escape = scanner.directives.escape_token();
        let (head, mut continued) = trim_continuation(trimmed, escape);
        if !continued && head.is_empty() {
            continue;
        }
        let keyword_start = first.text.len() - trimmed.len();
        let mut logical = Cow::Borrowed(head);
        let mut last = first;
        let mut empty_continuation = false;
        let mut segments = Vec::new();
        while continued {
            let Some(line) = next_line(&mut reader, file)? else {
                break;
            };
            last = line;
            let content = line.text.trim_start();
            if content.starts_with('#') {
                continue;
            }
            if content.is_empty() {
                empty_continuation = true;
                continue;
            }
            let (piece, more) = trim_continuation(line.text, escape);
            if !piece.is_empty() {
                segments.push(Segment {
                    offset: logical.len(),
                    position: line.position(0),
                });
            }
            logical.to_mut().push_str(piece);
            continued = more;
        }

        let start = first.position(keyword_start);
        let mut span = Span::new(start, last.end());
        let mut node =
            line_rules::node_from_line(&logical, escape).map_err(|kind| fail(span, kind))?;
        let keyword_end = first.position(keyword_start + node.keyword.len());
        node.keyword_span = Span::new(start, keyword_end);
        if empty_continuation {
            warnings.push(Warning {
                kind: WarningKind::EmptyContinuationLine,
                message: format!("Empty continuation line found in: {logical}"),
                span,
            });
        }

        if can_contain_heredoc(&node) && logical.contains("<<") {
            let openers = heredoc::heredocs_in_line(&logical).map_err(|kind| fail(span, kind))?;
            for opener in openers {
                let body = read_heredoc_body(&mut reader, opener, file, span)?;
                if let Some(line) = body.last_line {
                    last = line;
                    span.end = line.end();
                }
                node.heredocs.push(body.heredoc);
            }
        }

        node.span = span;
        let keyword_len = node.keyword.len();
        if let Some(nested) = node.nested.as_deref_mut() {
            let parent = ParentLine {
                first: &first,
                keyword_start,
                keyword_len,
                logical: &logical,
                segments: &segments,
                span,
            };
            place_nested(nested, &parent);
        }
        node.segments = segments;
        node.original = logical.into_owned();
        last_consumed = Some(last);
        nodes.push(node);
    }

    let (Some(first), Some(last)) = (nodes.first(), nodes.last()) else {
        let at = last_consumed.map_or(
            Position {
                line: 1,
                column: 1,
                offset: 0,
            },
            |l| l.end(),
        );
        return Err(fail(Span::new(at, at), ParseErrorKind::NoInstructions));
    };
    let span = Span::new(first.span.start, last.span.end);
    Ok(SyntaxTree {
        directives: scanner.directives,
        nodes,
        warnings,
        span,
    })
}

/// A heredoc read from the lines after its instruction.
struct HeredocBody<'a> {
    heredoc: Heredoc,
    /// The terminator line (`None` only for an empty rest of file, which
    /// is an error).
    last_line: Option<PhysicalLine<'a>>,
}

/// Reads a heredoc body up to its terminator line. Body lines are taken
/// raw: no comment, continuation or directive handling.
fn read_heredoc_body<'a>(
    reader: &mut LineReader<'a>,
    opener: heredoc::HeredocOpener,
    file: &str,
    instruction: Span,
) -> Result<HeredocBody<'a>, ParseError> {
    let mut content = String::new();
    let mut first_line: Option<PhysicalLine<'a>> = None;
    let mut last_line: Option<PhysicalLine<'a>> = None;
    while let Some(line) = next_line(reader, file)? {
        first_line.get_or_insert(line);
        last_line = Some(line);
        let candidate = if opener.chomp {
            line.text.trim_start_matches('\t')
        } else {
            line.text
        };
        if candidate == opener.name {
            let span = Span::new(first_line.unwrap_or(line).position(0), line.end());
            let heredoc = Heredoc {
                name: opener.name,
                content,
                expand: opener.expand,
                chomp: opener.chomp,
                file_descriptor: opener.file_descriptor,
                span,
            };
            return Ok(HeredocBody { heredoc, last_line });
        }
        content.push_str(line.raw);
    }
    let end = last_line.map_or(instruction.end, |l| l.end());
    Err(ParseError::new(
        file,
        Span::new(instruction.start, end),
        ParseErrorKind::UnterminatedHeredoc { name: opener.name },
    ))
}

/// Where an `ONBUILD` instruction sits in the source.
struct ParentLine<'l, 'a> {
    first: &'l PhysicalLine<'a>,
    keyword_start: usize,
    keyword_len: usize,
    logical: &'l str,
    segments: &'l [Segment],
    span: Span,
}

/// Gives the nested node of `ONBUILD` its own `original`, keyword span and
/// segments (it shares the parent's lines).
fn place_nested(nested: &mut Node, parent: &ParentLine<'_, '_>) {
    let ParentLine {
        first,
        keyword_start,
        keyword_len: parent_keyword_len,
        logical,
        segments,
        span,
    } = *parent;
    nested.span = span;
    nested.original = logical
        .get(parent_keyword_len..)
        .unwrap_or_default()
        .trim_start()
        .to_string();
    // The nested keyword is usually on the first physical line; when
    // continuation lines split it, point at the whole instruction.
    let after = keyword_start + parent_keyword_len;
    let found = first
        .text
        .get(after..)
        .and_then(|rest| rest.find(nested.keyword.as_str()));
    nested.keyword_span = match found {
        Some(i) if !nested.keyword.is_empty() => Span::new(
            first.position(after + i),
            first.position(after + i + nested.keyword.len()),
        ),
        _ => span,
    };
    nested.span.start = nested.keyword_span.start;
    let shift = logical.len().saturating_sub(nested.original.len());
    nested.segments = segments
        .iter()
        .filter(|s| s.offset >= shift)
        .map(|s| Segment {
            offset: s.offset - shift,
            position: s.position,
        })
        .collect();
}

/// The next physical line, with a too-long line as a located error.
fn next_line<'a>(
    reader: &mut LineReader<'a>,
    file: &str,
) -> Result<Option<PhysicalLine<'a>>, ParseError> {
    reader.next_line().map_err(|e| {
        let kind = ParseErrorKind::LineTooLong {
            length: e.length,
            max: lines::MAX_LINE_LENGTH,
        };
        ParseError::new(file, e.at, kind)
    })
}

/// RUN, COPY and ADD (also behind ONBUILD) in shell form may have heredocs.
fn can_contain_heredoc(node: &Node) -> bool {
    let target = match node.nested.as_deref() {
        Some(nested) if node.keyword.eq_ignore_ascii_case("onbuild") => nested,
        _ => node,
    };
    line_rules::takes_heredocs(&target.keyword) && !target.json
}

/// Removes a line-continuation token: the escape token followed only by
/// spaces/tabs at the end of the line, not itself escaped. Returns the text
/// without it and whether the line continues.
fn trim_continuation(line: &str, escape: char) -> (&str, bool) {
    let body = line.trim_end_matches([' ', '\t']);
    let Some(before) = body.strip_suffix(escape) else {
        return (line, false);
    };
    if before.ends_with(escape) {
        return (line, false);
    }
    (before, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continuation_token() {
        assert_eq!(trim_continuation("a \\", '\\'), ("a ", true));
        assert_eq!(trim_continuation("a\\ \t", '\\'), ("a", true));
        assert_eq!(trim_continuation("\\", '\\'), ("", true));
        assert_eq!(trim_continuation("a\\\\", '\\'), ("a\\\\", false));
        assert_eq!(trim_continuation("a `", '`'), ("a ", true));
        assert_eq!(trim_continuation("a \\", '`'), ("a \\", false));
    }
}
