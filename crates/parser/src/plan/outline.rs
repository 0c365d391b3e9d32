//! A summary of a plan for people and tools: what `rbuild outline` prints,
//! in the spirit of `docker buildx build --call outline`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::ast::{InstructionKind, MountType};

use super::graph::{
    ArgSource, BaseRef, DependencyKind, DependencySource, StageGraph, TargetSummary,
};
use super::platform::Platform;

/// The outline of a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outline {
    /// The stage being built: its name, or `stage-N`.
    pub target: String,
    /// The target's index.
    pub target_index: usize,
    /// The stages the target needs, in build order.
    pub stages: Vec<OutlineStage>,
    /// Every argument the planned stages use, with its value in effect.
    pub args: Vec<OutlineArg>,
    /// Secret ids that `RUN --mount=type=secret` asks for.
    pub secrets: Vec<OutlineMount>,
    /// SSH ids that `RUN --mount=type=ssh` asks for.
    pub ssh: Vec<OutlineMount>,
    /// Every stage of the file (what `--target` can name).
    pub targets: Vec<TargetSummary>,
    /// Descriptions of targets by stage index, from `# name description`
    /// comments right above their `FROM` (filled by [`describe`]).
    pub target_descriptions: BTreeMap<usize, String>,
    /// `--build-arg` names nothing declares.
    pub unused_build_args: Vec<String>,
}

/// One stage of the outline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutlineStage {
    /// Index.
    pub index: usize,
    /// Name, or `stage-N`.
    pub name: String,
    /// The base: `scratch`, an image (normalised) or `stage <name>`.
    pub base: String,
    /// `FROM --platform`, when given.
    pub platform: Option<Platform>,
    /// Lines like `builder (COPY --from, line 12)`.
    pub needs: Vec<String>,
    /// Line of the `FROM`.
    pub line: u32,
}

/// One argument of the outline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutlineArg {
    /// Name.
    pub name: String,
    /// Default written in the Dockerfile (raw).
    pub default: Option<String>,
    /// Value in effect.
    pub value: Option<String>,
    /// Where the value comes from.
    pub source: ArgSource,
    /// `global` or the names of the stages that declare it.
    pub scope: Vec<String>,
    /// Line of the first declaration.
    pub line: u32,
    /// From a `# NAME description` comment right above the declaration
    /// (filled by [`describe`]).
    pub description: Option<String>,
}

/// A secret or SSH mount request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutlineMount {
    /// The id (`default` for SSH without one; the target file name for a
    /// secret without one, as BuildKit).
    pub id: String,
    /// Whether the build fails without it.
    pub required: bool,
    /// Line of the `RUN`.
    pub line: u32,
}

/// Summarise `graph`.
pub fn outline(graph: &StageGraph) -> Outline {
    let name_of = |index: usize| {
        graph
            .targets
            .iter()
            .find(|t| t.index == index)
            .and_then(|t| t.name.clone())
            .unwrap_or_else(|| format!("stage-{index}"))
    };
    let stages = graph
        .stages
        .iter()
        .map(|stage| OutlineStage {
            index: stage.index,
            name: stage.display_name(),
            base: match &stage.base {
                BaseRef::Scratch => "scratch".to_string(),
                BaseRef::Image { normalized, .. } => normalized.with_default_tag(),
                BaseRef::Stage { index } => format!("stage {}", name_of(*index)),
            },
            platform: stage.platform.clone(),
            needs: stage
                .deps
                .iter()
                .filter(|d| d.kind != DependencyKind::From)
                .map(|d| {
                    let what = match &d.source {
                        DependencySource::Stage { index } => name_of(*index),
                        DependencySource::Image { normalized, .. } => normalized.with_default_tag(),
                    };
                    let how = match d.kind {
                        DependencyKind::From => "FROM",
                        DependencyKind::CopyFrom => "COPY --from",
                        DependencyKind::MountFrom => "RUN --mount from",
                    };
                    format!("{what} ({how}, line {})", d.span.start.line)
                })
                .collect(),
            line: stage.span.start.line,
        })
        .collect();

    Outline {
        target: name_of(graph.target),
        target_index: graph.target,
        stages,
        args: outline_args(graph),
        secrets: mounts(graph, MountType::Secret),
        ssh: mounts(graph, MountType::Ssh),
        targets: graph.targets.clone(),
        target_descriptions: BTreeMap::new(),
        unused_build_args: graph.unused_build_args.clone(),
    }
}

