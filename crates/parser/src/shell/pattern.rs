//! Shell patterns of `${v#p}`, `${v%p}` and `${v/p/r}`, matched as BuildKit matches them.
//!
//! BuildKit turns a pattern into a Go regular expression: `*` becomes `.*` (or `.*?` for
//! the shortest forms), `?` becomes `.`, `\*` `\?` `\\` stay escaped, `\}` and `\/` drop
//! their backslash, any other escape is an error, and every other character — regex
//! metacharacters and `[`/`]` included — is literal. Two properties of Go's regexes
//! carry over: matching is by character (not byte), and `.` does not match a newline,
//! so `*` and `?` never cross a `\n`.
//!
//! Such a pattern is a sequence of literals, any-one-character and any-run tokens, so
//! instead of a regex engine it is run as a small NFA: one pass over the value, cost
//! proportional to value length × pattern length, no backtracking. With only these
//! tokens, leftmost-first greedy matching (Go) ends where leftmost-longest matching
//! ends, and lazy matching ends where the shortest match ends, which is what the
//! simulation computes.

use super::chars::{is_digit, is_letter};

/// One element of a compiled pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    /// This exact character.
    Literal(char),
    /// `?`: any one character except a newline.
    AnyChar,
    /// `*`: any run of characters without a newline.
    AnyRun,
}

impl Token {
    /// Whether this token consumes `c` and moves on (`AnyRun` stays, see [`Nfa::step`]).
    fn consumes(self, c: char) -> bool {
        match self {
            Token::Literal(l) => l == c,
            Token::AnyChar | Token::AnyRun => c != '\n',
        }
    }
}

/// A pattern that BuildKit refuses: the escaped character (`None` for a trailing `\`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct InvalidEscape(pub(crate) Option<char>);

/// A compiled shell pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ShellPattern {
    tokens: Vec<Token>,
}

impl ShellPattern {
    /// Compiles `pattern` (already expanded, escapes still in it).
    pub(crate) fn parse(pattern: &str) -> Result<Self, InvalidEscape> {
        let mut tokens = Vec::with_capacity(pattern.len());
        let mut chars = pattern.chars().peekable();
        while let Some(c) = chars.next() {
            let token = match c {
                // Runs of `*` match what one does; keeping one keeps the NFA small.
                '*' if tokens.last() == Some(&Token::AnyRun) => continue,
                '*' => Token::AnyRun,
                '?' => Token::AnyChar,
                '\\' => match chars.peek().copied() {
                    // Escaped only so they do not end the `${…}`: the escape is no part
                    // of the pattern, the character is read on the next round.
                    Some('}' | '/') => continue,
                    Some(escaped @ ('*' | '?' | '\\')) => {
                        chars.next();
                        Token::Literal(escaped)
                    }
                    other => return Err(InvalidEscape(other)),
                },
                other => Token::Literal(other),
            };
            tokens.push(token);
        }
        Ok(ShellPattern { tokens })
    }

