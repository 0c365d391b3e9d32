//! The backtick escape token, the lexer options, and word splitting beyond the
//! BuildKit fixtures.

use rbuild_parser::shell::{ExpandErrorKind, LexOptions, Lexer};

const PWD: [(&str, &str); 2] = [("PWD", "/home"), ("SPACE", "a  b")];

fn word(lexer: Lexer, text: &str) -> String {
    lexer
        .process_word(text, &PWD)
        .unwrap_or_else(|e| panic!("{text:?}: {e}"))
        .value
}

fn words(lexer: Lexer, text: &str) -> Vec<String> {
    lexer
        .process_words(text, &PWD)
        .unwrap_or_else(|e| panic!("{text:?}: {e}"))
}

#[test]
fn backtick_escape_token_replaces_backslash() {
    let lexer = Lexer::new('`');
    assert_eq!(lexer.escape_token(), '`');
    assert_eq!(word(lexer, "`$PWD"), "$PWD");
    assert_eq!(word(lexer, r"C:\path\$PWD"), r"C:\path\/home");
    assert_eq!(word(lexer, "\"a`\"b\""), "a\"b");
    assert_eq!(word(lexer, "\"a`$PWD\""), "a$PWD");
    assert_eq!(word(lexer, "\"a`tb\""), "a`tb");
    assert_eq!(
        word(lexer, "\"a\\\"b"),
        "a\\b",
        "a backslash does not escape the closing quote"
    );
    assert_eq!(word(lexer, "x``"), "x`");
    assert_eq!(word(lexer, "hello`"), "hello");
    assert_eq!(words(lexer, "a` b c"), ["a b", "c"]);
    assert_eq!(words(lexer, r"a\ b"), [r"a\", "b"]);
    // Inside `${…}` the token protects the closing brace; patterns keep using `\`.
    assert_eq!(word(lexer, "${X:-a`}b}"), "a}b");
    assert_eq!(
        lexer
            .process_word(r"${F#\*}", &[("F", "*x")])
            .map(|w| w.value),
        Ok("x".into())
    );
}

#[test]
fn raw_quotes_keep_the_quote_characters() {
    let lexer = Lexer::default().with_options(LexOptions {
        raw_quotes: true,
        ..LexOptions::default()
    });
    assert_eq!(word(lexer, "a'b c'\"d $PWD\""), "a'b c'\"d /home\"");
    assert_eq!(words(lexer, "'x y' z"), ["'x y'", "z"]);
}

#[test]
fn raw_escapes_keep_the_escape_token() {
    let lexer = Lexer::default().with_options(LexOptions {
        raw_escapes: true,
        ..LexOptions::default()
    });
    assert_eq!(word(lexer, r"a\ b\$PWD"), r"a\ b\$PWD");
    assert_eq!(word(lexer, r#""a\"b""#), r#"a\"b"#);
    // BuildKit writes a non-escapable escape twice in double quotes with raw escapes.
    assert_eq!(word(lexer, r#""a\tb""#), r"a\\tb");
    assert_eq!(words(lexer, r"a\ b c"), [r"a\ b", "c"]);
}

#[test]
fn skip_unset_env_leaves_unset_references_as_written() {
    let lexer = Lexer::default().with_options(LexOptions {
        skip_unset_env: true,
        ..LexOptions::default()
    });
    assert_eq!(
        word(
            lexer,
            "$X ${X} ${X:-d} ${X-$PWD} ${X#p} ${X/a/b} ${X//a/b} $PWD"
        ),
        "$X ${X} ${X:-d} ${X-/home} ${X#p} ${X/a/b} ${X//a/b} /home"
    );
    // BuildKit reports the unsupported modifier only for a set variable here.
    assert_eq!(word(lexer, "${X:Y}"), "${X:Y}");
    let error = lexer.process_word("${PWD:Y}", &PWD).unwrap_err();
    assert_eq!(
        error.kind,
        ExpandErrorKind::UnsupportedModifier {
            modifier: ":Y".into()
        }
    );
    let processed = lexer.process_word("$X$PWD", &PWD).unwrap();
    assert_eq!(processed.unset.iter().collect::<Vec<_>>(), ["X"]);
    assert_eq!(processed.used.iter().collect::<Vec<_>>(), ["PWD", "X"]);
}

#[test]
fn skip_quote_processing_treats_quotes_as_text() {
    let lexer = Lexer::default().with_options(LexOptions {
        skip_quote_processing: true,
        ..LexOptions::default()
    });
    assert_eq!(word(lexer, "'$PWD'"), "'/home'");
    assert_eq!(words(lexer, "'a b' \"c"), ["'a", "b'", "\"c"]);
    assert!(lexer.options().skip_quote_processing);
}

#[test]
fn word_splitting_follows_quotes_escapes_and_expansions() {
    let lexer = Lexer::default();
    assert_eq!(words(lexer, "  a \t b\n c  "), ["a", "b", "c"]);
    assert_eq!(
        words(lexer, "a\u{3000}b\u{a0}c"),
        ["a", "b", "c"],
        "Unicode white space splits"
    );
    assert_eq!(words(lexer, "x$SPACE"), ["xa", "b"]);
    assert_eq!(words(lexer, "\"$SPACE\""), ["a  b"]);
    assert_eq!(
        words(lexer, "${NOPE:-\"1 2\"}"),
        ["1", "2"],
        "a default is an unquoted expansion"
    );
    assert_eq!(words(lexer, "a\\ b"), ["a b"]);
    assert_eq!(
        words(lexer, "a \"\" b"),
        ["a", "b"],
        "BuildKit drops words made only of empty quotes"
    );
    assert_eq!(words(lexer, "\"\""), Vec::<String>::new());
    assert_eq!(words(lexer, ""), Vec::<String>::new());
    assert_eq!(
        words(lexer, "안녕 하세요 $PWD"),
        ["안녕", "하세요", "/home"]
    );
    assert_eq!(words(lexer, "pre${PWD:+x y}post"), ["prex", "ypost"]);
    assert!(lexer.process_words("a 'b", &PWD).is_err());
}

#[test]
fn process_word_keeps_all_whitespace() {
    assert_eq!(word(Lexer::default(), "  a  $SPACE  "), "  a  a  b  ");
}

#[test]
fn a_leading_byte_order_mark_is_dropped_like_go_text_scanner() {
    assert_eq!(word(Lexer::default(), "\u{feff}$PWD"), "/home");
    assert_eq!(word(Lexer::default(), "\u{feff}plain"), "plain");
    assert_eq!(word(Lexer::default(), "a\u{feff}b"), "a\u{feff}b");
    assert_eq!(words(Lexer::default(), "\u{feff}a b"), ["a", "b"]);
}
