//! The planner: one pass over the typed AST that resolves every `FROM`,
//! walks each stage with its variable scope, records the DAG edges and
//! collects the findings the build checks report.

use std::collections::{BTreeMap, BTreeSet};

use crate::ast::{ArgDecl, CommandForm, Dockerfile, From, Instruction, InstructionKind};
use crate::checks::Rule;
use crate::shell::Lexer;
use crate::span::Span;

use super::PlanOptions;
use super::build_args::{is_proxy_arg, predefined_args};
use super::error::PlanError;
use super::expand::expand_kind;
use super::graph::{
    ArgSource, ArgValue, BaseRef, Dependency, DependencyKind, DependencySource, PlannedInstruction,
    Stage, StageGraph, TargetSummary,
};
use super::platform::Platform;
use super::reference::ImageReference;
use super::scope::{StageScope, WordExpander};
use super::suggest::did_you_mean;

/// A build-check finding made while planning (the rules that need variable
/// scopes: UndefinedVar, UndefinedArgInFrom, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Finding {
    pub rule: Rule,
    pub span: Span,
    pub message: String,
}

/// A stage's `FROM` line split from its body.
struct StageBlock<'a> {
    from_instruction: &'a Instruction,
    from: &'a From,
    /// Lower-cased `AS` name.
    name: Option<String>,
    body: Vec<&'a Instruction>,
}

/// Plan `dockerfile`, adding the findings to `findings` (also when planning
/// fails: the findings made up to the error are kept, as BuildKit reports
/// lint warnings next to the build error).
pub(crate) fn plan_with_findings(
    dockerfile: &Dockerfile,
    options: &PlanOptions,
    findings: &mut Vec<Finding>,
) -> Result<StageGraph, PlanError> {
    let mut planner = Planner {
        options,
        lexer: Lexer::new(dockerfile.directives.escape_token()),
        escape: dockerfile.directives.escape_token(),
        findings: Vec::new(),
        blocks: Vec::new(),
        global_vars: BTreeMap::new(),
        global_declared: BTreeSet::new(),
    };
    let result = planner.run(dockerfile);
    findings.append(&mut planner.findings);
    result
}

struct Planner<'a> {
    options: &'a PlanOptions,
    lexer: Lexer,
    escape: char,
    findings: Vec<Finding>,
    blocks: Vec<StageBlock<'a>>,
    /// Predefined and global `ARG` values (after `--build-arg`).
    global_vars: BTreeMap<String, String>,
    /// Every global `ARG` name, with or without a value.
    global_declared: BTreeSet<String>,
}

impl<'a> Planner<'a> {
    fn run(&mut self, dockerfile: &'a Dockerfile) -> Result<StageGraph, PlanError> {
        let options = self.options;
        let global_decls = self.split(dockerfile)?;
        let target_name = match &options.target {
            Some(target) => target.clone(),
            None => self
                .blocks
                .last()
                .and_then(|b| b.name.clone())
                .unwrap_or_default(),
        };
        let predefined = predefined_args(
            &options.build_platform,
            &options.target_platform,
            &target_name,
            &options.build_args,
        );
        self.global_vars = predefined.iter().cloned().collect();
        let global_args = self.global_args(&global_decls)?;

        let mut stages: Vec<Stage> = Vec::with_capacity(self.blocks.len());
        let mut final_scopes: Vec<StageScope> = Vec::with_capacity(self.blocks.len());
        for index in 0..self.blocks.len() {
            let (stage, scope) = self.stage(index, &stages, &final_scopes)?;
            stages.push(stage);
            final_scopes.push(scope);
        }

        let target = self.target_index(options.target.as_deref())?;
        let needed = needed_stages(&stages, target);
        let targets = self.target_summaries();
        let stages: Vec<Stage> = if options.all_stages {
            stages
        } else {
            stages
                .into_iter()
                .filter(|s| needed.contains(&s.index))
                .collect()
        };
        let unused_build_args = unused_build_args(options, &global_args, &stages);
        Ok(StageGraph {
            stages,
            target,
            global_args,
            predefined_args: predefined.into_iter().collect(),
            build_platform: options.build_platform.clone(),
            target_platform: options.target_platform.clone(),
            build_args: options.build_args.clone(),
            proxy_env: options.build_args.proxy_env(),
            unused_build_args,
            targets,
            escape: self.escape,
        })
    }

