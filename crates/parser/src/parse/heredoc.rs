//! Finding heredoc openers (`<<EOF`, `<<-EOF`, `3<<'EOF'`) on an
//! instruction line.
//!
//! The line is split into shell-like words (quotes and escapes kept, so a
//! `<<` inside quotes is not an opener); every word of the form
//! `[digits]<<[-]NAME` opens a heredoc, where NAME must lex as exactly one
//! word. Any quote in NAME means "do not expand the body". As in BuildKit,
//! `<<` followed by blanks takes the next word as its name, and the escape
//! character for this purpose is always `\`.

use crate::error::ParseErrorKind;

/// A heredoc opener found on an instruction line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeredocOpener {
    /// Delimiter with quotes and escapes removed.
    pub name: String,
    /// False when any part of the delimiter was quoted.
    pub expand: bool,
    /// `<<-`: leading tabs are stripped from body and terminator.
    pub chomp: bool,
    /// `3<<EOF`.
    pub file_descriptor: Option<u32>,
}

/// All heredoc openers on `line`, in order.
pub fn heredocs_in_line(line: &str) -> Result<Vec<HeredocOpener>, ParseErrorKind> {
    let words = raw_words(line);
    let mut openers = Vec::new();
    let mut index = 0;
    while index < words.len() {
        let mut word = words[index].clone();
        if is_bare_opener(&word) && index + 1 < words.len() {
            word.push(' ');
            word.push_str(&words[index + 1]);
            index += 1;
        }
        if let Some(opener) = parse_opener(&word)? {
            openers.push(opener);
        }
        index += 1;
    }
    Ok(openers)
}

/// `<<`, `<<-`, `3<<`: an opener whose name follows after blanks.
fn is_bare_opener(word: &str) -> bool {
    let rest = word.trim_start_matches(|c: char| c.is_ascii_digit());
    rest == "<<" || rest == "<<-"
}

/// Parses one word as a heredoc opener (BuildKit's `ParseHeredoc`):
/// `Ok(None)` when it is not one, an error for unbalanced quotes.
pub fn parse_opener(word: &str) -> Result<Option<HeredocOpener>, ParseErrorKind> {
    let digits = word.bytes().take_while(u8::is_ascii_digit).count();
    let Some(after) = word[digits..].strip_prefix("<<") else {
        return Ok(None);
    };
    let (chomp, rest) = match after.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, after),
    };
    if rest.is_empty() || rest.contains('<') {
        return Ok(None);
    }
    let Some((name, quoted)) = unquote_single_word(rest) else {
        return Err(ParseErrorKind::InvalidHeredoc {
            word: word.to_string(),
        });
    };
    let Some(name) = name else {
        return Ok(None);
    };
    let file_descriptor = if digits > 0 {
        word[..digits].parse().ok()
    } else {
        None
    };
    Ok(Some(HeredocOpener {
        name,
        expand: !quoted,
        chomp,
        file_descriptor,
    }))
}

/// Lexes `text` with quote removal. Returns `None` on an unterminated
/// quote, `Some((None, _))` when it is not exactly one word, else the word
/// and whether any quoting was used.
fn unquote_single_word(text: &str) -> Option<(Option<String>, bool)> {
    let mut words = 0usize;
    let mut word = String::new();
    let mut in_word = false;
    let mut quoted = false;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {
                if in_word {
                    words += 1;
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                quoted = true;
                loop {
                    match chars.next()? {
                        '\'' => break,
                        other => word.push(other),
                    }
                }
            }
            '"' => {
                in_word = true;
                quoted = true;
                loop {
                    match chars.next()? {
                        '"' => break,
                        '\\' => match chars.next()? {
                            next @ ('"' | '$' | '\\') => word.push(next),
                            next => {
                                word.push('\\');
                                word.push(next);
                            }
                        },
                        other => word.push(other),
                    }
                }
            }
            '\\' => {
                in_word = true;
                if let Some(next) = chars.next() {
                    word.push(next);
                }
            }
            other => {
                in_word = true;
                word.push(other);
            }
        }
    }
    if in_word {
        words += 1;
    }
    Some(((words == 1).then_some(word), quoted))
}

