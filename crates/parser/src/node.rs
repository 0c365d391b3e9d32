//! The raw syntax tree: BuildKit's "node" level, before any instruction
//! rules are applied.
//!
//! This is what `docker build`'s parser produces and what BuildKit's test
//! dump format prints: the keyword exactly as written, the `--flag` words,
//! and the argument strings chosen by the per-instruction argument rule.
//! Unknown keywords and unknown flags are accepted here; the typed layer
//! ([`crate::ast`]) rejects them. Keeping the raw level separate lets the
//! conformance dump be byte-identical with BuildKit while the typed layer is
//! strict.

use serde::{Deserialize, Serialize};

use crate::ast::{Directives, Heredoc, Warning};
use crate::span::{Position, Span};

/// A whole Dockerfile at the raw level.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SyntaxTree {
    /// Parser directives found at the top of the file.
    pub directives: Directives,
    /// One node per instruction, in source order.
    pub nodes: Vec<Node>,
    /// Non-fatal findings (e.g. empty continuation lines).
    pub warnings: Vec<Warning>,
    /// From the first line of the first instruction to the last line of the
    /// last one (directives, comments and trailing blank lines excluded).
    pub span: Span,
}

/// One instruction at the raw level (BuildKit's `parser.Node`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Node {
    /// The instruction keyword exactly as written (original case kept, so
    /// the ConsistentInstructionCasing check and the dump can use it).
    pub keyword: String,
    /// The `--flag[=value]` words before the arguments, with quotes and
    /// escapes removed (e.g. `--mount=type=cache,target=/root`).
    pub flags: Vec<String>,
    /// Argument strings, as chosen by the instruction's argument rule
    /// (JSON array elements, whitespace-split words, name/value triples for
    /// ENV/LABEL, or the whole rest as one string). Never expanded.
    pub args: Vec<String>,
    /// The nested instruction of an `ONBUILD` node; `None` for all others.
    pub nested: Option<Box<Node>>,
    /// True when the arguments were written as a JSON array (exec form).
    pub json: bool,
    /// Heredoc bodies that follow the instruction line (RUN, COPY, ADD).
    pub heredocs: Vec<Heredoc>,
    /// From the keyword to the end of the last physical line the
    /// instruction consumed (continuations and heredoc bodies included).
    pub span: Span,
    /// The keyword itself.
    pub keyword_span: Span,
    /// The logical line: physical lines joined after removing continuation
    /// tokens and skipped comment/blank lines, leading whitespace trimmed.
    pub original: String,
    /// Where each continuation line's text starts in `original` and in the
    /// source (empty for single-line instructions; `original` starts at
    /// `span.start`). Lets [`Node::span_of`] map any part of `original`
    /// back to the source.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub segments: Vec<Segment>,
}

/// The start of one continuation line's text within a [`Node::original`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Segment {
    /// Byte offset in `original`.
    pub offset: usize,
    /// The source position of that byte.
    pub position: Position,
}

impl Node {
    /// The source position of byte `offset` of [`Node::original`]
    /// (clamped to the text; offsets inside a character round down).
    pub fn position_at(&self, offset: usize) -> Position {
        let mut offset = offset.min(self.original.len());
        while !self.original.is_char_boundary(offset) {
            offset -= 1;
        }
        let (base_offset, base) = self
            .segments
            .iter()
            .rev()
            .find(|s| s.offset <= offset)
            .map_or((0, self.span.start), |s| (s.offset, s.position));
        let text = self.original.get(base_offset..offset).unwrap_or_default();
        let columns = u32::try_from(text.chars().count()).unwrap_or(u32::MAX);
        Position {
            line: base.line,
            column: base.column.saturating_add(columns),
            offset: base.offset + text.len(),
        }
    }

    /// The source span of the first occurrence of `needle` in
    /// [`Node::original`] at or after byte `from`, if any.
    pub fn span_of(&self, needle: &str, from: usize) -> Option<Span> {
        let rest = self.original.get(from..)?;
        let start = from + rest.find(needle)?;
        Some(Span::new(
            self.position_at(start),
            self.position_at(start + needle.len()),
        ))
    }

    /// The keyword in upper case (`RUN`, `COPY`, ...), as used in messages.
    pub fn keyword_upper(&self) -> String {
        self.keyword.to_ascii_uppercase()
    }
}
