//! Source locations: every node of the AST carries a [`Span`].
//!
//! Lines and columns are 1-based, as editors show them. Columns count Unicode
//! scalar values (characters), not bytes, so a caret drawn under column `n`
//! lines up with the text; `offset` is the byte offset into the source, for
//! slicing.

use serde::{Deserialize, Serialize};

/// One point in the source text.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
pub struct Position {
    /// 1-based physical line number.
    pub line: u32,
    /// 1-based column, counted in characters from the start of the line.
    pub column: u32,
    /// 0-based byte offset from the start of the source (after nothing is
    /// stripped: a leading BOM still counts).
    pub offset: usize,
}

/// A half-open range of source text: `start` is the first character, `end`
/// is the position just past the last one (on the same line as the last
/// character, so `end.line` is the last line the range touches).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct Span {
    /// First character of the range.
    pub start: Position,
    /// Position just past the last character of the range.
    pub end: Position,
}

impl Span {
    /// A span covering `start..end`.
    pub fn new(start: Position, end: Position) -> Self {
        Span { start, end }
    }

    /// The smallest span covering both `self` and `other`.
    pub fn to(self, other: Span) -> Span {
        Span {
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }
}
