//! Running a Docker credential helper (`docker-credential-<name> get`) the way the docker
//! CLI does: the server address goes to the helper's stdin, the answer is JSON
//! `{"ServerURL": …, "Username": …, "Secret": …}` on stdout. A helper that exits non-zero
//! with the message `credentials not found in native keychain` has nothing for that server,
//! which is not an error (the registry is then used anonymously).
//!
//! Secrets never reach error messages or logs: only the helper's name, the server address
//! and the helper's own error text (which helpers keep free of secrets) are reported.

use std::ffi::{OsStr, OsString};
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use serde::Deserialize;

use super::credentials::Credentials;
use crate::error::OciError;

/// The program name prefix of every helper.
pub const HELPER_PREFIX: &str = "docker-credential-";

/// What helpers print when they have no credentials for the server (docker-credential-helpers'
/// `ErrCredentialsNotFound`).
const NOT_FOUND_MESSAGE: &str = "credentials not found in native keychain";

/// The user name helpers store for an identity (OAuth2 refresh) token instead of a password.
const IDENTITY_TOKEN_USERNAME: &str = "<token>";

/// Longest helper error text quoted in our errors.
const MAX_QUOTED: usize = 300;

/// The helper's JSON answer.
#[derive(Deserialize)]
struct HelperAnswer {
    #[serde(rename = "Username", default)]
    username: String,
    #[serde(rename = "Secret", default)]
    secret: String,
}

/// Asks helper `name` for the credentials of `server_address`. `search_path` is the PATH to
/// find the helper in (and to give it); None uses this process's PATH.
pub fn helper_get(
    name: &str,
    server_address: &str,
    search_path: Option<&OsStr>,
) -> Result<Option<Credentials>, OciError> {
    let program = format!("{HELPER_PREFIX}{name}");
    let fail = |message: String| OciError::Registry {
        registry: server_address.to_string(),
        message: format!("credential helper {program}: {message}"),
    };
    let path = search_path
        .map(OsStr::to_os_string)
        .or_else(|| std::env::var_os("PATH"))
        .unwrap_or_default();
    let executable = find_executable(&program, &path).ok_or_else(|| {
        fail(format!(
            "not found in PATH; install it, or remove \"{name}\" from credsStore/credHelpers \
             in the Docker config ({})",
            super::credentials::docker_config_path()
                .map_or_else(|| "config.json".to_string(), |p| p.display().to_string())
        ))
    })?;
    let mut child = spawn_get(&executable, &path)
        .map_err(|e| fail(format!("could not start {}: {e}", executable.display())))?;
    if let Some(mut stdin) = child.stdin.take() {
        // A helper that exits without reading its input is judged by its exit status below.
        let _ = stdin.write_all(server_address.as_bytes());
    }
    let output = child
        .wait_with_output()
        .map_err(|e| fail(format!("waiting for it failed: {e}")))?;
    if !output.status.success() {
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        let message = if stdout.trim().is_empty() {
            stderr.trim()
        } else {
            stdout.trim()
        };
        if message == NOT_FOUND_MESSAGE {
            return Ok(None);
        }
        return Err(fail(format!(
            "`get` failed ({}): {}; check that the helper works (`echo {server_address} | \
             {program} get`) or log in again",
            output.status,
            quoted(message)
        )));
    }
    let answer: HelperAnswer = serde_json::from_slice(&output.stdout).map_err(|e| {
        // The parser's message may quote the output, which holds the secret: leave it out.
        fail(format!(
            "its answer is not the expected JSON {{\"Username\", \"Secret\"}} (error at line {} \
             column {})",
            e.line(),
            e.column()
        ))
    })?;
    if answer.username == IDENTITY_TOKEN_USERNAME {
        return Err(fail(
            "it holds an identity token (user <token>) for this registry, which rbuild cannot \
             use yet (the registry client has no OAuth2 refresh-token exchange); log in with a \
             user name and password or access token instead"
                .to_string(),
        ));
    }
    if answer.username.is_empty() && answer.secret.is_empty() {
        return Ok(None);
    }
    Ok(Some(Credentials {
        username: answer.username,
        password: answer.secret,
    }))
}

