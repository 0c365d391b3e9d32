//! Resolving `--chown=user:group` against the image's own `/etc/passwd` and `/etc/group`
//! (never the host's), as Docker does: names are looked up in the image, numbers are taken
//! as they are, and a user given without a group gets the user's primary group.

use std::path::Path;

use crate::context::resolve_in_root;

/// A `--chown` value that cannot be resolved in the image.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ChownError {
    #[error("unable to find user {0}: no matching entries in the image's /etc/passwd")]
    UnknownUser(String),
    #[error("unable to find group {0}: no matching entries in the image's /etc/group")]
    UnknownGroup(String),
    #[error("invalid --chown value {0:?}: expected USER[:GROUP] with names or numeric ids")]
    Invalid(String),
}

/// Resolves `spec` (`user`, `user:group`, `uid:gid`, ...) inside the root file system at
/// `root`.
pub fn resolve_chown(root: &Path, spec: &str) -> Result<(u32, u32), ChownError> {
    let (user, group) = match spec.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (spec, None),
    };
    if user.is_empty() || group.is_some_and(str::is_empty) {
        return Err(ChownError::Invalid(spec.to_string()));
    }
    let passwd = read_db(root, "etc/passwd");
    let (uid, primary_gid) = match user.parse::<u32>() {
        Ok(uid) => {
            let gid = passwd
                .iter()
                .find(|f| f.get(2).and_then(|s| s.parse::<u32>().ok()) == Some(uid))
                .and_then(|f| f.get(3)?.parse().ok());
            (uid, gid)
        }
        Err(_) => {
            let entry = passwd
                .iter()
                .find(|f| f.first().map(String::as_str) == Some(user))
                .ok_or_else(|| ChownError::UnknownUser(user.to_string()))?;
            let uid = entry
                .get(2)
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| ChownError::UnknownUser(user.to_string()))?;
            (uid, entry.get(3).and_then(|s| s.parse().ok()))
        }
    };
    let gid = match group {
        None => primary_gid.unwrap_or(uid),
        Some(g) => match g.parse::<u32>() {
            Ok(gid) => gid,
            Err(_) => read_db(root, "etc/group")
                .iter()
                .find(|f| f.first().map(String::as_str) == Some(g))
                .and_then(|f| f.get(2)?.parse().ok())
                .ok_or_else(|| ChownError::UnknownGroup(g.to_string()))?,
        },
    };
    Ok((uid, gid))
}

/// Reads a colon-separated database from the image, resolving the path inside the root.
fn read_db(root: &Path, rel: &str) -> Vec<Vec<String>> {
    let Ok(path) = resolve_in_root(root, rel, true) else {
        return Vec::new();
    };
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| l.split(':').map(str::to_string).collect())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_numbers() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("etc")).unwrap();
        std::fs::write(
            dir.path().join("etc/passwd"),
            "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1001::/home/app:/bin/sh\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("etc/group"),
            "root:x:0:\nstaff:x:50:\napp:x:1001:\n",
        )
        .unwrap();
        let r = |s: &str| resolve_chown(dir.path(), s);
        assert_eq!(r("app"), Ok((1000, 1001)));
        assert_eq!(r("app:staff"), Ok((1000, 50)));
        assert_eq!(r("1000"), Ok((1000, 1001)));
        assert_eq!(r("42"), Ok((42, 42)));
        assert_eq!(r("42:7"), Ok((42, 7)));
        assert_eq!(r("nobody"), Err(ChownError::UnknownUser("nobody".into())));
        assert_eq!(
            r("app:wheel"),
            Err(ChownError::UnknownGroup("wheel".into()))
        );
        assert_eq!(r(":x"), Err(ChownError::Invalid(":x".into())));
    }
}
