//! From one logical line to a raw [`Node`]: keyword, flags, and the
//! per-instruction argument rule (BuildKit's dispatch table).

use crate::error::ParseErrorKind;
use crate::node::Node;
use crate::parse::json::{JsonArgs, parse_json_array};
use crate::parse::words::{extract_flags, quote_aware_words, split_blanks, split_blanks_once};

/// How an instruction's argument text becomes argument strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ArgRule {
    /// FROM, EXPOSE: split on blanks.
    Blanks,
    /// ADD, COPY, VOLUME: JSON array, else split on blanks.
    JsonOrBlanks,
    /// RUN, CMD, ENTRYPOINT, SHELL: JSON array, else the whole text.
    JsonOrText,
    /// HEALTHCHECK: a type word, then the JSON-or-text rule.
    Healthcheck,
    /// ENV, LABEL: name/value pairs.
    NameValue,
    /// ARG: quote-aware words.
    Words,
    /// MAINTAINER, USER, WORKDIR, STOPSIGNAL: the whole text.
    Text,
    /// ONBUILD: a nested instruction.
    Nested,
    /// Unknown keyword: arguments dropped (one empty string).
    Ignore,
}

fn rule_for(keyword: &str) -> ArgRule {
    const RULES: [(&str, ArgRule); 18] = [
        ("run", ArgRule::JsonOrText),
        ("copy", ArgRule::JsonOrBlanks),
        ("env", ArgRule::NameValue),
        ("from", ArgRule::Blanks),
        ("arg", ArgRule::Words),
        ("add", ArgRule::JsonOrBlanks),
        ("label", ArgRule::NameValue),
        ("cmd", ArgRule::JsonOrText),
        ("workdir", ArgRule::Text),
        ("entrypoint", ArgRule::JsonOrText),
        ("expose", ArgRule::Blanks),
        ("user", ArgRule::Text),
        ("volume", ArgRule::JsonOrBlanks),
        ("healthcheck", ArgRule::Healthcheck),
        ("shell", ArgRule::JsonOrText),
        ("stopsignal", ArgRule::Text),
        ("maintainer", ArgRule::Text),
        ("onbuild", ArgRule::Nested),
    ];
    RULES
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(keyword))
        .map_or(ArgRule::Ignore, |&(_, rule)| rule)
}

/// True for keywords whose instructions may carry heredocs.
pub fn takes_heredocs(keyword: &str) -> bool {
    ["run", "copy", "add"]
        .iter()
        .any(|k| k.eq_ignore_ascii_case(keyword))
}

/// Deepest `ONBUILD ONBUILD ...` nesting accepted at the raw level. The
/// typed layer rejects any nesting; the limit keeps the recursive parse,
/// dump and drop of hostile input (continuation lines make logical lines
/// unbounded) far from the stack limit.
const MAX_NESTING: usize = 64;

/// Builds the raw node for a logical line. Spans and `original` are left
/// for the caller to fill in.
pub fn node_from_line(line: &str, escape: char) -> Result<Node, ParseErrorKind> {
    node_at_depth(line, escape, 0)
}

fn node_at_depth(line: &str, escape: char, depth: usize) -> Result<Node, ParseErrorKind> {
    let (keyword, rest) = split_blanks_once(line.trim());
    let (flags, args_text) = match rest {
        Some(rest) => extract_flags(rest),
        None => (Vec::new(), ""),
    };
    let args_text = args_text.trim();
    let mut node = Node {
        keyword: keyword.to_string(),
        flags,
        args: Vec::new(),
        nested: None,
        json: false,
        heredocs: Vec::new(),
        span: Default::default(),
        keyword_span: Default::default(),
        original: String::new(),
        segments: Vec::new(),
    };
    match rule_for(keyword) {
        ArgRule::Blanks => node.args = split_blanks(args_text),
        ArgRule::JsonOrBlanks => match parse_json_array(args_text) {
            JsonArgs::Strings(args) => {
                node.args = args;
                node.json = true;
            }
            JsonArgs::NotAllStrings => return Err(non_string(keyword)),
            JsonArgs::NotJson => node.args = split_blanks(args_text),
        },
        ArgRule::JsonOrText => json_or_text(&mut node, args_text, keyword)?,
        ArgRule::Healthcheck => {
            let end = args_text
                .find(char::is_whitespace)
                .unwrap_or(args_text.len());
            if end > 0 {
                node.args.push(args_text[..end].to_string());
                let command = args_text[end..].trim_start();
                json_or_text(&mut node, command, keyword)?;
            }
        }
        ArgRule::NameValue => node.args = name_values(args_text, keyword, escape)?,
        ArgRule::Words => node.args = quote_aware_words(args_text, escape),
        ArgRule::Text => {
            if !args_text.is_empty() {
                node.args.push(args_text.to_string());
            }
        }
        ArgRule::Nested => {
            if depth >= MAX_NESTING {
                return Err(ParseErrorKind::InvalidArguments {
                    instruction: "ONBUILD".to_string(),
                    message: format!("instructions nested more than {MAX_NESTING} levels deep"),
                });
            }
            if !args_text.is_empty() {
                node.nested = Some(Box::new(node_at_depth(args_text, escape, depth + 1)?));
            }
        }
        ArgRule::Ignore => node.args.push(String::new()),
    }
    Ok(node)
}

