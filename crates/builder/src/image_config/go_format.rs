//! BuildKit writes some history strings with Go's `fmt` verbs; these reproduce the two
//! shapes that appear there, so `rbuild history` reads like `docker history`.

/// Go's `%q` of a `[]string`: `["echo" "Hello World"]`.
pub fn go_quoted_list(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| rbuild_parser::go_quote(s)).collect();
    format!("[{}]", quoted.join(" "))
}

/// Go's `%v` of a `[]string`: `[/data /logs]`.
pub fn go_slice(items: &[String]) -> String {
    format!("[{}]", items.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        assert_eq!(
            go_quoted_list(&["echo".into(), "Hello \"W\"".into()]),
            r#"["echo" "Hello \"W\""]"#
        );
        assert_eq!(go_slice(&["/a".into(), "/b".into()]), "[/a /b]");
    }
}
