//! Stages, bases, edges, target pruning and ONBUILD triggers.

use rbuild_parser::plan::{
    BaseRef, DependencyKind, DependencySource, PlanError, PlanOptions, StageGraph, plan,
};

fn plan_text(text: &str, options: &PlanOptions) -> Result<StageGraph, PlanError> {
    let dockerfile = rbuild_parser::parse_dockerfile(text, None).expect("test Dockerfile parses");
    plan(&dockerfile, options)
}

fn plan_ok(text: &str) -> StageGraph {
    plan_text(
        text,
        &PlanOptions {
            all_stages: true,
            ..PlanOptions::default()
        },
    )
    .expect("plans")
}

fn with_target(target: &str) -> PlanOptions {
    PlanOptions {
        target: Some(target.to_string()),
        ..PlanOptions::default()
    }
}

const MULTI: &str = "\
FROM golang:1.22 AS Builder
RUN go build -o /app .

FROM alpine:3.20 AS tools
RUN apk add curl

FROM builder AS test
RUN go test ./...

FROM scratch
COPY --from=builder /app /app
COPY --from=1 /usr/bin/curl /curl
RUN --mount=type=bind,from=busybox:1.36,target=/bb true
";

#[test]
fn stages_have_indices_names_and_bases() {
    let graph = plan_ok(MULTI);
    assert_eq!(graph.stages.len(), 4);
    let builder = &graph.stages[0];
    assert_eq!(
        (builder.index, builder.name.as_deref()),
        (0, Some("builder")),
        "names are lower-cased"
    );
    match &builder.base {
        BaseRef::Image {
            reference,
            normalized,
        } => {
            assert_eq!(reference, "golang:1.22");
            assert_eq!(
                normalized.with_default_tag(),
                "docker.io/library/golang:1.22"
            );
        }
        other => panic!("expected an image base, got {other:?}"),
    }
    assert_eq!(
        graph.stages[2].base,
        BaseRef::Stage { index: 0 },
        "FROM builder (any case) is the stage"
    );
    assert_eq!(graph.stages[3].base, BaseRef::Scratch);
    assert_eq!(graph.stages[3].display_name(), "stage-3");
    assert_eq!(graph.target, 3, "the last stage is the default target");
    assert!(graph.targets[3].is_default && !graph.targets[0].is_default);
}

#[test]
fn edges_record_kind_and_source() {
    let graph = plan_ok(MULTI);
    let last = &graph.stages[3];
    let edges: Vec<(DependencyKind, String, u32)> = last
        .deps
        .iter()
        .map(|d| {
            let what = match &d.source {
                DependencySource::Stage { index } => format!("stage {index}"),
                DependencySource::Image { normalized, .. } => normalized.with_default_tag(),
            };
            (d.kind, what, d.span.start.line)
        })
        .collect();
    assert_eq!(
        edges,
        vec![
            (DependencyKind::CopyFrom, "stage 0".to_string(), 11),
            (DependencyKind::CopyFrom, "stage 1".to_string(), 12),
            (
                DependencyKind::MountFrom,
                "docker.io/library/busybox:1.36".to_string(),
                13
            ),
        ]
    );
    let test = &graph.stages[2];
    assert_eq!(test.deps[0].kind, DependencyKind::From);
    assert_eq!(test.deps[0].source, DependencySource::Stage { index: 0 });
}

#[test]
fn target_keeps_only_needed_stages() {
    let graph = plan_text(MULTI, &with_target("TEST")).unwrap();
    let kept: Vec<usize> = graph.stages.iter().map(|s| s.index).collect();
    assert_eq!(kept, vec![0, 2], "the test stage needs only builder");
    assert_eq!(graph.target, 2);
    assert_eq!(graph.targets.len(), 4, "all targets stay listed");

    let graph = plan_text(MULTI, &PlanOptions::default()).unwrap();
    let kept: Vec<usize> = graph.stages.iter().map(|s| s.index).collect();
    assert_eq!(
        kept,
        vec![0, 1, 3],
        "the default target needs builder and tools, not test"
    );
    assert!(graph.stage(2).is_none());
    assert_eq!(graph.target_stage().map(|s| s.index), Some(3));
}

#[test]
fn unknown_target_lists_stages_and_suggests() {
    let error = plan_text(MULTI, &with_target("tets")).unwrap_err();
    match &error {
        PlanError::UnknownTarget {
            suggestion,
            available,
            ..
        } => {
            assert_eq!(suggestion.as_deref(), Some("test"));
            assert_eq!(available, &["builder", "tools", "test"]);
        }
        other => panic!("unexpected {other:?}"),
    }
    let message = error.to_string();
    assert!(
        message.contains("\"tets\"") && message.contains("did you mean test?"),
        "{message}"
    );
    assert!(message.contains("builder, tools, test"), "{message}");
}

