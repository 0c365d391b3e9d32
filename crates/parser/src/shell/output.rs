//! Where processed text goes: one string, or a list of words.
//!
//! BuildKit feeds every piece of a word to two sinks at once: a plain buffer (one
//! string) and a word splitter. Which piece may split words depends on where it came
//! from, so the lexer tells the sink what kind of piece it hands over. Only one sink is
//! kept per call here, because a caller wants either the string or the words.

use super::chars::is_space;

/// The sink of a processing run.
#[derive(Debug)]
pub(crate) enum Output {
    /// Everything appended as is: `process_word`, and the words inside `${…}`.
    Text(String),
    /// Split into words: `process_words`.
    Words(WordSplitter),
}

impl Output {
    /// An unquoted, unescaped character of the source: whitespace separates words.
    pub(crate) fn literal(&mut self, c: char) {
        match self {
            Output::Text(text) => text.push(c),
            Output::Words(words) => words.splittable_char(c),
        }
    }

    /// An escaped character (or a kept escape token): never separates words.
    pub(crate) fn escaped(&mut self, c: char) {
        match self {
            Output::Text(text) => text.push(c),
            Output::Words(words) => words.raw_char(c),
        }
    }

    /// The value of an unquoted `$` expansion: its whitespace separates words.
    pub(crate) fn expansion(&mut self, value: &str) {
        match self {
            Output::Text(text) => text.push_str(value),
            Output::Words(words) => value.chars().for_each(|c| words.splittable_char(c)),
        }
    }

    /// The buffer a quoted string is written into. Quoted text never splits, and even
    /// an empty `""` counts as having started a word.
    pub(crate) fn quoted(&mut self) -> &mut String {
        match self {
            Output::Text(text) => text,
            Output::Words(words) => words.raw_buffer(),
        }
    }
}

/// Splits text into words the way BuildKit's `wordsStruct` does.
///
/// Quirk kept on purpose: a word that was started only by empty quotes (`""`) is not
/// emitted, because a word is emitted only when its text is non-empty.
#[derive(Debug, Default)]
pub(crate) struct WordSplitter {
    words: Vec<String>,
    current: String,
    in_word: bool,
}

impl WordSplitter {
    fn splittable_char(&mut self, c: char) {
        if is_space(c) {
            if self.in_word && !self.current.is_empty() {
                self.words.push(std::mem::take(&mut self.current));
                self.in_word = false;
            }
        } else {
            self.raw_char(c);
        }
    }

    fn raw_char(&mut self, c: char) {
        self.current.push(c);
        self.in_word = true;
    }

    fn raw_buffer(&mut self) -> &mut String {
        self.in_word = true;
        &mut self.current
    }

    /// The finished list of words.
    pub(crate) fn finish(mut self) -> Vec<String> {
        if !self.current.is_empty() {
            self.words.push(self.current);
        }
        self.words
    }
}
