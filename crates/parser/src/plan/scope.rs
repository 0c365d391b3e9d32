//! The variables visible at one point of a stage, and the expansion of one
//! word against them.
//!
//! Inside a stage, Docker expands words with the stage's environment: the base
//! image's `ENV`, then every `ENV` and every valued `ARG` of the stage so far
//! (later definitions win). When the base is an image whose configuration the
//! planner was not given, its environment is unknown; a word that needs a
//! variable the Dockerfile does not define is then "unresolved" and is left
//! for the builder (see the module docs of [`crate::plan`]).

use std::collections::{BTreeMap, BTreeSet};

use crate::shell::{ExpandError, LexOptions, Lexer};

/// BuildKit sets this `PATH` when the base image defines none.
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// The state of a stage that later instructions (and child stages) see.
#[derive(Debug, Clone, Default)]
pub(crate) struct StageScope {
    /// Values by name: base image env (when known), `ENV`s and valued `ARG`s.
    pub vars: BTreeMap<String, String>,
    /// Names declared with `ARG` (with or without a value): using one of these
    /// unset is not an `UndefinedVar`.
    pub declared_args: BTreeSet<String>,
    /// Whether `vars` holds the base image's whole environment. When it does
    /// not, an unset name may still be defined by the base image, and a
    /// variable whose value was computed from such a name is removed from
    /// `vars` (its value is unknown too).
    pub base_env_known: bool,
    /// An absolute `WORKDIR` was set in this Dockerfile (WorkdirRelativePath).
    pub workdir_set: bool,
    /// A `SHELL` was set in this Dockerfile (JSONArgsRecommended).
    pub shell_set: bool,
}

impl StageScope {
    /// The scope at the start of a stage whose base environment is `env`
    /// (`None`: unknown).
    pub fn with_base_env(env: Option<&[(String, String)]>) -> Self {
        let mut scope = StageScope::default();
        if let Some(env) = env {
            scope.base_env_known = true;
            scope.vars.extend(env.iter().cloned());
            scope
                .vars
                .entry("PATH".to_string())
                .or_insert_with(|| DEFAULT_PATH.to_string());
        }
        scope
    }
}

/// Expands the words of one instruction and remembers which variables were
/// missing, so the caller can decide between "expanded", "unresolved" and an
/// `UndefinedVar` warning.
pub(crate) struct WordExpander<'a> {
    lexer: Lexer,
    scope: &'a StageScope,
    /// Names looked up that were unset in `scope`.
    pub unset: BTreeSet<String>,
}

impl WordExpander<'_> {
    /// The unset names whose value only the unknown base environment could
    /// give: the reason an expansion is incomplete.
    pub fn unresolved(&self) -> Vec<String> {
        if self.scope.base_env_known {
            Vec::new()
        } else {
            self.unset.iter().cloned().collect()
        }
    }

    /// The unset names that are neither declared `ARG`s nor possibly defined
    /// by the base image: BuildKit's `UndefinedVar` findings.
    pub fn undefined(&self) -> Vec<String> {
        if !self.scope.base_env_known {
            return Vec::new();
        }
        self.unset
            .iter()
            .filter(|name| !self.scope.declared_args.contains(*name))
            .cloned()
            .collect()
    }
}

impl<'a> WordExpander<'a> {
    pub fn new(escape: char, scope: &'a StageScope) -> Self {
        WordExpander {
            lexer: Lexer::new(escape),
            scope,
            unset: BTreeSet::new(),
        }
    }

    /// One word (quotes removed), as `COPY`, `ENV`, `WORKDIR`... use.
    pub fn word(&mut self, word: &str) -> Result<String, ExpandError> {
        if self.is_literal(word) {
            return Ok(word.to_string());
        }
        let processed = self.lexer.process_word(word, &self.scope.vars)?;
        self.unset.extend(processed.unset);
        Ok(processed.value)
    }

    /// A word without `$`, quotes or escape tokens comes out unchanged: skip
    /// the lexer (most words of real Dockerfiles are like that).
    pub fn is_literal(&self, word: &str) -> bool {
        let escape = self.lexer.escape_token();
        !word
            .chars()
            .any(|c| c == '$' || c == '\'' || c == '"' || c == escape)
    }

    /// Whitespace-separated words, as `EXPOSE` uses.
    pub fn words(&mut self, text: &str) -> Result<Vec<String>, ExpandError> {
        let processed = self
            .lexer
            .process_words_with_usage(text, &self.scope.vars)?;
        self.unset.extend(processed.unset);
        Ok(processed.words)
    }

    /// A heredoc body: quotes are ordinary characters and the escape token is
    /// always `\`, as BuildKit's raw expansion of inline files.
    pub fn heredoc(&mut self, body: &str) -> Result<String, ExpandError> {
        let lexer = Lexer::new('\\').with_options(LexOptions {
            skip_quote_processing: true,
            ..LexOptions::default()
        });
        let processed = lexer.process_word(body, &self.scope.vars)?;
        self.unset.extend(processed.unset);
        Ok(processed.value)
    }
}
