//! Running one stage: its instructions in order, each a cache hit or an execution.
//!
//! Only steps that change the file system (`RUN`, `COPY`, `ADD`, `WORKDIR`) have cache
//! keys, chained through each other; metadata steps (`ENV`, `LABEL`, `CMD`, ...) only
//! change the config. So a new `LABEL` does not invalidate the `RUN` after it, while an
//! `ENV` does — through the environment that is part of the `RUN`'s key.

use std::collections::BTreeMap;
use std::time::Instant;

use rbuild_oci::model::{Descriptor, History, ImageConfig};
use rbuild_parser::ast::InstructionKind;
use rbuild_parser::plan::{PlannedInstruction, Stage, StageGraph};
use rbuild_snapshotter::Digest;

use super::error::BuildError;
use super::events::{BuildEvent, StepId};
use super::session::Session;
use super::time::{now_or, rfc3339};

/// Gives every history entry without a time the time of the entry before it (or, at the
/// start, the first time that follows), and returns the latest time: the image's
/// `created`. Times come from the cache, so a fully cached rebuild writes the same config
/// and therefore the same image ID, as BuildKit does.
pub(crate) fn fill_history_times(history: &mut [History]) -> Option<String> {
    let mut last: Option<String> = None;
    for entry in history.iter_mut() {
        match &entry.created {
            Some(t) => last = Some(t.clone()),
            None => entry.created = last.clone(),
        }
    }
    let first = history.iter().find_map(|h| h.created.clone());
    for entry in history.iter_mut() {
        if entry.created.is_none() {
            entry.created = first.clone();
        }
    }
    // RFC 3339 UTC times in one format sort as text.
    history.iter().filter_map(|h| h.created.clone()).max()
}
use crate::cache::{CacheRecord, CachedLayer, explain_miss};
use crate::image_config::{StageConfig, apply_instruction};

/// What a finished stage hands to the stages and the image that use it.
#[derive(Debug, Clone)]
pub(crate) struct StageResult {
    pub config: ImageConfig,
    pub layers: Vec<Descriptor>,
    pub diff_ids: Vec<Digest>,
    /// The key of the last file-system step (or the base's identity): equal keys mean
    /// equal root file systems.
    pub key: String,
    pub executed: usize,
    pub cached: usize,
}

/// The Dockerfile a stage comes from, for messages and step identities.
pub(crate) struct Source<'a> {
    pub name: &'a str,
    pub text: &'a str,
    /// Stable identity of the Dockerfile for cache explanations.
    pub identity: &'a str,
}

/// A stage being built.
pub(crate) struct StageRun<'s, 'o> {
    pub session: &'s Session<'o>,
    pub graph: &'s StageGraph,
    pub stage: &'s Stage,
    pub source: &'s Source<'s>,
    pub config: StageConfig,
    pub layers: Vec<Descriptor>,
    pub diff_ids: Vec<Digest>,
    pub key: String,
    /// ARGs declared so far in the stage, in declaration order (BuildKit's history lists
    /// them in this order), with their values.
    pub args: Vec<(String, Option<String>)>,
    /// Results of the stages this one may copy from.
    pub finished: &'s BTreeMap<usize, StageResult>,
    pub executed: usize,
    pub cached: usize,
}

/// What executing a file-system step produced.
pub(crate) struct StepOutput {
    pub layer: Option<CachedLayer>,
    /// A COPY that wrote its destination as a fresh tree: that directory (kept in the
    /// cache record, see `CacheRecord::fresh_tree`).
    pub fresh_tree: Option<String>,
}

impl<'s, 'o> StageRun<'s, 'o> {
    pub fn run(mut self) -> Result<StageResult, BuildError> {
        // A base image's ONBUILD triggers run first (a base stage's come from the planner);
        // the image this stage produces does not carry them on.
        let mut instructions = self.base_image_triggers()?;
        instructions.extend(self.stage.instructions.iter().cloned());
        let total = instructions.len();
        if let Some(c) = self.config.image.config.as_mut() {
            c.on_build = None;
        }
        for (i, planned) in instructions.iter().enumerate() {
            let step = self.step_id(i, total, planned);
            self.session
                .emit(BuildEvent::StepStarted { step: step.clone() });
            let started = Instant::now();
            self.instruction(i, planned, &step)?;
            self.session.emit(BuildEvent::StepFinished {
                step,
                elapsed: started.elapsed(),
            });
        }
        let mut image = self.config.image;
        image.rootfs.diff_ids = self.diff_ids.clone();
        Ok(StageResult {
            config: image,
            layers: self.layers,
            diff_ids: self.diff_ids,
            key: self.key,
            executed: self.executed,
            cached: self.cached,
        })
    }

