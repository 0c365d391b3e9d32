//! The planner: one pass over the typed AST that resolves every `FROM`,
//! walks each stage with its variable scope, records the DAG edges and
//! collects the findings the build checks report.
//!
//! * [`globals`]: global `ARG`s and the arguments `FROM` lines may use;
//! * [`resolve`]: stage names, indices and image references, and the target;
//! * [`stage`]: one stage's `FROM` line and body;
//! * [`walk`]: one instruction: expansion, scope updates, edges, findings.

mod globals;
mod resolve;
mod stage;
mod walk;

use std::collections::{BTreeMap, BTreeSet};

use crate::ast::{Dockerfile, From, Instruction, InstructionKind};
use crate::checks::Rule;
use crate::shell::Lexer;
use crate::span::Span;

use crate::plan::PlanOptions;
use crate::plan::build_args::{is_proxy_arg, predefined_args};
use crate::plan::error::PlanError;
use crate::plan::graph::{ArgValue, DependencySource, Stage, StageGraph};
use crate::plan::scope::StageScope;

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
