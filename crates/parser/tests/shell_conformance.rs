//! BuildKit's own word-expansion fixtures (`frontend/dockerfile/shell/envVarTest` and
//! `wordsTest`), read with the line formats of testdata/conformance/buildkit/FORMAT.md
//! sections 4 and 5. The two files trim their expected values differently; both rules
//! are implemented exactly.

use std::path::PathBuf;

use rbuild_parser::shell::Lexer;

fn fixture(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/conformance/buildkit/frontend/dockerfile/shell")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// Lines as Go's `bufio.Scanner` yields them: split at `\n`, one trailing `\r` dropped,
/// no empty last line after a final newline.
fn scanner_lines(text: &str) -> Vec<&str> {
    let mut lines: Vec<&str> = text
        .split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .collect();
    if text.ends_with('\n') {
        lines.pop();
    }
    lines
}

/// Go's `strings.TrimSpace`: Unicode white space on both sides.
fn trim_space(s: &str) -> &str {
    s.trim_matches(char::is_whitespace)
}

#[derive(Debug, Default)]
struct Tally {
    all_platforms: usize,
    unix_only: usize,
    windows_skipped: usize,
    expected_errors: usize,
    failures: Vec<String>,
}

#[test]
fn env_var_test_cases_all_pass() {
    let text = fixture("envVarTest");
    let env = [
        ("PWD", "/home"),
        ("SHELL", "bash"),
        ("KOREAN", "한국어"),
        ("NULL", ""),
    ];
    let lexer = Lexer::new('\\');
    let mut tally = Tally::default();
    for (index, raw) in scanner_lines(&text).into_iter().enumerate() {
        let line_number = index + 1;
        if raw.starts_with('#') {
            continue;
        }
        let line = trim_space(raw);
        if line.is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split('|').collect();
        assert_eq!(
            fields.len(),
            3,
            "line {line_number}: expected 3 fields in {line:?}"
        );
        let (platform, source, expected) = (
            trim_space(fields[0]),
            trim_space(fields[1]),
            trim_space(fields[2]),
        );
        match platform {
            "A" => tally.all_platforms += 1,
            "U" => tally.unix_only += 1,
            "W" => {
                tally.windows_skipped += 1;
                continue;
            }
            other => panic!("line {line_number}: platform tag {other:?} is not A, U or W"),
        }
        let result = lexer.process_word(source, &env[..]);
        match (expected, result) {
            ("error", Err(_)) => tally.expected_errors += 1,
            ("error", Ok(word)) => tally.failures.push(format!(
                "line {line_number}: {source:?} should fail, gave {:?}",
                word.value
            )),
            (expected, Ok(word)) if word.value == expected => {}
            (expected, Ok(word)) => tally.failures.push(format!(
                "line {line_number}: {source:?} gave {:?}, expected {expected:?}",
                word.value
            )),
            (expected, Err(error)) => tally.failures.push(format!(
                "line {line_number}: {source:?} failed ({error}), expected {expected:?}"
            )),
        }
    }
    println!(
        "envVarTest: {} A + {} U cases checked ({} expect an error), {} W skipped",
        tally.all_platforms, tally.unix_only, tally.expected_errors, tally.windows_skipped
    );
    assert!(
        tally.failures.is_empty(),
        "{} failures:\n{}",
        tally.failures.len(),
        tally.failures.join("\n")
    );
    // FORMAT.md: 226 A, 2 U, 2 W. A change in the fixture must be noticed.
    assert_eq!(
        (tally.all_platforms, tally.unix_only, tally.windows_skipped),
        (226, 2, 2)
    );
}

#[test]
fn words_test_cases_all_pass() {
    let text = fixture("wordsTest");
    let lexer = Lexer::new('\\');
    let mut env: Vec<(String, String)> = Vec::new();
    let mut cases = 0;
    let mut env_lines = 0;
    let mut failures = Vec::new();
    for (index, line) in scanner_lines(&text).into_iter().enumerate() {
        let line_number = index + 1;
        if line.starts_with('#') {
            continue;
        }
        if let Some(definition) = line.strip_prefix("ENV ") {
            // Leading spaces go, trailing ones are part of the value.
            let definition = definition.trim_start_matches(' ');
            let (name, value) = definition.split_once('=').unwrap_or((definition, ""));
            env.push((name.to_owned(), value.to_owned()));
            env_lines += 1;
            continue;
        }
        let fields: Vec<&str> = line.split('|').collect();
        assert_eq!(
            fields.len(),
            2,
            "line {line_number}: expected exactly one | in {line:?}"
        );
        let input = trim_space(fields[0]);
        let expected: Vec<&str> = fields[1].trim_start_matches(' ').split(',').collect();
        let words = lexer
            .process_words(input, &env)
            .unwrap_or_else(|_| vec!["error".to_owned()]);
        if words != expected {
            failures.push(format!(
                "line {line_number}: {input:?} gave {words:?}, expected {expected:?}"
            ));
        }
        cases += 1;
    }
    println!("wordsTest: {cases} cases checked, {env_lines} ENV lines");
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!((cases, env_lines), (24, 4));
}
