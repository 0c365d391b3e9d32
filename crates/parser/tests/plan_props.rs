//! Property tests: Dockerfiles assembled from realistic fragments (stage
//! names, references by name and index, ARG/ENV with variables, mounts,
//! ONBUILD) never make the planner or the checks panic, and every plan keeps
//! the invariants the builder relies on.

use proptest::prelude::*;
use rbuild_parser::checks::check;
use rbuild_parser::plan::{DependencySource, PlanOptions, StageGraph, plan};

/// Stage names: mostly plain, some that the checks flag.
fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(&["build", "base", "test", "x"][..]),
        1 => prop::sample::select(&["Base", "scratch", "context"][..]),
    ]
    .prop_map(str::to_string)
}

/// A `FROM` base: mostly images and stage names, some that must fail.
fn base() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => prop::sample::select(&["alpine", "alpine:3.20", "busybox", "${IMG:-busybox}", "scratch"][..]).prop_map(str::to_string),
        3 => name(),
        1 => prop::sample::select(&["Bad:Ref", "$IMG"][..]).prop_map(str::to_string),
    ]
}

/// A `--from` source: images, stage names and indices, some that must fail.
fn source() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(&["alpine", "busybox:1.36", "0"][..]).prop_map(str::to_string),
        4 => name(),
        1 => prop::sample::select(&["1", "5", "$IMG", "Bad:Ref"][..]).prop_map(str::to_string),
    ]
}

fn from_line() -> impl Strategy<Value = String> {
    let platform = prop_oneof![
        4 => Just(None),
        3 => prop::sample::select(&["$BUILDPLATFORM", "$TARGETPLATFORM", "linux/arm64"][..]).prop_map(Some),
        1 => Just(Some("$P")),
    ];
    (platform, base(), prop::option::of(name())).prop_map(|(platform, base, stage)| {
        let platform = platform
            .map(|p| format!("--platform={p} "))
            .unwrap_or_default();
        let stage = stage.map(|s| format!(" AS {s}")).unwrap_or_default();
        format!("FROM {platform}{base}{stage}")
    })
}

fn body_line() -> impl Strategy<Value = String> {
    prop_oneof![
        source().prop_map(|r| format!("COPY --from={r} /a /b")),
        source().prop_map(|r| format!("RUN --mount=type=bind,from={r},target=/m true")),
        source().prop_map(|r| format!("ONBUILD COPY --from={r} /a /b")),
        prop::sample::select(
            &[
                "ARG IMG",
                "ARG V=1",
                "ARG W=$V",
                "ENV A=$V B=${A:-x}",
                "ENV PATH=$PATH:/x",
                "WORKDIR app",
                "WORKDIR /$V",
                "EXPOSE $V 80/TCP",
                "CMD echo",
                "CMD [\"a\"]",
                "LABEL k v",
                "USER $U",
                "COPY <<EOF /f\n$V\nEOF",
                "ENV K ${V:?unset}",
                "SHELL [\"/bin/sh\", \"-c\"]",
            ][..]
        )
        .prop_map(str::to_string),
    ]
}

fn dockerfile() -> impl Strategy<Value = String> {
    let globals = prop::collection::vec(
        prop::sample::select(&["ARG IMG=alpine", "ARG P", "ARG V=2"][..]),
        0..3,
    );
    let stage = (from_line(), prop::collection::vec(body_line(), 0..5));
    (globals, prop::collection::vec(stage, 1..5)).prop_map(|(globals, stages)| {
        let mut text: String = globals.iter().map(|g| format!("{g}\n")).collect();
        for (from, body) in stages {
            text.push_str(&from);
            text.push('\n');
            for line in body {
                text.push_str(&line);
                text.push('\n');
            }
        }
        text
    })
}

fn invariants(graph: &StageGraph) {
    assert!(graph.target_stage().is_some());
    for stage in &graph.stages {
        for dep in &stage.deps {
            if let DependencySource::Stage { index } = dep.source {
                assert!(index < stage.index, "edges point backwards");
                assert!(graph.stage(index).is_some(), "needed stages are planned");
            }
        }
    }
    let json = serde_json::to_string(graph).unwrap();
    assert_eq!(&serde_json::from_str::<StageGraph>(&json).unwrap(), graph);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn planning_and_checking_never_panic(text in dockerfile()) {
        let Ok(dockerfile) = rbuild_parser::parse_dockerfile(&text, None) else { return Ok(()) };
        let all = PlanOptions { all_stages: true, ..PlanOptions::default() };
        let full = plan(&dockerfile, &all);
        if let Ok(graph) = &full {
            invariants(graph);
            for target in graph.targets.iter().filter_map(|t| t.name.clone()) {
                let pruned = plan(&dockerfile, &PlanOptions { target: Some(target), ..PlanOptions::default() })
                    .expect("a file that plans whole plans for each of its targets");
                invariants(&pruned);
                prop_assert!(pruned.stages.iter().all(|s| graph.stage(s.index) == Some(s)), "pruning keeps stages as they are");
            }
        }
        let lines = text.lines().count() as u32;
        let report = check(&dockerfile, &PlanOptions::default()).expect("no check directive");
        prop_assert_eq!(report.plan_error.is_some(), full.is_err(), "checks plan the same way");
        for warning in &report.warnings {
            prop_assert!(warning.span.start.line >= 1 && warning.span.end.line <= lines + 1, "{:?}", warning);
        }
    }
}
