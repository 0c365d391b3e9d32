//! BuildKit's parser fixtures (testdata/conformance/buildkit, see FORMAT.md):
//! byte-identical dumps, rejected negative cases, line numbers.

use std::fs;
use std::path::{Path, PathBuf};

use rbuild_parser::{buildkit_dump, buildkit_dump_syntax, parse_dockerfile, parse_syntax};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/conformance/buildkit/frontend/dockerfile/parser")
}

fn case_dirs(kind: &str) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = fs::read_dir(fixtures().join(kind))
        .expect("fixture directory")
        .map(|e| e.expect("dir entry").path())
        .collect();
    dirs.sort();
    dirs
}

#[test]
fn all_testfiles_dump_byte_identical() {
    let dirs = case_dirs("testfiles");
    assert_eq!(dirs.len(), 33, "expected the 33 BuildKit cases");
    let mut failures = Vec::new();
    for dir in &dirs {
        let source = fs::read_to_string(dir.join("Dockerfile")).expect("Dockerfile");
        let expected = fs::read_to_string(dir.join("result")).expect("result");
        match parse_syntax(&source, Some("Dockerfile")) {
            Ok(tree) => {
                let got = buildkit_dump_syntax(&tree);
                if got != expected {
                    failures.push(format!(
                        "{}:\n--- expected\n{expected}--- got\n{got}",
                        dir.display()
                    ));
                }
            }
            Err(e) => failures.push(format!("{}: parse error {e}", dir.display())),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn negative_cases_are_rejected() {
    let dirs = case_dirs("testfiles-negative");
    assert_eq!(dirs.len(), 4);
    for dir in &dirs {
        let source = fs::read_to_string(dir.join("Dockerfile")).expect("Dockerfile");
        assert!(
            parse_syntax(&source, None).is_err(),
            "{} must be rejected at the parser level",
            dir.display()
        );
        assert!(parse_dockerfile(&source, None).is_err());
    }
}

#[test]
fn negative_case_messages() {
    let read = |case: &str| {
        fs::read_to_string(
            fixtures()
                .join("testfiles-negative")
                .join(case)
                .join("Dockerfile"),
        )
        .expect("Dockerfile")
    };
    let message = |case: &str| parse_syntax(&read(case), None).unwrap_err().to_string();
    assert!(message("empty_dockerfile").contains("file with no instructions"));
    assert!(message("only_comments").contains("file with no instructions"));
    assert!(message("env_no_value").contains("ENV must have two arguments"));
    assert!(message("shykes-nested-json").contains("arrays must be comprised of strings only"));
}

#[test]
fn line_numbers_match_buildkit() {
    let source =
        fs::read_to_string(fixtures().join("testfile-line/Dockerfile")).expect("Dockerfile");
    let tree = parse_syntax(&source, None).expect("parses");
    assert_eq!((tree.span.start.line, tree.span.end.line), (5, 31));
    let lines: Vec<_> = tree
        .nodes
        .iter()
        .map(|n| (n.span.start.line, n.span.end.line))
        .collect();
    assert_eq!(lines, vec![(5, 5), (11, 12), (17, 31)]);
    let typed = parse_dockerfile(&source, None).expect("valid Dockerfile");
    let lines: Vec<_> = typed
        .instructions
        .iter()
        .map(|i| (i.span.start.line, i.span.end.line))
        .collect();
    assert_eq!(lines, vec![(5, 5), (11, 12), (17, 31)]);
    assert_eq!((typed.span.start.line, typed.span.end.line), (5, 31));
}

/// The typed layer keeps each instruction's raw node, so its dump is the
/// same. The fixtures that use deliberately invalid instructions (unknown
/// flags such as `COPY --user`, `HEALTHCHECK CONNECT`, `CMD --doit`) are
/// rejected by the typed layer, like BuildKit's instruction parser does.
#[test]
fn typed_layer_dump_matches_where_instructions_are_valid() {
    let mut accepted = 0;
    let mut rejected = Vec::new();
    for dir in case_dirs("testfiles") {
        let source = fs::read_to_string(dir.join("Dockerfile")).expect("Dockerfile");
        let expected = fs::read_to_string(dir.join("result")).expect("result");
        match parse_dockerfile(&source, None) {
            Ok(df) => {
                assert_eq!(buildkit_dump(&df), expected, "{}", dir.display());
                accepted += 1;
            }
            Err(_) => rejected.push(dir.file_name().unwrap().to_string_lossy().to_string()),
        }
    }
    assert_eq!(
        rejected,
        ["flags", "health"],
        "only the invalid-instruction fixtures"
    );
    assert_eq!(accepted, 31);
}
