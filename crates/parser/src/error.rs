//! Parse errors: one typed enum of what went wrong ([`ParseErrorKind`]),
//! wrapped with where it went wrong ([`ParseError`]).
//!
//! `Display` gives `file:line:column: message`, where the message says what
//! is wrong and, where it helps, what to do. [`ParseError::render`] adds the
//! offending source lines with a caret marker, compiler style.

use std::fmt::Write as _;

use crate::span::Span;

/// A parse failure with its location.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}:{}:{}: {}", .file, .span.start.line, .span.start.column, .kind)]
pub struct ParseError {
    /// The Dockerfile's name as given by the caller (default `Dockerfile`).
    pub file: String,
    /// The offending text (an instruction, a flag, a line...).
    pub span: Span,
    /// What is wrong (boxed to keep `Result`s small).
    pub kind: Box<ParseErrorKind>,
}

/// Everything that can be wrong with a Dockerfile at parse time.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseErrorKind {
    /// The bytes are not UTF-8.
    #[error("the Dockerfile is not valid UTF-8 (bad byte at offset {offset}); save it as UTF-8")]
    InvalidUtf8 {
        /// Byte offset of the first invalid byte.
        offset: usize,
    },
    /// A physical line is longer than BuildKit accepts.
    #[error(
        "dockerfile line greater than max allowed size of {max} (this line has {length} bytes); split it with line continuations"
    )]
    LineTooLong {
        /// The line's length in bytes.
        length: usize,
        /// The maximum.
        max: usize,
    },
    /// Nothing but comments, directives and blank lines.
    #[error("file with no instructions; a Dockerfile needs at least a FROM instruction")]
    NoInstructions,
    /// A parser directive appears twice.
    #[error("only one {name} parser directive can be used; remove the repeated line")]
    DuplicateDirective {
        /// Directive name, lower-case.
        name: String,
    },
    /// `# escape=` with something other than `\` or `` ` ``.
    #[error(
        "invalid escape token '{value}' does not match ` or \\; use `# escape=\\` or `# escape=``"
    )]
    InvalidEscapeToken {
        /// The rejected value.
        value: String,
    },
    /// An instruction keyword that does not exist.
    #[error("unknown instruction: {keyword}{}", suggestion_suffix(.suggestion))]
    UnknownInstruction {
        /// The keyword as written.
        keyword: String,
        /// The closest valid instruction, if one is close enough.
        suggestion: Option<String>,
    },
    /// A JSON array with an element that is not a string.
    #[error(
        "{instruction}: when using JSON array syntax, arrays must be comprised of strings only; quote every element"
    )]
    NonStringJsonArray {
        /// Instruction name.
        instruction: String,
    },
    /// `ENV NAME` / `LABEL name` with no value.
    #[error("{instruction} must have two arguments; write `{instruction} name=value`")]
    MissingValue {
        /// Instruction name.
        instruction: String,
    },
    /// A word without `=` in the `name=value` form.
    #[error("Syntax error - can't find = in {word:?}. Must be of the form: name=value")]
    MissingEquals {
        /// The offending word.
        word: String,
    },
    /// An empty name in `=value`.
    #[error("{instruction} names can not be blank; write `{instruction} name=value`")]
    BlankName {
        /// Instruction name.
        instruction: String,
    },
    /// End of file before a heredoc's terminator line.
    #[error("unterminated heredoc <<{name}: add a line containing only {name:?} after the body")]
    UnterminatedHeredoc {
        /// The heredoc delimiter.
        name: String,
    },
    /// A heredoc word with unbalanced quotes, like `<<'EOF`.
    #[error("invalid heredoc {word:?}: unterminated quote in the delimiter")]
    InvalidHeredoc {
        /// The `<<...` word.
        word: String,
    },
    /// A heredoc where the instruction cannot take one.
    #[error("{instruction} cannot accept a heredoc as {role}")]
    HeredocNotAllowed {
        /// Instruction name.
        instruction: String,
        /// Where it was used (`a destination`).
        role: String,
    },
    /// A flag the instruction does not have.
    #[error("unknown flag --{flag} for {instruction}; {}", valid_flags(.valid))]
    UnknownFlag {
        /// Instruction name.
        instruction: String,
        /// The flag name without `--`.
        flag: String,
        /// The flags the instruction accepts.
        valid: &'static [&'static str],
    },
    /// A word in the flag position that is not `--name[=value]`.
    #[error("{instruction}: flag {word:?} must look like --name=value")]
    MalformedFlag {
        /// Instruction name.
        instruction: String,
        /// The word.
        word: String,
    },
    /// The same single-valued flag twice.
    #[error("{instruction}: duplicate flag specified: --{flag}; keep only one")]
    DuplicateFlag {
        /// Instruction name.
        instruction: String,
        /// Flag name.
        flag: String,
    },
    /// A flag that needs a value was given without one.
    #[error("{instruction}: missing a value on flag --{flag}; write --{flag}=<value>")]
    MissingFlagValue {
        /// Instruction name.
        instruction: String,
        /// Flag name.
        flag: String,
    },
    /// A flag value outside the accepted set or format.
    #[error("{instruction}: invalid value {value:?} for --{flag}: expected {expected}")]
    InvalidFlagValue {
        /// Instruction name.
        instruction: String,
        /// Flag name.
        flag: String,
        /// The rejected value.
        value: String,
        /// What is accepted (e.g. `one of default, none, host`).
        expected: String,
    },
    /// An unknown key inside `--mount=`.
    #[error("RUN --mount: unexpected key {key:?}; valid keys: {}", .valid.join(", "))]
    UnknownMountKey {
        /// The key.
        key: String,
        /// Keys valid for the mount.
        valid: &'static [&'static str],
    },
    /// A bad value inside `--mount=`.
    #[error("RUN --mount: invalid value {value:?} for {key}: expected {expected}")]
    InvalidMountValue {
        /// The key.
        key: String,
        /// The rejected value.
        value: String,
        /// What is accepted.
        expected: String,
    },
    /// A `--mount=` that is incomplete or inconsistent.
    #[error("RUN --mount: {message}")]
    InvalidMount {
        /// What is wrong and how to fix it.
        message: String,
    },
    /// Wrong number of arguments.
    #[error("{instruction} requires {expected}{}", found_suffix(*.found))]
    ArgumentCount {
        /// Instruction name.
        instruction: String,
        /// `exactly one argument`, `at least two arguments`, ...
        expected: String,
        /// How many were given.
        found: usize,
    },
    /// Other argument errors, with BuildKit's wording.
    #[error("{instruction}: {message}")]
    InvalidArguments {
        /// Instruction name.
        instruction: String,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// `ONBUILD FROM`, `ONBUILD MAINTAINER`.
    #[error("{trigger} isn't allowed as an ONBUILD trigger")]
    OnbuildTriggerNotAllowed {
        /// The trigger keyword, upper-case.
        trigger: String,
    },
    /// `ONBUILD ONBUILD`.
    #[error("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed")]
    OnbuildChain,
    /// `FROM x AS 1bad`.
    #[error(
        "invalid name for build stage: {name:?}, name can't start with a number or contain symbols; use letters, digits, '-', '_' and '.'"
    )]
    InvalidStageName {
        /// The rejected name.
        name: String,
    },
}

