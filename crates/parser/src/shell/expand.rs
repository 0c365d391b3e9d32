//! The expansion engine: one left-to-right pass over a word, BuildKit's
//! `shellWord` in behaviour.
//!
//! The engine reads characters with one-character lookahead. `${…}` words are
//! processed recursively into their own strings (their word boundaries are
//! irrelevant: BuildKit discards them), then applied to the variable's value.
//! Words inside `${…}` are always processed completely before the variable is
//! looked at, so `${A:-$B}` looks up (and reports) `B` even when `A` is set, and an
//! error inside the default is an error even when the default is not needed.

use std::borrow::Cow;
use std::collections::BTreeSet;

use super::chars::{is_digit, is_name_char, is_special_param};
use super::env::Env;
use super::error::{ExpandError, ExpandErrorKind};
use super::lexer::Lexer;
use super::output::Output;
use super::pattern::ShellPattern;

/// The variables a run looked up.
#[derive(Debug, Default)]
pub(crate) struct Usage {
    pub(crate) used: BTreeSet<String>,
    pub(crate) unset: BTreeSet<String>,
}

/// The state of one processing run.
pub(crate) struct Expansion<'s, 'e, E: Env + ?Sized> {
    escape: char,
    raw_quotes: bool,
    skip_unset_env: bool,
    process_quotes: bool,
    /// Whether escape tokens are kept. Starts as the lexer option; the pattern words
    /// of `${v#p}`, `${v%p}` and `${v/p/r}` turn it on while they are read, so that
    /// the pattern sees its `\*` escapes.
    raw_escapes: bool,
    source: &'s str,
    position: usize,
    env: &'e E,
    usage: Usage,
    /// How many `${` are open: the words inside them are processed recursively.
    depth: usize,
}

/// The deepest `${…}` nesting processed. Real Dockerfiles nest a handful of levels;
/// the limit turns hostile input into an error instead of a stack overflow.
pub(crate) const MAX_NESTING: usize = 200;

type Step<T> = Result<T, ExpandErrorKind>;

impl<'s, 'e, E: Env + ?Sized> Expansion<'s, 'e, E> {
    pub(crate) fn new(lexer: &Lexer, source: &'s str, env: &'e E) -> Self {
        let options = lexer.options();
        Expansion {
            escape: lexer.escape_token(),
            raw_quotes: options.raw_quotes,
            skip_unset_env: options.skip_unset_env,
            process_quotes: !options.skip_quote_processing,
            raw_escapes: options.raw_escapes,
            source,
            // Go's text/scanner, which BuildKit reads words with, drops a byte order
            // mark at the very start.
            position: if source.starts_with('\u{feff}') {
                '\u{feff}'.len_utf8()
            } else {
                0
            },
            env,
            usage: Usage::default(),
            depth: 0,
        }
    }

    /// Processes the whole source into `output`.
    pub(crate) fn run(mut self, output: &mut Output) -> Result<Usage, ExpandError> {
        let raw_escapes = self.raw_escapes;
        match self.process_until(None, raw_escapes, output) {
            Ok(()) => Ok(self.usage),
            Err(kind) => Err(ExpandError {
                word: self.source.to_owned(),
                offset: self.position,
                kind,
            }),
        }
    }

    fn peek(&self) -> Option<char> {
        self.source[self.position..].chars().next()
    }

    fn next_char(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.position += c.len_utf8();
        Some(c)
    }

    /// Reads until `stop` (consumed) or, for `None`, the end of the source.
    fn process_until(
        &mut self,
        stop: Option<char>,
        raw_escapes: bool,
        output: &mut Output,
    ) -> Step<()> {
        let saved = std::mem::replace(&mut self.raw_escapes, raw_escapes);
        let result = self.process_until_inner(stop, output);
        self.raw_escapes = saved;
        result
    }

    fn process_until_inner(&mut self, stop: Option<char>, output: &mut Output) -> Step<()> {
        while let Some(c) = self.peek() {
            if Some(c) == stop {
                self.position += c.len_utf8();
                return Ok(());
            }
            match c {
                '$' => {
                    let value = self.dollar()?;
                    output.expansion(&value);
                }
                '\'' if self.process_quotes => self.single_quoted(output.quoted())?,
                '"' if self.process_quotes => self.double_quoted(output.quoted())?,
                _ => {
                    self.position += c.len_utf8();
                    if c == self.escape {
                        if self.raw_escapes {
                            output.escaped(c);
                        }
                        // An escape token at the very end is dropped.
                        match self.next_char() {
                            Some(escaped) => output.escaped(escaped),
                            None => break,
                        }
                    } else {
                        output.literal(c);
                    }
                }
            }
        }
        match stop {
            Some('/') => Err(ExpandErrorKind::MissingSlash),
            Some(_) => Err(ExpandErrorKind::MissingBrace),
            None => Ok(()),
        }
    }

