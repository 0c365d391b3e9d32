//! The exec-form rule: is the argument text a JSON array of strings?

/// Outcome of trying the JSON rule on an argument text.
#[derive(Debug, PartialEq, Eq)]
pub enum JsonArgs {
    /// A JSON array of strings: the decoded elements.
    Strings(Vec<String>),
    /// Valid JSON array, but an element is not a string: a hard error in
    /// BuildKit.
    NotAllStrings,
    /// Not a JSON array: the caller falls back to shell form.
    NotJson,
}

/// Applies BuildKit's rule: after left-trimming the text must start with
/// `[` and the whole text must be one JSON array.
pub fn parse_json_array(text: &str) -> JsonArgs {
    let text = text.trim_start();
    if !text.starts_with('[') {
        return JsonArgs::NotJson;
    }
    // Fast path: the common case is an array of plain strings.
    if let Ok(strings) = serde_json::from_str::<Vec<String>>(text) {
        return JsonArgs::Strings(strings);
    }
    match serde_json::from_str::<Vec<serde_json::Value>>(text) {
        Ok(_) => JsonArgs::NotAllStrings,
        Err(_) => JsonArgs::NotJson,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_rule() {
        assert_eq!(
            parse_json_array(r#" [ "a", "b" ]"#),
            JsonArgs::Strings(vec!["a".into(), "b".into()])
        );
        assert_eq!(parse_json_array("[]"), JsonArgs::Strings(vec![]));
        assert_eq!(parse_json_array(r#"["a", 1]"#), JsonArgs::NotAllStrings);
        assert_eq!(parse_json_array(r#"["a", ["b"]]"#), JsonArgs::NotAllStrings);
        assert_eq!(parse_json_array("['a']"), JsonArgs::NotJson);
        assert_eq!(parse_json_array(r#"["a""#), JsonArgs::NotJson);
        assert_eq!(parse_json_array(r#"["a"] x"#), JsonArgs::NotJson);
        assert_eq!(parse_json_array("echo"), JsonArgs::NotJson);
    }
}
