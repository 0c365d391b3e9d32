//! Behaviour of BuildKit's shell lexer that is pinned only by its Go tests
//! (`shell/lex_test.go`, FORMAT.md section 6), rewritten as Rust tests: pattern
//! trimming and replacement, required variables and their messages, release-file
//! names, unsupported forms, and which variables a word uses.

use std::collections::HashMap;

use rbuild_parser::shell::{ExpandErrorKind, Lexer, ProcessedWord};

fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn process(word: &str, pairs: &[(&str, &str)]) -> ProcessedWord {
    Lexer::default()
        .process_word(word, &env(pairs))
        .unwrap_or_else(|e| panic!("{word:?} failed: {e}"))
}

fn value(word: &str, pairs: &[(&str, &str)]) -> String {
    process(word, pairs).value
}

fn error(word: &str, pairs: &[(&str, &str)]) -> ExpandErrorKind {
    match Lexer::default().process_word(word, &env(pairs)) {
        Ok(w) => panic!("{word:?} should fail, gave {:?}", w.value),
        Err(e) => e.kind,
    }
}

/// Asserts the value and the set/unset names of one word.
fn check(word: &str, pairs: &[(&str, &str)], expected: &str, set: &[&str], unset: &[&str]) {
    let processed = process(word, pairs);
    assert_eq!(processed.value, expected, "value of {word:?}");
    let set_names: Vec<&str> = processed.set_names().collect();
    let mut set = set.to_vec();
    set.sort_unstable();
    assert_eq!(set_names, set, "set names of {word:?}");
    let unset_names: Vec<&str> = processed.unset.iter().map(String::as_str).collect();
    let mut unset = unset.to_vec();
    unset.sort_unstable();
    assert_eq!(unset_names, unset, "unset names of {word:?}");
}

const FOO_BAR: &[(&str, &str)] = &[("FOO", "xxx"), ("BAR", "")];

#[test]
fn defaults_and_alternatives_distinguish_unset_from_empty() {
    check("x", &[("DUMMY", "dummy")], "x", &[], &[]);
    check("x ${UNUSED}", &[("DUMMY", "dummy")], "x ", &[], &["UNUSED"]);
    check("x ${FOO}", &[("FOO", "y")], "x y", &["FOO"], &[]);
    check(
        "${FOO-aaa} ${BAR-bbb} ${BAZ-ccc}",
        FOO_BAR,
        "xxx  ccc",
        &["FOO", "BAR"],
        &["BAZ"],
    );
    check(
        "${FOO:-aaa} ${BAR:-bbb} ${BAZ:-ccc}",
        FOO_BAR,
        "xxx bbb ccc",
        &["FOO", "BAR"],
        &["BAZ"],
    );
    check("${FOO:-}", FOO_BAR, "xxx", &["FOO"], &[]);
    check("${FOO:-}", &[], "", &[], &["FOO"]);
    check(
        "${FOO+aaa} ${BAR+bbb} ${BAZ+ccc}",
        FOO_BAR,
        "aaa bbb ",
        &["FOO", "BAR"],
        &["BAZ"],
    );
    check(
        "${FOO:+aaa} ${BAR:+bbb} ${BAZ:+ccc}",
        FOO_BAR,
        "aaa  ",
        &["FOO", "BAR"],
        &["BAZ"],
    );
}

#[test]
fn required_variables_fail_with_buildkit_messages() {
    check("${FOO?aaa}", FOO_BAR, "xxx", &["FOO"], &[]);
    check("${BAR?bbb}", FOO_BAR, "", &["BAR"], &[]);
    check("${FOO:?aaa}", FOO_BAR, "xxx", &["FOO"], &[]);
    let required = |name: &str, message: &str| ExpandErrorKind::Required {
        name: name.into(),
        message: message.into(),
    };
    assert_eq!(error("${BAZ?ccc}", FOO_BAR), required("BAZ", "ccc"));
    assert_eq!(error("${BAR:?bbb}", FOO_BAR), required("BAR", "bbb"));
    assert_eq!(error("${BAZ:?ccc}", FOO_BAR), required("BAZ", "ccc"));
    assert_eq!(
        error("${BAZ:?}", FOO_BAR),
        required("BAZ", "is not allowed to be unset")
    );
    assert_eq!(
        error("${BAR:?}", FOO_BAR),
        required("BAR", "is not allowed to be empty")
    );
    assert_eq!(
        error("${BAZ?}", FOO_BAR),
        required("BAZ", "is not allowed to be unset")
    );
}

