//! What a name in `FROM`, `COPY --from`, `--mount from=` or `--target` refers to.

use crate::span::Span;

use super::Planner;
use crate::plan::error::PlanError;
use crate::plan::graph::{BaseRef, DependencySource, TargetSummary};
use crate::plan::reference::ImageReference;
use crate::plan::suggest::did_you_mean;

impl<'a> Planner<'a> {
    /// The most recent stage before `before` named `name` (lower case).
    pub(super) fn earlier_stage_named(&self, name: &str, before: usize) -> Option<usize> {
        (0..before)
            .rev()
            .find(|&i| self.blocks[i].name.as_deref() == Some(name))
    }

    /// The first stage after `after` named `name` (lower case).
    pub(super) fn later_stage_named(&self, name: &str, after: usize) -> Option<usize> {
        (after + 1..self.blocks.len()).find(|&i| self.blocks[i].name.as_deref() == Some(name))
    }

    pub(super) fn stage_names(&self) -> Vec<&str> {
        self.blocks
            .iter()
            .filter_map(|b| b.name.as_deref())
            .collect()
    }

    pub(super) fn display_name(&self, index: usize) -> String {
        self.blocks[index]
            .name
            .clone()
            .unwrap_or_else(|| format!("stage-{index}"))
    }

    /// Resolve a `FROM` value (already expanded) for stage `index`.
    pub(super) fn resolve_base(
        &self,
        value: &str,
        index: usize,
        span: Span,
    ) -> Result<BaseRef, PlanError> {
        // BuildKit looks a `FROM` value up as written among the (lower-cased)
        // stage names, so `FROM Builder` is not the stage `builder` but an
        // invalid image name; `COPY --from` compares case-insensitively.
        let lower = value.to_ascii_lowercase();
        if let Some(earlier) = self.earlier_stage_named(value, index) {
            if self.options.replaced_stages.contains(value) {
                return self
                    .parse_reference(value, span)
                    .map(|normalized| BaseRef::Image {
                        reference: value.to_string(),
                        normalized,
                    });
            }
            return Ok(BaseRef::Stage { index: earlier });
        }
        if value == "scratch" {
            return Ok(BaseRef::Scratch);
        }
        if self.later_stage_named(&lower, index).is_some() {
            return Err(PlanError::ForwardReference {
                stage: self.display_name(index),
                referenced: lower,
                span,
            });
        }
        let normalized = self.parse_reference(value, span)?;
        Ok(BaseRef::Image {
            reference: value.to_string(),
            normalized,
        })
    }

    pub(super) fn parse_reference(
        &self,
        value: &str,
        span: Span,
    ) -> Result<ImageReference, PlanError> {
        ImageReference::parse(value).map_err(|error| PlanError::InvalidReference {
            value: value.to_string(),
            reason: error.to_string(),
            suggestion: did_you_mean(value, self.stage_names(), true),
            span,
        })
    }

    /// Resolve `COPY --from=` / `--mount from=` for stage `index`.
    pub(super) fn resolve_source(
        &self,
        value: &str,
        index: usize,
        span: Span,
    ) -> Result<DependencySource, PlanError> {
        if value.contains('$') {
            let no_vars: [(&str, &str); 0] = [];
            let literal = self
                .lexer
                .process_word(value, &no_vars[..])
                .map(|w| w.value);
            if literal.as_deref() != Ok(value) {
                return Err(PlanError::VariableInFrom {
                    value: value.to_string(),
                    span,
                });
            }
        }
        if let Ok(number) = value.parse::<i64>() {
            return match usize::try_from(number) {
                Ok(n) if n < index => Ok(DependencySource::Stage { index: n }),
                Ok(n) if n == index => Err(PlanError::CircularDependency {
                    stage: self.display_name(index),
                    span,
                }),
                _ => Err(PlanError::InvalidStageIndex {
                    index: number,
                    stage: self.display_name(index),
                    stage_index: index,
                    span,
                }),
            };
        }
        let lower = value.to_ascii_lowercase();
        if let Some(earlier) = self.earlier_stage_named(&lower, index) {
            if self.options.replaced_stages.contains(&lower) {
                return self.parse_reference(&lower, span).map(|normalized| {
                    DependencySource::Image {
                        reference: lower.clone(),
                        normalized,
                    }
                });
            }
            return Ok(DependencySource::Stage { index: earlier });
        }
        if self.blocks[index].name.as_deref() == Some(lower.as_str()) {
            return Err(PlanError::CircularDependency {
                stage: self.display_name(index),
                span,
            });
        }
        if self.later_stage_named(&lower, index).is_some() {
            return Err(PlanError::ForwardReference {
                stage: self.display_name(index),
                referenced: lower,
                span,
            });
        }
        let normalized = self.parse_reference(value, span)?;
        Ok(DependencySource::Image {
            reference: value.to_string(),
            normalized,
        })
    }
    pub(super) fn target_index(&self, target: Option<&str>) -> Result<usize, PlanError> {
        let Some(target) = target else {
            return Ok(self.blocks.len() - 1);
        };
        let lower = target.to_ascii_lowercase();
        // A name used twice means its last stage, as in BuildKit.
        if let Some(index) = (0..self.blocks.len())
            .rev()
            .find(|&i| self.blocks[i].name.as_deref() == Some(lower.as_str()))
        {
            return Ok(index);
        }
        let available: Vec<String> = self.stage_names().into_iter().map(str::to_string).collect();
        Err(PlanError::UnknownTarget {
            target: target.to_string(),
            suggestion: did_you_mean(target, available.iter().map(String::as_str), false),
            available,
        })
    }

    pub(super) fn target_summaries(&self) -> Vec<TargetSummary> {
        let last = self.blocks.len() - 1;
        self.blocks
            .iter()
            .enumerate()
            .map(|(index, block)| TargetSummary {
                index,
                name: block.name.clone(),
                base: block.from.image.clone(),
                is_default: index == last,
                span: block.from_instruction.span,
            })
            .collect()
    }
}
