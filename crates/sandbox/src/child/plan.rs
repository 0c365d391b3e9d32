//! Everything the sandbox's init needs, computed by the parent before the clone so that the
//! child never allocates (see `child` for why).

use std::ffi::CString;
use std::os::raw::{c_char, c_int};

use super::users;

pub(crate) enum RootPlan {
    Overlay {
        /// Host directory the overlay is mounted on (inside the new mount namespace).
        target: CString,
        /// Topmost first; the first one is the sandbox's own stub layer.
        lowers: Vec<CString>,
        upper: CString,
        work: CString,
        userxattr: bool,
        /// `mount(2)` data for kernels without `lowerdir+`, when it fits in a page.
        legacy_options: Option<CString>,
    },
    Dir {
        path: CString,
    },
}

impl RootPlan {
    pub(crate) fn mount_point(&self) -> &CString {
        match self {
            RootPlan::Overlay { target, .. } => target,
            RootPlan::Dir { path } => path,
        }
    }
}

pub(crate) enum MountPlan {
    Bind {
        src: CString,
        dst: CString,
        readonly: bool,
        is_dir: bool,
    },
    Tmpfs {
        dst: CString,
        size: Option<CString>,
    },
}

pub(crate) enum UserRef {
    Id(u32),
    Name(Vec<u8>),
}

impl UserRef {
    pub(crate) fn as_lookup(&self) -> users::IdOrName<'_> {
        match self {
            UserRef::Id(id) => users::IdOrName::Id(*id),
            UserRef::Name(name) => users::IdOrName::Name(name),
        }
    }
}

pub(crate) struct TerminalPlan {
    pub size: libc::winsize,
    pub socket_fd: c_int,
}

pub(crate) struct ChildPlan {
    pub root: RootPlan,
    /// /etc/hosts and /etc/resolv.conf first, then the spec's mounts.
    pub mounts: Vec<MountPlan>,
    pub hostname: CString,
    pub network_none: bool,
    pub user: UserRef,
    pub group: Option<UserRef>,
    pub cwd: CString,
    pub program: CString,
    pub search_path: Vec<u8>,
    pub argv: Vec<CString>,
    pub argv_ptrs: Vec<*const c_char>,
    pub envp: Vec<CString>,
    pub envp_ptrs: Vec<*const c_char>,
    /// The spec has no HOME: set it from the user's passwd entry.
    pub set_home: bool,
    /// False when the user namespace was set up with setgroups denied.
    pub can_setgroups: bool,
    /// Whether gid 5 (tty) is mapped, for devpts' `gid=5`.
    pub tty_gid_mapped: bool,
    pub stdout_fd: c_int,
    pub stderr_fd: c_int,
    pub report_fd: c_int,
    /// Read end of the pipe carrying forwarded input, when the spec has a stdin source.
    pub stdin_fd: Option<c_int>,
    /// With a terminal: its initial size, and the socket the init sends the master over.
    pub terminal: Option<TerminalPlan>,
    /// Rootless only: init blocks on this until the parent has written the id maps.
    pub sync_fd: Option<c_int>,
}

impl ChildPlan {
    pub(crate) fn set_pointers(&mut self) {
        self.argv_ptrs = self
            .argv
            .iter()
            .map(|a| a.as_ptr())
            .chain(std::iter::once(std::ptr::null()))
            .collect();
        self.envp_ptrs = self
            .envp
            .iter()
            .map(|e| e.as_ptr())
            .chain(std::iter::once(std::ptr::null()))
            .collect();
    }
}
