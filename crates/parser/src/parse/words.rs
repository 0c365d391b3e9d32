//! Word splitting rules of BuildKit's parser level (before expansion).
//!
//! * [`split_blanks`]: split on runs of `[ \t\v\f\r]`, no quoting (FROM,
//!   EXPOSE, ADD/COPY/VOLUME shell form).
//! * [`quote_aware_words`]: words separated by whitespace outside quotes,
//!   quotes and escapes kept verbatim (ENV, LABEL, ARG).
//! * [`extract_flags`]: the leading `--flag` words of any instruction.

/// The blanks of BuildKit's `[\t\v\f\r ]` regex.
pub fn is_blank(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\x0b' | '\x0c' | '\r')
}

/// Splits `text` at runs of blanks. Empty input gives no words; leading or
/// trailing blanks give empty words, as Go's `regexp.Split` does (callers
/// pass trimmed text).
pub fn split_blanks(text: &str) -> Vec<String> {
    if text.is_empty() {
        return Vec::new();
    }
    let mut words = Vec::new();
    let mut rest = text;
    loop {
        match rest.find(is_blank) {
            Some(i) => {
                words.push(rest[..i].to_string());
                rest = rest[i..].trim_start_matches(is_blank);
                if rest.is_empty() {
                    words.push(String::new());
                    break;
                }
            }
            None => {
                words.push(rest.to_string());
                break;
            }
        }
    }
    words
}

/// Splits once at the first run of blanks: `(head, Some(rest))`.
pub fn split_blanks_once(text: &str) -> (&str, Option<&str>) {
    match text.find(is_blank) {
        Some(i) => (&text[..i], Some(text[i..].trim_start_matches(is_blank))),
        None => (text, None),
    }
}

/// Quote-aware words (BuildKit's `parseWords`): whitespace outside quotes
/// separates words; quotes and escape tokens stay in the word; the escape
/// token protects the next character outside quotes and inside `"…"`; an
/// escape token at the very end is dropped; `""` alone is a word.
pub fn quote_aware_words(text: &str, escape: char) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    let mut blank_ok = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if let Some(q) = quote {
            if c == q {
                quote = None;
            }
            if c == escape && q != '\'' {
                match chars.next() {
                    None => {
                        quote = None;
                        continue;
                    }
                    Some(next) => {
                        word.push(c);
                        word.push(next);
                        continue;
                    }
                }
            }
            word.push(c);
            continue;
        }
        if !in_word {
            if c.is_whitespace() {
                continue;
            }
            in_word = true;
        }
        if c.is_whitespace() {
            if blank_ok || !word.is_empty() {
                words.push(std::mem::take(&mut word));
            }
            in_word = false;
            blank_ok = false;
            continue;
        }
        if c == '\'' || c == '"' {
            quote = Some(c);
            blank_ok = true;
        }
        if c == escape {
            match chars.next() {
                None => continue,
                Some(next) => {
                    word.push(c);
                    word.push(next);
                    continue;
                }
            }
        }
        word.push(c);
    }
    if in_word && (blank_ok || !word.is_empty()) {
        words.push(word);
    }
    words
}

/// Takes the leading `--flag` words off `text` (BuildKit's
/// `extractBuilderFlags`). Returns the flags (quotes removed, `\` escapes
/// applied) and the remaining text. A bare `--` ends the flags and is
/// dropped. As in BuildKit the escape character here is always `\`,
/// whatever the escape directive says.
pub fn extract_flags(text: &str) -> (Vec<String>, &str) {
    let mut flags = Vec::new();
    let mut rest = text;
    loop {
        let trimmed = rest.trim_start();
        if !trimmed.starts_with("--") {
            return (flags, trimmed);
        }
        let mut word = String::new();
        let mut blank_ok = false;
        let mut quote: Option<char> = None;
        let mut end = trimmed.len();
        let mut chars = trimmed.char_indices();
        while let Some((i, c)) = chars.next() {
            if let Some(q) = quote {
                if c == q {
                    quote = None;
                } else if c == '\\' {
                    match chars.next() {
                        Some((_, next)) => word.push(next),
                        None => quote = None,
                    }
                } else {
                    word.push(c);
                }
                continue;
            }
            if c.is_whitespace() {
                end = i;
                break;
            }
            if c == '\'' || c == '"' {
                quote = Some(c);
                blank_ok = true;
            } else if c == '\\' {
                if let Some((_, next)) = chars.next() {
                    word.push(next);
                }
            } else {
                word.push(c);
            }
        }
        rest = &trimmed[end..];
        if word == "--" {
            return (flags, rest.trim_start());
        }
        if blank_ok || !word.is_empty() {
            flags.push(word);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blanks() {
        assert_eq!(split_blanks("a \t b"), vec!["a", "b"]);
        assert!(split_blanks("").is_empty());
        assert_eq!(split_blanks_once("a  b c"), ("a", Some("b c")));
    }

    #[test]
    fn quote_aware() {
        assert_eq!(
            quote_aware_words(r#"abc="123 456" def"#, '\\'),
            vec![r#"abc="123 456""#, "def"]
        );
        assert_eq!(
            quote_aware_words(r"foo\ bar x", '\\'),
            vec![r"foo\ bar", "x"]
        );
        assert_eq!(quote_aware_words(r#""""#, '\\'), vec![r#""""#]);
        assert_eq!(quote_aware_words(r"a\", '\\'), vec!["a"]);
        assert_eq!(quote_aware_words(r"'a\'b' c", '\\'), vec![r"'a\'b' c"]);
        assert_eq!(
            quote_aware_words(r#""a\"b" c"#, '\\'),
            vec![r#""a\"b""#, "c"]
        );
    }

    #[test]
    fn flags() {
        assert_eq!(
            extract_flags("--user=me --doit=true foo /tmp/"),
            (vec!["--user=me".into(), "--doit=true".into()], "foo /tmp/")
        );
        assert_eq!(
            extract_flags("--doit=true -- foo"),
            (vec!["--doit=true".into()], "foo")
        );
        assert_eq!(extract_flags("-- foo"), (vec![], "foo"));
        assert_eq!(
            extract_flags(r#"--mount="type=cache,target=/a b" x"#),
            (vec!["--mount=type=cache,target=/a b".into()], "x")
        );
        assert_eq!(extract_flags("--doit"), (vec!["--doit".into()], ""));
        assert_eq!(extract_flags("-x"), (vec![], "-x"));
    }
}
