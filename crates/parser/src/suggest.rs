//! "Did you mean ...?" suggestions by edit distance.

/// The candidate closest to `word` (case-insensitive Levenshtein distance),
/// if it is close enough to be a plausible typo: at most one edit for short
/// words, up to a third of the word's length for longer ones.
pub fn closest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    // Nothing is a typo of a very long word; this also bounds the work.
    if word.len() > 64 {
        return None;
    }
    let word = word.to_lowercase();
    let limit = (word.chars().count() / 3).max(1);
    candidates
        .iter()
        .map(|c| (edit_distance(&word, &c.to_lowercase()), *c))
        .filter(|&(distance, _)| distance <= limit)
        .min_by_key(|&(distance, _)| distance)
        .map(|(_, c)| c)
}

/// Levenshtein distance over characters, O(len(a) * len(b)) time, one row
/// of memory.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let substitution = diagonal + usize::from(ca != cb);
            diagonal = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(diagonal + 1);
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAMES: &[&str] = &["RUN", "FROM", "COPY", "ENTRYPOINT", "WORKDIR"];

    #[test]
    fn suggestions() {
        assert_eq!(closest("RUNN", NAMES), Some("RUN"));
        assert_eq!(closest("frm", NAMES), Some("FROM"));
        assert_eq!(closest("ENTRYPIONT", NAMES), Some("ENTRYPOINT"));
        assert_eq!(closest("XYZZY", NAMES), None);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
    }
}
