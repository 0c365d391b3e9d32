//! Property tests: the lexer never panics, plain text passes through, and the
//! pattern forms agree with a brute-force matcher.

use proptest::prelude::*;
use rbuild_parser::shell::{LexOptions, Lexer};

const ENV: [(&str, &str); 5] = [
    ("A", "a b"),
    ("B", ""),
    ("P", "*?\\"),
    ("K", "한국어"),
    ("N", "x\ny"),
];

/// Text rich in the characters the lexer treats specially.
fn shellish() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("$".to_string()),
        Just("${".to_string()),
        Just("}".to_string()),
        Just(":".to_string()),
        Just("-".to_string()),
        Just("+".to_string()),
        Just("?".to_string()),
        Just("#".to_string()),
        Just("%".to_string()),
        Just("/".to_string()),
        Just("*".to_string()),
        Just("\\".to_string()),
        Just("`".to_string()),
        Just("'".to_string()),
        Just("\"".to_string()),
        Just(" ".to_string()),
        Just("A".to_string()),
        Just("B".to_string()),
        Just("P".to_string()),
        Just("한".to_string()),
        "\\PC".prop_map(|s: String| s),
    ];
    prop::collection::vec(piece, 0..24).prop_map(|pieces| pieces.concat())
}

fn lexers() -> impl Strategy<Value = Lexer> {
    (
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(backtick, raw_quotes, raw_escapes, skip_unset_env, skip_quote_processing)| {
                Lexer::new(if backtick { '`' } else { '\\' }).with_options(LexOptions {
                    raw_quotes,
                    raw_escapes,
                    skip_unset_env,
                    skip_quote_processing,
                })
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn never_panics_on_shell_like_text(text in shellish(), lexer in lexers()) {
        let _ = lexer.process_word(&text, &ENV);
        let _ = lexer.process_words_with_usage(&text, &ENV);
    }

    #[test]
    fn never_panics_on_arbitrary_strings(text in any::<String>(), lexer in lexers()) {
        let _ = lexer.process_word(&text, &ENV);
        let _ = lexer.process_words(&text, &ENV);
    }

    #[test]
    // Without `$`, quotes, escapes or a (dropped) leading byte order mark.
    fn plain_text_is_unchanged(text in "[^$'\"\\\\\\x{FEFF}]*") {
        let lexer = Lexer::default();
        let word = lexer.process_word(&text, &ENV).unwrap();
        prop_assert_eq!(&word.value, &text);
        prop_assert!(word.used.is_empty());
        let words = lexer.process_words(&text, &ENV).unwrap();
        prop_assert_eq!(words, text.split_whitespace().collect::<Vec<_>>());
    }
}

/// One pattern element for the brute-force matcher.
#[derive(Debug, Clone, Copy)]
enum Glob {
    Char(char),
    One,
    Run,
}

/// Whether `globs` matches all of `text`, by plain recursion (inputs are tiny).
fn matches_whole(globs: &[Glob], text: &[char]) -> bool {
    match globs.split_first() {
        None => text.is_empty(),
        Some((Glob::Char(c), rest)) => text.first() == Some(c) && matches_whole(rest, &text[1..]),
        Some((Glob::One, rest)) => {
            text.first().is_some_and(|&c| c != '\n') && matches_whole(rest, &text[1..])
        }
        Some((Glob::Run, rest)) => (0..=text.len())
            .take_while(|&n| n == 0 || text[n - 1] != '\n')
            .any(|n| matches_whole(rest, &text[n..])),
    }
}

fn pattern_text(globs: &[Glob]) -> String {
    globs
        .iter()
        .map(|g| match g {
            Glob::Char('*') => "\\*".to_string(),
            Glob::Char('?') => "\\?".to_string(),
            Glob::Char(c) => c.to_string(),
            Glob::One => "?".to_string(),
            Glob::Run => "*".to_string(),
        })
        .collect()
}

fn globs() -> impl Strategy<Value = Vec<Glob>> {
    let glob = prop_oneof![
        prop::sample::select(vec!['a', 'b', '*', '?', '한']).prop_map(Glob::Char),
        Just(Glob::One),
        Just(Glob::Run),
    ];
    prop::collection::vec(glob, 0..5)
}

fn value_text() -> impl Strategy<Value = Vec<char>> {
    prop::collection::vec(
        prop::sample::select(vec!['a', 'b', '*', '?', '\n', '한']),
        0..8,
    )
}

fn expand(word: &str, value: &[char]) -> String {
    let value: String = value.iter().collect();
    Lexer::default()
        .process_word(word, &[("V", value.as_str())])
        .unwrap()
        .value
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    #[test]
    fn prefix_and_suffix_trimming_agree_with_brute_force(globs in globs(), value in value_text()) {
        let p = pattern_text(&globs);
        let n = value.len();
        let prefixes: Vec<usize> = (0..=n).filter(|&k| matches_whole(&globs, &value[..k])).collect();
        let suffixes: Vec<usize> = (0..=n).filter(|&k| matches_whole(&globs, &value[k..])).collect();
        let rest = |range: &[char]| range.iter().collect::<String>();
        let shortest_prefix = prefixes.first().map_or(rest(&value), |&k| rest(&value[k..]));
        let longest_prefix = prefixes.last().map_or(rest(&value), |&k| rest(&value[k..]));
        let shortest_suffix = suffixes.last().map_or(rest(&value), |&k| rest(&value[..k]));
        let longest_suffix = suffixes.first().map_or(rest(&value), |&k| rest(&value[..k]));
        prop_assert_eq!(expand(&format!("${{V#{p}}}"), &value), shortest_prefix);
        prop_assert_eq!(expand(&format!("${{V##{p}}}"), &value), longest_prefix);
        prop_assert_eq!(expand(&format!("${{V%{p}}}"), &value), shortest_suffix);
        prop_assert_eq!(expand(&format!("${{V%%{p}}}"), &value), longest_suffix);
    }

    #[test]
    fn replacement_agrees_with_brute_force(globs in globs(), value in value_text()) {
        let p = pattern_text(&globs);
        // Leftmost start, then longest end, at or after `from` (in characters).
        let find = |from: usize| -> Option<(usize, usize)> {
            (from..=value.len()).find_map(|start| {
                (start..=value.len()).rev().find(|&end| matches_whole(&globs, &value[start..end])).map(|end| (start, end))
            })
        };
        let text = |range: &[char]| range.iter().collect::<String>();
        let first = match find(0) {
            Some((s, e)) => format!("{}R{}", text(&value[..s]), text(&value[e..])),
            None => text(&value),
        };
        // With an empty pattern `${V//R}` would read as the replace-all form.
        if !p.is_empty() {
            prop_assert_eq!(expand(&format!("${{V/{p}/R}}"), &value), first);
        }

        // Go's ReplaceAll loop, over characters.
        let mut all = String::new();
        let (mut last_end, mut search) = (0, 0);
        while search <= value.len() {
            let Some((s, e)) = find(search) else { break };
            all.push_str(&text(&value[last_end..s]));
            if e > last_end || s == 0 {
                all.push('R');
            }
            last_end = e;
            search = if search + 1 > e { search + 1 } else { e };
        }
        all.push_str(&text(&value[last_end.min(value.len())..]));
        prop_assert_eq!(expand(&format!("${{V//{p}/R}}"), &value), all);
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let lexer = Lexer::default();
    let deep = "${a:-".repeat(100_000) + &"}".repeat(100_000);
    assert!(lexer.process_word(&deep, &ENV).is_err());
    let quoted = "\"${a:-".repeat(50_000);
    assert!(lexer.process_words(&quoted, &ENV).is_err());
    // A few levels are fine.
    let shallow = "${a:-".repeat(20) + "x" + &"}".repeat(20);
    assert_eq!(lexer.process_word(&shallow, &ENV).unwrap().value, "x");
}

#[test]
fn large_inputs_are_processed_in_linear_time() {
    // Quadratic work on these sizes would take minutes; linear work takes milliseconds.
    let lexer = Lexer::default();
    let long_value = "ab".repeat(200_000) + "\n" + &"a".repeat(200_000);
    let env = [("V", long_value.as_str())];
    for word in [
        "${V//a/x}",
        "${V//*b/-}",
        "${V##*b}",
        "${V%%a*}",
        "${V%b*}",
        "${V/*c/-}",
        "${V//?/.}",
    ] {
        assert!(lexer.process_word(word, &env).is_ok(), "{word}");
    }
    let long_word = "x$A 'q' \"$A\" \\y ${K#?} ".repeat(50_000);
    assert_eq!(
        lexer.process_words(&long_word, &ENV).map(|w| w.len()),
        Ok(50_000 * 6)
    );
}
