//! Global and stage ARGs, predefined platform and proxy arguments,
//! `--build-arg` inputs and the expansion of instructions.

use std::collections::BTreeMap;

use rbuild_parser::InstructionKind;
use rbuild_parser::plan::{
    ArgSource, BaseRef, BuildArgs, PlanError, PlanOptions, Platform, StageGraph, plan,
};

fn plan_with(text: &str, options: PlanOptions) -> Result<StageGraph, PlanError> {
    let dockerfile = rbuild_parser::parse_dockerfile(text, None).expect("test Dockerfile parses");
    plan(&dockerfile, &options)
}

fn args(items: &[&str]) -> BuildArgs {
    BuildArgs::from_cli(items, |_| None).unwrap()
}

fn on(platform: &str) -> PlanOptions {
    let platform = Platform::parse(platform).unwrap();
    PlanOptions {
        build_platform: platform.clone(),
        target_platform: platform,
        ..PlanOptions::default()
    }
}

fn image(graph: &StageGraph, index: usize) -> String {
    match &graph.stage(index).expect("stage planned").base {
        BaseRef::Image { reference, .. } => reference.clone(),
        other => format!("{other:?}"),
    }
}

#[test]
fn global_args_expand_in_from_and_build_args_override() {
    let text = "ARG VERSION=3.19\nARG IMAGE=alpine:${VERSION}\nFROM $IMAGE\n";
    let graph = plan_with(text, PlanOptions::default()).unwrap();
    assert_eq!(image(&graph, 0), "alpine:3.19");
    assert_eq!(graph.global_args[1].value.as_deref(), Some("alpine:3.19"));
    assert_eq!(graph.global_args[1].source, ArgSource::Default);
    assert_eq!(graph.stages[0].from_args_used, vec!["IMAGE".to_string()]);

    let graph = plan_with(
        text,
        PlanOptions {
            build_args: args(&["VERSION=3.20"]),
            ..PlanOptions::default()
        },
    )
    .unwrap();
    assert_eq!(
        image(&graph, 0),
        "alpine:3.20",
        "a later default sees the overridden value"
    );
    assert_eq!(graph.global_args[0].source, ArgSource::BuildArg);
}

#[test]
fn predefined_platform_args_come_from_the_platforms() {
    let text = "FROM --platform=$BUILDPLATFORM golang AS build\nARG TARGETARCH TARGETOS\nENV GOARCH=$TARGETARCH GOOS=$TARGETOS\nFROM alpine-${TARGETARCH}\n";
    let options = PlanOptions {
        build_platform: Platform::parse("linux/amd64").unwrap(),
        target_platform: Platform::parse("linux/arm64").unwrap(),
        all_stages: true,
        ..PlanOptions::default()
    };
    let graph = plan_with(text, options).unwrap();
    assert_eq!(
        graph.stages[0]
            .platform
            .as_ref()
            .map(ToString::to_string)
            .as_deref(),
        Some("linux/amd64")
    );
    assert_eq!(image(&graph, 1), "alpine-arm64");
    assert_eq!(graph.predefined_args["TARGETPLATFORM"], "linux/arm64");
    assert_eq!(graph.predefined_args["BUILDARCH"], "amd64");
    // `ARG TARGETARCH` without a value re-imports the predefined value.
    let build = &graph.stages[0];
    assert_eq!(build.args[0].value.as_deref(), Some("arm64"));
    assert_eq!(build.args[0].source, ArgSource::Global);
    assert_eq!(
        build.instructions[1].resolved_kind().cloned(),
        Some(InstructionKind::Env(vec![
            kv("GOARCH", "arm64"),
            kv("GOOS", "linux")
        ]))
    );
}

#[test]
fn stage_args_without_declaration_are_not_visible() {
    // A global ARG needs `ARG NAME` inside the stage to be used there.
    let text = "ARG V=1\nFROM scratch\nENV A=$V\nARG V\nENV B=$V\n";
    let graph = plan_with(text, PlanOptions::default()).unwrap();
    let stage = &graph.stages[0];
    assert_eq!(
        stage.instructions[0].resolved_kind().cloned(),
        Some(InstructionKind::Env(vec![kv("A", "")]))
    );
    assert_eq!(
        stage.instructions[2].resolved_kind().cloned(),
        Some(InstructionKind::Env(vec![kv("B", "1")]))
    );
}