    /// The word inside `${…}` up to `stop`. As in BuildKit, any failure that ran into
    /// the end of the source is reported as the missing terminator.
    fn nested_word(&mut self, stop: char, raw_escapes: bool) -> Step<String> {
        let mut output = Output::Text(String::new());
        match self.process_until(Some(stop), raw_escapes, &mut output) {
            Ok(()) => Ok(match output {
                Output::Text(text) => text,
                Output::Words(_) => String::new(),
            }),
            Err(_) if self.position >= self.source.len() => Err(if stop == '/' {
                ExpandErrorKind::MissingSlash
            } else {
                ExpandErrorKind::MissingBrace
            }),
            Err(other) => Err(other),
        }
    }

    /// `'…'`: everything literal up to the next `'`.
    fn single_quoted(&mut self, buffer: &mut String) -> Step<()> {
        self.position += 1;
        if self.raw_quotes {
            buffer.push('\'');
        }
        let rest = &self.source[self.position..];
        let Some(end) = rest.find('\'') else {
            self.position = self.source.len();
            return Err(ExpandErrorKind::UnterminatedSingleQuote);
        };
        buffer.push_str(&rest[..end]);
        self.position += end + 1;
        if self.raw_quotes {
            buffer.push('\'');
        }
        Ok(())
    }

    /// `"…"`: `$` expands; the escape token protects `"`, `$` and itself and is kept
    /// before anything else.
    fn double_quoted(&mut self, buffer: &mut String) -> Step<()> {
        self.position += 1;
        if self.raw_quotes {
            buffer.push('"');
        }
        loop {
            match self.peek() {
                None => return Err(ExpandErrorKind::UnterminatedDoubleQuote),
                Some('"') => {
                    self.position += 1;
                    if self.raw_quotes {
                        buffer.push('"');
                    }
                    return Ok(());
                }
                Some('$') => {
                    let value = self.dollar()?;
                    buffer.push_str(&value);
                }
                Some(c) => {
                    self.position += c.len_utf8();
                    let mut kept = c;
                    if c == self.escape {
                        if self.raw_escapes {
                            buffer.push(c);
                        }
                        match self.peek() {
                            // A trailing escape is dropped; the loop then reports the
                            // missing quote.
                            None => continue,
                            Some(next) if next == '"' || next == '$' || next == self.escape => {
                                self.position += next.len_utf8();
                                kept = next;
                            }
                            // Not escapable: the escape token itself is kept (twice
                            // with raw escapes, as in BuildKit).
                            Some(_) => {}
                        }
                    }
                    buffer.push(kept);
                }
            }
        }
    }