#[test]
fn required_message_is_expanded_and_shown_as_name_colon_message() {
    let lexer = Lexer::default();
    let set = [("VAR", "plain"), ("ARG", "x")];
    let empty = [("VAR", ""), ("ARG", "x")];
    let unset = [("ARG", "x")];
    let no_empty = "${VAR:?message here$ARG}";
    let no_unset = "${VAR?message here$ARG}";

    assert_eq!(
        lexer.process_word(no_empty, &set).map(|w| w.value),
        Ok("plain".to_string())
    );
    for env in [&empty[..], &unset[..]] {
        let message = lexer.process_word(no_empty, env).unwrap_err().to_string();
        assert_eq!(
            message,
            r#"failed to process "${VAR:?message here$ARG}": VAR: message herex"#
        );
    }
    assert_eq!(
        lexer.process_word(no_unset, &set).map(|w| w.value),
        Ok("plain".to_string())
    );
    assert_eq!(
        lexer.process_word(no_unset, &empty).map(|w| w.value),
        Ok(String::new())
    );
    let message = lexer
        .process_word(no_unset, &unset)
        .unwrap_err()
        .to_string();
    assert!(message.contains("VAR: message herex"), "{message}");
}

#[test]
fn assignment_forms_are_unsupported() {
    let modifier = |m: &str| ExpandErrorKind::UnsupportedModifier { modifier: m.into() };
    assert_eq!(error("${FOO=aaa}", FOO_BAR), modifier("="));
    assert_eq!(error("${FOO=:aaa}", FOO_BAR), modifier("="));
    assert_eq!(error("${FOO=}", &[]), modifier("="));
    assert_eq!(error("${FOO:=aaa}", FOO_BAR), modifier(":="));
    assert_eq!(error("${X:Y}", &[]), modifier(":Y"));
    assert_eq!(error("${X.}", &[]), modifier("."));
}

#[test]
fn pattern_forms_do_not_take_a_colon() {
    let modifier = |m: &str| ExpandErrorKind::UnsupportedModifier { modifier: m.into() };
    assert_eq!(error("${FOO:#x}", FOO_BAR), modifier(":#"));
    assert_eq!(error("${FOO:##x}", FOO_BAR), modifier(":#"));
    assert_eq!(error("${FOO:%x}", FOO_BAR), modifier(":%"));
    assert_eq!(error("${FOO:%%x}", FOO_BAR), modifier(":%"));
}

#[test]
fn prefix_and_suffix_trimming_uses_shell_patterns() {
    let xxyy = &[("FOO", "xxyy")];
    // Regex metacharacters are literal; `\}` protects the closing brace.
    check(
        r"${FOO#()[]{\}^$.\*\?|\\}",
        &[("FOO", r"()[]{}^$.*?|\x")],
        "x",
        &["FOO"],
        &[],
    );
    check(r"${FOO%%\**}", &[("FOO", "xx**")], "xx", &["FOO"], &[]);
    check("${FOO#*x*y}", xxyy, "y", &["FOO"], &[]);
    check("${FOO#*}", xxyy, "xxyy", &["FOO"], &[]);
    check(
        "${FOO#$BAR}",
        &[("FOO", "xxyy"), ("BAR", "x")],
        "xyy",
        &["FOO", "BAR"],
        &[],
    );
    check(
        "${FOO#$BAR}",
        &[("FOO", "xxyy"), ("BAR", "")],
        "xxyy",
        &["FOO", "BAR"],
        &[],
    );
    check("${FOO#}", xxyy, "xxyy", &["FOO"], &[]);
    check("${FOO##*x}", xxyy, "yy", &["FOO"], &[]);
    check("${FOO##}", xxyy, "xxyy", &["FOO"], &[]);
    check(r"${FOO#?\?}", &[("FOO", "???y")], "?y", &["FOO"], &[]);
    check(
        "${ABC:-.}${FOO%x}${ABC:-.}",
        xxyy,
        ".xxyy.",
        &["FOO"],
        &["ABC"],
    );
    check(r"${FOO%%\**\*}", &[("FOO", "a***yy*")], "a", &["FOO"], &[]);
    check("${FOO%}", xxyy, "xxyy", &["FOO"], &[]);
    check(
        "${FOO%%$BAR}",
        &[("FOO", "xxyy"), ("BAR", "")],
        "xxyy",
        &["FOO", "BAR"],
        &[],
    );
    check("${FOO%y*}", xxyy, "xxy", &["FOO"], &[]);
    check("${FOO%%y*}", xxyy, "xx", &["FOO"], &[]);
    // Brackets are no character class in BuildKit.
    check("${FOO#[x]}", &[("FOO", "[x]y")], "y", &["FOO"], &[]);
    check("${FOO#[x]}", xxyy, "xxyy", &["FOO"], &[]);
    // Trimming an unset variable gives the empty string.
    check("${NOPE#x}", &[], "", &[], &["NOPE"]);
}

