//! BuildKit's parser test dump format (see
//! `testdata/conformance/buildkit/FORMAT.md`): one `(keyword ["flags"]
//! "arg"...)` line per instruction, strings quoted like Go's
//! `strconv.Quote`.

use std::fmt::Write as _;

use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};

use crate::ast::Dockerfile;
use crate::node::{Node, SyntaxTree};

/// The BuildKit dump of a typed Dockerfile (from each instruction's raw
/// node). Ends with a newline, like the fixtures' `result` files.
pub fn buildkit_dump(dockerfile: &Dockerfile) -> String {
    dump_nodes(dockerfile.instructions.iter().map(|i| &i.node))
}

/// The BuildKit dump of a raw syntax tree. Use this for Dockerfiles the
/// typed layer rejects (unknown flags or instructions), as BuildKit's own
/// parser tests do.
pub fn buildkit_dump_syntax(tree: &SyntaxTree) -> String {
    dump_nodes(tree.nodes.iter())
}

fn dump_nodes<'a>(nodes: impl Iterator<Item = &'a Node>) -> String {
    let mut out = String::new();
    for node in nodes {
        out.push('(');
        out.push_str(&dump_node(node));
        out.push_str(")\n");
    }
    // Go trims the whole dump, then the test appends one newline.
    let trimmed_len = out.trim_end().len();
    out.truncate(trimmed_len);
    out.push('\n');
    out
}

/// One node without the surrounding parentheses.
pub fn dump_node(node: &Node) -> String {
    let mut out = node.keyword.to_lowercase();
    if !node.flags.is_empty() {
        out.push_str(" [");
        for (i, flag) in node.flags.iter().enumerate() {
            if i > 0 {
                out.push(' ');
            }
            go_quote_into(&mut out, flag);
        }
        out.push(']');
    }
    for arg in &node.args {
        out.push(' ');
        go_quote_into(&mut out, arg);
    }
    if let Some(nested) = &node.nested {
        out.push_str(" (");
        out.push_str(&dump_node(nested));
        out.push(')');
    }
    out.trim().to_string()
}

/// Go's `strconv.Quote`.
pub fn go_quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    go_quote_into(&mut out, text);
    out
}

fn go_quote_into(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\x07' => out.push_str("\\a"),
            '\x08' => out.push_str("\\b"),
            '\x0c' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\x0b' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c == '\x7f' => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if c.is_ascii() || is_go_printable(c) => out.push(c),
            c if (c as u32) < 0x10000 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => {
                let _ = write!(out, "\\U{:08x}", c as u32);
            }
        }
    }
    out.push('"');
}

/// Go's `unicode.IsPrint` for non-ASCII: letters, marks, numbers,
/// punctuation and symbols (no separators, no control/format/private/
/// unassigned code points).
fn is_go_printable(c: char) -> bool {
    use GeneralCategory as G;
    !matches!(
        c.general_category(),
        G::SpaceSeparator
            | G::LineSeparator
            | G::ParagraphSeparator
            | G::Control
            | G::Format
            | G::Surrogate
            | G::PrivateUse
            | G::Unassigned
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_like_go() {
        assert_eq!(go_quote("a\"b\\c"), r#""a\"b\\c""#);
        assert_eq!(go_quote("\x00\x07\x1b\x7f"), r#""\x00\a\x1b\x7f""#);
        assert_eq!(go_quote("☥ 한국어"), "\"☥ 한국어\"");
        assert_eq!(
            go_quote("\u{a0}\u{200b}\u{e000}"),
            r#""\u00a0\u200b\ue000""#
        );
        assert_eq!(go_quote("\u{f0000}"), r#""\U000f0000""#);
    }
}