    /// `${v#p}` (`longest` false) and `${v##p}` (`longest` true): `value` without the
    /// shortest or longest prefix the pattern matches, or `value` when none does.
    pub(crate) fn trim_prefix<'v>(&self, value: &'v str, longest: bool) -> &'v str {
        let nfa = Nfa::new(self.tokens.iter().copied());
        let ends = value.char_indices().map(|(i, c)| (i + c.len_utf8(), c));
        match nfa.anchored_match(0, ends, !longest) {
            Some((shortest, longest_end)) => &value[if longest { longest_end } else { shortest }..],
            None => value,
        }
    }

    /// `${v%p}` and `${v%%p}`: `value` without the shortest or longest suffix the pattern
    /// matches. Runs the reversed pattern backwards over the value, as BuildKit does by
    /// reversing both.
    pub(crate) fn trim_suffix<'v>(&self, value: &'v str, longest: bool) -> &'v str {
        let nfa = Nfa::new(self.tokens.iter().rev().copied());
        let starts = value.char_indices().rev();
        match nfa.anchored_match(value.len(), starts, !longest) {
            // Going backwards, the first accepted offset is the shortest suffix.
            Some((shortest, longest_start)) => {
                &value[..if longest { longest_start } else { shortest }]
            }
            None => value,
        }
    }

    /// `${v/p/r}`: the first (leftmost, longest) match replaced by `replacement` as is.
    pub(crate) fn replace_first(&self, value: &str, replacement: &str) -> String {
        let nfa = Nfa::new(self.tokens.iter().copied());
        match nfa.find_at(value, 0) {
            Some((start, end)) => {
                let mut out = String::with_capacity(value.len() + replacement.len());
                out.push_str(&value[..start]);
                out.push_str(replacement);
                out.push_str(&value[end..]);
                out
            }
            None => value.to_owned(),
        }
    }

    /// `${v//p/r}`: every match replaced, with Go's `ReplaceAllString` rules: matches do
    /// not overlap, an empty match right after a match is skipped, and the replacement
    /// is a Go template (`$0`/`${0}` is the match, `$$` a dollar, other `$names` are
    /// empty, since the pattern has no groups).
    pub(crate) fn replace_all(&self, value: &str, replacement: &str) -> String {
        let nfa = Nfa::new(self.tokens.iter().copied());
        let mut out = String::with_capacity(value.len());
        let mut last_end = 0;
        let mut search = 0;
        while search <= value.len() {
            let Some((start, end)) = nfa.find_at(value, search) else {
                break;
            };
            out.push_str(&value[last_end..start]);
            if end > last_end || start == 0 {
                expand_template(&mut out, replacement, &value[start..end]);
            }
            last_end = end;
            // Always move on by at least one character.
            let width = value[search..].chars().next().map_or(0, char::len_utf8);
            search = if search + width > end {
                search + width
            } else if search + 1 > end {
                search + 1
            } else {
                end
            };
        }
        out.push_str(&value[last_end..]);
        out
    }
}

/// The pattern as a Thompson NFA: state `j` means "the first `j` tokens matched";
/// state `tokens.len()` accepts.
struct Nfa {
    tokens: Vec<Token>,
}

impl Nfa {
    fn new(tokens: impl Iterator<Item = Token>) -> Self {
        Nfa {
            tokens: tokens.collect(),
        }
    }

    fn accept(&self) -> usize {
        self.tokens.len()
    }

    /// Follows the empty moves: an `AnyRun` may match nothing. Indices only grow, so
    /// one ascending pass closes the set. `starts[j]` is the smallest match start that
    /// reaches state `j` (see [`Nfa::find_at`]); anchored runs use start 0 throughout.
    fn close(&self, starts: &mut [Option<usize>]) {
        for j in 0..self.tokens.len() {
            if let (Some(start), Token::AnyRun) = (starts[j], self.tokens[j]) {
                starts[j + 1] = min_start(starts[j + 1], start);
            }
        }
    }

    /// Moves every state over `c` into `next` (cleared first). Returns whether any
    /// state is left.
    fn step(&self, current: &[Option<usize>], c: char, next: &mut [Option<usize>]) -> bool {
        next.iter_mut().for_each(|s| *s = None);
        let mut alive = false;
        for (j, token) in self.tokens.iter().enumerate() {
            let Some(start) = current[j] else { continue };
            if token.consumes(c) {
                let to = if *token == Token::AnyRun { j } else { j + 1 };
                next[to] = min_start(next[to], start);
                alive = true;
            }
        }
        self.close(next);
        alive
    }

    /// Matches from a fixed origin over `chars`, given as (offset after the character,
    /// character) in walking order. Returns the first and the last offsets where the
    /// whole pattern was matched, or `None`. With `stop_at_first`, the walk ends at the
    /// first match (both offsets are then the same).
    fn anchored_match(
        &self,
        origin: usize,
        chars: impl Iterator<Item = (usize, char)>,
        stop_at_first: bool,
    ) -> Option<(usize, usize)> {
        let mut current = vec![None; self.accept() + 1];
        let mut next = current.clone();
        current[0] = Some(0);
        self.close(&mut current);
        let mut found: Option<(usize, usize)> = None;
        let record = |found: &mut Option<(usize, usize)>, offset: usize| {
            *found = Some(found.map_or((offset, offset), |(first, _)| (first, offset)));
        };
        if current[self.accept()].is_some() {
            record(&mut found, origin);
            if stop_at_first {
                return found;
            }
        }
        for (offset, c) in chars {
            if !self.step(&current, c, &mut next) {
                break;
            }
            std::mem::swap(&mut current, &mut next);
            if current[self.accept()].is_some() {
                record(&mut found, offset);
                if stop_at_first {
                    break;
                }
            }
        }
        found
    }

