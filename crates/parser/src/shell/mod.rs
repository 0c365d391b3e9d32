//! Word lexer and variable expansion with BuildKit's semantics.
//!
//! Dockerfile instructions such as `COPY`, `ENV` or `WORKDIR` expand `$name`-style
//! references in their arguments before they are used. BuildKit does this with a small
//! shell-like lexer (`frontend/dockerfile/shell` in moby/buildkit); this module
//! reimplements its observable behaviour so that rbuild computes the same strings:
//!
//! * quotes: `'…'` is literal, `"…"` expands `$` and lets the escape token protect only
//!   `"`, `$` and itself; outside quotes the escape token keeps the next character;
//! * expansions: `$v ${v} ${v:-w} ${v-w} ${v:+w} ${v+w} ${v:?m} ${v?m} ${v#p} ${v##p}
//!   ${v%p} ${v%%p} ${v/a/b} ${v//a/b}`, nested inside the words `w`, `m`, `p`, `a`, `b`;
//! * shell patterns for the trimming and replacing forms: `*`, `?` and `\` escapes,
//!   every other character literal (BuildKit has no `[...]` bracket expressions);
//! * word splitting ([`Lexer::process_words`]): whitespace in unquoted text and in
//!   unquoted expansions separates words, quoted and escaped text never does.
//!
//! Every call reports which variables it looked up and which of those were unset
//! ([`ProcessedWord::used`], [`ProcessedWord::unset`]): the build checks use the unset
//! ones (`UndefinedVar`), the cache keys only the variables a step really uses.
//!
//! The variables come from any [`Env`]: slices and vectors of pairs, `HashMap`,
//! `BTreeMap`. Names are case-sensitive, as on Unix.
//!
//! ```
//! use rbuild_parser::shell::Lexer;
//!
//! let env = [("VERSION", "1.2"), ("ARCH", "arm64")];
//! let word = Lexer::default().process_word("app-${VERSION}-${ARCH}${VARIANT:+-$VARIANT}.tgz", &env[..]).unwrap();
//! assert_eq!(word.value, "app-1.2-arm64.tgz");
//! assert!(word.unset.contains("VARIANT"));
//! ```
//!
//! Which instructions expand variables at all is answered by [`expands_variables`].

mod chars;
mod env;
mod error;
mod expand;
mod instructions;
mod lexer;
mod output;
mod pattern;

pub use env::Env;
pub use error::{ExpandError, ExpandErrorKind};
pub use instructions::{EXPANDING_INSTRUCTIONS, expands_flag_values, expands_variables};
pub use lexer::{LexOptions, Lexer, ProcessedWord, ProcessedWords};