#[test]
fn env_sees_old_values_within_one_instruction_and_arg_sees_new_ones() {
    let text = "FROM scratch\nENV a=old\nENV a=new b=$a\nARG x=1 y=$x\n";
    let graph = plan_with(text, PlanOptions::default()).unwrap();
    let stage = &graph.stages[0];
    assert_eq!(
        stage.instructions[1].resolved_kind().cloned(),
        Some(InstructionKind::Env(vec![kv("a", "new"), kv("b", "old")]))
    );
    assert_eq!(
        stage.args[1].value.as_deref(),
        Some("1"),
        "ARG defaults see names declared before them"
    );
}

#[test]
fn build_arg_overrides_stage_default_and_unused_ones_are_listed() {
    let text = "FROM scratch\nARG MODE=debug\nWORKDIR /src/$MODE\n";
    let options = PlanOptions {
        build_args: args(&[
            "MODE=release",
            "NOBODY=1",
            "HTTP_PROXY=http://127.0.0.1:3128",
            "TARGETOS=linux",
        ]),
        ..PlanOptions::default()
    };
    let graph = plan_with(text, options).unwrap();
    let stage = &graph.stages[0];
    assert_eq!(stage.args[0].value.as_deref(), Some("release"));
    assert_eq!(stage.args[0].source, ArgSource::BuildArg);
    assert_eq!(
        stage.instructions[1].resolved_kind().cloned(),
        Some(InstructionKind::Workdir("/src/release".into()))
    );
    assert_eq!(
        graph.unused_build_args,
        vec!["NOBODY".to_string()],
        "proxies and predefined names are accepted"
    );
    assert_eq!(
        graph.proxy_env.get("HTTP_PROXY").map(String::as_str),
        Some("http://127.0.0.1:3128")
    );
}

#[test]
fn image_based_stages_leave_words_that_need_the_image_env() {
    let text = "FROM alpine\nENV APP=/app\nENV PATH=$APP/bin:$PATH\nWORKDIR $APP\nCOPY x $PATH\n";
    let graph = plan_with(text, PlanOptions::default()).unwrap();
    let stage = &graph.stages[0];
    assert!(stage.base_env_unknown);
    assert_eq!(
        stage.instructions[0].resolved_kind().cloned(),
        Some(InstructionKind::Env(vec![kv("APP", "/app")]))
    );
    assert_eq!(
        stage.instructions[1].resolved_kind().cloned(),
        None,
        "PATH may come from the image"
    );
    assert_eq!(
        stage.instructions[1].unresolved_vars().to_vec(),
        vec!["PATH".to_string()]
    );
    assert_eq!(
        stage.instructions[2].resolved_kind().cloned(),
        Some(InstructionKind::Workdir("/app".into()))
    );
    assert_eq!(
        stage.instructions[3].resolved_kind().cloned(),
        None,
        "PATH was set from an unknown value"
    );

    // With the image's environment supplied, everything expands.
    let mut base_image_env = BTreeMap::new();
    base_image_env.insert(
        "docker.io/library/alpine:latest".to_string(),
        vec![("PATH".to_string(), "/usr/bin:/bin".to_string())],
    );
    let graph = plan_with(
        text,
        PlanOptions {
            base_image_env,
            ..PlanOptions::default()
        },
    )
    .unwrap();
    let stage = &graph.stages[0];
    assert!(!stage.base_env_unknown);
    assert_eq!(
        stage.instructions[1].resolved_kind().cloned(),
        Some(InstructionKind::Env(vec![kv(
            "PATH",
            "/app/bin:/usr/bin:/bin"
        )]))
    );
    assert!(
        stage
            .instructions
            .iter()
            .all(|i| i.resolved_kind().is_some())
    );
}

#[test]
fn scratch_stages_get_the_default_path_and_children_inherit_scope() {
    let text = "FROM scratch AS base\nENV HOME=/root\nFROM base\nWORKDIR $HOME\nENV P=$PATH\n";
    let graph = plan_with(text, PlanOptions::default()).unwrap();
    let child = &graph.stages[1];
    assert!(!child.base_env_unknown);
    assert_eq!(
        child.instructions[0].resolved_kind().cloned(),
        Some(InstructionKind::Workdir("/root".into()))
    );
    assert_eq!(
        child.instructions[1].resolved_kind().cloned(),
        Some(InstructionKind::Env(vec![kv(
            "P",
            rbuild_parser::plan::DEFAULT_PATH
        )]))
    );
}

