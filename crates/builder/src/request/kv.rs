//! The `key=value,key=value` syntax shared by `--secret`, `--ssh` and `--output`.

/// Splits `a=1,b=2` into pairs. A field without `=` yields `(field, None)`.
/// Values may be quoted with `"` to contain commas (as in buildx's CSV form).
pub(crate) fn split_fields(text: &str) -> Vec<(String, Option<String>)> {
    let mut fields = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    for c in text.chars() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => fields.push(std::mem::take(&mut current)),
            c => current.push(c),
        }
    }
    fields.push(current);
    fields
        .into_iter()
        .filter(|f| !f.trim().is_empty())
        .map(|f| match f.split_once('=') {
            Some((k, v)) => (k.trim().to_ascii_lowercase(), Some(v.to_string())),
            None => (f.trim().to_string(), None),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_with_quotes() {
        assert_eq!(
            split_fields("id=a,src=\"x,y\",flag"),
            vec![
                ("id".to_string(), Some("a".to_string())),
                ("src".to_string(), Some("x,y".to_string())),
                ("flag".to_string(), None)
            ]
        );
    }
}
