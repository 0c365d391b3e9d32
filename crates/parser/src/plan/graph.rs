//! The instruction DAG: what the planner produces and the builder executes.
//!
//! Everything here is plain data (serde-serializable) so a library user can
//! inspect a plan, print it (`rbuild outline --format json`) or hand it to
//! another tool.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::build_args::BuildArgs;
use super::platform::Platform;
use super::reference::ImageReference;
use crate::ast::{Instruction, InstructionKind};
use crate::span::Span;

/// A planned Dockerfile: the stages needed for the target, their edges and
/// the arguments in effect.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageGraph {
    /// The stages the target needs (all stages when planned with
    /// [`super::PlanOptions::all_stages`]), in Dockerfile order. Each keeps
    /// its original [`Stage::index`], so indices may have gaps.
    pub stages: Vec<Stage>,
    /// The stage being built (its [`Stage::index`]).
    pub target: usize,
    /// Global `ARG`s (declared before the first `FROM`), in order.
    pub global_args: Vec<ArgValue>,
    /// The predefined arguments (`BUILDPLATFORM`, `TARGETARCH`, ...) with the
    /// values in effect.
    pub predefined_args: BTreeMap<String, String>,
    /// Platform of the machine running the build (`BUILDPLATFORM`).
    pub build_platform: Platform,
    /// Platform the build produces by default (`TARGETPLATFORM`).
    pub target_platform: Platform,
    /// `--build-arg` inputs, as given.
    pub build_args: BuildArgs,
    /// Proxy values from `--build-arg` that `RUN` receives as environment
    /// without a declaration (and that stay out of the image history).
    pub proxy_env: BTreeMap<String, String>,
    /// `--build-arg` names no stage in the plan declares (Docker warns about
    /// these: "One or more build-args were not consumed").
    pub unused_build_args: Vec<String>,
    /// Every stage of the Dockerfile, needed or not: what `--target` may name.
    pub targets: Vec<TargetSummary>,
    /// The escape token of the Dockerfile (`\` or `` ` ``), which the builder
    /// needs to expand words the same way.
    pub escape: char,
}

impl StageGraph {
    /// The stage with the given original index, if it is part of the plan.
    pub fn stage(&self, index: usize) -> Option<&Stage> {
        self.stages.iter().find(|s| s.index == index)
    }

    /// The stage being built.
    pub fn target_stage(&self) -> Option<&Stage> {
        self.stage(self.target)
    }

    /// Stage indices in an order where every stage comes after the stages it
    /// depends on (Dockerfile order already has this property, as forward
    /// references are rejected by the planner).
    pub fn build_order(&self) -> Vec<usize> {
        self.stages.iter().map(|s| s.index).collect()
    }
}

/// One line of the target list: a stage and how to name it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetSummary {
    /// Stage index.
    pub index: usize,
    /// `AS name`, when given.
    pub name: Option<String>,
    /// The `FROM` value as written.
    pub base: String,
    /// True for the last stage, built when no `--target` is given.
    pub is_default: bool,
    /// The `FROM` instruction.
    pub span: Span,
}

/// One build stage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stage {
    /// Position among the `FROM` instructions, from 0 (what `COPY --from=0`
    /// refers to).
    pub index: usize,
    /// `AS name`, lower-cased as BuildKit does (stage names are
    /// case-insensitive), when given.
    pub name: Option<String>,
    /// What the stage starts from.
    pub base: BaseRef,
    /// The `FROM` value as written, before expansion.
    pub base_raw: String,
    /// `FROM --platform=` after expansion and normalisation.
    pub platform: Option<Platform>,
    /// The platform the stage builds for: the platform of the stage it is
    /// based on (a `--platform` on such a `FROM` has no effect, as in
    /// BuildKit), else its `--platform`, else the target platform.
    pub effective_platform: Platform,
    /// The `FROM` instruction.
    pub span: Span,
    /// The stage's instructions after `FROM`, in order, with the triggers
    /// inherited from a base stage's `ONBUILD` first.
    pub instructions: Vec<PlannedInstruction>,
    /// The `ARG`s declared in the stage, with the value each has.
    pub args: Vec<ArgValue>,
    /// Names of global and predefined arguments the `FROM` line used.
    pub from_args_used: Vec<String>,
    /// Edges to other stages or images this stage needs.
    pub deps: Vec<Dependency>,
    /// The stage's own `ONBUILD` triggers: recorded in the image it produces
    /// and run by whatever builds `FROM` it.
    pub onbuild: Vec<Instruction>,
    /// Whether the variables of the base image's environment are unknown to
    /// the planner (the base is an image whose config was not supplied in
    /// [`super::PlanOptions::base_image_env`]); then instructions using
    /// variables the Dockerfile does not define are left unexpanded.
    pub base_env_unknown: bool,
}