/// Starts `<helper> get`. A helper script written just before (tests, installers) can be
/// briefly busy (ETXTBSY) while another thread's fork still holds it open: retry a little.
fn spawn_get(executable: &std::path::Path, path: &OsStr) -> std::io::Result<std::process::Child> {
    const TEXT_FILE_BUSY: i32 = 26;
    let mut attempt = 0;
    loop {
        let result = Command::new(executable)
            .arg("get")
            .env("PATH", path)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn();
        match result {
            Err(e) if e.raw_os_error() == Some(TEXT_FILE_BUSY) && attempt < 20 => {
                attempt += 1;
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            other => return other,
        }
    }
}

/// The first executable file `program` in the directories of `path`.
fn find_executable(program: &str, path: &OsStr) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt as _;
    std::env::split_paths(path)
        .map(|dir| {
            if dir.as_os_str().is_empty() {
                PathBuf::from(".").join(program)
            } else {
                dir.join(program)
            }
        })
        .find(|candidate| {
            std::fs::metadata(candidate)
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

/// `text`, cut to a readable length.
fn quoted(text: &str) -> String {
    if text.is_empty() {
        return "(no message)".to_string();
    }
    let mut cut: String = text.chars().take(MAX_QUOTED).collect();
    if cut.len() < text.len() {
        cut.push('…');
    }
    format!("{cut:?}")
}

/// A PATH with `dir` first, then this process's PATH (for tests and callers that ship
/// their own helpers).
pub fn path_with_first(dir: &std::path::Path) -> OsString {
    let mut dirs = vec![dir.to_path_buf()];
    if let Some(path) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&path));
    }
    std::env::join_paths(dirs).unwrap_or_else(|_| dir.as_os_str().to_os_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn helper(dir: &std::path::Path, name: &str, script: &str) {
        use std::os::unix::fs::PermissionsExt as _;
        let path = dir.join(format!("{HELPER_PREFIX}{name}"));
        std::fs::write(&path, format!("#!/bin/sh\n{script}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    #[test]
    fn answers_not_found_and_failures() {
        let dir = tempfile::tempdir().unwrap();
        let path = path_with_first(dir.path());
        helper(
            dir.path(),
            "ok",
            r#"read server; printf '{"ServerURL":"%s","Username":"u","Secret":"p4ss"}' "$server""#,
        );
        helper(
            dir.path(),
            "none",
            "echo 'credentials not found in native keychain'; exit 1",
        );
        helper(
            dir.path(),
            "broken",
            "echo 'gpg: decryption failed' >&2; exit 2",
        );
        helper(dir.path(), "garbage", "echo 'not json p4ss'");
        helper(
            dir.path(),
            "token",
            r#"echo '{"ServerURL":"x","Username":"<token>","Secret":"tok"}'"#,
        );
        let got = helper_get("ok", "host:5000", Some(&path)).unwrap().unwrap();
        assert_eq!(
            (got.username.as_str(), got.password.as_str()),
            ("u", "p4ss")
        );
        assert!(
            helper_get("none", "host:5000", Some(&path))
                .unwrap()
                .is_none()
        );
        let err = helper_get("broken", "host:5000", Some(&path))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("docker-credential-broken") && err.contains("decryption"),
            "{err}"
        );
        let err = helper_get("garbage", "host:5000", Some(&path))
            .unwrap_err()
            .to_string();
        assert!(err.contains("JSON") && !err.contains("p4ss"), "{err}");
        let err = helper_get("token", "host:5000", Some(&path))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("identity token") && !err.contains("tok\""),
            "{err}"
        );
        let err = helper_get("absent", "host:5000", Some(dir.path().as_os_str()))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("docker-credential-absent") && err.contains("PATH"),
            "{err}"
        );
    }
}
