//! The planner: typed AST → instruction DAG ([`StageGraph`]).
//!
//! [`plan`] resolves what BuildKit's Dockerfile frontend resolves before it
//! builds anything:
//!
//! * **stages**: every `FROM` starts one, with its index and (lower-cased)
//!   `AS` name; its base is `scratch`, an earlier stage or an image
//!   ([`BaseRef`]);
//! * **arguments**: the predefined platform arguments (`BUILDPLATFORM`,
//!   `TARGETARCH`, ..., from [`PlanOptions::build_platform`] and
//!   [`PlanOptions::target_platform`], host by default) and the global
//!   `ARG`s before the first `FROM` are usable in `FROM` lines; inside a
//!   stage, `ARG NAME` without a default re-imports the global value;
//!   `--build-arg` values ([`BuildArgs`]) override defaults; proxy arguments
//!   (`HTTP_PROXY`, ...) need no declaration;
//! * **edges** ([`Dependency`]): `FROM <stage|image>`, `COPY --from=<stage|
//!   index|image>` and `RUN --mount=from=...`, including those of `ONBUILD`
//!   triggers inherited from a parent stage, which run first in the child
//!   (the `ONBUILD` triggers of an external base image are only known once
//!   its configuration is pulled: running those is the builder's job);
//! * **target**: [`PlanOptions::target`] keeps only the stages the target
//!   needs, transitively; an unknown target, a reference to a later stage or
//!   to the stage itself is an error that says what to do.
//!
//! # What is expanded here, and what is left to the builder
//!
//! Docker expands `$variables` in `ENV`, `LABEL`, `ADD`, `COPY`, `EXPOSE`,
//! `VOLUME`, `USER`, `WORKDIR`, `STOPSIGNAL`, `ARG` defaults and `RUN --mount`
//! values (not in `RUN`, `CMD`, `ENTRYPOINT`, `HEALTHCHECK`, `SHELL`: the
//! shell does that at run time) with the stage's environment at that point: the **base image's `ENV`**,
//! then the stage's own `ENV`s and valued `ARG`s. Everything except the base
//! image's environment is in the Dockerfile, so the planner expands every
//! word it can and records, per instruction, the outcome in
//! [`PlannedInstruction::expanded`] ([`Expansion`]):
//!
//! * `FROM` lines only see global arguments: always fully expanded.
//! * Stages based on `scratch`, or on stages based on `scratch`: the
//!   environment is fully known (BuildKit's default `PATH` included), so
//!   every instruction is expanded.
//! * Stages based on an image: a word that uses only variables the
//!   Dockerfile defines is expanded; a word that uses a variable the
//!   Dockerfile does not define (e.g. `ENV PATH=/opt/bin:$PATH`) could take
//!   its value from the image, so that instruction is
//!   [`Expansion::Unresolved`] with the names listed; a variable set from
//!   such a value is unknown too from then on.
//!
//! The builder closes the gap by planning again once it has the base images'
//! configurations: [`PlanOptions::base_image_env`] maps each normalised image
//! reference ([`ImageReference::with_default_tag`]) to the image's `Env`, and
//! then every instruction of those stages is expanded. Planning costs
//! microseconds, so the second pass is cheap, and the expansion logic stays
//! in one place. The raw instruction is always kept next to the expanded one
//! (the image history and the build checks need the text as written).

mod build_args;
mod error;
mod expand;
mod graph;
mod outline;
mod planner;
mod platform;
mod reference;
mod scope;
pub(crate) mod suggest;

use std::collections::{BTreeMap, BTreeSet};

pub use build_args::{BuildArgError, BuildArgs, PROXY_ARGS, is_proxy_arg, predefined_args};
pub use error::PlanError;
pub use graph::{
    ArgSource, ArgValue, BaseRef, Dependency, DependencyKind, DependencySource, Expansion,
    PlannedInstruction, Stage, StageGraph, TargetSummary,
};
pub use outline::{Outline, OutlineArg, OutlineMount, OutlineStage, describe, outline};
pub use platform::{Platform, PlatformError};
pub use reference::{ImageReference, ReferenceError};
pub use scope::DEFAULT_PATH;

pub(crate) use planner::{Finding, plan_with_findings};

use crate::ast::Dockerfile;

/// What to plan for.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PlanOptions {
    /// The stage to build (`--target`); the last stage when `None`.
    pub target: Option<String>,
    /// `--build-arg` values.
    pub build_args: BuildArgs,
    /// The platform running the build (`BUILDPLATFORM`); the host by default.
    pub build_platform: Platform,
    /// The platform to build for (`TARGETPLATFORM`); the host by default.
    pub target_platform: Platform,
    /// Keep every stage in the graph, not only those the target needs (what
    /// the build checks and `rbuild outline` of a whole file want).
    pub all_stages: bool,
    /// The `Env` of base images whose configuration is known, by normalised
    /// reference with default tag (`docker.io/library/alpine:latest`), as
    /// `(name, value)` pairs. Stages based on these get fully expanded.
    pub base_image_env: BTreeMap<String, Vec<(String, String)>>,
    /// Stage names (lower case) that a named build context replaces (buildx's
    /// `--build-context NAME=…` with NAME a stage name): `FROM NAME` and `--from=NAME` then
    /// refer to the image of that name, and the stage itself is not built unless it is the
    /// target.
    pub replaced_stages: BTreeSet<String>,
}

impl Default for PlanOptions {
    fn default() -> Self {
        let host = Platform::host();
        PlanOptions {
            target: None,
            build_args: BuildArgs::new(),
            build_platform: host.clone(),
            target_platform: host,
            all_stages: false,
            base_image_env: BTreeMap::new(),
            replaced_stages: BTreeSet::new(),
        }
    }
}

/// Plan a parsed Dockerfile.
///
/// # Errors
/// See [`PlanError`]: no `FROM`, an unknown target, references to later
/// stages or to the stage itself, invalid image references or platforms,
/// `--from=$VAR`, and words that fail to expand (`${A:?required}`).
pub fn plan(dockerfile: &Dockerfile, options: &PlanOptions) -> Result<StageGraph, PlanError> {
    plan_with_findings(dockerfile, options, &mut Vec::new())
}
