//! Heredocs (FORMAT.md section 6, BuildKit's parser_heredoc_test cases).

use rbuild_parser::ast::{CommandForm, Heredoc, InstructionKind};
use rbuild_parser::{ParseErrorKind, buildkit_dump, parse_dockerfile, parse_syntax};

type Doc = (String, String, bool, bool, Option<u32>);

/// (name, content, expand, chomp, fd) of every heredoc of each node after
/// the first (FROM).
fn heredocs(text: &str) -> Vec<Vec<Doc>> {
    let tree = parse_syntax(text, None).expect("parses");
    tree.nodes[1..]
        .iter()
        .map(|n| {
            n.heredocs
                .iter()
                .map(|h| {
                    (
                        h.name.clone(),
                        h.content.clone(),
                        h.expand,
                        h.chomp,
                        h.file_descriptor,
                    )
                })
                .collect()
        })
        .collect()
}

fn doc(name: &str, content: &str, expand: bool, chomp: bool, fd: Option<u32>) -> Doc {
    (name.into(), content.into(), expand, chomp, fd)
}

fn one(name: &str, content: &str, expand: bool) -> Vec<Doc> {
    vec![doc(name, content, expand, false, None)]
}

#[test]
fn buildkit_heredoc_cases() {
    let text = [
        "FROM alpine:3.6",
        "USER <<INVALID",
        "INVALID",
        "RUN <<EMPTY",
        "EMPTY",
        "RUN 3<<EMPTY2",
        "EMPTY2",
        "RUN \"<<NOHEREDOC\"",
        "RUN <<INDENT",
        "\tfoo",
        "\tbar",
        "INDENT",
        "RUN <<-UNINDENT2",
        "\tbaz",
        "\tquux",
        "\tUNINDENT2",
        "RUN <<-'NOEXPAND'",
        "\tdon't expand $NAME",
        "NOEXPAND",
        "RUN <<COMMENT",
        "# internal comment",
        "echo foo bar # trailing comment",
        "COMMENT",
        "RUN --mount=type=cache,target=/foo <<MOUNT",
        "echo hello",
        "MOUNT",
        "COPY <<FILE1 <<FILE2 /dest",
        "content 1",
        "FILE1",
        "content 2",
        "FILE2",
        "COPY <<X <<Y /dest",
        "Y",
        "X",
        "X",
        "Y",
        "RUN <<COMPLEX python3",
        "print('hello world')",
        "COMPLEX",
        "RUN <<eo'f'",
        "echo foo",
        "eof",
        "RUN <<eo\\'f",
        "echo foo",
        "eo'f",
        "RUN <<'e'o\\'f",
        "echo foo",
        "eo'f",
        "RUN <<'one two'",
        "echo bar",
        "one two",
        "RUN <<$EOF",
        "$EOF",
        "RUN <<  EOF",
        "EOF",
        "RUN <<  EOF  > foo",
        "EOF",
        "",
    ]
    .join("\n");
    let expected = vec![
        vec![], // USER <<INVALID: USER takes no heredoc
        vec![], // INVALID: an (unknown) instruction line
        one("EMPTY", "", true),
        vec![doc("EMPTY2", "", true, false, Some(3))],
        vec![], // RUN "<<NOHEREDOC"
        one("INDENT", "\tfoo\n\tbar\n", true),
        vec![doc("UNINDENT2", "\tbaz\n\tquux\n", true, true, None)],
        vec![doc("NOEXPAND", "\tdon't expand $NAME\n", false, true, None)],
        one(
            "COMMENT",
            "# internal comment\necho foo bar # trailing comment\n",
            true,
        ),
        one("MOUNT", "echo hello\n", true),
        vec![
            doc("FILE1", "content 1\n", true, false, None),
            doc("FILE2", "content 2\n", true, false, None),
        ],
        vec![
            doc("X", "Y\n", true, false, None),
            doc("Y", "X\n", true, false, None),
        ],
        one("COMPLEX", "print('hello world')\n", true),
        one("eof", "echo foo\n", false),
        one("eo'f", "echo foo\n", true),
        one("eo'f", "echo foo\n", false),
        one("one two", "echo bar\n", false),
        one("$EOF", "", true),
        one("EOF", "", true),
        one("EOF", "", true),
    ];
    assert_eq!(heredocs(&text), expected);
}

