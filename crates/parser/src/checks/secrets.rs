//! `SecretsUsedInArgOrEnv`: names of `ARG`/`ENV` keys that look like secrets.
//!
//! A name is suspicious when one of its `_`-separated words (case-insensitive)
//! is a secret-ish token, e.g. `API_KEY`, `db_password`, `GITHUB_TOKEN`,
//! unless a word says it is public (`PUBLIC_KEY`). Matching whole words keeps
//! `MONKEY` or `KEYRING_DIR`-like names with the token inside a word quiet,
//! as BuildKit does.

const SECRET_WORDS: [&str; 10] = [
    "apikey",
    "auth",
    "credential",
    "credentials",
    "key",
    "password",
    "pword",
    "passwd",
    "secret",
    "token",
];

const ALLOW_WORDS: [&str; 1] = ["public"];

/// Whether an `ARG`/`ENV` key looks like it holds a secret.
pub fn looks_like_secret(key: &str) -> bool {
    let first_or_last = |words: &[&str]| {
        // BuildKit's pattern anchors a token at the start or end of the name or
        // between underscores, which is exactly "one of the `_` words".
        key.split('_')
            .any(|word| words.iter().any(|w| word.eq_ignore_ascii_case(w)))
    };
    first_or_last(&SECRET_WORDS) && !first_or_last(&ALLOW_WORDS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_secret_words() {
        for name in [
            "API_KEY",
            "db_password",
            "GITHUB_TOKEN",
            "secret_MESSAGE",
            "AUTH",
            "aws_apikey",
        ] {
            assert!(looks_like_secret(name), "{name}");
        }
    }

    #[test]
    fn ignores_words_inside_words_and_public_keys() {
        for name in [
            "MONKEY",
            "KEYRING",
            "PUBLIC_KEY",
            "PATH",
            "tokens",
            "GPG_KEYS",
        ] {
            assert!(!looks_like_secret(name), "{name}");
        }
    }
}
