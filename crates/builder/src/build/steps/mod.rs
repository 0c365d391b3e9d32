//! The file-system steps: what goes into their cache keys, and how they run.

mod bind_dir;
mod commit;
mod copy;
mod mount_from;
mod onbuild;
mod run;
mod workdir;

use rbuild_parser::ast::InstructionKind;
use rbuild_parser::plan::PlannedInstruction;

use super::error::BuildError;
use super::events::StepId;
use super::stage::{StageRun, StepOutput};
use crate::cache::StepInputs;

pub(crate) use copy::CopyPlan;

/// A step ready to be looked up in the cache and, on a miss, executed.
pub(crate) struct Prepared {
    pub inputs: StepInputs,
    pub created_by: String,
    pub copy: Option<CopyPlan>,
}

impl StageRun<'_, '_> {
    pub(crate) fn prepare(
        &self,
        planned: &PlannedInstruction,
        kind: &InstructionKind,
    ) -> Result<Prepared, BuildError> {
        let mut inputs = StepInputs {
            parent: self.key.clone(),
            platform: self.graph.target_platform.to_string(),
            ..Default::default()
        };
        match kind {
            InstructionKind::Run(run) => {
                let created_by = self.prepare_run(planned, run, &mut inputs)?;
                Ok(Prepared {
                    inputs,
                    created_by,
                    copy: None,
                })
            }
            InstructionKind::Copy(fc) | InstructionKind::Add(fc) => {
                let is_add = matches!(kind, InstructionKind::Add(_));
                let (created_by, plan) = self.prepare_copy(planned, fc, is_add, &mut inputs)?;
                Ok(Prepared {
                    inputs,
                    created_by,
                    copy: Some(plan),
                })
            }
            InstructionKind::Workdir(_) => {
                let wd = self.config.workdir();
                inputs.instruction = format!("WORKDIR {wd}");
                let user = self
                    .config
                    .image
                    .config
                    .as_ref()
                    .and_then(|c| c.user.clone())
                    .unwrap_or_default();
                inputs.options.insert("user".into(), user);
                Ok(Prepared {
                    inputs,
                    created_by: format!("WORKDIR {wd}"),
                    copy: None,
                })
            }
            other => Err(self.step_error(
                planned,
                format!("{} is not a file-system step", other.name()),
            )),
        }
    }

    pub(crate) fn execute(
        &self,
        planned: &PlannedInstruction,
        kind: &InstructionKind,
        prepared: Prepared,
        step: &StepId,
    ) -> Result<StepOutput, BuildError> {
        match kind {
            InstructionKind::Run(run) => self.execute_run(planned, run, step),
            InstructionKind::Copy(fc) | InstructionKind::Add(fc) => match prepared.copy {
                Some(plan) => self.execute_copy(planned, fc, plan, step),
                None => Err(self.step_error(planned, "internal error: COPY without a plan")),
            },
            InstructionKind::Workdir(_) => self.execute_workdir(planned),
            other => Err(self.step_error(
                planned,
                format!("{} is not a file-system step", other.name()),
            )),
        }
    }
}
