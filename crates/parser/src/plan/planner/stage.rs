//! One stage: its `FROM` line (base, platform) and its body.

use std::collections::BTreeSet;

use crate::checks::Rule;
use crate::span::Span;

use super::{Planner, StageWalk};
use crate::plan::error::PlanError;
use crate::plan::graph::{BaseRef, Dependency, DependencyKind, DependencySource, Stage};
use crate::plan::platform::Platform;
use crate::plan::scope::StageScope;

impl<'a> Planner<'a> {
    /// Expand the `FROM` line of stage `index` and plan its body.
    pub(super) fn stage(
        &mut self,
        index: usize,
        planned: &[Stage],
        final_scopes: &[StageScope],
    ) -> Result<(Stage, StageScope), PlanError> {
        let block_span = self.blocks[index].from_instruction.span;
        let from = self.blocks[index].from;

        let base_word = self
            .lexer
            .process_word(&from.image, &self.global_vars)
            .map_err(|source| PlanError::Expansion {
                source,
                span: block_span,
            })?;
        self.report_undeclared_from_args(&base_word.unset, block_span);
        let mut from_args_used: BTreeSet<String> = base_word.used.clone();
        if base_word.value.is_empty() {
            return Err(PlanError::BlankBaseName {
                raw: from.image.clone(),
                span: block_span,
            });
        }
        let base = self.resolve_base(&base_word.value, index, block_span).map_err(|error| match error {
            // Say where a bad name came from when variables made it.
            PlanError::InvalidReference { value, reason, suggestion, span } if !base_word.used.is_empty() => {
                PlanError::InvalidReference {
                    reason: format!("{reason}; it is what `{}` expands to: check the ARGs it uses or pass --build-arg", from.image),
                    value,
                    suggestion,
                    span,
                }
            }
            other => other,
        })?;
        // A stage based on another stage runs on that stage's platform.
        let base_for_platform = match &base {
            BaseRef::Stage { index: parent } => planned
                .iter()
                .find(|s| s.index == *parent)
                .map(|s| s.effective_platform.clone()),
            _ => None,
        };
        let platform = match &from.platform {
            Some(raw) => Some(self.stage_platform(raw, index, block_span, &mut from_args_used)?),
            None => None,
        };

        let mut deps = Vec::new();
        let mut instructions = Vec::new();
        let mut scope = match &base {
            BaseRef::Stage { index: parent } => {
                deps.push(Dependency {
                    source: DependencySource::Stage { index: *parent },
                    kind: DependencyKind::From,
                    span: block_span,
                });
                final_scopes.get(*parent).cloned().unwrap_or_default()
            }
            BaseRef::Scratch => StageScope::with_base_env(Some(&[])),
            BaseRef::Image { normalized, .. } => {
                deps.push(Dependency {
                    source: DependencySource::Image {
                        reference: base_word.value.clone(),
                        normalized: normalized.clone(),
                    },
                    kind: DependencyKind::From,
                    span: block_span,
                });
                StageScope::with_base_env(
                    self.options
                        .base_image_env
                        .get(&normalized.with_default_tag())
                        .map(Vec::as_slice),
                )
            }
        };
        // A `FROM` is a new image config: SHELL and WORKDIR flags carry over
        // from a parent stage (they are part of its image), trackers do not.
        let mut walk = StageWalk::new();

        // Triggers registered by a parent stage's ONBUILD run first.
        if let BaseRef::Stage { index: parent } = base
            && let Some(parent_stage) = planned.iter().find(|s| s.index == parent)
        {
            for trigger in &parent_stage.onbuild {
                let planned =
                    self.instruction(trigger, true, &mut scope, &mut walk, &mut deps, index)?;
                instructions.push(planned);
            }
        }
        let body = self.blocks[index].body.clone();
        for instruction in body {
            let planned =
                self.instruction(instruction, false, &mut scope, &mut walk, &mut deps, index)?;
            instructions.push(planned);
        }

        let stage = Stage {
            index,
            name: self.blocks[index].name.clone(),
            base_env_unknown: !scope.base_env_known,
            base,
            base_raw: from.image.clone(),
            effective_platform: match (base_for_platform, &platform) {
                (Some(parent), _) => parent,
                (None, Some(own)) => own.clone(),
                (None, None) => self.options.target_platform.clone(),
            },
            platform,
            span: block_span,
            instructions,
            args: walk.args,
            from_args_used: from_args_used.into_iter().collect(),
            deps,
            onbuild: walk.onbuild,
        };
        Ok((stage, scope))
    }

    /// Expand and check `FROM --platform=`.
    pub(super) fn stage_platform(
        &mut self,
        raw: &str,
        index: usize,
        span: Span,
        used: &mut BTreeSet<String>,
    ) -> Result<Platform, PlanError> {
        let word = self
            .lexer
            .process_word(raw, &self.global_vars)
            .map_err(|source| PlanError::Expansion { source, span })?;
        self.report_undeclared_from_args(&word.unset, span);
        let set: Vec<&str> = word.set_names().collect();
        if set == ["TARGETPLATFORM"]
            && word.unset.is_empty()
            && self.global_vars.get("TARGETPLATFORM") == Some(&word.value)
        {
            self.report(
                Rule::RedundantTargetPlatform,
                span,
                format!("Setting platform to predefined {raw} in FROM is redundant as this is the default behavior"),
            );
        }
        used.extend(word.used.iter().cloned());
        if word.value.is_empty() {
            return Err(PlanError::InvalidPlatform {
                raw: raw.to_string(),
                value: word.value,
                reason: "empty platform value: give the ARG a default or pass --build-arg"
                    .to_string(),
                span,
            });
        }
        let platform =
            Platform::parse(&word.value).map_err(|error| PlanError::InvalidPlatform {
                raw: raw.to_string(),
                value: word.value.clone(),
                reason: error.reason.to_string(),
                span,
            })?;
        if word.used.is_empty() {
            let name = self.blocks[index].name.clone().unwrap_or_default();
            if !name.contains(&platform.os) && !name.contains(&platform.architecture) {
                self.report(
                    Rule::FromPlatformFlagConstDisallowed,
                    span,
                    format!(
                        "FROM --platform flag should not use constant value {:?}",
                        word.value
                    ),
                );
            }
        }
        Ok(platform)
    }
}