#[test]
fn forward_references_and_self_references_are_errors() {
    let forward = "FROM alpine AS a\nCOPY --from=b /x /x\nFROM alpine AS b\n";
    let error = plan_ok_err(forward);
    assert!(
        matches!(&error, PlanError::ForwardReference { referenced, .. } if referenced == "b"),
        "{error:?}"
    );
    assert!(
        error
            .to_string()
            .contains("move the stage \"b\" above \"a\""),
        "{error}"
    );
    assert_eq!(error.span().map(|s| s.start.line), Some(2));

    let forward_from = "FROM later\nFROM alpine AS later\n";
    assert!(matches!(
        plan_ok_err(forward_from),
        PlanError::ForwardReference { .. }
    ));

    let itself = "FROM alpine AS a\nCOPY --from=a /x /x\n";
    assert!(matches!(
        plan_ok_err(itself),
        PlanError::CircularDependency { .. }
    ));
    let itself_by_index = "FROM alpine\nRUN --mount=from=0,target=/m true\n";
    assert!(matches!(
        plan_ok_err(itself_by_index),
        PlanError::CircularDependency { .. }
    ));
    let later_index = "FROM alpine\nCOPY --from=1 /x /x\nFROM alpine\n";
    assert!(matches!(
        plan_ok_err(later_index),
        PlanError::InvalidStageIndex { index: 1, .. }
    ));
    let negative = "FROM alpine\nCOPY --from=-1 /x /x\n";
    assert!(matches!(
        plan_ok_err(negative),
        PlanError::InvalidStageIndex { index: -1, .. }
    ));
}

#[test]
fn from_image_named_like_its_own_stage_is_an_image() {
    // BuildKit resolves a base name against earlier stages only.
    let graph = plan_ok("FROM node AS node\nRUN true\n");
    assert!(
        matches!(&graph.stages[0].base, BaseRef::Image { reference, .. } if reference == "node")
    );
}

#[test]
fn variables_in_from_flags_are_rejected_with_a_workaround() {
    let error = plan_ok_err("ARG SRC=alpine\nFROM busybox\nCOPY --from=$SRC /x /x\n");
    assert!(matches!(error, PlanError::VariableInFrom { .. }));
    assert!(error.to_string().contains("FROM ${VAR} AS name"), "{error}");
    let mount =
        plan_ok_err("ARG SRC=alpine\nFROM busybox\nRUN --mount=from=${SRC},target=/s true\n");
    assert!(
        matches!(mount, PlanError::VariableInFrom { .. }),
        "{mount:?}"
    );
}

#[test]
fn typo_in_copy_from_suggests_the_stage() {
    let error = plan_ok_err("FROM alpine AS builder\nFROM alpine\nCOPY --from=Buildr /x /x\n");
    match error {
        PlanError::InvalidReference { suggestion, .. } => {
            assert_eq!(suggestion.as_deref(), Some("builder"))
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn onbuild_triggers_are_carried_and_run_in_children() {
    let text = "\
FROM alpine AS deps
RUN true
FROM alpine AS base
ONBUILD COPY --from=deps /lib /lib
ONBUILD RUN echo child
FROM base AS child
RUN echo own
";
    let graph = plan_ok(text);
    let base = &graph.stages[1];
    assert_eq!(base.onbuild.len(), 2, "the stage records its own triggers");
    let child = &graph.stages[2];
    let names: Vec<(&str, bool)> = child
        .instructions
        .iter()
        .map(|p| (p.instruction.name(), p.from_onbuild))
        .collect();
    assert_eq!(
        names,
        vec![("COPY", true), ("RUN", true), ("RUN", false)],
        "triggers run first"
    );
    assert!(
        child.onbuild.is_empty(),
        "inherited triggers are consumed, not re-registered"
    );
    assert!(
        child.deps.iter().any(|d| d.kind == DependencyKind::CopyFrom
            && d.source == DependencySource::Stage { index: 0 }),
        "a trigger's COPY --from is an edge of the child"
    );
    // And the target pruning follows that edge.
    let pruned = plan_text(text, &with_target("child")).unwrap();
    let kept: Vec<usize> = pruned.stages.iter().map(|s| s.index).collect();
    assert_eq!(kept, vec![0, 1, 2]);
}

#[test]
fn instruction_before_from_and_missing_from_are_errors() {
    assert!(matches!(plan_ok_err("ARG A=1\n"), PlanError::NoStages));
    let error = plan_ok_err("ARG A=1\nRUN true\nFROM alpine\n");
    assert!(
        matches!(
            error,
            PlanError::InstructionBeforeFrom {
                instruction: "RUN",
                ..
            }
        ),
        "{error:?}"
    );
}

#[test]
fn graph_serializes_to_json_and_back() {
    let graph = plan_ok(MULTI);
    let json = serde_json::to_string(&graph).unwrap();
    let back: StageGraph = serde_json::from_str(&json).unwrap();
    assert_eq!(back, graph);
    assert!(
        json.contains("\"type\":\"scratch\""),
        "base refs are tagged"
    );
}

fn plan_ok_err(text: &str) -> PlanError {
    plan_text(
        text,
        &PlanOptions {
            all_stages: true,
            ..PlanOptions::default()
        },
    )
    .expect_err("planning fails")
}

#[test]
fn from_matches_stage_names_as_written_like_buildkit() {
    // Stage names are lower-cased; `FROM` must use the lower-case spelling.
    let error = plan_ok_err("FROM alpine AS Builder\nFROM Builder\n");
    match error {
        PlanError::InvalidReference { suggestion, .. } => {
            assert_eq!(suggestion.as_deref(), Some("builder"))
        }
        other => panic!("unexpected {other:?}"),
    }
    let graph = plan_ok("FROM alpine AS Builder\nFROM builder\nCOPY --from=BUILDER /a /b\n");
    assert_eq!(graph.stages[1].base, BaseRef::Stage { index: 0 });
    assert_eq!(
        graph.stages[1].deps[1].source,
        DependencySource::Stage { index: 0 },
        "--from ignores case"
    );
}