fn suggestion_suffix(suggestion: &Option<String>) -> String {
    match suggestion {
        Some(s) => format!(" (did you mean {s}?)"),
        None => format!(
            "; a Dockerfile instruction is one of {}",
            crate::ALL_INSTRUCTIONS.join(", ")
        ),
    }
}

fn valid_flags(valid: &[&str]) -> String {
    if valid.is_empty() {
        return "this instruction takes no flags".to_string();
    }
    let list: Vec<String> = valid.iter().map(|f| format!("--{f}")).collect();
    format!("valid flags: {}", list.join(", "))
}

fn found_suffix(found: usize) -> String {
    match found {
        0 => String::new(),
        1 => ", but only one was provided".to_string(),
        n => format!(", but {n} were provided"),
    }
}

/// Most source lines shown by [`ParseError::render`].
const MAX_RENDERED_LINES: u32 = 6;

impl ParseError {
    /// A new error.
    pub fn new(file: impl Into<String>, span: Span, kind: ParseErrorKind) -> Self {
        Self::boxed(file, span, Box::new(kind))
    }

    /// A new error from an already boxed kind.
    pub fn boxed(file: impl Into<String>, span: Span, kind: Box<ParseErrorKind>) -> Self {
        ParseError {
            file: file.into(),
            span,
            kind,
        }
    }

    /// The error with the offending source lines and a caret marker:
    ///
    /// ```text
    /// error: unknown instruction: RUNN (did you mean RUN?)
    ///  --> Dockerfile:2:1
    ///   |
    /// 2 | RUNN echo hi
    ///   | ^^^^
    /// ```
    ///
    /// `source` must be the text that was parsed.
    pub fn render(&self, source: &str) -> String {
        let start = self.span.start;
        let end = self.span.end;
        let mut out = format!(
            "error: {}\n --> {}:{}:{}\n",
            self.kind, self.file, start.line, start.column
        );
        if start.line == 0 {
            return out;
        }
        let last = end
            .line
            .max(start.line)
            .min(start.line + MAX_RENDERED_LINES - 1);
        let width = last.to_string().len();
        let _ = writeln!(out, "{:width$} |", "");
        let lines = source
            .split('\n')
            .enumerate()
            .skip(start.line as usize - 1)
            .take((last - start.line + 1) as usize);
        for (index, line) in lines {
            let number = index + 1;
            let line = line.trim_end_matches('\r');
            let line = if number == 1 {
                line.trim_start_matches('\u{feff}')
            } else {
                line
            };
            let shown: String = line
                .chars()
                .map(|c| if c.is_control() && c != '\t' { '?' } else { c })
                .collect();
            let _ = writeln!(out, "{number:>width$} | {shown}");
            if number as u32 == start.line {
                let from = start.column.saturating_sub(1) as usize;
                let len = line.chars().count();
                let to = if end.line == start.line {
                    (end.column.saturating_sub(1) as usize).min(len)
                } else {
                    len
                };
                let pad: String = line
                    .chars()
                    .take(from)
                    .map(|c| if c == '\t' { '\t' } else { ' ' })
                    .collect();
                let marks = "^".repeat(to.saturating_sub(from).max(1));
                let _ = writeln!(out, "{:width$} | {pad}{marks}", "");
            }
        }
        if end.line > last {
            let _ = writeln!(out, "{:width$} | ...", "");
        }
        out
    }
}