/// Global args used by a planned `FROM`, then every stage `ARG`, merged by
/// name (the first declaration gives default and value).
fn outline_args(graph: &StageGraph) -> Vec<OutlineArg> {
    let mut args: BTreeMap<String, OutlineArg> = BTreeMap::new();
    let used_in_from: Vec<&str> = graph
        .stages
        .iter()
        .flat_map(|s| s.from_args_used.iter().map(String::as_str))
        .collect();
    for global in &graph.global_args {
        if used_in_from.contains(&global.name.as_str()) {
            args.insert(
                global.name.clone(),
                OutlineArg {
                    name: global.name.clone(),
                    default: global.default.clone(),
                    value: global.value.clone(),
                    source: global.source,
                    scope: vec!["global".to_string()],
                    line: global.span.start.line,
                    description: None,
                },
            );
        }
    }
    for stage in &graph.stages {
        for arg in &stage.args {
            let entry = args.entry(arg.name.clone()).or_insert_with(|| OutlineArg {
                name: arg.name.clone(),
                default: arg.default.clone(),
                value: arg.value.clone(),
                source: arg.source,
                scope: Vec::new(),
                line: arg.span.start.line,
                description: None,
            });
            let stage_name = stage.display_name();
            if !entry.scope.contains(&stage_name) {
                entry.scope.push(stage_name);
            }
        }
    }
    let mut list: Vec<OutlineArg> = args.into_values().collect();
    list.sort_by_key(|a| a.line);
    list
}

fn mounts(graph: &StageGraph, kind: MountType) -> Vec<OutlineMount> {
    let mut out: Vec<OutlineMount> = Vec::new();
    for stage in &graph.stages {
        for planned in &stage.instructions {
            let kind_ref = planned.resolved_kind().unwrap_or(&planned.instruction.kind);
            let InstructionKind::Run(run) = kind_ref else {
                continue;
            };
            for mount in run.mounts.iter().filter(|m| m.mount_type == kind) {
                let id = match (&mount.id, kind) {
                    (Some(id), _) => id.clone(),
                    (None, MountType::Ssh) => "default".to_string(),
                    (None, _) => mount
                        .target
                        .as_deref()
                        .and_then(|t| t.rsplit('/').next())
                        .unwrap_or_default()
                        .to_string(),
                };
                if !out.iter().any(|m| m.id == id) {
                    out.push(OutlineMount {
                        id,
                        required: mount.required,
                        line: planned.instruction.span.start.line,
                    });
                }
            }
        }
    }
    out
}

/// Fill the descriptions of targets and arguments from the Dockerfile's
/// comments, as BuildKit does: in the block of comment lines right above a
/// `FROM` or `ARG` (no blank line between), a line `# NAME text` describes
/// NAME.
pub fn describe(outline: &mut Outline, source: &str) {
    let lines: Vec<&str> = source.lines().collect();
    for target in &outline.targets {
        if let Some(name) = &target.name
            && let Some(text) = described(&lines, target.span.start.line, name)
        {
            outline.target_descriptions.insert(target.index, text);
        }
    }
    for arg in &mut outline.args {
        arg.description = described(&lines, arg.line, &arg.name);
    }
}

/// The description of `name` in the comment block ending above `line`.
fn described(lines: &[&str], line: u32, name: &str) -> Option<String> {
    let prefix = format!("{name} ");
    let above = lines.get(..(line as usize).saturating_sub(1))?;
    above
        .iter()
        .rev()
        .map(|l| l.trim())
        .take_while(|l| l.starts_with('#'))
        .filter_map(|l| {
            l.trim_start_matches('#')
                .trim_start()
                .strip_prefix(prefix.as_str())
        })
        .map(|text| text.trim().to_string())
        .find(|text| !text.is_empty())
}

#[cfg(test)]
mod tests {
    use super::described;

    #[test]
    fn descriptions_come_from_the_comment_block_above() {
        let source = "# build compiles the app\n# with cgo off\nFROM golang AS build\n\n# nope unrelated\n\nARG nope=1\n";
        let lines: Vec<&str> = source.lines().collect();
        assert_eq!(
            described(&lines, 3, "build").as_deref(),
            Some("compiles the app")
        );
        assert_eq!(described(&lines, 3, "other"), None);
        assert_eq!(
            described(&lines, 7, "nope"),
            None,
            "a blank line ends the block"
        );
        assert_eq!(described(&lines, 1, "build"), None);
        assert_eq!(described(&lines, 99, "build"), None);
    }
}
