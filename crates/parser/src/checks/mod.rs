//! Build checks: BuildKit's lint rules, with its rule names, messages and
//! documentation links, so `rbuild check` reads like `docker build --check`.
//!
//! Two kinds of rules exist:
//! * rules on the parsed file alone ([`Rule::StageNameCasing`],
//!   [`Rule::ConsistentInstructionCasing`], [`Rule::MaintainerDeprecated`],
//!   ...);
//! * rules that need variable scopes and stage resolution
//!   ([`Rule::UndefinedVar`], [`Rule::UndefinedArgInFrom`],
//!   [`Rule::InvalidDefaultArgInFrom`], [`Rule::WorkdirRelativePath`],
//!   [`Rule::JSONArgsRecommended`], ...). The planner finds those while it
//!   walks the stages, so the checks see exactly what a build would.
//!
//! Like BuildKit's lint request, every stage is checked, whatever the target.
//! `UndefinedVar` is reported only where the base environment is known
//! (stages rooted in `scratch`, or images whose `Env` is passed in
//! [`PlanOptions::base_image_env`]): a variable missing from the Dockerfile
//! may come from a base image's `ENV`, and a check must not cry wolf.
//!
//! The `# check=skip=A,B|all;error=true` directive is honoured
//! ([`CheckConfig`]), and so is its override, the build argument
//! `BUILDKIT_DOCKERFILE_CHECK`.

mod ast_rules;
mod config;
mod render;
mod rules;
mod secrets;

pub use config::{CheckConfig, CheckConfigError};
pub use render::{render_snippet, render_warning};
pub use rules::Rule;
pub use secrets::looks_like_secret;

use serde::{Deserialize, Serialize};

use crate::ast::Dockerfile;
use crate::plan::{PlanError, PlanOptions, plan_with_findings};
use crate::span::Span;

/// The build argument that overrides the `# check=` directive.
pub const CHECK_BUILD_ARG: &str = "BUILDKIT_DOCKERFILE_CHECK";

/// One warning of a build check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckWarning {
    /// The rule.
    pub rule: Rule,
    /// What was found, worded as BuildKit words it.
    pub message: String,
    /// The rule's one-line description.
    pub description: String,
    /// The rule's documentation page.
    pub url: String,
    /// The instruction concerned.
    pub span: Span,
}

/// The outcome of checking one Dockerfile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckReport {
    /// Warnings in source order, skipped rules left out.
    pub warnings: Vec<CheckWarning>,
    /// The configuration in force (from `# check=` unless overridden).
    pub config: CheckConfig,
    /// When the file cannot be planned (e.g. an invalid base image name),
    /// the error; rules that need the plan were then not run.
    #[serde(skip)]
    pub plan_error: Option<PlanError>,
}

impl CheckReport {
    /// Whether a build would fail: a planning error, or warnings with
    /// `error=true`.
    pub fn fails(&self) -> bool {
        self.plan_error.is_some() || (self.config.error_on_warning && !self.warnings.is_empty())
    }
}

/// Check `dockerfile` with the rules configured by its `# check=` directive
/// (or by the [`CHECK_BUILD_ARG`] build argument, which wins).
///
/// `options` are the planning inputs (build args, platforms, base image
/// environments); the target is ignored, every stage is checked.
///
/// # Errors
/// An invalid `# check=` value.
pub fn check(
    dockerfile: &Dockerfile,
    options: &PlanOptions,
) -> Result<CheckReport, CheckConfigError> {
    // As in BuildKit, `--build-arg BUILDKIT_DOCKERFILE_CHECK=...` overrides
    // the directive (handy in CI without editing the Dockerfile).
    let config = match (
        options.build_args.get(CHECK_BUILD_ARG),
        &dockerfile.directives.check,
    ) {
        (Some(value), _) => CheckConfig::parse(value)?,
        (None, Some(directive)) => CheckConfig::parse(&directive.value)?,
        (None, None) => CheckConfig::default(),
    };
    Ok(check_with_config(dockerfile, options, config))
}

/// Check `dockerfile` with an explicit configuration (the directive is
/// ignored), e.g. from a `BUILDKIT_DOCKERFILE_CHECK` build argument.
pub fn check_with_config(
    dockerfile: &Dockerfile,
    options: &PlanOptions,
    config: CheckConfig,
) -> CheckReport {
    let mut findings = Vec::new();
    ast_rules::check_ast(dockerfile, &mut findings);
    let options = PlanOptions {
        target: None,
        all_stages: true,
        ..options.clone()
    };
    let plan_error = plan_with_findings(dockerfile, &options, &mut findings).err();
    findings.sort_by_key(|f| (f.span.start.line, f.span.start.column, f.rule));
    findings.dedup();
    let warnings = findings
        .into_iter()
        .filter(|f| !config.is_skipped(f.rule.name()))
        .map(|f| CheckWarning {
            rule: f.rule,
            message: f.message,
            description: f.rule.description().to_string(),
            url: f.rule.url(),
            span: f.span,
        })
        .collect();
    CheckReport {
        warnings,
        config,
        plan_error,
    }
}