    fn step_id(&self, i: usize, total: usize, planned: &PlannedInstruction) -> StepId {
        let text = planned
            .instruction
            .original
            .lines()
            .next()
            .unwrap_or_default()
            .trim()
            .to_string();
        StepId {
            stage: self.stage.display_name(),
            index: i + 1,
            total,
            text,
            line: planned.instruction.span.start.line,
        }
    }

    /// `Dockerfile:7` for messages.
    pub fn location(&self, planned: &PlannedInstruction) -> String {
        format!(
            "{}:{}",
            self.source.name, planned.instruction.span.start.line
        )
    }

    /// The instruction's source lines with line numbers and a marker, for error messages.
    pub fn snippet(&self, planned: &PlannedInstruction) -> String {
        let span = planned.instruction.span;
        let mut out = String::new();
        for (n, line) in self.source.text.lines().enumerate() {
            let n = n as u32 + 1;
            if n >= span.start.line && n <= span.end.line.max(span.start.line) {
                out.push_str(&format!(" >>> {n:>4} | {line}\n"));
            }
        }
        out
    }

    pub fn step_error(
        &self,
        planned: &PlannedInstruction,
        message: impl Into<String>,
    ) -> BuildError {
        BuildError::Step {
            location: self.location(planned),
            message: message.into(),
            snippet: self.snippet(planned),
        }
    }

    fn instruction(
        &mut self,
        i: usize,
        planned: &PlannedInstruction,
        step: &StepId,
    ) -> Result<(), BuildError> {
        let kind = match planned.resolved_kind() {
            Some(kind) => kind.clone(),
            None => {
                return Err(self.step_error(
                    planned,
                    format!(
                        "cannot expand {}: unknown variables {}",
                        planned.instruction.name(),
                        planned.unresolved_vars().join(", ")
                    ),
                ));
            }
        };
        match &kind {
            InstructionKind::Run(_) | InstructionKind::Copy(_) | InstructionKind::Add(_) => {
                self.filesystem_step(i, planned, &kind, step)
            }
            InstructionKind::Workdir(_) => {
                let change = apply_instruction(&mut self.config, &kind)
                    .map_err(|e| self.step_error(planned, e.to_string()))?
                    .ok_or_else(|| self.step_error(planned, "WORKDIR produced no change"))?;
                self.filesystem_step(i, planned, &kind, step)?;
                // The history text is the config's (absolute) working directory.
                if let Some(last) = self.config.image.history.last_mut() {
                    last.created_by = Some(change.created_by);
                }
                Ok(())
            }
            InstructionKind::Arg(decls) => {
                for d in decls {
                    let value = self
                        .stage
                        .args
                        .iter()
                        .find(|a| a.name == d.name)
                        .and_then(|a| a.value.clone())
                        .or_else(|| d.default.clone());
                    match self.args.iter_mut().find(|(name, _)| *name == d.name) {
                        Some(slot) => slot.1 = value,
                        None => self.args.push((d.name.clone(), value)),
                    }
                }
                // History shows the declaration as written: `ARG NAME` stays without the
                // value it re-imports; a default is shown expanded.
                let raw = match &planned.instruction.kind {
                    InstructionKind::Arg(raw) => raw.clone(),
                    _ => Vec::new(),
                };
                let shown: Vec<rbuild_parser::ast::ArgDecl> = decls
                    .iter()
                    .map(|d| rbuild_parser::ast::ArgDecl {
                        name: d.name.clone(),
                        default: raw
                            .iter()
                            .find(|r| r.name == d.name)
                            .and_then(|r| r.default.as_ref())
                            .and(d.default.clone()),
                    })
                    .collect();
                self.metadata(planned, &InstructionKind::Arg(shown))
            }
            _ => self.metadata(planned, &kind),
        }
    }

    fn metadata(
        &mut self,
        planned: &PlannedInstruction,
        kind: &InstructionKind,
    ) -> Result<(), BuildError> {
        let change = apply_instruction(&mut self.config, kind)
            .map_err(|e| self.step_error(planned, e.to_string()))?;
        if let Some(change) = change {
            // Metadata steps take their time from the step before them when the image is
            // written (see `fill_history_times`), so a cached rebuild gives the same image.
            self.push_history(change.created_by, true, None);
        }
        Ok(())
    }