#[test]
fn common_path_and_version_idioms() {
    let file = &[("F", "/usr/local/lib/archive.tar.gz"), ("V", "v1.2.3")];
    assert_eq!(value("${F##*/}", file), "archive.tar.gz");
    assert_eq!(value("${F%/*}", file), "/usr/local/lib");
    assert_eq!(value("${F%.*}", file), "/usr/local/lib/archive.tar");
    assert_eq!(value("${F%%.*}", file), "/usr/local/lib/archive");
    assert_eq!(value("${V#v}", file), "1.2.3");
    assert_eq!(value("${V//./-}", file), "v1-2-3");
}

#[test]
fn patterns_match_korean_by_character() {
    let korean = &[("KOREAN", "한국어")];
    assert_eq!(value("${KOREAN#한}", korean), "국어");
    assert_eq!(value("${KOREAN#?}", korean), "국어");
    assert_eq!(value("${KOREAN%?}", korean), "한국");
    assert_eq!(value("${KOREAN/국/-}", korean), "한-어");
    assert_eq!(value("안녕${KOREAN//?/.}하세요", korean), "안녕...하세요");
}

#[test]
fn wildcards_stop_at_newlines_like_go_regexps() {
    let multi = &[("M", "a/b\nc/d")];
    assert_eq!(value("${M#*/}", multi), "b\nc/d");
    assert_eq!(value("${M##*/}", multi), "b\nc/d");
    assert_eq!(value("${M%/*}", multi), "a/b\nc");
    assert_eq!(value("${M//?/x}", multi), "xxx\nxxx");
}

#[test]
fn replacement_of_first_and_all_matches() {
    check(
        "${FOO/$NEEDLE/.} - ${FOO//$NEEDLE/.}",
        &[("FOO", "/foo*/*/*.txt"), ("NEEDLE", r"\*/")],
        "/foo.*/*.txt - /foo..*.txt",
        &["FOO", "NEEDLE"],
        &[],
    );
    check(
        "${FOO/$NEEDLE/} - ${FOO//$NEEDLE/}",
        &[("FOO", "/tmp/tmp/bar.txt"), ("NEEDLE", "/tmp")],
        "/tmp/bar.txt - /bar.txt",
        &["FOO", "NEEDLE"],
        &[],
    );
    check(
        "${FOO/$NEEDLE/$REPLACEMENT} - ${FOO//$NEEDLE/$REPLACEMENT}",
        &[
            ("FOO", "/a/foo/b/c.txt"),
            ("NEEDLE", "/?/"),
            ("REPLACEMENT", "/"),
        ],
        "/foo/b/c.txt - /foo/c.txt",
        &["FOO", "NEEDLE", "REPLACEMENT"],
        &[],
    );
    check(
        "${FOO/$NEEDLE/$REPLACEMENT}",
        &[
            ("FOO", "http://google.de"),
            ("NEEDLE", "http://"),
            ("REPLACEMENT", "https://"),
        ],
        "https://google.de",
        &["FOO", "NEEDLE", "REPLACEMENT"],
        &[],
    );
    // Escaped separators: the pattern drops the backslash, the replacement keeps it.
    check(
        r"${FOO//\//\/}",
        &[("FOO", "/tmp/foo.txt")],
        r"\/tmp\/foo.txt",
        &["FOO"],
        &[],
    );
    // Partial and empty forms: no guaranteed meaning in BuildKit, but no crash.
    check(
        "${FOO/$BAR/ww}",
        &[("FOO", "xxyy"), ("BAR", "")],
        "wwxxyy",
        &["FOO", "BAR"],
        &[],
    );
    check("${FOO///}", &[("FOO", "xxyy")], "xxyy", &["FOO"], &[]);
    check("${FOO///}", &[], "", &[], &["FOO"]);
    assert_eq!(
        error("${FOO//ww}", &[("FOO", "xxyy")]),
        ExpandErrorKind::MissingSlash
    );
    assert_eq!(
        error("${FOO//}", &[("FOO", "xxyy")]),
        ExpandErrorKind::MissingSlash
    );
    assert_eq!(
        error("${FOO/a/b", &[("FOO", "xxyy")]),
        ExpandErrorKind::MissingBrace
    );
}

#[test]
fn invalid_pattern_escapes_are_errors() {
    let invalid = |pattern: &str, escaped: &str| ExpandErrorKind::InvalidPattern {
        pattern: pattern.into(),
        escaped: escaped.into(),
    };
    assert_eq!(error(r"${FOO#\x}", FOO_BAR), invalid(r"\x", "x"));
    assert_eq!(error(r"${FOO%a\#}", FOO_BAR), invalid(r"a\#", "#"));
    assert_eq!(error(r"${FOO/\a/b}", FOO_BAR), invalid(r"\a", "a"));
    // A pattern is checked even when the variable is unset.
    assert_eq!(error(r"${NOPE#\x}", &[]), invalid(r"\x", "x"));
}

