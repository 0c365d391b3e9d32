//! The exec-form rule: is the argument text a JSON array of strings?
//!
//! The common case (an array of strings) is parsed with a small nom
//! grammar that decodes strings like Go's `encoding/json` (a lone UTF-16
//! surrogate becomes U+FFFD instead of an error). Anything else is handed
//! to serde_json only to tell "valid JSON with a non-string element" (a
//! hard error in BuildKit) from "not JSON" (fall back to shell form).

use nom::branch::alt;
use nom::bytes::complete::take_while_m_n;
use nom::character::complete::char;
use nom::combinator::{all_consuming, map, map_opt, value};
use nom::multi::{fold_many0, separated_list0};
use nom::sequence::{delimited, preceded};
use nom::{IResult, Parser};

/// Outcome of trying the JSON rule on an argument text.
#[derive(Debug, PartialEq, Eq)]
pub enum JsonArgs {
    /// A JSON array of strings: the decoded elements.
    Strings(Vec<String>),
    /// Valid JSON array, but an element is not a string: a hard error in
    /// BuildKit.
    NotAllStrings,
    /// Not a JSON array: the caller falls back to shell form.
    NotJson,
}

/// Applies BuildKit's rule: after left-trimming the text must start with
/// `[` and the whole text must be one JSON array.
pub fn parse_json_array(text: &str) -> JsonArgs {
    let text = text.trim_start();
    if !text.starts_with('[') {
        return JsonArgs::NotJson;
    }
    if let Ok((_, strings)) = string_array(text) {
        return JsonArgs::Strings(strings);
    }
    match serde_json::from_str::<Vec<serde_json::Value>>(text) {
        Ok(_) => JsonArgs::NotAllStrings,
        Err(_) => JsonArgs::NotJson,
    }
}

/// JSON whitespace (space, tab, newline, carriage return).
fn ws(input: &str) -> IResult<&str, &str> {
    nom::bytes::complete::take_while(|c| matches!(c, ' ' | '\t' | '\n' | '\r')).parse(input)
}

/// `[ "a" , "b" ]` with nothing but whitespace after it.
fn string_array(input: &str) -> IResult<&str, Vec<String>> {
    all_consuming(delimited(
        char('['),
        delimited(
            ws,
            separated_list0(delimited(ws, char(','), ws), string),
            ws,
        ),
        (char(']'), ws),
    ))
    .parse(input)
}

/// One piece of a JSON string: a run of plain characters or an escape.
#[derive(Clone)]
enum Piece<'a> {
    Text(&'a str),
    Char(char),
    Unit(u16),
}

fn string(input: &str) -> IResult<&str, String> {
    let plain = nom::bytes::complete::take_while1(|c: char| c != '"' && c != '\\' && c >= ' ');
    let piece = alt((
        map(plain, Piece::Text),
        preceded(
            char('\\'),
            alt((
                value(Piece::Char('"'), char('"')),
                value(Piece::Char('\\'), char('\\')),
                value(Piece::Char('/'), char('/')),
                value(Piece::Char('\u{8}'), char('b')),
                value(Piece::Char('\u{c}'), char('f')),
                value(Piece::Char('\n'), char('n')),
                value(Piece::Char('\r'), char('r')),
                value(Piece::Char('\t'), char('t')),
                map(preceded(char('u'), hex4), Piece::Unit),
            )),
        ),
    ));
    let body = fold_many0(piece, Decoder::default, |mut decoder, piece| {
        decoder.push(piece);
        decoder
    });
    let (rest, decoder) = delimited(char('"'), body, char('"')).parse(input)?;
    Ok((rest, decoder.finish()))
}

fn hex4(input: &str) -> IResult<&str, u16> {
    map_opt(take_while_m_n(4, 4, |c: char| c.is_ascii_hexdigit()), |h| {
        u16::from_str_radix(h, 16).ok()
    })
    .parse(input)
}

/// Builds a string from pieces, pairing UTF-16 surrogates like Go (a lone
/// surrogate becomes U+FFFD).
#[derive(Default)]
struct Decoder {
    out: String,
    high_surrogate: Option<u16>,
}

impl Decoder {
    fn push(&mut self, piece: Piece<'_>) {
        match piece {
            Piece::Unit(unit) => {
                if let Some(high) = self.high_surrogate.take() {
                    if (0xDC00..0xE000).contains(&unit) {
                        let code = 0x10000
                            + ((u32::from(high) - 0xD800) << 10)
                            + (u32::from(unit) - 0xDC00);
                        self.out.push(char::from_u32(code).unwrap_or('\u{fffd}'));
                        return;
                    }
                    self.out.push('\u{fffd}');
                }
                if (0xD800..0xDC00).contains(&unit) {
                    self.high_surrogate = Some(unit);
                } else {
                    self.out
                        .push(char::from_u32(u32::from(unit)).unwrap_or('\u{fffd}'));
                }
            }
            other => {
                if self.high_surrogate.take().is_some() {
                    self.out.push('\u{fffd}');
                }
                match other {
                    Piece::Text(text) => self.out.push_str(text),
                    Piece::Char(c) => self.out.push(c),
                    Piece::Unit(_) => {}
                }
            }
        }
    }

    fn finish(mut self) -> String {
        if self.high_surrogate.is_some() {
            self.out.push('\u{fffd}');
        }
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_rule() {
        assert_eq!(
            parse_json_array(r#" [ "a", "b" ]"#),
            JsonArgs::Strings(vec!["a".into(), "b".into()])
        );
        assert_eq!(parse_json_array("[]"), JsonArgs::Strings(vec![]));
        assert_eq!(parse_json_array("[ \t]\n"), JsonArgs::Strings(vec![]));
        assert_eq!(parse_json_array(r#"["a", 1]"#), JsonArgs::NotAllStrings);
        assert_eq!(parse_json_array(r#"["a", ["b"]]"#), JsonArgs::NotAllStrings);
        assert_eq!(parse_json_array("[null]"), JsonArgs::NotAllStrings);
        assert_eq!(parse_json_array("['a']"), JsonArgs::NotJson);
        assert_eq!(parse_json_array(r#"["a""#), JsonArgs::NotJson);
        assert_eq!(parse_json_array(r#"["a"] x"#), JsonArgs::NotJson);
        assert_eq!(parse_json_array(r#"["a",]"#), JsonArgs::NotJson);
        assert_eq!(parse_json_array("[\"a\tb\"]"), JsonArgs::NotJson);
        assert_eq!(parse_json_array("echo"), JsonArgs::NotJson);
    }

    #[test]
    fn string_escapes_decode_like_go() {
        let one = |text: &str| match parse_json_array(text) {
            JsonArgs::Strings(mut s) => s.remove(0),
            other => panic!("{text}: {other:?}"),
        };
        assert_eq!(
            one(r#"["\" \\ \/ \b \f \n \r \t \u0000"]"#),
            "\" \\ / \u{8} \u{c} \n \r \t \0"
        );
        assert_eq!(one(r#"["\u2665 ☃"]"#), "♥ ☃");
        assert_eq!(one(r#"["\ud83d\ude00"]"#), "😀");
        assert_eq!(one(r#"["\ud800x"]"#), "\u{fffd}x");
        assert_eq!(one(r#"["\udc00"]"#), "\u{fffd}");
        assert_eq!(one(r#"["\ud800\u0041"]"#), "\u{fffd}A");
    }
}