#[test]
fn copy_expose_label_and_heredocs_expand() {
    let text = "FROM scratch\nARG D=/dst P=80 U=app\nCOPY --chown=$U a-${P} $D/\nEXPOSE $P 443/tcp\nLABEL \"v.$P\"=\"$U x\"\nCOPY <<EOF /f\nport $P\nEOF\nCOPY <<'EOF' /g\nport $P\nEOF\nRUN echo $P\n";
    let graph = plan_with(text, PlanOptions::default()).unwrap();
    let planned = &graph.stages[0].instructions;
    let Some(InstructionKind::Copy(copy)) = planned[1].resolved_kind() else {
        panic!("{:?}", planned[1])
    };
    assert_eq!(
        (
            copy.sources.clone(),
            copy.dest.as_str(),
            copy.chown.as_deref()
        ),
        (vec!["a-80".to_string()], "/dst/", Some("app"))
    );
    assert_eq!(
        planned[2].resolved_kind().cloned(),
        Some(InstructionKind::Expose(vec!["80".into(), "443/tcp".into()]))
    );
    assert_eq!(
        planned[3].resolved_kind().cloned(),
        Some(InstructionKind::Label(vec![kv("v.80", "app x")]))
    );
    let Some(InstructionKind::Copy(heredoc)) = planned[4].resolved_kind() else {
        panic!()
    };
    assert_eq!(heredoc.heredocs[0].content, "port 80\n");
    let Some(InstructionKind::Copy(quoted)) = planned[5].resolved_kind() else {
        panic!()
    };
    assert_eq!(
        quoted.heredocs[0].content, "port $P\n",
        "a quoted delimiter disables expansion"
    );
    assert_eq!(
        planned[6].resolved_kind(),
        Some(&planned[6].instruction.kind),
        "RUN is left to the shell"
    );
}

#[test]
fn from_and_platform_errors_say_what_to_do() {
    let blank = plan_with("ARG IMG\nFROM $IMG\n", PlanOptions::default()).unwrap_err();
    assert!(matches!(blank, PlanError::BlankBaseName { .. }));
    assert!(blank.to_string().contains("--build-arg"), "{blank}");
    let bad = plan_with("FROM Alpine:latest\n", PlanOptions::default()).unwrap_err();
    assert!(matches!(bad, PlanError::InvalidReference { .. }), "{bad:?}");
    let platform =
        plan_with("ARG P\nFROM --platform=$P alpine\n", PlanOptions::default()).unwrap_err();
    assert!(
        matches!(platform, PlanError::InvalidPlatform { .. }),
        "{platform:?}"
    );
    let required = plan_with("ARG A\nFROM ${A:?missing}\n", PlanOptions::default()).unwrap_err();
    assert!(matches!(required, PlanError::Expansion { .. }));
    assert!(required.to_string().contains("missing"), "{required}");
}

#[test]
fn platform_of_a_stage_is_normalised() {
    let graph = plan_with("FROM --platform=linux/x86_64 alpine\n", on("linux/arm64")).unwrap();
    assert_eq!(
        graph.stages[0].platform,
        Some(Platform::parse("linux/amd64").unwrap())
    );
    assert_eq!(graph.target_platform.to_string(), "linux/arm64");
}

#[test]
fn effective_platform_follows_base_stage_then_flag_then_target() {
    let text = "FROM --platform=linux/amd64 alpine AS tools\nFROM tools AS child\nFROM alpine\n";
    let options = PlanOptions {
        all_stages: true,
        ..on("linux/arm64")
    };
    let graph = plan_with(text, options).unwrap();
    let effective: Vec<String> = graph
        .stages
        .iter()
        .map(|s| s.effective_platform.to_string())
        .collect();
    assert_eq!(effective, ["linux/amd64", "linux/amd64", "linux/arm64"]);
}

fn kv(name: &str, value: &str) -> rbuild_parser::ast::KeyValue {
    rbuild_parser::ast::KeyValue {
        name: name.into(),
        value: value.into(),
        legacy_format: false,
    }
}

#[test]
fn literal_instructions_stay_unchanged() {
    use rbuild_parser::plan::Expansion;
    let text = "FROM scratch\nRUN echo $HOME\nCOPY a /b\nCOPY \"a\" /c\nENV X=$Y\n";
    let graph = plan_with(text, PlanOptions::default()).unwrap();
    let states: Vec<&str> = graph.stages[0]
        .instructions
        .iter()
        .map(|i| match &i.expanded {
            Expansion::Unchanged => "unchanged",
            Expansion::Expanded(_) => "expanded",
            Expansion::Unresolved(_) => "unresolved",
        })
        .collect();
    assert_eq!(states, ["unchanged", "unchanged", "expanded", "expanded"]);
}
