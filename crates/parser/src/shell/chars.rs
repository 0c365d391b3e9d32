//! Character classes exactly as Go's `unicode` package defines them.
//!
//! BuildKit scans variable names with `unicode.IsLetter` (general category L*) and
//! `unicode.IsDigit` (category Nd). Rust's `char::is_alphabetic`/`is_numeric` use wider
//! properties (they accept combining marks, `²`, `Ⅻ`…), which would read different names
//! out of the same text, so the categories are checked directly.

use unicode_properties::{GeneralCategory, GeneralCategoryGroup, UnicodeGeneralCategory};

/// Go's `unicode.IsLetter`.
pub(crate) fn is_letter(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_alphabetic();
    }
    c.general_category_group() == GeneralCategoryGroup::Letter
}

/// Go's `unicode.IsDigit`.
pub(crate) fn is_digit(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_digit();
    }
    c.general_category() == GeneralCategory::DecimalNumber
}

/// A character that may continue a variable name: letter, digit or `_`.
pub(crate) fn is_name_char(c: char) -> bool {
    c == '_' || is_letter(c) || is_digit(c)
}

/// The one-character special parameters of POSIX sh (`$@ $* $# $? $- $$ $! $0`).
/// A Dockerfile never sets them, but they are still read as names so that `$@x` is
/// "unset `@` followed by `x`", as in BuildKit.
pub(crate) fn is_special_param(c: char) -> bool {
    matches!(c, '@' | '*' | '#' | '?' | '-' | '$' | '!' | '0')
}

/// Go's `unicode.IsSpace`, which is Unicode `White_Space` — the same set as
/// `char::is_whitespace`.
pub(crate) fn is_space(c: char) -> bool {
    c.is_whitespace()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letters_and_digits_follow_go_categories() {
        assert!(is_letter('a') && is_letter('한') && is_letter('ß'));
        assert!(!is_letter('_') && !is_letter('1') && !is_letter('\u{0947}')); // Devanagari vowel sign (Mc)
        assert!(is_digit('7') && is_digit('٣')); // Arabic-Indic three (Nd)
        assert!(!is_digit('²') && !is_digit('Ⅻ') && !is_digit('a'));
        assert!(is_name_char('_'));
    }

    #[test]
    fn spaces_include_unicode_white_space() {
        for c in [
            ' ', '\t', '\n', '\u{0b}', '\u{0c}', '\r', '\u{85}', '\u{a0}', '\u{3000}',
        ] {
            assert!(is_space(c), "{c:?}");
        }
        assert!(!is_space('x') && !is_space('\u{200b}'));
    }
}