    /// Appends a history entry; `created` is when the step's result was first made.
    pub fn push_history(&mut self, created_by: String, empty_layer: bool, created: Option<String>) {
        let created = match self.session.options.source_date_epoch {
            Some(epoch) => Some(rfc3339(epoch)),
            None => created,
        };
        self.config.image.history.push(History {
            created,
            created_by: Some(created_by),
            author: None,
            comment: Some("buildkit.dockerfile.v0".to_string()),
            empty_layer: empty_layer.then_some(true),
        });
    }

    /// A step with a cache key: reuse its recorded result, or execute it.
    fn filesystem_step(
        &mut self,
        i: usize,
        planned: &PlannedInstruction,
        kind: &InstructionKind,
        step: &StepId,
    ) -> Result<(), BuildError> {
        let mut prepared = self.prepare(planned, kind)?;
        let inputs = prepared.inputs.clone();
        let created_by = prepared.created_by.clone();
        let key = inputs.key();
        let identity = format!("{}#{}#{}", self.source.identity, self.stage.index, i);
        let no_cache = self.session.options.no_cache
            || self.stage.name.as_ref().is_some_and(|n| {
                self.session
                    .options
                    .no_cache_filter
                    .iter()
                    .any(|f| f.eq_ignore_ascii_case(n))
            });
        let hit = if no_cache {
            None
        } else {
            self.usable_record(&key)
        };
        let record = match hit {
            Some(record) => {
                self.cached += 1;
                self.session
                    .emit(BuildEvent::StepCached { step: step.clone() });
                record
            }
            None => {
                let last = self.session.cache.last_build(&identity);
                let previous = match &last {
                    Some((inputs, _)) => Some(inputs.clone()),
                    None => self.session.cache.last_inputs(&identity),
                };
                let mut reasons: Vec<String> = explain_miss(previous.as_ref(), &inputs)
                    .iter()
                    .map(|r| r.to_string())
                    .collect();
                if no_cache {
                    reasons.insert(0, "cache disabled (--no-cache)".to_string());
                } else if reasons.is_empty() {
                    reasons.push("cached result is no longer in the store".to_string());
                }
                self.session.emit(BuildEvent::StepMissed {
                    step: step.clone(),
                    reasons,
                });
                // An incremental COPY links what did not change since the step's last
                // build; never with --no-cache, which asks for everything made afresh.
                if let (false, Some(plan), Some((before, before_key))) =
                    (no_cache, prepared.copy.as_mut(), last)
                {
                    plan.previous = self.previous_tree(before, &before_key, &inputs);
                }
                let output = self.execute(planned, kind, prepared, step)?;
                self.executed += 1;
                let record = CacheRecord {
                    key: key.to_string(),
                    layer: output.layer,
                    created_by,
                    created: rfc3339(now_or(self.session.options.source_date_epoch)),
                    fresh_tree: output.fresh_tree,
                };
                self.session.cache.put(&key, &record)?;
                record
            }
        };
        self.session
            .cache
            .set_last_inputs(&identity, &inputs, &key)?;
        self.apply_record(&record)?;
        self.key = key.to_string();
        Ok(())
    }

    /// A recorded result whose layer is still in the store.
    fn usable_record(&self, key: &Digest) -> Option<CacheRecord> {
        let record = self.session.cache.get(key)?;
        if let Some(layer) = &record.layer {
            let diff_id: Digest = layer.diff_id.parse().ok()?;
            let blob: Digest = layer.digest.parse().ok()?;
            let wanted = rbuild_oci::model::media_types::layer_media_type(
                self.session.options.compression,
                true,
            );
            if !self.session.snapshots.layers().contains(&diff_id)
                || !self.session.images.content().contains(&blob)
                || layer.media_type != wanted
            {
                return None;
            }
        }
        Some(record)
    }

    fn apply_record(&mut self, record: &CacheRecord) -> Result<(), BuildError> {
        match &record.layer {
            Some(layer) => {
                let diff_id: Digest =
                    layer
                        .diff_id
                        .parse()
                        .map_err(|e: rbuild_snapshotter::DigestParseError| {
                            BuildError::Request(e.to_string())
                        })?;
                let digest: Digest =
                    layer
                        .digest
                        .parse()
                        .map_err(|e: rbuild_snapshotter::DigestParseError| {
                            BuildError::Request(e.to_string())
                        })?;
                self.layers
                    .push(Descriptor::new(&layer.media_type, digest, layer.size));
                self.diff_ids.push(diff_id);
                self.push_history(
                    record.created_by.clone(),
                    false,
                    Some(record.created.clone()),
                );
            }
            None => self.push_history(
                record.created_by.clone(),
                true,
                Some(record.created.clone()),
            ),
        }
        Ok(())
    }
}
