//! Resolving a `user[:group]` spec against the root file system's `/etc/passwd` and
//! `/etc/group`, with Docker's rules, without allocating (this runs in the sandbox's init).
//!
//! Rules (as `docker run --user` / Dockerfile `USER`):
//! - a user name must exist in /etc/passwd; a numeric uid need not (then the primary group
//!   is 0 unless a group is given);
//! - the primary group is the passwd entry's gid unless a group is given (name looked up in
//!   /etc/group, numbers taken as they are);
//! - supplementary groups are the /etc/group entries listing the user's name, only when no
//!   group is given explicitly.

use std::ffi::CStr;

use super::sys;

/// At most this many supplementary groups are applied; more are ignored.
pub(crate) const MAX_GROUPS: usize = 64;

/// A user or group as written: a number or a name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum IdOrName<'a> {
    Id(u32),
    Name(&'a [u8]),
}

/// Longest home directory kept from /etc/passwd; longer ones fall back to `/`.
const MAX_HOME: usize = 255;

/// The ids a process should switch to, and the user's home directory.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ResolvedIds {
    pub uid: u32,
    pub gid: u32,
    pub groups: [u32; MAX_GROUPS],
    pub group_count: usize,
    home: [u8; MAX_HOME],
    home_len: usize,
}

impl ResolvedIds {
    pub(crate) fn supplementary(&self) -> &[u32] {
        &self.groups[..self.group_count]
    }

    /// The passwd entry's home directory, or `/` without one (as Docker does).
    pub(crate) fn home(&self) -> &[u8] {
        if self.home_len == 0 {
            b"/"
        } else {
            &self.home[..self.home_len]
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LookupError {
    UserNotFound,
    GroupNotFound,
    Io(sys::Errno),
}

/// A source of lines, visited one at a time; the visitor returns `true` to stop early.
pub(crate) trait Lines {
    fn visit(&mut self, visitor: &mut dyn FnMut(&[u8]) -> bool) -> Result<(), sys::Errno>;
}

/// Lines of a file read with a fixed stack buffer. A missing file reads as empty; lines
/// longer than the buffer are skipped.
pub(crate) struct FileLines<'a> {
    pub path: &'a CStr,
}

impl Lines for FileLines<'_> {
    fn visit(&mut self, visitor: &mut dyn FnMut(&[u8]) -> bool) -> Result<(), sys::Errno> {
        let fd = match sys::open(self.path, libc::O_RDONLY, 0) {
            Ok(fd) => fd,
            Err(libc::ENOENT) => return Ok(()),
            Err(e) => return Err(e),
        };
        let result = visit_fd_lines(fd, visitor);
        sys::close(fd);
        result
    }
}

fn visit_fd_lines(fd: i32, visitor: &mut dyn FnMut(&[u8]) -> bool) -> Result<(), sys::Errno> {
    let mut buf = [0u8; 8192];
    let mut filled = 0usize;
    let mut skipping_long_line = false;
    loop {
        let n = sys::read(fd, &mut buf[filled..])?;
        let at_end = n == 0;
        filled += n;
        let mut start = 0usize;
        while let Some(pos) = buf[start..filled].iter().position(|b| *b == b'\n') {
            let line = &buf[start..start + pos];
            start += pos + 1;
            if skipping_long_line {
                skipping_long_line = false;
                continue;
            }
            if visitor(line) {
                return Ok(());
            }
        }
        if at_end {
            if start < filled && !skipping_long_line {
                visitor(&buf[start..filled]);
            }
            return Ok(());
        }
        buf.copy_within(start..filled, 0);
        filled -= start;
        if filled == buf.len() {
            // A line longer than the buffer: drop what we have and skip to its end.
            filled = 0;
            skipping_long_line = true;
        }
    }
}

/// Lines of an in-memory text.
#[cfg(test)]
pub(crate) struct SliceLines<'a>(pub &'a [u8]);

