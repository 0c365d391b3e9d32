//! Errors of word processing.

use thiserror::Error;

/// A word could not be processed. The message has BuildKit's shape,
/// `failed to process "<word>": <reason>`, so users see the text they know.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("failed to process {word:?}: {kind}")]
pub struct ExpandError {
    /// The whole input word or text.
    pub word: String,
    /// Byte offset in `word` where the problem was found (end of input for a missing
    /// closing quote or brace): add it to the word's own position to point at it.
    pub offset: usize,
    /// What went wrong.
    pub kind: ExpandErrorKind,
}

/// What went wrong while processing a word. Each message starts with BuildKit's text.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ExpandErrorKind {
    /// `'…` without the closing quote.
    #[error("unexpected end of statement while looking for matching single-quote")]
    UnterminatedSingleQuote,
    /// `"…` without the closing quote.
    #[error(
        "unexpected end of statement while looking for matching double-quote (close the quote, or escape a literal `\"`)"
    )]
    UnterminatedDoubleQuote,
    /// `${…` without the closing brace.
    #[error(
        "syntax error: missing '}}' (close the `${{` expansion, or escape the `$` for a literal `${{`)"
    )]
    MissingBrace,
    /// `${v/pattern` without the `/` that ends the pattern.
    #[error("syntax error: missing '/' in ${{}} (write `${{name/pattern/replacement}}`)")]
    MissingSlash,
    /// `${}`, `${:…}`, `${{…}` and `${}…`: an expansion without a name.
    #[error("syntax error: bad substitution (`${{` must be followed by a variable name)")]
    BadSubstitution,
    /// A modifier BuildKit does not support, such as `${v:=w}` or `${v:x}`.
    #[error(
        "unsupported modifier ({modifier}) in substitution (supported: :- - :+ + :? ? # ## % %% / //)"
    )]
    UnsupportedModifier {
        /// The modifier as written, e.g. `:=`.
        modifier: String,
    },
    /// `${v?msg}` with `v` unset, or `${v:?msg}` with `v` unset or empty.
    /// The text is BuildKit's `name: message`.
    #[error("{name}: {message}")]
    Required {
        /// The variable's name.
        name: String,
        /// The expanded message, or BuildKit's default text.
        message: String,
    },
    /// `${…}` nested deeper than rbuild processes (BuildKit has no such limit, but no
    /// real Dockerfile comes near it).
    #[error("expansions nested more than {limit} levels deep (simplify the word)")]
    NestingTooDeep {
        /// The maximum depth.
        limit: usize,
    },
    /// A pattern of `${v#p}`, `${v%p}` or `${v/p/r}` with an escape other than
    /// `\*`, `\?`, `\\`, `\}` or `\/`.
    #[error("invalid pattern ({pattern}) in substitution: invalid escape '\\{escaped}'")]
    InvalidPattern {
        /// The pattern after expansion.
        pattern: String,
        /// The character after the backslash (empty when the pattern ends with it).
        escaped: String,
    },
}
