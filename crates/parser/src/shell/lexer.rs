//! The public face of the word lexer: configuration and results.

use std::collections::BTreeSet;

use super::env::Env;
use super::error::ExpandError;
use super::expand::Expansion;
use super::output::{Output, WordSplitter};

/// Switches that change how words are processed; all off by default, as BuildKit's
/// `Lex` is for Dockerfile instructions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct LexOptions {
    /// Keep the quote characters in the output (their contents are still processed).
    pub raw_quotes: bool,
    /// Keep escape tokens in the output (the escaped character is still protected).
    pub raw_escapes: bool,
    /// Leave references to unset variables as written (`$X`, `${X:-w}`) instead of
    /// expanding them; the words inside such a reference are still processed.
    pub skip_unset_env: bool,
    /// Treat `'` and `"` as ordinary characters.
    pub skip_quote_processing: bool,
}

/// A word lexer with a fixed escape token and options. Cheap to copy, and shareable
/// between threads (unlike BuildKit's, it keeps no state between calls).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Lexer {
    escape: char,
    options: LexOptions,
}

impl Default for Lexer {
    /// Backslash escapes, all options off: what a Dockerfile without an `escape`
    /// directive uses.
    fn default() -> Self {
        Lexer::new('\\')
    }
}

/// One processed word and the variables it looked up.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProcessedWord {
    /// The word with quotes removed, escapes processed and expansions done.
    pub value: String,
    /// Every variable name the word looked up, set or not (`$A ${B:-x}` uses `A` and
    /// `B`, even when `B` is set and its default is not needed). A step's cache key
    /// depends on exactly these variables.
    pub used: BTreeSet<String>,
    /// The names in [`used`](Self::used) that were unset when looked up: the candidates
    /// for BuildKit's `UndefinedVar` check.
    pub unset: BTreeSet<String>,
}

/// Text split into words, and the variables it looked up.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProcessedWords {
    /// The words, in order.
    pub words: Vec<String>,
    /// Every variable name looked up (see [`ProcessedWord::used`]).
    pub used: BTreeSet<String>,
    /// The looked-up names that were unset (see [`ProcessedWord::unset`]).
    pub unset: BTreeSet<String>,
}

impl ProcessedWord {
    /// The names that were looked up and set (BuildKit's "matched" names).
    pub fn set_names(&self) -> impl Iterator<Item = &str> {
        self.used.difference(&self.unset).map(String::as_str)
    }
}

impl Lexer {
    /// A lexer with the given escape token and all options off. Dockerfiles allow only
    /// `\` (the default) and `` ` `` (`# escape=``), but any character works.
    pub const fn new(escape: char) -> Self {
        Lexer {
            escape,
            options: LexOptions {
                raw_quotes: false,
                raw_escapes: false,
                skip_unset_env: false,
                skip_quote_processing: false,
            },
        }
    }

    /// The same lexer with other options.
    pub const fn with_options(self, options: LexOptions) -> Self {
        Lexer {
            escape: self.escape,
            options,
        }
    }

    /// The escape token.
    pub const fn escape_token(&self) -> char {
        self.escape
    }

    /// The options in force.
    pub const fn options(&self) -> LexOptions {
        self.options
    }

    /// Processes `word` into one string: quotes removed, escapes processed, expansions
    /// done, whitespace kept (BuildKit's `ProcessWord`).
    ///
    /// # Errors
    /// Unterminated quotes or `${`, malformed or unsupported `${…}` forms, invalid
    /// patterns, and `${v?msg}`/`${v:?msg}` on an unset (or empty) variable.
    pub fn process_word<E: Env + ?Sized>(
        &self,
        word: &str,
        env: &E,
    ) -> Result<ProcessedWord, ExpandError> {
        if !self.is_special_anywhere(word) {
            return Ok(ProcessedWord {
                value: word.to_owned(),
                ..ProcessedWord::default()
            });
        }
        let mut output = Output::Text(String::with_capacity(word.len()));
        let usage = Expansion::new(self, word, env).run(&mut output)?;
        let value = match output {
            Output::Text(text) => text,
            Output::Words(words) => words.finish().join(" "),
        };
        Ok(ProcessedWord {
            value,
            used: usage.used,
            unset: usage.unset,
        })
    }

    /// Whether `text` holds anything the lexer would change: most words hold none, and
    /// are then copied as they are.
    fn is_special_anywhere(&self, text: &str) -> bool {
        text.starts_with('\u{feff}') || text.contains(['$', '\'', '"', self.escape])
    }

    /// Processes `text` into words (BuildKit's `ProcessWords`): whitespace in unquoted
    /// text and in the values of unquoted expansions separates words; quoted and
    /// escaped text never does.
    ///
    /// # Errors
    /// As [`Lexer::process_word`].
    pub fn process_words<E: Env + ?Sized>(
        &self,
        text: &str,
        env: &E,
    ) -> Result<Vec<String>, ExpandError> {
        self.process_words_with_usage(text, env)
            .map(|processed| processed.words)
    }

    /// [`Lexer::process_words`], also reporting the variables looked up.
    ///
    /// # Errors
    /// As [`Lexer::process_word`].
    pub fn process_words_with_usage<E: Env + ?Sized>(
        &self,
        text: &str,
        env: &E,
    ) -> Result<ProcessedWords, ExpandError> {
        let mut output = Output::Words(WordSplitter::default());
        let usage = Expansion::new(self, text, env).run(&mut output)?;
        let words = match output {
            Output::Words(words) => words.finish(),
            Output::Text(text) => vec![text],
        };
        Ok(ProcessedWords {
            words,
            used: usage.used,
            unset: usage.unset,
        })
    }
}
