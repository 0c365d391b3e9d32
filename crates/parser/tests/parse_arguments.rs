//! Argument rules at the raw level: JSON arrays (BuildKit's json_test
//! cases), name/value pairs (line_parsers_test), quote-aware words, flags
//! on every instruction, unknown instructions.

use rbuild_parser::{Node, ParseErrorKind, buildkit_dump_syntax, parse_syntax};

fn node(line: &str) -> Node {
    let text = format!("{line}\n");
    parse_syntax(&text, None)
        .unwrap_or_else(|e| panic!("{}", e.render(&text)))
        .nodes
        .remove(0)
}

fn dump(line: &str) -> String {
    buildkit_dump_syntax(&parse_syntax(&format!("{line}\n"), None).expect("parses"))
}

#[test]
fn valid_json_arrays_of_strings() {
    let cases: &[(&str, &[&str])] = &[
        ("[]", &[]),
        ("[\"\"]", &[""]),
        ("[\"a\"]", &["a"]),
        ("[\"a\",\"b\"]", &["a", "b"]),
        ("[ \"a\", \"b\" ]", &["a", "b"]),
        ("[\t\"a\",\t\"b\"\t]", &["a", "b"]),
        ("\t[\t\"a\",\t\"b\"\t]\t", &["a", "b"]),
        (
            r#"["abc 123", "♥", "☃", "\" \\ \/ \b \f \n \r \t \u0000"]"#,
            &["abc 123", "♥", "☃", "\" \\ / \u{8} \u{c} \n \r \t \0"],
        ),
    ];
    for (json, expected) in cases {
        let n = node(&format!("CMD {json}"));
        assert!(n.json, "{json} is exec form");
        assert_eq!(n.args, *expected, "{json}");
    }
}

#[test]
fn json_arrays_with_non_strings_are_errors() {
    for json in [
        r#"["a",42,"b"]"#,
        r#"["a",123.456,"b"]"#,
        r#"["a",{},"b"]"#,
        r#"["a",{"c": "d"},"b"]"#,
        r#"["a",["c"],"b"]"#,
        r#"["a",true,"b"]"#,
        r#"["a",false,"b"]"#,
        r#"["a",null,"b"]"#,
    ] {
        for keyword in ["CMD", "RUN", "ENTRYPOINT", "SHELL", "COPY", "ADD", "VOLUME"] {
            let err = parse_syntax(&format!("{keyword} {json}\n"), None).unwrap_err();
            assert_eq!(
                *err.kind,
                ParseErrorKind::NonStringJsonArray {
                    instruction: keyword.into()
                },
                "{keyword} {json}"
            );
        }
    }
}

#[test]
fn invalid_json_falls_back_to_shell_form() {
    assert_eq!(dump("RUN ['a']"), "(run \"['a']\")\n");
    assert_eq!(dump("RUN [\"a\" x"), "(run \"[\\\"a\\\" x\")\n");
    assert_eq!(dump("COPY [\"a\" b"), "(copy \"[\\\"a\\\"\" \"b\")\n");
    assert!(!node("RUN [\"a\"] && b").json);
}

#[test]
fn name_value_pairs() {
    assert_eq!(node("LABEL foo bar").args, ["foo", "bar", ""]);
    assert_eq!(
        node("LABEL foo=bar thing=star").args,
        ["foo", "bar", "=", "thing", "star", "="]
    );
    let err = parse_syntax("ENV foo\n", None).unwrap_err();
    assert_eq!(
        err.kind.to_string(),
        "ENV must have two arguments; write `ENV name=value`"
    );
    assert_eq!(node("ENV").args, Vec::<String>::new());
    assert_eq!(node("LABEL \"a b\"=c").args, ["\"a b\"", "c", "="]);
    assert_eq!(node("ENV a=").args, ["a", "", "="]);
}

#[test]
fn flags_are_split_off_every_instruction() {
    assert_eq!(
        dump("CMD --doit [ \"a\", \"b\" ]"),
        "(cmd [\"--doit\"] \"a\" \"b\")\n"
    );
    assert_eq!(
        dump("FROM --platform=linux/arm64 a"),
        "(from [\"--platform=linux/arm64\"] \"a\")\n"
    );
    assert_eq!(
        dump("RUN --mount=\"type=bind,target=/a b\" x"),
        "(run [\"--mount=type=bind,target=/a b\"] \"x\")\n"
    );
    assert_eq!(dump("COPY -- --x y"), "(copy \"--x\" \"y\")\n");
}

#[test]
fn unknown_instructions_keep_one_empty_argument() {
    assert_eq!(dump("FOO bar baz"), "(foo \"\")\n");
    assert_eq!(dump("FOO"), "(foo \"\")\n");
    assert_eq!(dump("FOO --x bar"), "(foo [\"--x\"] \"\")\n");
}

#[test]
fn onbuild_nesting_in_the_dump() {
    assert_eq!(
        dump("ONBUILD RUN [\"echo\", \"x\"]"),
        "(onbuild (run \"echo\" \"x\"))\n"
    );
    assert_eq!(
        dump("ONBUILD ONBUILD COPY . /"),
        "(onbuild (onbuild (copy \".\" \"/\")))\n"
    );
    assert_eq!(dump("ONBUILD"), "(onbuild)\n");
}

#[test]
fn healthcheck_type_word() {
    assert_eq!(dump("HEALTHCHECK"), "(healthcheck)\n");
    assert_eq!(dump("HEALTHCHECK NONE"), "(healthcheck \"NONE\")\n");
    assert_eq!(
        dump("HEALTHCHECK  CMD  [\"a\", \"b\"]"),
        "(healthcheck \"CMD\" \"a\" \"b\")\n"
    );
}

#[test]
fn arg_words_keep_quotes() {
    assert_eq!(
        dump("ARG abc=\"123 456\" def"),
        "(arg \"abc=\\\"123 456\\\"\" \"def\")\n"
    );
    assert_eq!(dump("ARG a\\ b"), "(arg \"a\\\\ b\")\n");
}

#[test]
fn dump_quotes_like_go() {
    assert_eq!(
        dump("LABEL a=\"\u{a0}x\""),
        "(label \"a\" \"\\\"\\u00a0x\\\"\" \"=\")\n"
    );
    // A no-break space is whitespace for the word splitter, as in Go.
    assert!(parse_syntax("LABEL a=\u{a0}x\n", None).is_err());
    assert_eq!(dump("USER ☥"), "(user \"☥\")\n");
    assert_eq!(dump("CMD [\"\\u001b\"]"), "(cmd \"\\x1b\")\n");
}