#[cfg(test)]
impl Lines for SliceLines<'_> {
    fn visit(&mut self, visitor: &mut dyn FnMut(&[u8]) -> bool) -> Result<(), sys::Errno> {
        for line in self.0.split(|b| *b == b'\n') {
            if visitor(line) {
                break;
            }
        }
        Ok(())
    }
}

fn field(line: &[u8], index: usize) -> Option<&[u8]> {
    line.split(|b| *b == b':').nth(index)
}

pub(crate) fn parse_u32(text: &[u8]) -> Option<u32> {
    if text.is_empty() || text.len() > 10 {
        return None;
    }
    let mut value: u64 = 0;
    for b in text {
        if !b.is_ascii_digit() {
            return None;
        }
        value = value * 10 + u64::from(b - b'0');
    }
    u32::try_from(value).ok()
}

fn is_entry(line: &[u8]) -> bool {
    !line.is_empty() && !line.starts_with(b"#")
}

/// Resolves `user[:group]` to ids.
pub(crate) fn resolve(
    user: IdOrName<'_>,
    group: Option<IdOrName<'_>>,
    passwd: &mut dyn Lines,
    groups: &mut dyn Lines,
) -> Result<ResolvedIds, LookupError> {
    let mut name_buf = [0u8; 256];
    let mut name_len: Option<usize> = None;
    let mut uid = 0u32;
    let mut gid = 0u32;
    let mut home = [0u8; MAX_HOME];
    let mut home_len = 0usize;
    passwd
        .visit(&mut |line| {
            if !is_entry(line) {
                return false;
            }
            let (Some(name), Some(line_uid), Some(line_gid)) = (
                field(line, 0),
                field(line, 2).and_then(parse_u32),
                field(line, 3).and_then(parse_u32),
            ) else {
                return false;
            };
            let matches = match user {
                IdOrName::Id(id) => id == line_uid,
                IdOrName::Name(wanted) => wanted == name,
            };
            if matches && name.len() <= name_buf.len() {
                name_buf[..name.len()].copy_from_slice(name);
                name_len = Some(name.len());
                uid = line_uid;
                gid = line_gid;
                let dir = field(line, 5).unwrap_or_default();
                home_len = if dir.len() <= MAX_HOME { dir.len() } else { 0 };
                home[..home_len].copy_from_slice(&dir[..home_len]);
            }
            matches
        })
        .map_err(LookupError::Io)?;
    match (user, name_len) {
        (IdOrName::Name(_), None) => return Err(LookupError::UserNotFound),
        (IdOrName::Id(id), None) => uid = id,
        _ => {}
    }

    let mut resolved = ResolvedIds {
        uid,
        gid,
        groups: [0; MAX_GROUPS],
        group_count: 0,
        home,
        home_len,
    };
    match group {
        Some(IdOrName::Id(id)) => resolved.gid = id,
        Some(IdOrName::Name(wanted)) => {
            let mut found = None;
            groups
                .visit(&mut |line| {
                    if is_entry(line) && field(line, 0) == Some(wanted) {
                        found = field(line, 2).and_then(parse_u32);
                        return found.is_some();
                    }
                    false
                })
                .map_err(LookupError::Io)?;
            resolved.gid = found.ok_or(LookupError::GroupNotFound)?;
        }
        None => {
            if let Some(len) = name_len {
                let name = &name_buf[..len];
                groups
                    .visit(&mut |line| {
                        if !is_entry(line) {
                            return false;
                        }
                        let listed = field(line, 3).is_some_and(|members| {
                            members.split(|b| *b == b',').any(|m| m == name)
                        });
                        if let (true, Some(id)) = (listed, field(line, 2).and_then(parse_u32)) {
                            let count = resolved.group_count;
                            if count < MAX_GROUPS && !resolved.groups[..count].contains(&id) {
                                resolved.groups[count] = id;
                                resolved.group_count += 1;
                            }
                        }
                        false
                    })
                    .map_err(LookupError::Io)?;
            }
        }
    }
    Ok(resolved)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSWD: &[u8] = b"root:x:0:0:root:/root:/bin/sh\n# comment\nnobody:x:65534:65534::/:/bin/false\napp:x:1000:1000::/home/app:/bin/sh\nbroken:x:notanumber:1::/:/bin/sh";
    const GROUP: &[u8] =
        b"root:x:0:\nwheel:x:10:root,app\naudio:x:29:app\nnogroup:x:65534:\napp:x:1000:\n";

    fn run(user: IdOrName<'_>, group: Option<IdOrName<'_>>) -> Result<ResolvedIds, LookupError> {
        resolve(user, group, &mut SliceLines(PASSWD), &mut SliceLines(GROUP))
    }

    #[test]
    fn name_gets_passwd_ids_and_member_groups() {
        let ids = run(IdOrName::Name(b"app"), None).unwrap();
        assert_eq!((ids.uid, ids.gid), (1000, 1000));
        assert_eq!(ids.home(), b"/home/app");
        assert_eq!(ids.supplementary(), &[10, 29]);
    }

    #[test]
    fn numeric_uid_known_takes_primary_group() {
        let ids = run(IdOrName::Id(65534), None).unwrap();
        assert_eq!((ids.uid, ids.gid), (65534, 65534));
        assert!(ids.supplementary().is_empty());
    }

    #[test]
    fn numeric_uid_unknown_defaults_group_zero() {
        let ids = run(IdOrName::Id(4242), None).unwrap();
        assert_eq!((ids.uid, ids.gid), (4242, 0));
        assert_eq!(ids.home(), b"/");
    }

    #[test]
    fn explicit_group_by_name_and_id_drops_supplementary() {
        let ids = run(IdOrName::Name(b"app"), Some(IdOrName::Name(b"audio"))).unwrap();
        assert_eq!((ids.uid, ids.gid, ids.group_count), (1000, 29, 0));
        let ids = run(IdOrName::Name(b"root"), Some(IdOrName::Id(7))).unwrap();
        assert_eq!((ids.uid, ids.gid), (0, 7));
    }

    #[test]
    fn unknown_names_are_errors() {
        assert_eq!(
            run(IdOrName::Name(b"ghost"), None).unwrap_err(),
            LookupError::UserNotFound
        );
        assert_eq!(
            run(IdOrName::Name(b"app"), Some(IdOrName::Name(b"ghosts"))).unwrap_err(),
            LookupError::GroupNotFound
        );
        // A malformed line never matches.
        assert_eq!(
            run(IdOrName::Name(b"broken"), None).unwrap_err(),
            LookupError::UserNotFound
        );
    }

    #[test]
    fn parse_u32_rejects_junk_and_overflow() {
        assert_eq!(parse_u32(b"0"), Some(0));
        assert_eq!(parse_u32(b"4294967295"), Some(u32::MAX));
        assert_eq!(parse_u32(b"4294967296"), None);
        assert_eq!(parse_u32(b"-1"), None);
        assert_eq!(parse_u32(b""), None);
    }

    #[test]
    fn file_lines_handle_long_lines_and_missing_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("passwd");
        let mut text = Vec::new();
        text.extend_from_slice(b"first:x:1:1::/:/bin/sh\n");
        text.extend(std::iter::repeat_n(b'z', 20_000));
        text.extend_from_slice(b"\nlast:x:2:2::/:/bin/sh");
        std::fs::write(&path, &text).unwrap();
        let cpath = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
        let mut seen = Vec::new();
        FileLines { path: &cpath }
            .visit(&mut |line| {
                seen.push(line.to_vec());
                false
            })
            .unwrap();
        assert_eq!(
            seen,
            vec![
                b"first:x:1:1::/:/bin/sh".to_vec(),
                b"last:x:2:2::/:/bin/sh".to_vec()
            ]
        );
        let missing =
            std::ffi::CString::new(dir.path().join("nope").as_os_str().as_encoded_bytes()).unwrap();
        let mut count = 0;
        FileLines { path: &missing }
            .visit(&mut |_| {
                count += 1;
                false
            })
            .unwrap();
        assert_eq!(count, 0);
    }
}
