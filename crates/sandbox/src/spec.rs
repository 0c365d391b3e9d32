//! What to run and how: the builder-style [`SandboxSpec`] and its parts.

use std::ffi::OsString;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::error::SandboxError;
use crate::terminal::Terminal;

/// The prepared root file system the command runs in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RootFs {
    /// A plain directory used as it is; writes land in it.
    Dir(PathBuf),
    /// An overlay the sandbox mounts inside its own mount namespace; writes land in `upper`.
    Overlay(OverlayRoot),
}

/// Overlay directories: `lowers` are read-only, topmost first (overlayfs' `lowerdir` order).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OverlayRoot {
    pub lowers: Vec<PathBuf>,
    pub upper: PathBuf,
    pub work: PathBuf,
}

/// Network access of the command.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Network {
    /// The host's network (the default, like `docker build`).
    #[default]
    Host,
    /// A fresh network namespace with only the loopback interface, brought up.
    None,
}

/// An extra mount inside the sandbox (`RUN --mount`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mount {
    /// Bind-mounts a host file or directory; cache mounts are read-write binds of the
    /// cache directory (see [`Mount::cache`]).
    Bind {
        src: PathBuf,
        dst: PathBuf,
        readonly: bool,
    },
    /// A fresh tmpfs, optionally limited to `size` bytes.
    Tmpfs { dst: PathBuf, size: Option<u64> },
}

impl Mount {
    /// A persistent cache directory: a read-write bind of `dir` at `dst`.
    pub fn cache(dir: impl Into<PathBuf>, dst: impl Into<PathBuf>) -> Mount {
        Mount::Bind {
            src: dir.into(),
            dst: dst.into(),
            readonly: false,
        }
    }

    pub fn dst(&self) -> &Path {
        match self {
            Mount::Bind { dst, .. } | Mount::Tmpfs { dst, .. } => dst,
        }
    }
}

/// A user or group, by name or number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IdOrName {
    Id(u32),
    Name(String),
}

/// `name|uid[:group|gid]`, resolved inside the root file system when the sandbox starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserSpec {
    pub user: IdOrName,
    pub group: Option<IdOrName>,
}

impl UserSpec {
    /// The root user with its groups from /etc/group (the default).
    pub fn root() -> UserSpec {
        UserSpec {
            user: IdOrName::Id(0),
            group: None,
        }
    }
}

impl Default for UserSpec {
    fn default() -> Self {
        UserSpec::root()
    }
}

fn parse_id_or_name(text: &str, spec: &str) -> Result<IdOrName, SandboxError> {
    let invalid = |reason| SandboxError::InvalidUser {
        spec: spec.to_string(),
        reason,
    };
    if text.is_empty() {
        return Err(invalid("empty user or group"));
    }
    if text.bytes().any(|b| b == b'\0' || b == b'\n' || b == b',') {
        return Err(invalid("names cannot contain NUL, newline or comma"));
    }
    if text.bytes().all(|b| b.is_ascii_digit()) {
        return text
            .parse()
            .map(IdOrName::Id)
            .map_err(|_| invalid("id out of range (max 4294967295)"));
    }
    Ok(IdOrName::Name(text.to_string()))
}

impl FromStr for UserSpec {
    type Err = SandboxError;

    fn from_str(spec: &str) -> Result<Self, Self::Err> {
        let (user, group) = match spec.split_once(':') {
            Some((u, g)) => (u, Some(g)),
            None => (spec, None),
        };
        Ok(UserSpec {
            user: parse_id_or_name(user, spec)?,
            group: group.map(|g| parse_id_or_name(g, spec)).transpose()?,
        })
    }
}

/// Cancels a running sandbox from another thread; the whole process tree is killed.
#[derive(Clone, Debug, Default)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    pub fn new() -> CancelToken {
        CancelToken::default()
    }

    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// Everything needed to run one command in a sandbox. Build it with [`SandboxSpec::new`]
/// and the chained setters, then call [`SandboxSpec::run`].
#[derive(Clone, Debug)]
pub struct SandboxSpec {
    pub(crate) rootfs: RootFs,
    pub(crate) argv: Vec<OsString>,
    pub(crate) env: Vec<(OsString, OsString)>,
    pub(crate) cwd: PathBuf,
    pub(crate) user: UserSpec,
    pub(crate) hostname: String,
    pub(crate) hosts: Option<Vec<u8>>,
    pub(crate) resolv_conf: Option<Vec<u8>>,
    pub(crate) network: Network,
    pub(crate) mounts: Vec<Mount>,
    pub(crate) timeout: Option<Duration>,
    pub(crate) cancel: Option<CancelToken>,
    pub(crate) scratch_dir: Option<PathBuf>,
    pub(crate) stdin: Option<Arc<OwnedFd>>,
    pub(crate) terminal: Option<Terminal>,
}

/// The hostname used when none is set.
pub const DEFAULT_HOSTNAME: &str = "rbuild";

/// The PATH used to find the command, and added to the environment, when the spec has none
/// (Docker's default).
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