fn non_string(keyword: &str) -> ParseErrorKind {
    ParseErrorKind::NonStringJsonArray {
        instruction: keyword.to_ascii_uppercase(),
    }
}

fn json_or_text(node: &mut Node, text: &str, keyword: &str) -> Result<(), ParseErrorKind> {
    if text.is_empty() {
        return Ok(());
    }
    match parse_json_array(text) {
        JsonArgs::Strings(args) => {
            node.args.extend(args);
            node.json = true;
        }
        JsonArgs::NotAllStrings => return Err(non_string(keyword)),
        JsonArgs::NotJson => node.args.push(text.to_string()),
    }
    Ok(())
}

/// ENV/LABEL: either the legacy `name value` (nodes `name`, `value`, `""`)
/// or `name=value ...` (nodes `name`, `value`, `"="` per pair).
fn name_values(text: &str, keyword: &str, escape: char) -> Result<Vec<String>, ParseErrorKind> {
    let words = quote_aware_words(text, escape);
    let Some(first) = words.first() else {
        return Ok(Vec::new());
    };
    if !first.contains('=') {
        let (name, value) = split_blanks_once(text);
        let Some(value) = value else {
            return Err(ParseErrorKind::MissingValue {
                instruction: keyword.to_ascii_uppercase(),
            });
        };
        return Ok(vec![name.to_string(), value.to_string(), String::new()]);
    }
    let mut args = Vec::with_capacity(words.len() * 3);
    for word in words {
        let Some((name, value)) = word.split_once('=') else {
            return Err(ParseErrorKind::MissingEquals { word });
        };
        args.push(name.to_string());
        args.push(value.to_string());
        args.push("=".to_string());
    }
    Ok(args)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &str) -> Vec<String> {
        node_from_line(line, '\\').unwrap().args
    }

    #[test]
    fn rules() {
        assert_eq!(args("FROM a AS b"), ["a", "AS", "b"]);
        assert_eq!(args("RUN echo a  b"), ["echo a  b"]);
        assert_eq!(args(r#"RUN ["a", "b"]"#), ["a", "b"]);
        assert_eq!(args("ENV a b c"), ["a", "b c", ""]);
        assert_eq!(
            args(r#"ENV a=1 b="x y""#),
            ["a", "1", "=", "b", "\"x y\"", "="]
        );
        assert_eq!(args("HEALTHCHECK CMD a b"), ["CMD", "a b"]);
        assert_eq!(args("FOO bar"), [""]);
        assert!(args("CMD").is_empty());
        let onbuild = node_from_line("ONBUILD RUN x", '\\').unwrap();
        assert_eq!(onbuild.nested.unwrap().args, ["x"]);
    }

    #[test]
    fn rule_errors() {
        assert!(matches!(
            node_from_line("ENV PATH", '\\'),
            Err(ParseErrorKind::MissingValue { .. })
        ));
        assert!(matches!(
            node_from_line("ENV a=1 b", '\\'),
            Err(ParseErrorKind::MissingEquals { .. })
        ));
        assert!(matches!(
            node_from_line(r#"CMD ["a", ["b"]]"#, '\\'),
            Err(ParseErrorKind::NonStringJsonArray { .. })
        ));
    }
}