    /// The leftmost match starting at or after byte `from`, and of those the longest:
    /// `(start, end)` byte offsets. Threads keep the smallest start per state; once a
    /// match is known, no later start is tried and later-starting threads are dropped.
    fn find_at(&self, value: &str, from: usize) -> Option<(usize, usize)> {
        let accept = self.accept();
        let mut current: Vec<Option<usize>> = vec![None; accept + 1];
        let mut next = current.clone();
        let mut best: Option<(usize, usize)> = None;
        let mut chars = value[from..].char_indices().map(|(i, c)| (from + i, c));
        let mut position = from;
        loop {
            if best.is_none() {
                current[0] = min_start(current[0], position);
                self.close(&mut current);
            }
            if let Some(start) = current[accept] {
                let better = match best {
                    None => true,
                    Some((best_start, best_end)) => {
                        start < best_start || (start == best_start && position > best_end)
                    }
                };
                if better {
                    best = Some((start, position));
                }
            }
            if let Some((best_start, _)) = best {
                // Only threads that could still give a match as far left survive.
                current.iter_mut().for_each(|s| {
                    if s.is_some_and(|start| start > best_start) {
                        *s = None;
                    }
                });
                if current.iter().all(Option::is_none) {
                    return best;
                }
            }
            let Some((offset, c)) = chars.next() else {
                return best;
            };
            self.step(&current, c, &mut next);
            std::mem::swap(&mut current, &mut next);
            position = offset + c.len_utf8();
        }
    }
}

fn min_start(a: Option<usize>, b: usize) -> Option<usize> {
    Some(a.map_or(b, |a| a.min(b)))
}

/// Appends Go's `regexp.Expand` of `template` for a match without groups.
fn expand_template(out: &mut String, template: &str, matched: &str) {
    let mut rest = template;
    while let Some(dollar) = rest.find('$') {
        out.push_str(&rest[..dollar]);
        rest = &rest[dollar + 1..];
        if let Some(after) = rest.strip_prefix('$') {
            out.push('$');
            rest = after;
            continue;
        }
        match template_reference(rest) {
            Some((is_whole_match, after)) => {
                if is_whole_match {
                    out.push_str(matched);
                }
                rest = after;
            }
            // Malformed: the `$` stays as text.
            None => out.push('$'),
        }
    }
    out.push_str(rest);
}