impl Stage {
    /// The name used in messages: `AS` name or `stage-N`.
    pub fn display_name(&self) -> String {
        self.name
            .clone()
            .unwrap_or_else(|| format!("stage-{}", self.index))
    }
}

/// What a stage starts from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum BaseRef {
    /// `FROM scratch`: an empty filesystem.
    Scratch,
    /// An image to pull (or find locally).
    Image {
        /// The expanded `FROM` value as written (e.g. `alpine:3.20`).
        reference: String,
        /// Normalised (e.g. `docker.io/library/alpine:3.20`).
        normalized: ImageReference,
    },
    /// An earlier stage of the same Dockerfile.
    Stage {
        /// The stage's index.
        index: usize,
    },
}

/// An edge of the DAG.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dependency {
    /// What is needed.
    pub source: DependencySource,
    /// Which instruction needs it.
    pub kind: DependencyKind,
    /// That instruction.
    pub span: Span,
}

/// The far end of an edge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum DependencySource {
    /// Another stage, by index.
    Stage {
        /// The stage's index.
        index: usize,
    },
    /// An image used directly (`COPY --from=alpine`, `--mount from=busybox`).
    Image {
        /// As written.
        reference: String,
        /// Normalised.
        normalized: ImageReference,
    },
}

/// Why an edge exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DependencyKind {
    /// `FROM <stage or image>`.
    From,
    /// `COPY --from=` (also inside an inherited `ONBUILD` trigger).
    CopyFrom,
    /// `RUN --mount=...,from=`.
    MountFrom,
}

/// One instruction of a stage, raw and (where the planner can) expanded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlannedInstruction {
    /// The instruction as parsed (raw words, spans).
    pub instruction: Instruction,
    /// What expansion made of it.
    pub expanded: Expansion,
    /// True for a trigger inherited from the base stage's `ONBUILD`.
    pub from_onbuild: bool,
}

impl PlannedInstruction {
    /// The instruction ready to execute: the expanded form, or the raw one
    /// when it had nothing to expand; `None` while it waits for the base
    /// image's environment.
    pub fn resolved_kind(&self) -> Option<&InstructionKind> {
        match &self.expanded {
            Expansion::Unchanged => Some(&self.instruction.kind),
            Expansion::Expanded(kind) => Some(kind),
            Expansion::Unresolved(_) => None,
        }
    }

    /// The variables that only the unknown base environment can define
    /// (empty unless [`Expansion::Unresolved`]).
    pub fn unresolved_vars(&self) -> &[String] {
        match &self.expanded {
            Expansion::Unresolved(vars) => vars,
            _ => &[],
        }
    }
}

/// The outcome of expanding one instruction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "state", content = "value", rename_all = "snake_case")]
pub enum Expansion {
    /// Nothing to expand (an instruction Docker does not expand, or words
    /// without `$`, quotes or escapes): use the raw instruction.
    Unchanged,
    /// The instruction with the words Docker expands replaced by their
    /// expansion (quotes removed). Variables that no definition reaches
    /// expanded to the empty string (and the checks report them).
    Expanded(InstructionKind),
    /// The instruction uses variables that neither the Dockerfile nor a
    /// supplied base-image environment defines, and the stage's base
    /// environment is unknown: expansion waits for the builder (see the
    /// [`crate::plan`] docs). The names are listed.
    Unresolved(Vec<String>),
}

/// An argument and the value it has.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArgValue {
    /// The name.
    pub name: String,
    /// The default written in the Dockerfile (raw), if any.
    pub default: Option<String>,
    /// The value in effect (after `--build-arg` and expansion), if any.
    pub value: Option<String>,
    /// Where the value comes from.
    pub source: ArgSource,
    /// The declaring `ARG` instruction.
    pub span: Span,
}

/// Where an argument's value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ArgSource {
    /// The default in the `ARG` line.
    Default,
    /// A `--build-arg`.
    BuildArg,
    /// `ARG NAME` without a default inside a stage re-imports the global
    /// (or predefined) value.
    Global,
    /// Declared without a default and given no value.
    Unset,
}
