//! Credentials in URLs (`https://user:token@host/...`) must never reach a message or a log:
//! every URL rbuild prints about a remote context goes through [`redact_url`], and text
//! from git (which may quote the URL) through [`redact_text`].

/// What replaces a secret in a URL (BuildKit prints the same).
const MASK: &str = "xxxxx";

/// `scheme://user:secret@host/...` → `scheme://user:xxxxx@host/...`; for http(s), where a
/// lone user name is usually a token (`https://TOKEN@host`), the user is masked too. Other
/// text is returned unchanged.
pub fn redact_url(url: &str) -> String {
    redact_text(url)
}

/// Redacts the user information of every `scheme://...@` URL found in `text`.
pub fn redact_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let scheme_start = rest[..at]
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')))
            .map(|i| i + 1)
            .unwrap_or(0);
        let scheme = rest[scheme_start..at].to_ascii_lowercase();
        out.push_str(&rest[..at + 3]);
        rest = &rest[at + 3..];
        // The authority ends at the first '/', '?', '#' or blank; userinfo before its last '@'.
        let authority_end = rest
            .find(|c: char| matches!(c, '/' | '?' | '#') || c.is_whitespace())
            .unwrap_or(rest.len());
        let authority = &rest[..authority_end];
        if let Some(user_end) = authority.rfind('@') {
            let userinfo = &authority[..user_end];
            let masked = match userinfo.split_once(':') {
                Some((user, _)) => format!("{user}:{MASK}"),
                None if scheme == "http" || scheme == "https" => MASK.to_string(),
                None => userinfo.to_string(),
            };
            out.push_str(&masked);
            out.push_str(&authority[user_end..]);
            rest = &rest[authority_end..];
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_masked() {
        assert_eq!(
            redact_url("https://me:s3cret@host/r.git#main"),
            "https://me:xxxxx@host/r.git#main"
        );
        assert_eq!(
            redact_url("https://ghp_TOKEN@github.com/o/r.git"),
            "https://xxxxx@github.com/o/r.git"
        );
        assert_eq!(redact_url("ssh://git@host/r.git"), "ssh://git@host/r.git");
        assert_eq!(
            redact_url("git@github.com:o/r.git"),
            "git@github.com:o/r.git"
        );
        assert_eq!(
            redact_text("fatal: unable to access 'http://a:b@127.0.0.1:9/x.git/': refused"),
            "fatal: unable to access 'http://a:xxxxx@127.0.0.1:9/x.git/': refused"
        );
        assert_eq!(
            redact_text("two http://u:p@h/ and https://t@h2/x"),
            "two http://u:xxxxx@h/ and https://xxxxx@h2/x"
        );
        assert_eq!(redact_text("no url here"), "no url here");
        assert_eq!(redact_text("odd ://"), "odd ://");
    }
}