/// Reads `name` or `{name}` after a `$` in a Go replacement template. Returns whether it
/// names group 0 (the whole match; no other group exists) and the text after it, or
/// `None` when no valid reference follows.
fn template_reference(text: &str) -> Option<(bool, &str)> {
    let (braced, body) = match text.strip_prefix('{') {
        Some(body) => (true, body),
        None => (false, text),
    };
    let name_len = body
        .char_indices()
        .find(|&(_, c)| !(c == '_' || is_letter(c) || is_digit(c)))
        .map_or(body.len(), |(i, _)| i);
    if name_len == 0 {
        return None;
    }
    let name = &body[..name_len];
    let after = if braced {
        body[name_len..].strip_prefix('}')?
    } else {
        &body[name_len..]
    };
    // Go reads a number only from ASCII digits and refuses leading zeros: `$00` is a name.
    Some((name == "0", after))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pattern(p: &str) -> ShellPattern {
        ShellPattern::parse(p).unwrap_or_else(|e| panic!("{p:?}: {e:?}"))
    }

    #[test]
    fn compiles_wildcards_escapes_and_literals() {
        assert_eq!(
            pattern("a*?").tokens,
            vec![Token::Literal('a'), Token::AnyRun, Token::AnyChar]
        );
        assert_eq!(pattern("**").tokens, vec![Token::AnyRun]);
        assert_eq!(
            pattern(r"\*\?\\").tokens,
            vec![
                Token::Literal('*'),
                Token::Literal('?'),
                Token::Literal('\\')
            ]
        );
        assert_eq!(
            pattern(r"\}\/").tokens,
            vec![Token::Literal('}'), Token::Literal('/')]
        );
        assert_eq!(pattern("[a].$^").tokens.len(), 6);
        assert_eq!(ShellPattern::parse("\\"), Err(InvalidEscape(None)));
        assert_eq!(ShellPattern::parse(r"\x"), Err(InvalidEscape(Some('x'))));
        assert_eq!(ShellPattern::parse(r"\\\"), Err(InvalidEscape(None)));
    }

    #[test]
    fn trims_shortest_and_longest_prefix() {
        assert_eq!(pattern("*x*y").trim_prefix("xxyy", false), "y");
        assert_eq!(pattern("*").trim_prefix("xxyy", false), "xxyy");
        assert_eq!(pattern("*").trim_prefix("xxyy", true), "");
        assert_eq!(pattern("*x").trim_prefix("xxyy", true), "yy");
        assert_eq!(pattern("z").trim_prefix("xxyy", true), "xxyy");
        assert_eq!(pattern("").trim_prefix("xxyy", true), "xxyy");
        assert_eq!(pattern(r"?\?").trim_prefix("???y", false), "?y");
    }

    #[test]
    fn trims_shortest_and_longest_suffix() {
        assert_eq!(pattern("x").trim_suffix("xxyy", false), "xxyy");
        assert_eq!(pattern("y*").trim_suffix("xxyy", false), "xxy");
        assert_eq!(pattern("y*").trim_suffix("xxyy", true), "xx");
        assert_eq!(pattern(r"\**\*").trim_suffix("a***yy*", true), "a");
        assert_eq!(pattern(r"\**").trim_suffix("xx**", true), "xx");
        assert_eq!(pattern(".*").trim_suffix("a.b.txt", false), "a.b");
        assert_eq!(pattern(".*").trim_suffix("a.b.txt", true), "a");
    }

    #[test]
    fn wildcards_do_not_cross_newlines() {
        assert_eq!(pattern("*/").trim_prefix("a\nb/c", false), "a\nb/c");
        assert_eq!(pattern("?b").trim_prefix("\nb", false), "\nb");
        assert_eq!(pattern("*").trim_prefix("ab\ncd", true), "\ncd");
    }

    #[test]
    fn matches_by_character_not_byte() {
        assert_eq!(pattern("?").trim_prefix("한국어", false), "국어");
        assert_eq!(pattern("?").trim_suffix("한국어", false), "한국");
        assert_eq!(pattern("국").replace_all("한국어국", "-"), "한-어-");
    }

    #[test]
    fn replaces_first_and_all() {
        assert_eq!(
            pattern(r"\*/").replace_first("/foo*/*/*.txt", "."),
            "/foo.*/*.txt"
        );
        assert_eq!(
            pattern(r"\*/").replace_all("/foo*/*/*.txt", "."),
            "/foo..*.txt"
        );
        assert_eq!(
            pattern("/?/").replace_first("/a/foo/b/c.txt", "/"),
            "/foo/b/c.txt"
        );
        assert_eq!(
            pattern("/?/").replace_all("/a/foo/b/c.txt", "/"),
            "/foo/c.txt"
        );
        assert_eq!(
            pattern("/tmp").replace_all("/tmp/tmp/bar.txt", ""),
            "/bar.txt"
        );
        assert_eq!(pattern("a*").replace_first("xaaya", "-"), "x-");
        assert_eq!(
            pattern("b").replace_first("abc", "$0$0"),
            "a$0$0c",
            "single replace is literal"
        );
    }

    #[test]
    fn empty_matches_follow_go() {
        assert_eq!(pattern("").replace_first("xxyy", "ww"), "wwxxyy");
        assert_eq!(pattern("").replace_all("xy", "-"), "-x-y-");
        assert_eq!(pattern("").replace_all("", "-"), "-");
        assert_eq!(pattern("").replace_all("xxyy", ""), "xxyy");
        // `*` matches all of "xxyy"; the empty match right after it is skipped.
        assert_eq!(pattern("*").replace_all("xxyy", "-"), "-");
        assert_eq!(pattern("x*").replace_all("xxyy", "-"), "-");
        assert_eq!(pattern("?*").replace_all("ab\ncd", "-"), "-\n-");
    }

    #[test]
    fn replace_all_expands_go_templates() {
        assert_eq!(pattern("b").replace_all("abc", "[$0]"), "a[b]c");
        assert_eq!(pattern("b").replace_all("abc", "[${0}]"), "a[b]c");
        assert_eq!(pattern("b").replace_all("abc", "$$"), "a$c");
        assert_eq!(pattern("b").replace_all("abc", "$1x."), "a.c");
        assert_eq!(pattern("b").replace_all("abc", "$.{"), "a$.{c");
        assert_eq!(pattern("b").replace_all("abc", "${0"), "a${0c");
        assert_eq!(pattern("b").replace_all("abc", "$00"), "ac");
    }
}
