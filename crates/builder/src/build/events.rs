//! Progress events: what a terminal display, a CI log or another tool sees of a build.

use std::time::Duration;

/// Identifies a step: `[stage 2/3] RUN make` style.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepId {
    /// The stage's display name (`AS` name or `stage-N`).
    pub stage: String,
    /// 1-based position of the step in its stage.
    pub index: usize,
    /// Steps in the stage.
    pub total: usize,
    /// The instruction as written (first line).
    pub text: String,
    /// 1-based Dockerfile line.
    pub line: u32,
}

/// One thing that happened during a build.
#[derive(Debug, Clone, PartialEq)]
pub enum BuildEvent {
    /// A base image is being resolved (local store or registry).
    ResolvingImage {
        reference: String,
    },
    /// A base image is pulled from a registry.
    PullingImage {
        reference: String,
    },
    StepStarted {
        step: StepId,
    },
    /// The step's result came from the cache.
    StepCached {
        step: StepId,
    },
    /// The step must run; `reasons` say what changed since its last build.
    StepMissed {
        step: StepId,
        reasons: Vec<String>,
    },
    /// Output of a running step, as it comes.
    StepOutput {
        step: StepId,
        stderr: bool,
        data: Vec<u8>,
    },
    StepFinished {
        step: StepId,
        elapsed: Duration,
    },
    /// The image was written and named.
    ImageWritten {
        id: String,
        manifest: String,
        tags: Vec<String>,
    },
}