    fn report(&mut self, rule: Rule, span: Span, message: String) {
        self.findings.push(Finding {
            rule,
            span,
            message,
        });
    }

    /// Split the instructions into global `ARG`s and stage blocks.
    fn split(&mut self, dockerfile: &'a Dockerfile) -> Result<Vec<&'a Instruction>, PlanError> {
        let mut globals = Vec::new();
        for instruction in &dockerfile.instructions {
            match &instruction.kind {
                InstructionKind::From(from) => self.blocks.push(StageBlock {
                    from_instruction: instruction,
                    from,
                    name: from.stage.as_ref().map(|s| s.name.to_ascii_lowercase()),
                    body: Vec::new(),
                }),
                kind => match self.blocks.last_mut() {
                    Some(block) => block.body.push(instruction),
                    None if matches!(kind, InstructionKind::Arg(_)) => globals.push(instruction),
                    None => {
                        return Err(PlanError::InstructionBeforeFrom {
                            instruction: kind.name(),
                            span: instruction.span,
                        });
                    }
                },
            }
        }
        if self.blocks.is_empty() {
            return Err(PlanError::NoStages);
        }
        Ok(globals)
    }

    /// Global `ARG`s: values from `--build-arg`, else their expanded defaults.
    /// Also runs InvalidDefaultArgInFrom, which looks at the defaults alone.
    fn global_args(&mut self, decls: &[&Instruction]) -> Result<Vec<ArgValue>, PlanError> {
        let mut args = Vec::new();
        let mut defaults_only = self.global_vars.clone();
        let mut defaults_ok = true;
        for instruction in decls {
            let InstructionKind::Arg(list) = &instruction.kind else {
                continue;
            };
            for ArgDecl { name, default } in list {
                self.global_declared.insert(name.clone());
                if let Some(default) = default {
                    match self.lexer.process_word(default, &defaults_only) {
                        Ok(word) => {
                            defaults_only.insert(name.clone(), word.value);
                        }
                        Err(_) => defaults_ok = false,
                    }
                }
                let (value, source) = if let Some(given) = self.options.build_args.get(name) {
                    (Some(given.to_string()), ArgSource::BuildArg)
                } else if let Some(default) = default {
                    let word = self
                        .lexer
                        .process_word(default, &self.global_vars)
                        .map_err(|source| PlanError::Expansion {
                            source,
                            span: instruction.span,
                        })?;
                    (Some(word.value), ArgSource::Default)
                } else {
                    (None, ArgSource::Unset)
                };
                if let Some(value) = &value {
                    self.global_vars.insert(name.clone(), value.clone());
                }
                args.push(ArgValue {
                    name: name.clone(),
                    default: default.clone(),
                    value,
                    source,
                    span: instruction.span,
                });
            }
        }
        if defaults_ok {
            self.check_default_base_names(&defaults_only);
        }
        Ok(args)
    }

    /// InvalidDefaultArgInFrom: with no `--build-arg`, would each `FROM` still
    /// name a valid image?
    fn check_default_base_names(&mut self, defaults: &BTreeMap<String, String>) {
        let mut invalid = Vec::new();
        for block in &self.blocks {
            let Ok(word) = self.lexer.process_word(&block.from.image, defaults) else {
                return;
            };
            if word.used.is_empty() {
                continue; // a constant name: any problem is a plain error, not a default-value one
            }
            if ImageReference::parse(&word.value).is_err() {
                invalid.push((block.from_instruction.span, block.from.image.clone()));
            }
        }
        for (span, raw) in invalid {
            self.report(
                Rule::InvalidDefaultArgInFrom,
                span,
                format!("Default value for ARG {raw} results in empty or invalid base image name"),
            );
        }
    }

    /// Names a `FROM` line may use: predefined and global values, and global
    /// `ARG`s declared without a value.
    fn names_usable_in_from(&self) -> Vec<String> {
        let mut names: BTreeSet<&String> = self.global_vars.keys().collect();
        names.extend(self.global_declared.iter());
        names.into_iter().cloned().collect()
    }

    /// UndefinedArgInFrom for the unset names of a `FROM` word.
    fn report_undeclared_from_args(&mut self, unset: &BTreeSet<String>, span: Span) {
        let known = self.names_usable_in_from();
        for name in unset {
            if known.contains(name) {
                continue;
            }
            let hint = did_you_mean(name, known.iter().map(String::as_str), true)
                .map(|s| format!(" (did you mean {s}?)"))
                .unwrap_or_default();
            self.report(
                Rule::UndefinedArgInFrom,
                span,
                format!("FROM argument '{name}' is not declared{hint}"),
            );
        }
    }

    /// The most recent stage before `before` named `name` (lower case).
    fn earlier_stage_named(&self, name: &str, before: usize) -> Option<usize> {
        (0..before)
            .rev()
            .find(|&i| self.blocks[i].name.as_deref() == Some(name))
    }

    /// The first stage after `after` named `name` (lower case).
    fn later_stage_named(&self, name: &str, after: usize) -> Option<usize> {
        (after + 1..self.blocks.len()).find(|&i| self.blocks[i].name.as_deref() == Some(name))
    }

    fn stage_names(&self) -> Vec<&str> {
        self.blocks
            .iter()
            .filter_map(|b| b.name.as_deref())
            .collect()
    }

    fn display_name(&self, index: usize) -> String {
        self.blocks[index]
            .name
            .clone()
            .unwrap_or_else(|| format!("stage-{index}"))
    }

    /// Resolve a `FROM` value (already expanded) for stage `index`.
    fn resolve_base(&self, value: &str, index: usize, span: Span) -> Result<BaseRef, PlanError> {
        let lower = value.to_ascii_lowercase();
        if let Some(earlier) = self.earlier_stage_named(&lower, index) {
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

    fn parse_reference(&self, value: &str, span: Span) -> Result<ImageReference, PlanError> {
        ImageReference::parse(value).map_err(|error| PlanError::InvalidReference {
            value: value.to_string(),
            reason: error.to_string(),
            suggestion: did_you_mean(value, self.stage_names(), false),
            span,
        })
    }

    /// Resolve `COPY --from=` / `--mount from=` for stage `index`.
    fn resolve_source(
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

    /// Expand the `FROM` line of stage `index` and plan its body.
    fn stage(
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
        let base = self.resolve_base(&base_word.value, index, block_span)?;
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
    fn stage_platform(
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

    /// Plan one instruction of stage `index`: expand it, update the scope,
    /// record edges and findings.
    fn instruction(
        &mut self,
        instruction: &Instruction,
        from_onbuild: bool,
        scope: &mut StageScope,
        walk: &mut StageWalk,
        deps: &mut Vec<Dependency>,
        index: usize,
    ) -> Result<PlannedInstruction, PlanError> {
        let span = instruction.span;
        let expansion_error = |source| PlanError::Expansion { source, span };

        if let InstructionKind::Arg(decls) = &instruction.kind {
            return self.arg(instruction, decls, from_onbuild, scope, walk);
        }

        let mut words = WordExpander::new(self.escape, scope);
        let expanded = expand_kind(&instruction.kind, &mut words).map_err(expansion_error)?;
        let unresolved = words.unresolved();
        let undefined = words.undefined();
        let suggestions: Vec<(String, Option<String>)> = undefined
            .into_iter()
            .map(|name| {
                let hint = did_you_mean(&name, scope.vars.keys().map(String::as_str), true);
                (name, hint)
            })
            .collect();
        for (name, hint) in suggestions {
            let hint = hint
                .map(|h| format!(" (did you mean ${h}?)"))
                .unwrap_or_default();
            self.report(
                Rule::UndefinedVar,
                span,
                format!("Usage of undefined variable '${name}'{hint}"),
            );
        }
        let resolved = unresolved.is_empty();

        match (&instruction.kind, &expanded) {
            (InstructionKind::Env(raw_pairs), InstructionKind::Env(pairs)) => {
                for (raw, pair) in raw_pairs.iter().zip(pairs) {
                    if raw.legacy_format {
                        self.report(
                            Rule::LegacyKeyValueFormat,
                            span,
                            "\"ENV key=value\" should be used instead of legacy \"ENV key value\" format".to_string(),
                        );
                    }
                    self.check_secret("ENV", &pair.name, span);
                }
                // All values were expanded against the scope before the
                // instruction; now they take effect together.
                for pair in pairs {
                    if resolved {
                        scope.vars.insert(pair.name.clone(), pair.value.clone());
                    } else {
                        scope.vars.remove(&pair.name);
                    }
                }
            }
            (InstructionKind::Label(raw_pairs), _) if raw_pairs.iter().any(|p| p.legacy_format) => {
                self.report(
                    Rule::LegacyKeyValueFormat,
                    span,
                    "\"LABEL key=value\" should be used instead of legacy \"LABEL key value\" format".to_string(),
                );
            }
            (InstructionKind::Workdir(_), InstructionKind::Workdir(path)) => {
                if !scope.workdir_set && !path.starts_with('/') {
                    self.report(
                        Rule::WorkdirRelativePath,
                        span,
                        format!("Relative workdir {path:?} can have unexpected results if the base image changes"),
                    );
                }
                scope.workdir_set = true;
            }
            (InstructionKind::Cmd(form), _) => {
                walk.cmd = self.used_once("CMD", walk.cmd, span);
                self.check_json_args("CMD", form, scope, span);
            }
            (InstructionKind::Entrypoint(form), _) => {
                walk.entrypoint = self.used_once("ENTRYPOINT", walk.entrypoint, span);
                self.check_json_args("ENTRYPOINT", form, scope, span);
            }
            (InstructionKind::Healthcheck(_), _) => {
                walk.healthcheck = self.used_once("HEALTHCHECK", walk.healthcheck, span);
            }
            (InstructionKind::Shell(_), _) => scope.shell_set = true,
            (InstructionKind::Expose(_), InstructionKind::Expose(ports)) if resolved => {
                for port in ports {
                    self.check_expose(port, span);
                }
            }
            (InstructionKind::Copy(copy) | InstructionKind::Add(copy), _) => {
                if let Some(from) = &copy.from {
                    let source = self.resolve_source(from, index, span)?;
                    deps.push(Dependency {
                        source,
                        kind: DependencyKind::CopyFrom,
                        span,
                    });
                }
            }
            (InstructionKind::Run(run), _) => {
                for mount in &run.mounts {
                    if let Some(from) = &mount.from {
                        let source = self.resolve_source(from, index, span)?;
                        deps.push(Dependency {
                            source,
                            kind: DependencyKind::MountFrom,
                            span,
                        });
                    }
                }
            }
            (InstructionKind::Onbuild(trigger), _) => walk.onbuild.push((**trigger).clone()),
            _ => {}
        }

        Ok(PlannedInstruction {
            instruction: instruction.clone(),
            expanded: resolved.then_some(expanded),
            unresolved_vars: unresolved,
            from_onbuild,
        })
    }

    /// `ARG` inside a stage: each name gets the `--build-arg` value, else its
    /// expanded default, else (no default) the global value.
    fn arg(
        &mut self,
        instruction: &Instruction,
        decls: &[ArgDecl],
        from_onbuild: bool,
        scope: &mut StageScope,
        walk: &mut StageWalk,
    ) -> Result<PlannedInstruction, PlanError> {
        let span = instruction.span;
        let mut expanded_decls = Vec::with_capacity(decls.len());
        let mut unresolved_all = BTreeSet::new();
        for decl in decls {
            self.check_secret("ARG", &decl.name, span);
            let mut unresolved = Vec::new();
            let (value, source) = if let Some(given) = self.options.build_args.get(&decl.name) {
                (Some(given.to_string()), ArgSource::BuildArg)
            } else if let Some(default) = &decl.default {
                // Each default sees the values of the names declared before it
                // on the same line (unlike ENV).
                let mut words = WordExpander::new(self.escape, scope);
                let value = words
                    .word(default)
                    .map_err(|source| PlanError::Expansion { source, span })?;
                unresolved = words.unresolved();
                for name in words.undefined() {
                    let hint = did_you_mean(&name, scope.vars.keys().map(String::as_str), true)
                        .map(|h| format!(" (did you mean ${h}?)"))
                        .unwrap_or_default();
                    self.report(
                        Rule::UndefinedVar,
                        span,
                        format!("Usage of undefined variable '${name}'{hint}"),
                    );
                }
                (Some(value), ArgSource::Default)
            } else if let Some(global) = self.global_vars.get(&decl.name) {
                (Some(global.clone()), ArgSource::Global)
            } else {
                (None, ArgSource::Unset)
            };
            scope.declared_args.insert(decl.name.clone());
            match &value {
                Some(v) if unresolved.is_empty() => {
                    scope.vars.insert(decl.name.clone(), v.clone());
                }
                _ => {
                    scope.vars.remove(&decl.name);
                }
            }
            expanded_decls.push(ArgDecl {
                name: decl.name.clone(),
                default: value.clone(),
            });
            walk.args.push(ArgValue {
                name: decl.name.clone(),
                default: decl.default.clone(),
                value,
                source,
                span,
            });
            unresolved_all.extend(unresolved);
        }
        let resolved = unresolved_all.is_empty();
        Ok(PlannedInstruction {
            instruction: instruction.clone(),
            expanded: resolved.then_some(InstructionKind::Arg(expanded_decls)),
            unresolved_vars: unresolved_all.into_iter().collect(),
            from_onbuild,
        })
    }

    fn check_secret(&mut self, instruction: &str, key: &str, span: Span) {
        if crate::checks::looks_like_secret(key) {
            self.report(
                Rule::SecretsUsedInArgOrEnv,
                span,
                format!(
                    "Do not use ARG or ENV instructions for sensitive data ({instruction} {key:?})"
                ),
            );
        }
    }

    /// MultipleInstructionsDisallowed reports the *earlier* instruction: it is
    /// the one that has no effect.
    fn used_once(&mut self, name: &str, previous: Option<Span>, span: Span) -> Option<Span> {
        if let Some(previous) = previous {
            self.report(
                Rule::MultipleInstructionsDisallowed,
                previous,
                format!("Multiple {name} instructions should not be used in the same stage because only the last one will be used"),
            );
        }
        Some(span)
    }

    fn check_json_args(&mut self, name: &str, form: &CommandForm, scope: &StageScope, span: Span) {
        if matches!(form, CommandForm::Shell(_)) && !scope.shell_set {
            self.report(
                Rule::JSONArgsRecommended,
                span,
                format!("JSON arguments recommended for {name} to prevent unintended behavior related to OS signals"),
            );
        }
    }

    /// ExposeProtoCasing and ExposeInvalidFormat for one `EXPOSE` word.
    fn check_expose(&mut self, port: &str, span: Span) {
        let parts: Vec<&str> = port.split(':').collect();
        let has_host_part = parts.len() > 1;
        let container = parts.last().copied().unwrap_or_default();
        let protocol = container
            .split_once('/')
            .map(|(_, proto)| proto)
            .unwrap_or("");
        if protocol.to_lowercase() != protocol {
            self.report(
                Rule::ExposeProtoCasing,
                span,
                format!("Defined protocol '{port}' in EXPOSE instruction should be lowercase"),
            );
        }
        if has_host_part {
            self.report(
                Rule::ExposeInvalidFormat,
                span,
                format!("EXPOSE instruction should not define an IP address or host-port mapping, found '{port}'"),
            );
        }
    }

    fn target_index(&self, target: Option<&str>) -> Result<usize, PlanError> {
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

    fn target_summaries(&self) -> Vec<TargetSummary> {
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

/// Per-stage bookkeeping that does not carry over to child stages.
struct StageWalk {
    args: Vec<ArgValue>,
    onbuild: Vec<Instruction>,
    cmd: Option<Span>,
    entrypoint: Option<Span>,
    healthcheck: Option<Span>,
}

impl StageWalk {
    fn new() -> Self {
        StageWalk {
            args: Vec::new(),
            onbuild: Vec::new(),
            cmd: None,
            entrypoint: None,
            healthcheck: None,
        }
    }
}

/// The target and every stage it needs, transitively.
fn needed_stages(stages: &[Stage], target: usize) -> BTreeSet<usize> {
    let mut needed = BTreeSet::new();
    let mut pending = vec![target];
    while let Some(index) = pending.pop() {
        if !needed.insert(index) {
            continue;
        }
        if let Some(stage) = stages.iter().find(|s| s.index == index) {
            for dep in &stage.deps {
                if let DependencySource::Stage { index } = dep.source {
                    pending.push(index);
                }
            }
        }
    }
    needed
}

/// `--build-arg`s that no global `ARG` and no planned stage declares
/// (predefined and proxy arguments are always accepted).
fn unused_build_args(options: &PlanOptions, globals: &[ArgValue], stages: &[Stage]) -> Vec<String> {
    let declared: BTreeSet<&str> = globals
        .iter()
        .chain(stages.iter().flat_map(|s| s.args.iter()))
        .map(|a| a.name.as_str())
        .collect();
    let predefined = predefined_args(
        &options.build_platform,
        &options.target_platform,
        "",
        &Default::default(),
    );
    options
        .build_args
        .iter()
        .map(|(k, _)| k)
        .filter(|k| {
            !declared.contains(k) && !is_proxy_arg(k) && !predefined.iter().any(|(p, _)| p == k)
        })
        .map(str::to_string)
        .collect()
}
