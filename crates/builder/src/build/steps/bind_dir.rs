//! Host directories behind `RUN --mount=type=bind`: the build context (without `from=`)
//! or a directory `--build-context` (`from=NAME`), and the content digest of what such a
//! mount shows, which is part of the step's cache key.

use std::path::PathBuf;

use rbuild_parser::plan::PlannedInstruction;

use crate::build::error::BuildError;
use crate::build::stage::StageRun;
use crate::context::IgnoreRules;
use crate::request::NamedContext;

impl StageRun<'_, '_> {
    /// The host directory a bind mount reads (with the ignore rules that apply to it): the
    /// build context without `from=`, or a directory `--build-context` named by `from=`.
    /// None for a stage or an image.
    pub(super) fn bind_directory(
        &self,
        planned: &PlannedInstruction,
        m: &rbuild_parser::ast::RunMount,
    ) -> Result<Option<(PathBuf, &IgnoreRules)>, BuildError> {
        match &m.from {
            Some(from) => match self.session.named_context(from) {
                Some(NamedContext::Directory(dir)) => Ok(Some((dir.clone(), self.no_ignore()))),
                _ => Ok(None),
            },
            None => match &self.session.options.context {
                Some(context) => Ok(Some((context.clone(), &self.session.ignore))),
                None => Err(self.step_error(
                    planned,
                    "RUN --mount=type=bind needs a build context (or from=)",
                )),
            },
        }
    }

    fn no_ignore(&self) -> &'static IgnoreRules {
        static NONE: std::sync::OnceLock<IgnoreRules> = std::sync::OnceLock::new();
        NONE.get_or_init(IgnoreRules::none)
    }

    /// The content digest of `src` inside `dir` (what a bind mount of it shows), through
    /// the stat cache: an unchanged directory reads no file.
    pub(super) fn directory_digest(
        &self,
        planned: &PlannedInstruction,
        dir: &std::path::Path,
        src: &str,
        ignore: &IgnoreRules,
    ) -> Result<String, BuildError> {
        let host = crate::context::resolve_in_root(dir, src, true)
            .map_err(|e| self.step_error(planned, e.to_string()))?;
        if std::fs::symlink_metadata(&host).is_err() {
            return Err(self.step_error(
                planned,
                format!("bind mount source {src:?} not found in {}", dir.display()),
            ));
        }
        let entries = crate::context::walk_source(src, &host, ignore)
            .map_err(|e| self.step_error(planned, e.to_string()))?;
        let mut cache = self
            .session
            .stat_cache
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let digest = crate::context::digest_entries(&entries, &mut cache)
            .map_err(|e| self.step_error(planned, e.to_string()))?;
        Ok(format!("content:{}", digest.digest))
    }
}
