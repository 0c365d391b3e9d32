//! `ONBUILD` triggers of a base image: the triggers an image's config carries
//! (`config.OnBuild`) run first in every stage built `FROM` it, like Docker. They are
//! parsed and expanded as a stage of their own over the image's environment (at the start
//! of the child stage only the image's `ENV` is in scope), then run as ordinary steps.
//! Stages based on a stage of the same Dockerfile get that stage's triggers from the
//! planner instead.

use rbuild_parser::ast::InstructionKind;
use rbuild_parser::plan::{BaseRef, PlanOptions, PlannedInstruction, plan};

use crate::build::error::BuildError;
use crate::build::stage::StageRun;

impl StageRun<'_, '_> {
    /// The planned triggers of this stage's base image (empty for other bases).
    pub(crate) fn base_image_triggers(&self) -> Result<Vec<PlannedInstruction>, BuildError> {
        let BaseRef::Image {
            reference,
            normalized,
        } = &self.stage.base
        else {
            return Ok(Vec::new());
        };
        let triggers = self
            .config
            .image
            .config
            .as_ref()
            .and_then(|c| c.on_build.clone())
            .unwrap_or_default();
        if triggers.is_empty() {
            return Ok(Vec::new());
        }
        let invalid = |message: String| {
            BuildError::Dockerfile(format!(
                "{}:{}: ONBUILD trigger of {reference}: {message}",
                self.source.name, self.stage.span.start.line
            ))
        };
        let mut text = format!("FROM {reference}\n");
        for trigger in &triggers {
            text.push_str(trigger.trim_end());
            text.push('\n');
        }
        let dockerfile = rbuild_parser::parse_dockerfile(&text, Some("ONBUILD"))
            .map_err(|e| invalid(e.render(&text)))?;
        let mut options = PlanOptions {
            build_args: self.session.options.build_args.clone(),
            target_platform: self.graph.target_platform.clone(),
            ..PlanOptions::default()
        };
        options
            .base_image_env
            .insert(normalized.with_default_tag(), self.config.env());
        let graph = plan(&dockerfile, &options).map_err(|e| invalid(e.to_string()))?;
        let stage = graph
            .stage(graph.target)
            .ok_or_else(|| invalid("the triggers did not plan".into()))?;
        let mut planned = Vec::new();
        for instruction in &stage.instructions {
            let kind = instruction.instruction.name();
            if matches!(
                instruction.instruction.kind,
                InstructionKind::From(_)
                    | InstructionKind::Onbuild(_)
                    | InstructionKind::Maintainer(_)
            ) {
                return Err(invalid(format!(
                    "{kind} is not allowed as an ONBUILD trigger"
                )));
            }
            let mut instruction = instruction.clone();
            // Messages point at the FROM that brought the triggers in.
            instruction.instruction.span = self.stage.span;
            instruction.from_onbuild = true;
            planned.push(instruction);
        }
        Ok(planned)
    }
}
