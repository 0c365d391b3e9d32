//! No input makes the parser panic: hand-picked malformed inputs and random
//! bytes / Dockerfile-like text (proptest).

use proptest::prelude::*;
use rbuild_parser::{
    buildkit_dump, buildkit_dump_syntax, parse_dockerfile, parse_dockerfile_bytes,
    parse_syntax_bytes,
};

/// Parses at both levels, dumps and renders errors: none of it may panic.
fn exercise(bytes: &[u8]) {
    match parse_dockerfile_bytes(bytes, Some("Dockerfile")) {
        Ok(df) => {
            let _ = buildkit_dump(&df);
            let _ = serde_json::to_string(&df).expect("AST serializes");
        }
        Err(err) => {
            let _ = err.render(&String::from_utf8_lossy(bytes));
            let _ = err.to_string();
        }
    }
    if let Ok(tree) = parse_syntax_bytes(bytes, None) {
        let _ = buildkit_dump_syntax(&tree);
    }
}

#[test]
fn malformed_inputs_do_not_panic() {
    let cases: &[&[u8]] = &[
        b"",
        b"\n\n\n",
        b"\xef\xbb\xbf",
        b"\xff\xfe\x00",
        b"\\",
        b"\\\n\\\n",
        b"FROM",
        b"FROM a\nRUN [",
        b"FROM a\nRUN [\"unterminated",
        b"FROM a\nRUN ['x']",
        b"FROM a\nENV \"unterminated",
        b"FROM a\nENV a='x",
        b"FROM a\nARG \\",
        b"FROM a\nRUN <<",
        b"FROM a\nRUN <<'",
        b"FROM a\nRUN <<EOF",
        b"FROM a\nRUN 99999999999999999999<<EOF\nEOF",
        b"FROM a\nCOPY <<A <<B /x\nA",
        b"FROM a\nONBUILD",
        b"FROM a\nONBUILD ONBUILD ONBUILD",
        b"FROM a\nHEALTHCHECK --interval=99999999999999h CMD x",
        b"FROM a\nHEALTHCHECK --interval=1.9999999999999999999999s CMD x",
        b"FROM a\nRUN --mount=\"type=cache CMD",
        b"FROM a\nRUN --mount=type=tmpfs,target=/x,size=1e400 x",
        b"FROM a\nRUN --mount=,,,, x",
        b"FROM a\nRUN --=x y",
        b"FROM a\nRUN -- --",
        b"FROM a\nCOPY --\"\" a b",
        b"# escape=`\nFROM a\nRUN x `",
        b"# escape=\\\n# escape=\\",
        b"FROM \xc3\xa9\xe2\x80\xa8\xc2\xa0 x",
        b"\r\r\r\nFROM a\r",
        b"\x00\x01\x02FROM",
        b"\\\nONBUILD [\"a\", ",
        b"ONBU\\\nILD RUN x",
    ];
    for case in cases {
        exercise(case);
    }
    let huge = format!("FROM a\nRUN {}", "y".repeat(1 << 17));
    exercise(huge.as_bytes());
    let deep = format!("FROM a\n{}RUN x", "ONBUILD ".repeat(10_000));
    exercise(deep.as_bytes());
    let deeper = format!("FROM a\n{}RUN x", "ONBUILD \\\n".repeat(200_000));
    exercise(deeper.as_bytes());
    let err = rbuild_parser::parse_syntax(&deeper, None).unwrap_err();
    assert!(err.to_string().contains("nested more than 64 levels"));
    let ok = format!("FROM a\n{}RUN x", "ONBUILD ".repeat(3));
    assert!(rbuild_parser::parse_syntax(&ok, None).is_ok());
}

/// Dockerfile-ish fragments, so random inputs reach deep parser states.
fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("FROM a AS b".to_string()),
        Just("RUN ".to_string()),
        Just("COPY ".to_string()),
        Just("ENV ".to_string()),
        Just("ONBUILD ".to_string()),
        Just("HEALTHCHECK ".to_string()),
        Just("--mount=type=cache,target=/x ".to_string()),
        Just("--interval=".to_string()),
        Just("<<EOF".to_string()),
        Just("<<-'E'".to_string()),
        Just("EOF".to_string()),
        Just("\\".to_string()),
        Just("`".to_string()),
        Just("# escape=`".to_string()),
        Just("\n".to_string()),
        Just("\t".to_string()),
        Just("[\"a\", ".to_string()),
        Just("]".to_string()),
        Just("\"".to_string()),
        Just("'".to_string()),
        Just("=".to_string()),
        Just("é".to_string()),
        "[a-z ]{0,6}".prop_map(|s| s),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        exercise(&bytes);
    }

    #[test]
    fn random_dockerfile_text_never_panics(parts in proptest::collection::vec(fragment(), 0..40)) {
        let text = parts.concat();
        exercise(text.as_bytes());
        // Re-parsing the same text gives the same result.
        let first = parse_dockerfile(&text, None);
        let second = parse_dockerfile(&text, None);
        prop_assert_eq!(first, second);
    }
}
