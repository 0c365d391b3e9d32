//! Errors: each says what failed and, where there is one, what to do about it.

use std::fmt;
use std::io;

/// A step of the setup the sandbox performs inside its namespaces before the command runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
#[non_exhaustive]
pub enum SetupStep {
    WaitForIdMapping = 1,
    MakeMountsPrivate,
    MountRoot,
    OpenRoot,
    MountProc,
    MountDev,
    BindDevice,
    MountDevpts,
    MountShm,
    MountSys,
    ExtraMount,
    PivotRoot,
    SetHostname,
    LoopbackUp,
    ReadUserDatabase,
    CreateWorkdir,
    OpenDevNull,
    StartCommand,
    SetGroups,
    SetGid,
    SetUid,
    ChangeDir,
    Exec,
    CreateTerminal,
    AttachTerminal,
    SessionStart,
}

impl SetupStep {
    const ALL: [SetupStep; 26] = [
        SetupStep::WaitForIdMapping,
        SetupStep::MakeMountsPrivate,
        SetupStep::MountRoot,
        SetupStep::OpenRoot,
        SetupStep::MountProc,
        SetupStep::MountDev,
        SetupStep::BindDevice,
        SetupStep::MountDevpts,
        SetupStep::MountShm,
        SetupStep::MountSys,
        SetupStep::ExtraMount,
        SetupStep::PivotRoot,
        SetupStep::SetHostname,
        SetupStep::LoopbackUp,
        SetupStep::ReadUserDatabase,
        SetupStep::CreateWorkdir,
        SetupStep::OpenDevNull,
        SetupStep::StartCommand,
        SetupStep::SetGroups,
        SetupStep::SetGid,
        SetupStep::SetUid,
        SetupStep::ChangeDir,
        SetupStep::Exec,
        SetupStep::CreateTerminal,
        SetupStep::AttachTerminal,
        SetupStep::SessionStart,
    ];

    pub(crate) fn from_u32(value: u32) -> Option<SetupStep> {
        SetupStep::ALL.iter().copied().find(|s| *s as u32 == value)
    }

    fn describe(self) -> &'static str {
        match self {
            SetupStep::WaitForIdMapping => "waiting for the user namespace id mapping",
            SetupStep::MakeMountsPrivate => "making the mount namespace private",
            SetupStep::MountRoot => "mounting the root file system",
            SetupStep::OpenRoot => "opening the root file system",
            SetupStep::MountProc => "mounting /proc",
            SetupStep::MountDev => "mounting the /dev tmpfs",
            SetupStep::BindDevice => "bind-mounting a device into /dev",
            SetupStep::MountDevpts => "mounting /dev/pts",
            SetupStep::MountShm => "mounting /dev/shm",
            SetupStep::MountSys => "mounting /sys read-only",
            SetupStep::ExtraMount => "mounting",
            SetupStep::PivotRoot => "switching to the new root (pivot_root)",
            SetupStep::SetHostname => "setting the hostname",
            SetupStep::LoopbackUp => "bringing up the loopback interface",
            SetupStep::ReadUserDatabase => {
                "reading /etc/passwd or /etc/group of the root file system"
            }
            SetupStep::CreateWorkdir => "creating the working directory",
            SetupStep::OpenDevNull => "connecting the command's stdin, stdout and stderr",
            SetupStep::StartCommand => "starting the command process",
            SetupStep::SetGroups => "setting supplementary groups",
            SetupStep::SetGid => "switching group id",
            SetupStep::SetUid => "switching user id",
            SetupStep::ChangeDir => "changing to the working directory",
            SetupStep::Exec => "executing the command",
            SetupStep::CreateTerminal => "creating the pseudo-terminal in the sandbox's /dev/pts",
            SetupStep::AttachTerminal => {
                "making the pseudo-terminal the command's controlling terminal"
            }
            SetupStep::SessionStart => "starting a new session (setsid)",
        }
    }
}

impl fmt::Display for SetupStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.describe())
    }
}

/// Everything that can go wrong when running a sandbox.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SandboxError {
    /// The spec cannot be run as given (empty argv, relative paths, NUL bytes, ...).
    #[error("invalid sandbox spec: {0}")]
    InvalidSpec(String),

    /// A user spec such as `app:staff` could not be parsed.
    #[error("invalid user {spec:?}: {reason} (expected name|uid[:group|gid])")]
    InvalidUser { spec: String, reason: &'static str },

    /// Preparing something on the host side failed (temporary files, pipes, stubs).
    #[error("preparing the sandbox failed while {what}: {source}")]
    Prepare {
        what: String,
        #[source]
        source: io::Error,
    },

    /// The user name is not in the root file system's /etc/passwd.
    #[error(
        "user {name:?} not found in the root file system's /etc/passwd; add the user in an earlier step or use a numeric uid"
    )]
    UnknownUser { name: String },

    /// The group name is not in the root file system's /etc/group.
    #[error(
        "group {name:?} not found in the root file system's /etc/group; add the group in an earlier step or use a numeric gid"
    )]
    UnknownGroup { name: String },

    /// The command could not be executed (not found, not executable, bad interpreter, ...).
    #[error("cannot execute {program:?} in the sandbox: {source}{hint}")]
    Exec {
        program: String,
        hint: String,
        #[source]
        source: io::Error,
    },

    /// A namespace, mount or credential step failed inside the sandbox.
    #[error("sandbox setup failed while {step}{detail}: {source}{kernel}")]
    Setup {
        step: SetupStep,
        /// What the step worked on, e.g. " /cache (bind from /host/dir)".
        detail: String,
        /// The kernel's own message for mount failures, e.g. " (kernel: overlay: ...)".
        kernel: String,
        #[source]
        source: io::Error,
    },

    /// Mapping ids for a rootless sandbox failed.
    #[error("mapping user ids for the rootless sandbox failed: {0}")]
    IdMapping(String),

    /// The sandbox's init ended without reporting how the command finished.
    #[error("the sandbox init process ended unexpectedly ({0}) without reporting a result")]
    InitLost(String),

    /// Watching the sandbox (pipes, poll, wait) failed on the host side.
    #[error("supervising the sandbox failed: {0}")]
    Supervise(#[source] io::Error),
}

/// Short alias used across the crate.
pub type Result<T, E = SandboxError> = std::result::Result<T, E>;

pub(crate) fn prepare(what: impl Into<String>) -> impl FnOnce(io::Error) -> SandboxError {
    let what = what.into();
    move |source| SandboxError::Prepare { what, source }
}