/// Splits a line into words, keeping quotes and escapes. An unterminated
/// quote ends the last word at the end of the line, so that `<<'EOF` is
/// still seen (and rejected) as a malformed heredoc opener.
fn raw_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c.is_whitespace() {
            if in_word {
                words.push(std::mem::take(&mut word));
                in_word = false;
            }
            continue;
        }
        in_word = true;
        word.push(c);
        match c {
            '\\' => {
                if let Some(next) = chars.next() {
                    word.push(next);
                }
            }
            '\'' | '"' => {
                while let Some(inner) = chars.next() {
                    word.push(inner);
                    if inner == c {
                        break;
                    }
                    if c == '"'
                        && inner == '\\'
                        && let Some(next) = chars.next()
                    {
                        word.push(next);
                    }
                }
            }
            _ => {}
        }
    }
    if in_word {
        words.push(word);
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(line: &str) -> Vec<String> {
        heredocs_in_line(line)
            .unwrap()
            .into_iter()
            .map(|h| h.name)
            .collect()
    }

    #[test]
    fn openers_in_lines() {
        assert_eq!(names("RUN <<EOF"), ["EOF"]);
        assert_eq!(names("RUN <<-EOF"), ["EOF"]);
        assert_eq!(names("RUN <<- EOF"), ["EOF"]);
        assert_eq!(names("RUN << -EOF"), ["-EOF"]);
        assert_eq!(names("RUN <<'EOF'"), ["EOF"]);
        assert_eq!(names("RUN 4<<EOF"), ["EOF"]);
        assert_eq!(names("RUN <<EOF <<EOF2"), ["EOF", "EOF2"]);
        assert_eq!(names("RUN <<  EOF  > foo"), ["EOF"]);
        assert!(names("RUN '<<EOF'").is_empty());
        assert!(names(r#"RUN "<<EOF""#).is_empty());
        assert!(names("RUN <<<EOF").is_empty());
        assert!(names("RUN <<").is_empty());
    }

    #[test]
    fn opener_words() {
        for valid in [
            "<<EOF",
            "<<'EOF'",
            r#"<<"EOF""#,
            "<<-EOF",
            "<<-'EOF'",
            r#"<<-"EOF""#,
            r#"<<EO"F""#,
            "<< EOF",
            "<<- EOF",
        ] {
            assert_eq!(parse_opener(valid).unwrap().unwrap().name, "EOF", "{valid}");
        }
        for invalid in ["<<'EOF", "<<\"EOF", "<<EOF'", "<<EOF\""] {
            assert!(parse_opener(invalid).is_err(), "{invalid}");
        }
        for not in ["", "EOF", "<<", "<<-", "<EOF", "<<<EOF", "<<EOF sh"] {
            assert_eq!(parse_opener(not).unwrap(), None, "{not}");
        }
    }

    #[test]
    fn quoting_controls_expansion() {
        let h = |w: &str| parse_opener(w).unwrap().unwrap();
        assert!(h("<<EOF").expand);
        assert!(!h("<<'EOF'").expand);
        assert!(!h("<<eo'f'").expand);
        assert_eq!(h("<<eo'f'").name, "eof");
        assert!(h(r"<<eo\'f").expand);
        assert_eq!(h(r"<<eo\'f").name, "eo'f");
        assert!(!h(r"<<'e'o\'f").expand);
        assert_eq!(h(r"<<'e'o\'f").name, "eo'f");
        assert_eq!(h("<<'one two'").name, "one two");
        assert_eq!(h("<<$EOF").name, "$EOF");
        assert_eq!(h("3<<EOF").file_descriptor, Some(3));
        assert!(h("<<-EOF").chomp);
    }
}
