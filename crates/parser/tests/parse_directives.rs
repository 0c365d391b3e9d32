//! Parser directives and logical lines (FORMAT.md sections 1 and 6).

use rbuild_parser::ast::WarningKind;
use rbuild_parser::{ParseErrorKind, buildkit_dump_syntax, parse_dockerfile, parse_syntax};

fn dump(text: &str) -> String {
    buildkit_dump_syntax(&parse_syntax(text, None).expect("parses"))
}

#[test]
fn directive_keys_are_case_insensitive() {
    let df = parse_dockerfile("# EScape=`\nFROM a\nRUN x `\n  y\n", None).unwrap();
    assert_eq!(df.directives.escape_token(), '`');
    assert_eq!(df.directives.escape.as_ref().unwrap().name, "EScape");
    assert_eq!(
        dump("# EScape=`\nFROM a\nRUN x `\n  y\n"),
        "(from \"a\")\n(run \"x   y\")\n"
    );
}

#[test]
fn all_three_directives_are_recorded() {
    let df = parse_dockerfile(
        "# syntax=docker/dockerfile:1\n# check=skip=JSONArgsRecommended;error=true\n#escape=\\\nFROM a\n",
        None,
    )
    .unwrap();
    assert_eq!(df.directives.syntax.unwrap().value, "docker/dockerfile:1");
    assert_eq!(
        df.directives.check.unwrap().value,
        "skip=JSONArgsRecommended;error=true"
    );
    assert_eq!(df.directives.escape.unwrap().span.start.line, 3);
}

#[test]
fn unknown_key_ends_directive_scanning() {
    let df = parse_dockerfile("# key = value\n# escape=`\nFROM a\n", None).unwrap();
    assert!(df.directives.escape.is_none());
    assert_eq!(df.directives.escape_token(), '\\');
}

#[test]
fn blank_line_or_comment_before_directive_disables_it() {
    let df = parse_dockerfile("\n# escape=`\nFROM a\n", None).unwrap();
    assert!(df.directives.escape.is_none());
    let df = parse_dockerfile("# hello\n# syntax=x\nFROM a\n", None).unwrap();
    assert!(df.directives.syntax.is_none());
}

#[test]
fn directives_after_an_instruction_are_comments() {
    let df = parse_dockerfile("FROM a\n# escape=`\n", None).unwrap();
    assert!(df.directives.escape.is_none());
}

#[test]
fn repeated_directive_is_an_error() {
    let err = parse_syntax("# escape=\\\n# escape=`\nFROM a\n", None).unwrap_err();
    assert_eq!(
        *err.kind,
        ParseErrorKind::DuplicateDirective {
            name: "escape".into()
        }
    );
    assert_eq!(err.span.start.line, 2);
    assert!(
        err.to_string()
            .starts_with("Dockerfile:2:1: only one escape parser directive can be used")
    );
}

#[test]
fn invalid_escape_token_is_an_error() {
    let err = parse_syntax("# escape=x\nFROM a\n", Some("build/Dockerfile.dev")).unwrap_err();
    assert!(matches!(
        *err.kind,
        ParseErrorKind::InvalidEscapeToken { .. }
    ));
    assert!(
        err.to_string()
            .starts_with("build/Dockerfile.dev:1:1: invalid escape token 'x'")
    );
}

#[test]
fn bom_is_dropped() {
    let df = parse_dockerfile("\u{feff}# escape=`\nFROM a\n", None).unwrap();
    assert_eq!(df.directives.escape_token(), '`');
    assert_eq!(df.instructions[0].span.start.column, 1);
}

#[test]
fn continuation_lines_join_without_separator() {
    assert_eq!(dump("RUN a\\\nb\n"), "(run \"ab\")\n");
    assert_eq!(dump("RUN a \\\n  b\n"), "(run \"a   b\")\n");
    assert_eq!(dump("RUN a \\  \t\nb\n"), "(run \"a b\")\n");
    assert_eq!(
        dump("ENV A=foo\\\\\nENV B=c\n"),
        "(env \"A\" \"foo\\\\\\\\\" \"=\")\n(env \"B\" \"c\" \"=\")\n"
    );
}

#[test]
fn comments_and_blank_lines_inside_continuations_are_skipped() {
    let tree = parse_syntax("RUN a \\\n# comment\n  # indented comment\nb\n", None).unwrap();
    assert_eq!(tree.nodes[0].args, ["a b"]);
    assert!(tree.warnings.is_empty(), "comments do not warn");

    let tree = parse_syntax("RUN a \\\n\n   \nb\nRUN c \\\n\nd\n", None).unwrap();
    assert_eq!(tree.nodes[0].args, ["a b"]);
    assert_eq!(
        tree.warnings.len(),
        2,
        "one warning per affected instruction"
    );
    assert_eq!(tree.warnings[0].kind, WarningKind::EmptyContinuationLine);
    assert_eq!(
        tree.warnings[0].message,
        "Empty continuation line found in: RUN a b"
    );
    assert_eq!(tree.nodes[0].span.end.line, 4);
}

#[test]
fn continuation_at_end_of_file_ends_the_instruction() {
    assert_eq!(dump("FROM a\nRUN b \\"), "(from \"a\")\n(run \"b\")\n");
    assert_eq!(dump("FROM a\nRUN b \\\n"), "(from \"a\")\n(run \"b\")\n");
}

#[test]
fn keywords_are_case_insensitive_and_kept_as_written() {
    let df = parse_dockerfile("from a AS b\nRun echo\ncOPY x y\n", None).unwrap();
    assert_eq!(df.instructions[1].keyword(), "Run");
    assert_eq!(df.instructions[1].name(), "RUN");
    assert_eq!(dump("from a\nRun echo\n"), "(from \"a\")\n(run \"echo\")\n");
}

#[test]
fn crlf_line_endings() {
    let df = parse_dockerfile("FROM a\r\nRUN b \\\r\n c\r\n", None).unwrap();
    assert_eq!(df.instructions[1].original, "RUN b  c");
}

#[test]
fn spans_point_at_keywords_and_cover_continuations() {
    let df = parse_dockerfile("FROM a\n\n  RUN b \\\n   c\n", None).unwrap();
    let run = &df.instructions[1];
    assert_eq!((run.span.start.line, run.span.start.column), (3, 3));
    assert_eq!((run.span.end.line, run.span.end.column), (4, 5));
    assert_eq!(
        (run.keyword_span.start.column, run.keyword_span.end.column),
        (3, 6)
    );
    assert_eq!(run.keyword_span.start.offset, 10);
}
