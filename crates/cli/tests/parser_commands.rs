//! `rbuild check`, `rbuild outline` and `rbuild debug parse`, end to end on
//! the built binary.

use std::path::Path;
use std::process::{Command, Output};

fn rbuild(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rbuild"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("rbuild runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A temporary context directory holding `Dockerfile` with `text`.
fn context(text: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("Dockerfile"), text).expect("write Dockerfile");
    dir
}

#[test]
fn check_prints_rule_location_snippet_and_summary() {
    let dir = context("FROM alpine\nMAINTAINER me\nCMD echo hi\n");
    let output = rbuild(&["check"], dir.path());
    let out = stdout(&output);
    assert_eq!(
        output.status.code(),
        Some(0),
        "warnings alone do not fail: {out}{}",
        stderr(&output)
    );
    assert!(out.contains("WARNING: MaintainerDeprecated - https://docs.docker.com/go/dockerfile/rule/maintainer-deprecated/"), "{out}");
    assert!(
        out.contains("Maintainer instruction is deprecated in favor of using label"),
        "{out}"
    );
    assert!(out.contains("./Dockerfile:2\n"), "{out}");
    assert!(out.contains("   2 | >>> MAINTAINER me"), "{out}");
    assert!(out.contains("WARNING: JSONArgsRecommended"), "{out}");
    assert!(
        out.trim_end()
            .ends_with("Check complete, 2 warnings found!"),
        "{out}"
    );
}

#[test]
fn check_is_quiet_and_clear_on_a_clean_file() {
    let dir = context("FROM alpine\nCMD [\"true\"]\n");
    let output = rbuild(&["check", "."], dir.path());
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(stdout(&output), "Check complete, no warnings found.\n");
}

#[test]
fn check_honours_the_directive_and_fails_with_error_true() {
    let dir = context(
        "# check=skip=MaintainerDeprecated;error=true\nFROM alpine\nMAINTAINER me\nCMD echo hi\n",
    );
    let output = rbuild(&["check", "-f", "Dockerfile"], dir.path());
    let out = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{out}");
    assert!(!out.contains("MaintainerDeprecated"), "skipped: {out}");
    assert!(out.contains("JSONArgsRecommended"), "{out}");
    assert!(out.contains("error=true"), "{out}");
}

#[test]
fn check_fails_on_parse_errors_with_a_marked_snippet() {
    let dir = context("FROM alpine\nRUNN echo\n");
    let output = rbuild(&["check"], dir.path());
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        err.contains("unknown instruction: RUNN") && err.contains("did you mean RUN?"),
        "{err}"
    );
    assert!(err.contains(":2:"), "file:line:column: {err}");
}

#[test]
fn check_json_lists_warnings() {
    let dir = context("FROM alpine\nWORKDIR app\n");
    let output = rbuild(&["check", "--format", "json"], dir.path());
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON output");
    assert_eq!(json["warnings"][0]["rule"], "WorkdirRelativePath");
    assert_eq!(json["warnings"][0]["span"]["start"]["line"], 2);
}

const MULTI: &str = "\
ARG GO_VERSION=1.22
FROM golang:${GO_VERSION} AS build
ARG MODE=debug
RUN --mount=type=secret,id=npmrc,required go build -tags $MODE
FROM alpine:3.20 AS unused
FROM scratch AS final
COPY --from=build /app /app
";

#[test]
fn outline_text_shows_stages_needs_args_and_targets() {
    let dir = context(MULTI);
    let output = rbuild(&["outline", "--build-arg", "MODE=release"], dir.path());
    let out = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{out}{}", stderr(&output));
    assert!(out.starts_with("TARGET: final (stage 2)\n"), "{out}");
    assert!(
        out.contains("  0 build: FROM docker.io/library/golang:1.22 (line 2)"),
        "{out}"
    );
    assert!(
        out.contains("  2 final: FROM scratch (line 6)\n      needs build (COPY --from, line 7)"),
        "{out}"
    );
    assert!(
        !out.contains("1 unused: FROM"),
        "stages the target does not need are left out: {out}"
    );
    assert!(
        out.contains("GO_VERSION = \"1.22\"  (default \"1.22\", from default; used in global)"),
        "{out}"
    );
    assert!(
        out.contains("MODE = \"release\"  (default \"debug\", from --build-arg; used in build)"),
        "{out}"
    );
    assert!(
        out.contains("SECRETS:\n  npmrc (required, line 4)"),
        "{out}"
    );
    assert!(
        out.contains("  unused (stage 1): FROM alpine:3.20"),
        "all targets are listed: {out}"
    );
    assert!(
        out.contains("  final (stage 2, default): FROM scratch"),
        "{out}"
    );
}

#[test]
fn outline_target_and_json() {
    let dir = context(MULTI);
    let output = rbuild(
        &["outline", "--target", "build", "--format", "json", "."],
        dir.path(),
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON output");
    assert_eq!(json["target"], "build");
    assert_eq!(json["stages"].as_array().map(Vec::len), Some(1));
    assert_eq!(json["args"][1]["name"], "MODE");
    assert_eq!(json["args"][1]["value"], "debug");
}

#[test]
fn outline_unknown_target_suggests_and_fails() {
    let dir = context(MULTI);
    let output = rbuild(&["outline", "--target", "fnal"], dir.path());
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        err.contains("target stage \"fnal\" could not be found (did you mean final?)"),
        "{err}"
    );
    assert!(err.contains("build, unused, final"), "{err}");
}

#[test]
fn debug_parse_dumps_buildkit_format_and_json() {
    let dir = context("FROM alpine AS base\nRUN echo hi\n");
    let output = rbuild(&["debug", "parse", "Dockerfile"], dir.path());
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(
        stdout(&output),
        "(from \"alpine\" \"AS\" \"base\")\n(run \"echo hi\")\n"
    );

    let output = rbuild(
        &["debug", "parse", "--format", "json", "Dockerfile"],
        dir.path(),
    );
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON output");
    assert_eq!(json["instructions"][1]["node"]["keyword"], "RUN");
}

#[test]
fn missing_dockerfile_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let output = rbuild(&["check"], dir.path());
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("cannot read the Dockerfile ./Dockerfile"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn outline_shows_descriptions_from_comments() {
    let dir = context(
        "# VERSION the Alpine release to build on\nARG VERSION=3.20\n# app the application image\nFROM alpine:${VERSION} AS app\n",
    );
    let output = rbuild(&["outline"], dir.path());
    let out = stdout(&output);
    assert!(
        out.contains("  app (stage 0, default): FROM alpine:${VERSION} - the application image"),
        "{out}"
    );
    assert!(
        out.contains("      the Alpine release to build on"),
        "{out}"
    );
}

#[test]
fn check_json_reports_parse_errors_too() {
    let dir = context("FROM alpine\nRUNN echo\n");
    let output = rbuild(&["check", "--format", "json"], dir.path());
    assert_eq!(output.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON output");
    assert!(
        json["error"].as_str().is_some_and(|e| e.contains("RUNN")),
        "{json}"
    );
    assert_eq!(json["error_span"]["start"]["line"], 2);
}