#[test]
fn release_file_names_with_optional_variant() {
    let release =
        "something-${VERSION}.${TARGETOS}-${TARGETARCH}${TARGETVARIANT:+-${TARGETVARIANT}}.tar.gz";
    let base = [("VERSION", "v1.2.3"), ("TARGETOS", "linux")];
    let with = |extra: &[(&'static str, &'static str)]| -> Vec<(&str, &str)> {
        base.iter().copied().chain(extra.iter().copied()).collect()
    };
    assert_eq!(
        value(
            release,
            &with(&[("TARGETARCH", "arm"), ("TARGETVARIANT", "v7")])
        ),
        "something-v1.2.3.linux-arm-v7.tar.gz"
    );
    assert_eq!(
        value(
            release,
            &with(&[("TARGETARCH", "arm64"), ("TARGETVARIANT", "")])
        ),
        "something-v1.2.3.linux-arm64.tar.gz"
    );
    let processed = process(release, &with(&[("TARGETARCH", "arm64")]));
    assert_eq!(processed.value, "something-v1.2.3.linux-arm64.tar.gz");
    assert_eq!(
        processed.unset.iter().collect::<Vec<_>>(),
        ["TARGETVARIANT"]
    );
}

#[test]
fn usage_counts_every_lookup_once_even_when_not_needed() {
    // The default is processed (and its variables looked up) even when A is set.
    check("${A:-$B}", &[("A", "a")], "a", &["A"], &["B"]);
    check("$A$A${A}", &[], "", &[], &["A"]);
    check("${P#$Q}${P%$Q}", &[("P", "pq")], "pqpq", &["P"], &["Q"]);
    check("'$NOT' \"$YES\"", &[], "$NOT ", &[], &["YES"]);
    check(r"\$ESCAPED", &[], "$ESCAPED", &[], &[]);
    let processed = process("$A ${B:-x}", &[("B", "b")]);
    assert_eq!(processed.used.iter().collect::<Vec<_>>(), ["A", "B"]);
    assert_eq!(processed.unset.iter().collect::<Vec<_>>(), ["A"]);

    let words = Lexer::default()
        .process_words_with_usage("$A ${B:-x y} c", &[("A", "1 2")])
        .unwrap();
    assert_eq!(words.words, ["1", "2", "x", "y", "c"]);
    assert_eq!(words.used.iter().collect::<Vec<_>>(), ["A", "B"]);
    assert_eq!(words.unset.iter().collect::<Vec<_>>(), ["B"]);
}

#[test]
fn names_are_case_sensitive_and_unicode() {
    assert_eq!(value("$pwd|$PWD", &[("PWD", "/home")]), "|/home");
    assert_eq!(value("$변수.", &[("변수", "값")]), "값.");
    // Go's IsDigit/IsLetter: `²` (No) ends a name, so it stays literal.
    assert_eq!(value("$x²", &[("x", "1")]), "1²");
    assert_eq!(value("$²", &[]), "$²");
    assert_eq!(value("$_a1", &[("_a1", "ok")]), "ok");
    assert_eq!(value("$1a", &[("1a", "no"), ("1", "one")]), "onea");
}

#[test]
fn syntax_errors_name_the_word_and_the_offset() {
    let lexer = Lexer::default();
    let e = lexer.process_word("ab${", &[("x", "")]).unwrap_err();
    assert_eq!(
        (e.kind.clone(), e.offset, e.word.as_str()),
        (ExpandErrorKind::MissingBrace, 4, "ab${")
    );
    assert!(
        e.to_string()
            .starts_with(r#"failed to process "ab${": syntax error: missing '}'"#),
        "{e}"
    );
    let e = lexer.process_word("x'abc", &[("x", "")]).unwrap_err();
    assert_eq!(
        (e.kind.clone(), e.offset),
        (ExpandErrorKind::UnterminatedSingleQuote, 5)
    );
    let e = lexer.process_word("a${}b", &[("x", "")]).unwrap_err();
    assert_eq!(
        (e.kind.clone(), e.offset),
        (ExpandErrorKind::BadSubstitution, 3)
    );
    assert!(
        e.to_string().contains("syntax error: bad substitution"),
        "{e}"
    );
    let e = lexer.process_word("\"abc", &[("x", "")]).unwrap_err();
    assert_eq!(e.kind, ExpandErrorKind::UnterminatedDoubleQuote);
    // Running into the end inside `${…}` is a missing brace, whatever failed inside.
    assert_eq!(error("${X:-'abc}", &[]), ExpandErrorKind::MissingBrace);
    assert_eq!(error("${X:-${Y?gone}", &[]), ExpandErrorKind::MissingBrace);
    assert_eq!(error("${X:", &[]), ExpandErrorKind::MissingBrace);
    assert_eq!(error("${X", &[]), ExpandErrorKind::MissingBrace);
}
