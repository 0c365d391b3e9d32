//! Every real-world Dockerfile of `testdata/corpus` parses and plans, except
//! the few listed in `testdata/corpus/INVALID.md`, which must fail. The
//! counts are exact: adding or removing a file means updating them here.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rbuild_parser::InstructionKind;
use rbuild_parser::checks::check;
use rbuild_parser::plan::{BuildArgs, PlanOptions, plan};

/// Dockerfiles expected to parse and plan.
const EXPECTED_VALID: usize = 541;
/// Dockerfiles expected to fail (listed in INVALID.md).
const EXPECTED_INVALID: usize = 1;

fn corpus_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/corpus")
}

/// Whether `name` is a Dockerfile by the corpus's selection rules.
fn is_dockerfile(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower == "dockerfile"
        || lower.starts_with("dockerfile.") && !lower.ends_with(".dockerignore")
        || lower.starts_with("dockerfile-")
        || lower.starts_with("dockerfile_")
        || lower.ends_with(".dockerfile")
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("corpus directory is readable")
        .flatten()
        .collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, out);
        } else if is_dockerfile(&entry.file_name().to_string_lossy()) {
            out.push(path);
        }
    }
}

/// `path → reason` from the bullet list of INVALID.md: lines like
/// "- `realworld/x/Dockerfile`: reason".
fn expected_failures(root: &Path) -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(root.join("INVALID.md")).expect("INVALID.md exists");
    text.lines()
        .filter_map(|line| line.strip_prefix("- `"))
        .filter_map(|rest| rest.split_once("`: "))
        .map(|(path, reason)| (path.to_string(), reason.to_string()))
        .collect()
}

fn parse_and_plan(path: &Path) -> Result<(), String> {
    let text = std::fs::read(path).map_err(|e| e.to_string())?;
    let dockerfile =
        rbuild_parser::parse_dockerfile_bytes(&text, Some(&path.display().to_string()))
            .map_err(|e| format!("parse: {e}"))?;
    // Some files are meant to be built with `--build-arg` for global ARGs
    // that have no default (e.g. `FROM golang:${GO_VERSION}-alpine`); give
    // each such ARG a value, as their CI does.
    let mut build_args = BuildArgs::new();
    for instruction in dockerfile
        .instructions
        .iter()
        .take_while(|i| !matches!(i.kind, InstructionKind::From(_)))
    {
        if let InstructionKind::Arg(decls) = &instruction.kind {
            for decl in decls.iter().filter(|d| d.default.is_none()) {
                build_args.set(decl.name.clone(), "1");
            }
        }
    }
    let options = PlanOptions {
        all_stages: true,
        build_args,
        ..PlanOptions::default()
    };
    plan(&dockerfile, &options).map_err(|e| format!("plan: {e}"))?;
    // The default target too, which prunes.
    let default_target = PlanOptions {
        all_stages: false,
        ..options.clone()
    };
    plan(&dockerfile, &default_target).map_err(|e| format!("plan (default target): {e}"))?;
    // The build checks see the same plan, so they must not hit an error.
    let report = check(&dockerfile, &options).map_err(|e| format!("check directive: {e}"))?;
    if let Some(error) = report.plan_error {
        return Err(format!("check: {error}"));
    }
    Ok(())
}

#[test]
fn corpus_parses_and_plans() {
    let root = corpus_root();
    let mut files = Vec::new();
    collect(&root.join("realworld"), &mut files);
    collect(&root.join("voting-app"), &mut files);
    let invalid = expected_failures(&root);

    let mut planned = 0;
    let mut failed_as_expected = 0;
    let mut problems = Vec::new();
    for path in &files {
        let relative = path
            .strip_prefix(&root)
            .unwrap_or(path)
            .display()
            .to_string();
        match (parse_and_plan(path), invalid.get(&relative)) {
            (Ok(()), None) => planned += 1,
            (Err(_), Some(_)) => failed_as_expected += 1,
            (Ok(()), Some(reason)) => problems.push(format!(
                "{relative}: listed as invalid ({reason}) but plans"
            )),
            (Err(error), None) => problems.push(format!("{relative}: {error}")),
        }
    }
    for listed in invalid.keys() {
        if !files.iter().any(|p| {
            p.strip_prefix(&root)
                .is_ok_and(|r| r.display().to_string() == *listed)
        }) {
            problems.push(format!(
                "{listed}: listed in INVALID.md but not in the corpus"
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "{} problem(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
    assert_eq!(planned, EXPECTED_VALID, "parsed and planned");
    assert_eq!(failed_as_expected, EXPECTED_INVALID, "expected failures");
    println!("{planned} Dockerfiles parsed and planned, {failed_as_expected} expected failures");
}
