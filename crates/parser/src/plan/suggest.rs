//! "Did you mean …?" suggestions, shared by the planner and the build checks.
//!
//! BuildKit suggests the closest candidate whose Levenshtein distance to the
//! unknown word is below 3; we use the same threshold so our hints match the
//! ones users already know from `docker build`.

/// The closest candidate to `word` (edit distance < 3), if any.
///
/// With `case_sensitive == false` the comparison ignores ASCII case and the
/// suggestion is returned in the case style of `word` (all lower or all upper)
/// when `word` has one. An exact match returns `None`: the word is not unknown.
pub fn did_you_mean<'a, I>(word: &str, candidates: I, case_sensitive: bool) -> Option<String>
where
    I: IntoIterator<Item = &'a str>,
{
    if word.is_empty() {
        return None;
    }
    let fold = |s: &str| {
        if case_sensitive {
            s.to_string()
        } else {
            s.to_ascii_lowercase()
        }
    };
    let wanted = fold(word);
    let mut best: Option<(usize, &str)> = None;
    for candidate in candidates {
        let folded = fold(candidate);
        if folded == wanted {
            return None;
        }
        let distance = levenshtein(&wanted, &folded);
        if distance < 3 && best.is_none_or(|(d, _)| distance < d) {
            best = Some((distance, candidate));
        }
    }
    best.map(|(_, candidate)| {
        if case_sensitive {
            candidate.to_string()
        } else if word == word.to_ascii_lowercase() {
            candidate.to_ascii_lowercase()
        } else if word == word.to_ascii_uppercase() {
            candidate.to_ascii_uppercase()
        } else {
            candidate.to_string()
        }
    })
}

/// Edit distance (insertions, deletions, substitutions) over chars.
pub fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut current = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        current[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        std::mem::swap(&mut previous, &mut current);
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distance_counts_edits() {
        assert_eq!(levenshtein("kitten", "sitting"), 3);
        assert_eq!(levenshtein("", "abc"), 3);
        assert_eq!(levenshtein("same", "same"), 0);
    }

    #[test]
    fn suggests_close_candidates_only() {
        let stages = ["build", "runtime", "test"];
        assert_eq!(
            did_you_mean("biuld", stages, true).as_deref(),
            Some("build")
        );
        assert_eq!(did_you_mean("production", stages, true), None);
        assert_eq!(did_you_mean("build", stages, true), None);
    }

    #[test]
    fn case_insensitive_keeps_the_users_case_style() {
        assert_eq!(did_you_mean("RUNN", ["run"], false).as_deref(), Some("RUN"));
        assert_eq!(
            did_you_mean("copi", ["COPY"], false).as_deref(),
            Some("copy")
        );
    }
}
