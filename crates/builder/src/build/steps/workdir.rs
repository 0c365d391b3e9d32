//! `WORKDIR`: the directory is created (owned by the current `USER`) when missing.

use rbuild_parser::plan::PlannedInstruction;

use crate::build::error::BuildError;
use crate::build::stage::{StageRun, StepOutput};
use crate::copy::mkdir_all;
use crate::mounted::with_mounted;
use crate::users::resolve_chown;

impl StageRun<'_, '_> {
    pub(super) fn execute_workdir(
        &self,
        planned: &PlannedInstruction,
    ) -> Result<StepOutput, BuildError> {
        let snapshot = self.prepare_snapshot("workdir")?;
        let target = self.session.scratch_dir(&snapshot.key);
        let root = target.clone();
        let wd = self.config.workdir();
        let user = self
            .config
            .image
            .config
            .as_ref()
            .and_then(|c| c.user.clone())
            .filter(|u| !u.is_empty());
        let result = with_mounted(
            &[(snapshot.mount.clone(), target.clone())],
            move || -> Result<(), String> {
                let owner = match &user {
                    Some(u) => Some(resolve_chown(&root, u).map_err(|e| e.to_string())?),
                    None => None,
                };
                let (uid, gid) = owner.unwrap_or((0, 0));
                mkdir_all(&root, &wd, uid, gid).map_err(|e| e.to_string())
            },
        );
        let _ = std::fs::remove_dir(&target);
        self.finish_mounted_step(planned, snapshot, result)
    }
}
