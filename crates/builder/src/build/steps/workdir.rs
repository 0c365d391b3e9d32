//! `WORKDIR`: the directory is created (owned by the current `USER`) when missing.

use rbuild_parser::plan::PlannedInstruction;

use crate::build::error::BuildError;
use crate::build::stage::{StageRun, StepOutput};
use crate::context::resolve_in_root;
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
                let mut walked = String::new();
                for part in wd.split('/').filter(|p| !p.is_empty()) {
                    walked.push('/');
                    walked.push_str(part);
                    let path = resolve_in_root(&root, &walked, true).map_err(|e| e.to_string())?;
                    if path.is_dir() {
                        continue;
                    }
                    std::fs::create_dir(&path)
                        .map_err(|e| format!("cannot create {walked}: {e}"))?;
                    if let Some((uid, gid)) = owner {
                        std::os::unix::fs::chown(&path, Some(uid), Some(gid))
                            .map_err(|e| format!("cannot chown {walked}: {e}"))?;
                    }
                }
                Ok(())
            },
        );
        let _ = std::fs::remove_dir(&target);
        self.finish_mounted_step(planned, snapshot, result)
    }
}
