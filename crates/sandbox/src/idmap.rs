//! User namespace id mapping for rootless sandboxes.
//!
//! With subordinate id ranges in /etc/subuid and /etc/subgid (and the setuid helpers
//! newuidmap/newgidmap), the caller's id becomes root inside and the range covers ids 1 and
//! up, so image users like `app` (1000) exist. Without them only one id can be mapped: the
//! caller becomes root inside, setgroups is denied, and switching users is impossible.
//! The same single mapping is the fallback when a helper fails (e.g. in a container that
//! strips setuid privileges).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::error::SandboxError;

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct IdRange {
    pub start: u32,
    pub count: u32,
}

#[derive(Clone, Debug)]
pub(crate) enum IdMapping {
    /// Caller's uid and gid map to 0; nothing else is mapped.
    Single { uid: u32, gid: u32 },
    /// Caller → 0, then 1.. from the subordinate ranges, written by the setuid helpers.
    Ranges {
        uid: u32,
        gid: u32,
        uids: IdRange,
        gids: IdRange,
        newuidmap: PathBuf,
        newgidmap: PathBuf,
    },
}

impl IdMapping {
    /// Chooses the mapping for the current (non-root) user.
    pub(crate) fn for_current_user() -> IdMapping {
        // SAFETY: these calls cannot fail.
        let (uid, gid) = unsafe { (libc::geteuid(), libc::getegid()) };
        let name = user_name(uid);
        let uids = fs::read_to_string("/etc/subuid")
            .ok()
            .and_then(|t| find_range(&t, uid, name.as_deref()));
        let gids = fs::read_to_string("/etc/subgid")
            .ok()
            .and_then(|t| find_range(&t, uid, name.as_deref()));
        match (uids, gids, find_tool("newuidmap"), find_tool("newgidmap")) {
            (Some(uids), Some(gids), Some(newuidmap), Some(newgidmap)) => IdMapping::Ranges {
                uid,
                gid,
                uids,
                gids,
                newuidmap,
                newgidmap,
            },
            _ => IdMapping::Single { uid, gid },
        }
    }

    pub(crate) fn can_setgroups(&self) -> bool {
        matches!(self, IdMapping::Ranges { .. })
    }

    /// Whether gid 5 (the conventional tty group) exists inside.
    pub(crate) fn maps_gid(&self, inside: u32) -> bool {
        match self {
            IdMapping::Single { .. } => inside == 0,
            IdMapping::Ranges { gids, .. } => inside <= gids.count,
        }
    }

    /// Writes the maps of the process `pid` (still waiting for them) and returns the byte
    /// to release it with. When a setuid helper fails (say, inside a container that strips
    /// its privileges) the single-id mapping is written instead, so root-only work still
    /// runs; switching to other users then fails with a clear error.
    pub(crate) fn apply(&self, pid: libc::pid_t) -> Result<u8, SandboxError> {
        match self {
            IdMapping::Single { uid, gid } => {
                write_single(pid, "uid_map", *uid)?;
                write_single(pid, "gid_map", *gid)?;
                Ok(SYNC_SINGLE_GID)
            }
            IdMapping::Ranges {
                uid,
                gid,
                uids,
                gids,
                newuidmap,
                newgidmap,
            } => {
                if let Err(helper) = run_helper(newuidmap, pid, *uid, uids) {
                    write_single(pid, "uid_map", *uid).map_err(|_| helper)?;
                }
                match run_helper(newgidmap, pid, *gid, gids) {
                    Ok(()) => Ok(SYNC_RANGES),
                    Err(helper) => {
                        write_single(pid, "gid_map", *gid).map_err(|_| helper)?;
                        Ok(SYNC_SINGLE_GID)
                    }
                }
            }
        }
    }
}

/// Released with full id ranges.
pub(crate) const SYNC_RANGES: u8 = b'R';
/// Released with only the caller's gid mapped and setgroups denied.
pub(crate) const SYNC_SINGLE_GID: u8 = b'S';