    /// Reads a variable name: a run of digits, one special character, or a run of
    /// letters, digits and `_`. Empty when none follows.
    fn name(&mut self) -> &'s str {
        let source: &'s str = self.source;
        let start = self.position;
        let rest = &source[start..];
        let Some(first) = rest.chars().next() else {
            return "";
        };
        let length = if is_digit(first) {
            rest.find(|c: char| !is_digit(c)).unwrap_or(rest.len())
        } else if is_special_param(first) {
            first.len_utf8()
        } else {
            rest.find(|c: char| !is_name_char(c)).unwrap_or(rest.len())
        };
        self.position += length;
        &source[start..start + length]
    }

    /// Looks a variable up and records the use.
    fn lookup(&mut self, name: &str) -> Option<&'e str> {
        let env: &'e E = self.env;
        let value = env.get(name);
        if !self.usage.used.contains(name) {
            self.usage.used.insert(name.to_owned());
        }
        if value.is_none() && !self.usage.unset.contains(name) {
            self.usage.unset.insert(name.to_owned());
        }
        value
    }

    /// `$…` at the current position.
    fn dollar(&mut self) -> Step<Cow<'e, str>> {
        self.position += 1;
        if self.peek() != Some('{') {
            let name = self.name();
            if name.is_empty() {
                return Ok(Cow::Borrowed("$"));
            }
            return Ok(match self.lookup(name) {
                Some(value) => Cow::Borrowed(value),
                None if self.skip_unset_env => Cow::Owned(format!("${name}")),
                None => Cow::Borrowed(""),
            });
        }
        self.position += 1;
        if self.depth >= MAX_NESTING {
            return Err(ExpandErrorKind::NestingTooDeep { limit: MAX_NESTING });
        }
        self.depth += 1;
        let result = self.braced();
        self.depth -= 1;
        result
    }

    /// `${…}` after the opening brace.
    fn braced(&mut self) -> Step<Cow<'e, str>> {
        match self.peek() {
            None => return Err(ExpandErrorKind::MissingBrace),
            Some('{' | '}' | ':') => return Err(ExpandErrorKind::BadSubstitution),
            Some(_) => {}
        }
        let name = self.name();
        match self.next_char() {
            None => Err(ExpandErrorKind::MissingBrace),
            Some('}') => Ok(match self.lookup(name) {
                Some(value) => Cow::Borrowed(value),
                None if self.skip_unset_env => Cow::Owned(format!("${{{name}}}")),
                None => Cow::Borrowed(""),
            }),
            Some(':') => {
                let operator = self.next_char().ok_or(ExpandErrorKind::MissingBrace)?;
                self.modifier(name, true, operator)
            }
            Some(operator @ ('+' | '-' | '?' | '#' | '%')) => self.modifier(name, false, operator),
            Some('/') => self.replacement(name),
            Some(other) => Err(ExpandErrorKind::UnsupportedModifier {
                modifier: other.to_string(),
            }),
        }
    }

    /// `${name<op>word}` and `${name:<op>word}`, the name and operator already read.
    fn modifier(&mut self, name: &str, null_is_unset: bool, operator: char) -> Step<Cow<'e, str>> {
        let modifier = if null_is_unset {
            format!(":{operator}")
        } else {
            operator.to_string()
        };
        let is_pattern = operator == '#' || operator == '%';
        if null_is_unset && is_pattern {
            return Err(ExpandErrorKind::UnsupportedModifier { modifier });
        }
        let word = self.nested_word('}', is_pattern)?;
        let value = self.lookup(name);
        if value.is_none() && self.skip_unset_env {
            return Ok(Cow::Owned(format!("${{{name}{modifier}{word}}}")));
        }
        let is_null = match value {
            None => true,
            Some(v) => null_is_unset && v.is_empty(),
        };
        match operator {
            '-' => Ok(match value {
                Some(v) if !is_null => Cow::Borrowed(v),
                _ => Cow::Owned(word),
            }),
            '+' => Ok(if is_null {
                Cow::Borrowed("")
            } else {
                Cow::Owned(word)
            }),
            '?' => match value {
                Some(v) if !is_null => Ok(Cow::Borrowed(v)),
                _ => {
                    let message = if !word.is_empty() {
                        word
                    } else if value.is_none() {
                        "is not allowed to be unset".to_owned()
                    } else {
                        "is not allowed to be empty".to_owned()
                    };
                    Err(ExpandErrorKind::Required {
                        name: name.to_owned(),
                        message,
                    })
                }
            },
            '#' | '%' => {
                // A doubled operator (`##`, `%%`) asks for the longest match. BuildKit
                // checks the already expanded word, so this does too.
                let (longest, pattern_text) = match word.strip_prefix(operator) {
                    Some(rest) => (true, rest),
                    None => (false, word.as_str()),
                };
                let pattern = compile(pattern_text)?;
                let value = value.unwrap_or("");
                let trimmed = if operator == '#' {
                    pattern.trim_prefix(value, longest)
                } else {
                    pattern.trim_suffix(value, longest)
                };
                Ok(Cow::Borrowed(trimmed))
            }
            _ => Err(ExpandErrorKind::UnsupportedModifier { modifier }),
        }
    }

    /// `${name/pattern/replacement}` and `${name//pattern/replacement}`, the name and
    /// the first `/` already read.
    fn replacement(&mut self, name: &str) -> Step<Cow<'e, str>> {
        let all = self.peek() == Some('/');
        if all {
            self.position += 1;
        }
        let pattern_text = self.nested_word('/', true)?;
        let replacement = self.nested_word('}', true)?;
        let value = self.lookup(name);
        if value.is_none() && self.skip_unset_env {
            let separator = if all { "//" } else { "/" };
            return Ok(Cow::Owned(format!(
                "${{{name}{separator}{pattern_text}/{replacement}}}"
            )));
        }
        let pattern = compile(&pattern_text)?;
        let value = value.unwrap_or("");
        Ok(Cow::Owned(if all {
            pattern.replace_all(value, &replacement)
        } else {
            pattern.replace_first(value, &replacement)
        }))
    }
}

fn compile(pattern: &str) -> Step<ShellPattern> {
    ShellPattern::parse(pattern).map_err(|invalid| ExpandErrorKind::InvalidPattern {
        pattern: pattern.to_owned(),
        escaped: invalid.0.map(String::from).unwrap_or_default(),
    })
}
