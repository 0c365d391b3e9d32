//! Physical lines with their positions.
//!
//! The reader hands out one line at a time (split at `\n`, like Go's
//! `bufio.Scanner` in BuildKit), with the trailing `\r`/`\n` characters
//! removed, the UTF-8 BOM dropped from the first line, and the byte offset
//! and 1-based number needed to build [`Span`]s. It enforces BuildKit's
//! maximum line length so that pathological inputs fail fast.

use crate::span::{Position, Span};

/// BuildKit's scanner cannot hold lines of 64 KiB or more.
pub const MAX_LINE_LENGTH: usize = 65_535;

/// A physical line longer than [`MAX_LINE_LENGTH`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineTooLong {
    /// The line's length in bytes.
    pub length: usize,
    /// Where the line starts.
    pub at: Span,
}

/// One physical line.
#[derive(Debug, Clone, Copy)]
pub struct PhysicalLine<'a> {
    /// 1-based line number.
    pub number: u32,
    /// Byte offset of `text` in the source.
    pub start: usize,
    /// The line without its trailing `\r`/`\n` characters.
    pub text: &'a str,
    /// The line including its terminator (for heredoc bodies).
    pub raw: &'a str,
}

impl<'a> PhysicalLine<'a> {
    /// The position of byte `index` of `text`.
    pub fn position(&self, index: usize) -> Position {
        let index = floor_char_boundary(self.text, index.min(self.text.len()));
        Position {
            line: self.number,
            column: char_count(&self.text[..index]) + 1,
            offset: self.start + index,
        }
    }

    /// The position just past the last character of `text`.
    pub fn end(&self) -> Position {
        self.position(self.text.len())
    }

    /// The whole line as a span.
    pub fn span(&self) -> Span {
        Span::new(self.position(0), self.end())
    }
}

/// Character count as a column number (saturating: columns are u32).
pub fn char_count(text: &str) -> u32 {
    let count = if text.is_ascii() {
        text.len()
    } else {
        text.chars().count()
    };
    u32::try_from(count).unwrap_or(u32::MAX)
}

fn floor_char_boundary(text: &str, mut index: usize) -> usize {
    while index > 0 && !text.is_char_boundary(index) {
        index -= 1;
    }
    index
}

/// Iterator over the physical lines of a source text.
#[derive(Debug, Clone)]
pub struct LineReader<'a> {
    source: &'a str,
    offset: usize,
    number: u32,
}

impl<'a> LineReader<'a> {
    /// A reader positioned at the start of `source`.
    pub fn new(source: &'a str) -> Self {
        LineReader {
            source,
            offset: 0,
            number: 0,
        }
    }

    /// The next line, `Ok(None)` at the end, or an error for a line longer
    /// than [`MAX_LINE_LENGTH`].
    pub fn next_line(&mut self) -> Result<Option<PhysicalLine<'a>>, LineTooLong> {
        let rest = &self.source[self.offset..];
        if rest.is_empty() {
            return Ok(None);
        }
        let raw_len = match rest.find('\n') {
            Some(newline) => newline + 1,
            None => rest.len(),
        };
        let raw = &rest[..raw_len];
        let mut start = self.offset;
        self.offset += raw_len;
        self.number = self.number.saturating_add(1);
        let mut text = raw.trim_end_matches(['\r', '\n']);
        let mut raw_line = raw;
        if self.number == 1
            && let Some(stripped) = text.strip_prefix('\u{feff}')
        {
            text = stripped;
            raw_line = &raw[3..];
            start += 3;
        }
        let line = PhysicalLine {
            number: self.number,
            start,
            text,
            raw: raw_line,
        };
        if text.len() > MAX_LINE_LENGTH {
            let at = line.position(0);
            return Err(LineTooLong {
                length: text.len(),
                at: Span::new(at, at),
            });
        }
        Ok(Some(line))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(source: &str) -> Vec<(u32, usize, String)> {
        let mut reader = LineReader::new(source);
        let mut out = Vec::new();
        while let Ok(Some(line)) = reader.next_line() {
            out.push((line.number, line.start, line.text.to_string()));
        }
        out
    }

    #[test]
    fn splits_like_go_scanner() {
        assert!(all("").is_empty());
        assert_eq!(all("a"), vec![(1, 0, "a".into())]);
        assert_eq!(all("a\n"), vec![(1, 0, "a".into())]);
        assert_eq!(
            all("a\r\n\nb"),
            vec![(1, 0, "a".into()), (2, 3, "".into()), (3, 4, "b".into())]
        );
    }

    #[test]
    fn strips_bom_on_first_line_only() {
        assert_eq!(
            all("\u{feff}FROM x\n\u{feff}y"),
            vec![(1, 3, "FROM x".into()), (2, 10, "\u{feff}y".into())]
        );
    }

    #[test]
    fn columns_count_characters() {
        let mut reader = LineReader::new("ü x");
        let line = reader.next_line().unwrap().unwrap();
        assert_eq!(line.position(3).column, 3);
        assert_eq!(line.end().column, 4);
    }

    #[test]
    fn rejects_huge_lines() {
        let text = "a".repeat(MAX_LINE_LENGTH + 1);
        assert!(LineReader::new(&text).next_line().is_err());
        let text = "a".repeat(MAX_LINE_LENGTH);
        assert!(LineReader::new(&text).next_line().is_ok());
    }
}
