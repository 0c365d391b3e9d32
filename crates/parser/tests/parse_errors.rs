//! Error messages, locations, rendering and did-you-mean suggestions.

use rbuild_parser::{ParseErrorKind, parse_dockerfile, parse_dockerfile_bytes, suggest_closest};

#[test]
fn unknown_instruction_suggests_the_closest() {
    let text = "FROM alpine\nRUNN echo hi\n";
    let err = parse_dockerfile(text, Some("Dockerfile")).unwrap_err();
    assert_eq!(
        *err.kind,
        ParseErrorKind::UnknownInstruction {
            keyword: "RUNN".into(),
            suggestion: Some("RUN".into()),
        }
    );
    assert_eq!(
        err.to_string(),
        "Dockerfile:2:1: unknown instruction: RUNN (did you mean RUN?)"
    );
    assert_eq!(
        err.render(text),
        "error: unknown instruction: RUNN (did you mean RUN?)\n --> Dockerfile:2:1\n  |\n2 | RUNN echo hi\n  | ^^^^\n"
    );
}

#[test]
fn suggestions_are_case_insensitive_and_bounded() {
    let message = |kw: &str| {
        parse_dockerfile(&format!("FROM a\n{kw} x\n"), None)
            .unwrap_err()
            .kind
            .to_string()
    };
    assert_eq!(
        message("copyy"),
        "unknown instruction: copyy (did you mean COPY?)"
    );
    assert_eq!(
        message("WORKDIRR"),
        "unknown instruction: WORKDIRR (did you mean WORKDIR?)"
    );
    assert_eq!(
        message("ENTRYPIONT"),
        "unknown instruction: ENTRYPIONT (did you mean ENTRYPOINT?)"
    );
    assert_eq!(
        message("FOO"),
        "unknown instruction: FOO; a Dockerfile instruction is one of ADD, ARG, CMD, COPY, ENTRYPOINT, ENV, EXPOSE, FROM, HEALTHCHECK, LABEL, MAINTAINER, ONBUILD, RUN, SHELL, STOPSIGNAL, USER, VOLUME, WORKDIR"
    );
    assert_eq!(suggest_closest("expse", &["EXPOSE", "ENV"]), Some("EXPOSE"));
}

#[test]
fn flag_errors_point_at_the_flag() {
    let text = "FROM a\nCOPY --user=me x /y\n";
    let err = parse_dockerfile(text, Some("ctx/Dockerfile")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "ctx/Dockerfile:2:6: unknown flag --user for COPY; valid flags: --from, --chown, --chmod, --link, --parents, --exclude"
    );
    assert!(
        err.render(text)
            .ends_with("2 | COPY --user=me x /y\n  |      ^^^^^^^^^\n")
    );
}

#[test]
fn multi_line_errors_show_every_line() {
    let text = "FROM a \\\n  b\n";
    let err = parse_dockerfile(text, None).unwrap_err();
    let rendered = err.render(text);
    assert!(
        rendered.contains("1 | FROM a \\\n  | ^^^^^^^^\n"),
        "{rendered}"
    );
    assert!(rendered.contains("2 |   b\n"), "{rendered}");
    assert_eq!((err.span.start.line, err.span.end.line), (1, 2));
}

#[test]
fn flag_errors_on_a_continued_first_line() {
    let text = "FROM a\nRUN --network=bridge \\\n  make\n";
    let err = parse_dockerfile(text, None).unwrap_err();
    assert_eq!((err.span.start.line, err.span.end.line), (2, 2));
    assert_eq!((err.span.start.column, err.span.end.column), (5, 21));
}

#[test]
fn errors_on_continuation_lines_point_at_their_line() {
    let text =
        "FROM a\nRUN --network=none \\\n    --mount=type=cache,target=/x,sharing=all \\\n  make\n";
    let err = parse_dockerfile(text, None).unwrap_err();
    assert_eq!((err.span.start.line, err.span.start.column), (3, 13));
    assert_eq!(err.span.end.column, 45);
    assert!(
        err.render(text)
            .contains("3 |     --mount=type=cache,target=/x,sharing=all \\\n  |         ")
    );
}

#[test]
fn node_positions_map_back_to_the_source() {
    let text = "FROM a\nRUN echo \\\n# comment\n  hello \\\n\tworld\n";
    let tree = rbuild_parser::parse_syntax(text, None).unwrap();
    let run = &tree.nodes[1];
    assert_eq!(run.original, "RUN echo   hello \tworld");
    let hello = run.span_of("hello", 0).unwrap();
    assert_eq!(
        (hello.start.line, hello.start.column, hello.end.column),
        (4, 3, 8)
    );
    assert_eq!(&text[hello.start.offset..hello.end.offset], "hello");
    let world = run.span_of("world", 0).unwrap();
    assert_eq!((world.start.line, world.start.column), (5, 2));
    assert_eq!(&text[world.start.offset..world.end.offset], "world");
    let echo = run.span_of("echo", 0).unwrap();
    assert_eq!((echo.start.line, echo.start.column), (2, 5));
}

#[test]
fn long_spans_are_shortened() {
    let mut text = String::from("FROM a\nRUN <<EOF\n");
    for _ in 0..20 {
        text.push_str("echo\n");
    }
    let err = parse_dockerfile(&text, None).unwrap_err();
    let rendered = err.render(&text);
    assert!(rendered.ends_with("  | ...\n"), "{rendered}");
    assert!(rendered.lines().count() < 12);
}

#[test]
fn empty_file_is_located_at_the_start() {
    let err = parse_dockerfile("", None).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Dockerfile:1:1: file with no instructions; a Dockerfile needs at least a FROM instruction"
    );
    let comments = "# one\n\n# two\n";
    let err = parse_dockerfile(comments, None).unwrap_err();
    assert_eq!(*err.kind, ParseErrorKind::NoInstructions);
    assert_eq!(err.span.start.line, 3);
}

#[test]
fn non_utf8_is_a_located_error() {
    let err = parse_dockerfile_bytes(b"FROM a\nRUN echo \xff\n", Some("Dockerfile")).unwrap_err();
    assert_eq!(*err.kind, ParseErrorKind::InvalidUtf8 { offset: 16 });
    assert_eq!((err.span.start.line, err.span.start.column), (2, 10));
    assert!(err.to_string().contains("save it as UTF-8"));
}

#[test]
fn line_length_limit_mirrors_buildkit() {
    let text = format!("FROM a\nRUN {}\n", "x".repeat(70_000));
    let err = parse_dockerfile(&text, None).unwrap_err();
    assert!(matches!(*err.kind, ParseErrorKind::LineTooLong { .. }));
    assert!(
        err.to_string()
            .starts_with("Dockerfile:2:1: dockerfile line greater than max allowed size of 65535")
    );
}

#[test]
fn render_handles_tabs_and_control_characters() {
    let text = "FROM a\n\tFOO\u{7}bar x\n";
    let err = parse_dockerfile(text, None).unwrap_err();
    let rendered = err.render(text);
    assert!(rendered.contains("2 | \tFOO?bar x\n"), "{rendered}");
    assert!(rendered.contains("  | \t^^^^^^^\n"), "{rendered}");
}

#[test]
fn onbuild_trigger_errors_point_into_the_trigger() {
    let text = "FROM a\nONBUILD COPY --user=me x /y\n";
    let err = parse_dockerfile(text, None).unwrap_err();
    assert_eq!((err.span.start.line, err.span.start.column), (2, 14));
    assert!(err.render(text).ends_with("  |              ^^^^^^^^^\n"));
}