/// Maps inside id 0 to the caller's `id`; for gids, setgroups must be denied first.
fn write_single(pid: libc::pid_t, map: &str, id: u32) -> Result<(), SandboxError> {
    let proc_dir = PathBuf::from(format!("/proc/{pid}"));
    let write = |file: &str, text: String| {
        fs::write(proc_dir.join(file), text)
            .map_err(|e| SandboxError::IdMapping(format!("writing /proc/{pid}/{file}: {e}")))
    };
    if map == "gid_map" {
        write("setgroups", "deny".into())?;
    }
    write(map, format!("0 {id} 1\n"))
}

fn run_helper(
    tool: &Path,
    pid: libc::pid_t,
    own: u32,
    range: &IdRange,
) -> Result<(), SandboxError> {
    let args = [
        pid.to_string(),
        "0".into(),
        own.to_string(),
        "1".into(),
        "1".into(),
        range.start.to_string(),
        range.count.to_string(),
    ];
    let output = Command::new(tool)
        .args(&args)
        .output()
        .map_err(|e| SandboxError::IdMapping(format!("running {}: {e}", tool.display())))?;
    if output.status.success() {
        return Ok(());
    }
    Err(SandboxError::IdMapping(format!(
        "{} {} failed ({}): {}; check /etc/subuid and /etc/subgid",
        tool.display(),
        args.join(" "),
        output.status,
        String::from_utf8_lossy(&output.stderr).trim()
    )))
}

fn find_tool(name: &str) -> Option<PathBuf> {
    ["/usr/bin", "/bin", "/usr/sbin", "/sbin", "/usr/local/bin"]
        .iter()
        .map(|dir| Path::new(dir).join(name))
        .find(|p| p.is_file())
}

fn user_name(uid: u32) -> Option<String> {
    let passwd = fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let mut fields = line.split(':');
        let name = fields.next()?;
        (fields.nth(1)?.parse::<u32>().ok()? == uid).then(|| name.to_string())
    })
}

/// The first `NAME:START:COUNT` or `UID:START:COUNT` line for the user, if any.
pub(crate) fn find_range(text: &str, uid: u32, name: Option<&str>) -> Option<IdRange> {
    text.lines().find_map(|line| {
        let mut fields = line.trim().split(':');
        let who = fields.next()?;
        let start = fields.next()?.parse().ok()?;
        let count: u32 = fields.next()?.parse().ok()?;
        let matches = Some(who) == name || who.parse::<u32>().ok() == Some(uid);
        (matches && count > 0).then_some(IdRange { start, count })
    })
}

/// Maps the user namespace of the process `pid` (which must be waiting, unmapped, in a
/// new user namespace) for the calling non-root user: the caller becomes root inside, and
/// the subordinate ranges of /etc/subuid and /etc/subgid (through newuidmap/newgidmap)
/// cover ids 1 and up when available. Returns true when full ranges were mapped (image
/// users can be switched to); false when only the caller's own ids are mapped.
///
/// This is what a rootless program uses to re-execute itself inside a user namespace, so
/// that everything it does afterwards (mounts, the sandbox) runs as root of that namespace.
pub fn map_current_user_into(pid: i32) -> Result<bool, SandboxError> {
    let mapping = IdMapping::for_current_user();
    Ok(mapping.apply(pid)? == SYNC_RANGES)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_match_by_name_or_uid() {
        let text = "alice:100000:65536\n1001:165536:65536\nbad line\n";
        assert_eq!(
            find_range(text, 1000, Some("alice")),
            Some(IdRange {
                start: 100000,
                count: 65536
            })
        );
        assert_eq!(
            find_range(text, 1001, Some("bob")),
            Some(IdRange {
                start: 165536,
                count: 65536
            })
        );
        assert_eq!(find_range(text, 1002, Some("carol")), None);
    }
}