impl SandboxSpec {
    /// Runs `argv` (`argv[0]` looked up in the sandbox's PATH unless it contains a `/`) in
    /// `rootfs`, as root, in `/`, with the host network and an empty environment plus PATH.
    pub fn new<I, S>(rootfs: RootFs, argv: I) -> SandboxSpec
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        SandboxSpec {
            rootfs,
            argv: argv.into_iter().map(Into::into).collect(),
            env: Vec::new(),
            cwd: PathBuf::from("/"),
            user: UserSpec::root(),
            hostname: DEFAULT_HOSTNAME.to_string(),
            hosts: None,
            resolv_conf: None,
            network: Network::Host,
            mounts: Vec::new(),
            timeout: None,
            cancel: None,
            scratch_dir: None,
            stdin: None,
            terminal: None,
        }
    }

    /// Sets one environment variable (a later value for the same key wins).
    pub fn env(mut self, key: impl Into<OsString>, value: impl Into<OsString>) -> Self {
        let key = key.into();
        self.env.retain(|(k, _)| *k != key);
        self.env.push((key, value.into()));
        self
    }

    /// Sets several environment variables.
    pub fn envs<I, K, V>(mut self, vars: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<OsString>,
        V: Into<OsString>,
    {
        for (k, v) in vars {
            self = self.env(k, v);
        }
        self
    }

    /// The working directory (absolute); created, owned by the user, if missing.
    pub fn cwd(mut self, dir: impl Into<PathBuf>) -> Self {
        self.cwd = dir.into();
        self
    }

    pub fn user(mut self, user: UserSpec) -> Self {
        self.user = user;
        self
    }

    pub fn hostname(mut self, name: impl Into<String>) -> Self {
        self.hostname = name.into();
        self
    }

    /// Contents of /etc/hosts (default: localhost entries and the hostname).
    pub fn hosts(mut self, contents: impl Into<Vec<u8>>) -> Self {
        self.hosts = Some(contents.into());
        self
    }

    /// Contents of /etc/resolv.conf (default: the host's /etc/resolv.conf).
    pub fn resolv_conf(mut self, contents: impl Into<Vec<u8>>) -> Self {
        self.resolv_conf = Some(contents.into());
        self
    }

    pub fn network(mut self, network: Network) -> Self {
        self.network = network;
        self
    }

    /// Adds a mount; mounts are applied in order, after /proc, /dev, /sys and /etc files.
    pub fn mount(mut self, mount: Mount) -> Self {
        self.mounts.push(mount);
        self
    }

    /// Kills the whole process tree after this long.
    pub fn timeout(mut self, limit: Duration) -> Self {
        self.timeout = Some(limit);
        self
    }

    /// Kills the whole process tree when `token` is cancelled.
    pub fn cancel_on(mut self, token: CancelToken) -> Self {
        self.cancel = Some(token);
        self
    }

    /// Where per-run scratch files go (default: /dev/shm, else the temporary directory).
    pub fn scratch_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.scratch_dir = Some(dir.into());
        self
    }

    /// Forwards what can be read from `source` (a pipe, a file, the caller's stdin) to the
    /// command's standard input; the command sees end of file when `source` does (with a
    /// terminal, see [`SandboxSpec::terminal`], input just stops: a terminal has no end of
    /// file). Without this, stdin is /dev/null.
    ///
    /// The source is read only when poll says it is readable, and never set non-blocking, so
    /// sharing a terminal with other processes is safe. Reading stops when the command ends.
    pub fn stdin(mut self, source: impl Into<OwnedFd>) -> Self {
        self.stdin = Some(Arc::new(source.into()));
        self
    }

    /// Runs the command on a pseudo-terminal made inside the sandbox (its controlling
    /// terminal, on stdin, stdout and stderr, like `docker run -t`). Its output, echo
    /// included, arrives as [`crate::Stream::Stdout`]; input comes from
    /// [`SandboxSpec::stdin`] if set, else none is sent. Keep a clone of `terminal` to resize.
    pub fn terminal(mut self, terminal: Terminal) -> Self {
        self.terminal = Some(terminal);
        self
    }

    pub fn rootfs(&self) -> &RootFs {
        &self.rootfs
    }

    pub fn argv(&self) -> &[OsString] {
        &self.argv
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_specs_parse() {
        let u: UserSpec = "app".parse().unwrap();
        assert_eq!(
            u,
            UserSpec {
                user: IdOrName::Name("app".into()),
                group: None
            }
        );
        let u: UserSpec = "1000:staff".parse().unwrap();
        assert_eq!(
            u,
            UserSpec {
                user: IdOrName::Id(1000),
                group: Some(IdOrName::Name("staff".into()))
            }
        );
        let u: UserSpec = "nobody:65534".parse().unwrap();
        assert_eq!(u.group, Some(IdOrName::Id(65534)));
    }

    #[test]
    fn bad_user_specs_are_rejected() {
        for bad in ["", ":", "app:", ":grp", "99999999999", "a,b"] {
            assert!(
                bad.parse::<UserSpec>().is_err(),
                "{bad:?} should be rejected"
            );
        }
    }

    #[test]
    fn later_env_wins() {
        let spec = SandboxSpec::new(RootFs::Dir("/x".into()), ["true"])
            .env("A", "1")
            .env("A", "2");
        assert_eq!(spec.env, vec![(OsString::from("A"), OsString::from("2"))]);
    }
}
