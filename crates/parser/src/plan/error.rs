//! Why a Dockerfile cannot be planned. Every error names the instruction
//! (its span) and says what to change.

use crate::shell::ExpandError;
use crate::span::Span;

/// A planning failure.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PlanError {
    /// The file has only global `ARG`s (or nothing): no `FROM`.
    #[error("dockerfile contains no stages to build: add a FROM instruction")]
    NoStages,

    /// An instruction other than `ARG` before the first `FROM`.
    #[error(
        "{instruction} is not allowed before the first FROM (only ARG is): move it into a stage"
    )]
    InstructionBeforeFrom {
        /// The instruction name.
        instruction: &'static str,
        /// Where it is.
        span: Span,
    },

    /// `--target` names no stage.
    #[error("target stage {target:?} could not be found{}; stages: {}", suggestion_text(.suggestion), list_or_none(.available))]
    UnknownTarget {
        /// The requested target.
        target: String,
        /// A close stage name, if any.
        suggestion: Option<String>,
        /// Every named stage.
        available: Vec<String>,
    },

    /// `FROM`, `COPY --from` or `--mount from=` names a stage defined later.
    #[error(
        "stage {referenced:?} is used by stage {stage:?} before it is defined: move the stage {referenced:?} above {stage:?}"
    )]
    ForwardReference {
        /// The stage with the reference.
        stage: String,
        /// The later stage it names.
        referenced: String,
        /// The referring instruction.
        span: Span,
    },

    /// A stage needs itself.
    #[error(
        "circular dependency detected on stage: {stage} (it copies or mounts from itself): use an earlier stage instead"
    )]
    CircularDependency {
        /// The stage.
        stage: String,
        /// The referring instruction.
        span: Span,
    },

    /// `COPY --from=<n>` or `from=<n>` with an index that is not an earlier stage.
    #[error(
        "invalid stage index {index} in stage {stage:?}: only earlier stages (0..{stage_index}) can be used"
    )]
    InvalidStageIndex {
        /// The index written.
        index: i64,
        /// The referring stage.
        stage: String,
        /// The referring stage's own index.
        stage_index: usize,
        /// The referring instruction.
        span: Span,
    },

    /// `--from=$VAR`: Docker does not expand variables there.
    #[error(
        "variable expansion is not supported for --from ({value:?}): define a stage with `FROM ${{VAR}} AS name` using a global ARG and use --from=name"
    )]
    VariableInFrom {
        /// The value written.
        value: String,
        /// The instruction.
        span: Span,
    },

    /// The expanded base of a `FROM` is empty.
    #[error("base name ({raw}) should not be blank: give the ARG a default or pass --build-arg")]
    BlankBaseName {
        /// The `FROM` value as written.
        raw: String,
        /// The `FROM`.
        span: Span,
    },

    /// The expanded base, or a `--from` value, is not a valid image reference.
    #[error("invalid image reference {value:?} ({reason}){}", suggestion_text(.suggestion))]
    InvalidReference {
        /// The value after expansion.
        value: String,
        /// What is wrong with it.
        reason: String,
        /// A stage name close to the value, when it looks like a misspelt stage.
        suggestion: Option<String>,
        /// The instruction.
        span: Span,
    },

    /// `FROM --platform=` expanded to nothing or to something unparseable.
    #[error("invalid platform {value:?} from {raw:?}: {reason}")]
    InvalidPlatform {
        /// The expression as written.
        raw: String,
        /// After expansion.
        value: String,
        /// What is wrong.
        reason: String,
        /// The `FROM`.
        span: Span,
    },

    /// A word could not be expanded (`${A:?msg}` with A unset, bad syntax...).
    #[error("{source}")]
    Expansion {
        /// The lexer's error.
        source: ExpandError,
        /// The instruction whose word failed.
        span: Span,
    },
}

impl PlanError {
    /// The instruction the error is about, if any.
    pub fn span(&self) -> Option<Span> {
        match self {
            PlanError::NoStages | PlanError::UnknownTarget { .. } => None,
            PlanError::InstructionBeforeFrom { span, .. }
            | PlanError::ForwardReference { span, .. }
            | PlanError::CircularDependency { span, .. }
            | PlanError::InvalidStageIndex { span, .. }
            | PlanError::VariableInFrom { span, .. }
            | PlanError::BlankBaseName { span, .. }
            | PlanError::InvalidReference { span, .. }
            | PlanError::InvalidPlatform { span, .. }
            | PlanError::Expansion { span, .. } => Some(*span),
        }
    }
}

fn suggestion_text(suggestion: &Option<String>) -> String {
    suggestion
        .as_ref()
        .map(|s| format!(" (did you mean {s}?)"))
        .unwrap_or_default()
}

fn list_or_none(names: &[String]) -> String {
    if names.is_empty() {
        "none is named (use FROM ... AS name)".to_string()
    } else {
        names.join(", ")
    }
}