#[test]
fn json_form_has_no_heredocs() {
    let got = heredocs("FROM a\nRUN [\"whoami\"]\nRUN [\"<<EOF\"]\nRUN [\"<<'EOF'\"]\n");
    assert_eq!(got, vec![vec![], vec![], vec![]]);
}

#[test]
fn heredoc_bodies_are_in_spans_but_not_in_the_dump() {
    let text = "FROM a\nRUN <<EOF\n# not a comment \\\nEOF\nRUN b\n";
    let df = parse_dockerfile(text, None).unwrap();
    assert_eq!(
        buildkit_dump(&df),
        "(from \"a\")\n(run \"<<EOF\")\n(run \"b\")\n"
    );
    let run = &df.instructions[1];
    assert_eq!((run.span.start.line, run.span.end.line), (2, 4));
    let InstructionKind::Run(r) = &run.kind else {
        panic!("RUN expected")
    };
    assert_eq!(r.command, CommandForm::Shell("<<EOF".into()));
    assert_eq!(r.heredocs[0].content, "# not a comment \\\n");
    assert_eq!(
        (r.heredocs[0].span.start.line, r.heredocs[0].span.end.line),
        (3, 4)
    );
}

#[test]
fn typed_heredocs_strip_tabs_for_dash_form() {
    let text = "FROM a\nCOPY <<-EOT /x\n\t\thello\n\tworld\n\tEOT\n";
    let df = parse_dockerfile(text, None).unwrap();
    let InstructionKind::Copy(copy) = &df.instructions[1].kind else {
        panic!("COPY expected")
    };
    assert_eq!(copy.sources, ["<<-EOT"]);
    assert_eq!(copy.dest, "/x");
    let Heredoc { content, chomp, .. } = &copy.heredocs[0];
    assert!(*chomp);
    assert_eq!(content, "hello\nworld\n");
}

#[test]
fn onbuild_heredocs() {
    let df = parse_dockerfile("FROM a\nONBUILD RUN <<X\necho hi\nX\n", None).unwrap();
    let InstructionKind::Onbuild(inner) = &df.instructions[1].kind else {
        panic!("ONBUILD expected")
    };
    let InstructionKind::Run(run) = &inner.kind else {
        panic!("RUN trigger expected")
    };
    assert_eq!(run.heredocs[0].content, "echo hi\n");
    assert_eq!(
        df.instructions[1].onbuild_expression().as_deref(),
        Some("RUN <<X\necho hi\nX")
    );
    assert_eq!(df.instructions[0].onbuild_expression(), None);
    // The stored expression parses back to the same trigger.
    let again = parse_dockerfile(
        &format!(
            "FROM a\nONBUILD {}\n",
            df.instructions[1].onbuild_expression().unwrap()
        ),
        None,
    )
    .unwrap();
    assert_eq!(again.instructions[1].kind, df.instructions[1].kind);
}

#[test]
fn unterminated_heredoc_is_an_error() {
    let err = parse_syntax("FROM a\nRUN <<X\necho\n", None).unwrap_err();
    assert_eq!(
        *err.kind,
        ParseErrorKind::UnterminatedHeredoc { name: "X".into() }
    );
    assert_eq!((err.span.start.line, err.span.end.line), (2, 3));
}

#[test]
fn malformed_heredoc_quoting_is_an_error() {
    let err = parse_syntax("FROM a\nRUN <<'X\nx\n", None).unwrap_err();
    assert!(matches!(*err.kind, ParseErrorKind::InvalidHeredoc { .. }));
}

#[test]
fn heredoc_as_destination_is_rejected() {
    let err = parse_dockerfile("FROM a\nCOPY x <<X\nX\n", None).unwrap_err();
    assert_eq!(
        err.kind.to_string(),
        "COPY cannot accept a heredoc as a destination"
    );
}

#[test]
fn not_heredocs() {
    let got = heredocs("FROM a\nRUN cat <<<X\nRUN echo <<\nRUN echo '<<X'\n");
    assert_eq!(got, vec![vec![], vec![], vec![]]);
}
