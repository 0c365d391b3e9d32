//! The code the fuzz targets run, shared by the libFuzzer target and the
//! stable `replay` binary.
//!
//! One input exercises the whole front end: raw syntax tree and BuildKit
//! dump, typed parse, the planner (all stages, then each stage as target),
//! the outline, the build checks with their rendering, and the word lexer
//! on the input text. Besides "no panic", it asserts invariants the rest of
//! rbuild relies on.

use rbuild_parser::checks::{check, render_warning};
use rbuild_parser::plan::{DependencySource, PlanOptions, StageGraph, outline, plan};
use rbuild_parser::shell::Lexer;

/// Run one input through the parser, planner, checks and lexer.
pub fn exercise(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        // Non-UTF-8 must be a typed error, never a panic.
        assert!(rbuild_parser::parse_dockerfile_bytes(data, None).is_err());
        return;
    };
    if let Ok(tree) = rbuild_parser::parse_syntax(text, None) {
        let _ = rbuild_parser::buildkit_dump_syntax(&tree);
    }
    match rbuild_parser::parse_dockerfile(text, None) {
        Ok(dockerfile) => {
            let _ = rbuild_parser::buildkit_dump(&dockerfile);
            let options = PlanOptions {
                all_stages: true,
                ..PlanOptions::default()
            };
            if let Ok(graph) = plan(&dockerfile, &options) {
                graph_invariants(&graph);
                let _ = outline(&graph);
                for target in graph.targets.iter().filter_map(|t| t.name.clone()) {
                    let options = PlanOptions {
                        target: Some(target),
                        ..PlanOptions::default()
                    };
                    if let Ok(pruned) = plan(&dockerfile, &options) {
                        graph_invariants(&pruned);
                    }
                }
            }
            if let Ok(report) = check(&dockerfile, &PlanOptions::default()) {
                for warning in &report.warnings {
                    let _ = render_warning(warning, "Dockerfile", text);
                }
            }
        }
        Err(error) => {
            let _ = error.render(text);
        }
    }
    let env = [
        ("A", "1"),
        ("B", "x y"),
        ("EMPTY", ""),
        ("PATH", "/usr/bin:/bin"),
    ];
    for escape in ['\\', '`'] {
        let lexer = Lexer::new(escape);
        let _ = lexer.process_word(text, &env[..]);
        let _ = lexer.process_words(text, &env[..]);
    }
}

/// What the builder relies on: edges point at earlier, planned stages; the
/// target is planned; the graph survives a JSON round trip.
fn graph_invariants(graph: &StageGraph) {
    assert!(
        graph.target_stage().is_some(),
        "the target is part of the plan"
    );
    for stage in &graph.stages {
        for dep in &stage.deps {
            if let DependencySource::Stage { index } = dep.source {
                assert!(index < stage.index, "edges point backwards");
                assert!(graph.stage(index).is_some(), "needed stages are planned");
            }
        }
    }
    let json = serde_json::to_string(graph).expect("a graph serializes");
    let back: StageGraph = serde_json::from_str(&json).expect("and deserializes");
    assert_eq!(&back, graph, "JSON round trip");
}
