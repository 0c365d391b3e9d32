//! The code that runs inside the sandbox: the init (PID 1 of the new PID namespace), which
//! sets up mounts and credentials and reaps orphans, and the command process it forks.
//!
//! The parent may have other threads (a builder runs steps in parallel), and the child is
//! made with a raw `clone`, so a lock another thread held at that instant (the allocator's,
//! stdio's) stays locked forever in the child. Everything here therefore avoids allocation,
//! locks and panics: it works on the precomputed [`ChildPlan`], fixed buffers and raw system
//! calls, and reports failures as fixed-size records over a close-on-exec pipe.

// Failures carry the kernel's message in a fixed buffer; boxing them would allocate.
#![allow(clippy::result_large_err)]

pub(crate) mod plan;
mod pty;
pub(crate) mod report;
pub(crate) mod sys;
pub(crate) mod users;

use std::ffi::CStr;
use std::os::raw::c_int;

use crate::error::SetupStep;
use plan::{ChildPlan, MountPlan, RootPlan};
use report::{Failure, Report};
use sys::{Errno, SysResult};
use users::ResolvedIds;

/// Exit code of the init when setup failed (the report says why).
const EXIT_SETUP_FAILED: c_int = 125;
/// Exit code of the command process when exec failed.
const EXIT_EXEC_FAILED: c_int = 127;

/// Host devices bind-mounted into the sandbox's /dev.
pub(crate) const DEVICES: [(&CStr, &CStr); 6] = [
    (c"null", c"/dev/null"),
    (c"zero", c"/dev/zero"),
    (c"full", c"/dev/full"),
    (c"random", c"/dev/random"),
    (c"urandom", c"/dev/urandom"),
    (c"tty", c"/dev/tty"),
];

fn fail(step: SetupStep) -> impl Fn(Errno) -> Failure {
    move |errno| Failure::new(step, errno)
}

/// Entry point of the init process; never returns.
pub(crate) fn init_main(plan: &ChildPlan) -> ! {
    // The clone copied every descriptor the caller had open, other threads' pipes included;
    // holding their write ends would keep those pipes from ever reaching end of file (a
    // forwarded stdin source among them). Keep only ours.
    sys::close_all_except(&[
        plan.stdout_fd,
        plan.stderr_fd,
        plan.report_fd,
        plan.sync_fd.unwrap_or(-1),
        plan.stdin_fd.unwrap_or(-1),
        plan.terminal.as_ref().map_or(-1, |t| t.socket_fd),
    ]);
    // SAFETY: prctl with integer arguments. If the thread that started us dies, so do we
    // (and with us, as PID 1, everything in the namespace).
    unsafe {
        libc::prctl(
            libc::PR_SET_PDEATHSIG,
            libc::SIGKILL as libc::c_ulong,
            0,
            0,
            0,
        )
    };
    match setup_and_run(plan) {
        Ok(status) => {
            status.send(plan.report_fd);
            sys::exit_now(0)
        }
        Err(failure) => {
            Report::failure(&failure).send(plan.report_fd);
            sys::exit_now(EXIT_SETUP_FAILED)
        }
    }
}

/// What the user namespace (if any) allows for groups.
#[derive(Clone, Copy)]
struct GroupSupport {
    /// setgroups(2) is permitted.
    setgroups: bool,
    /// gid 5 (tty) exists, for devpts' `gid=5`.
    tty_gid: bool,
}

fn setup_and_run(plan: &ChildPlan) -> Result<Report, Failure> {
    // SAFETY: umask cannot fail. Stubs and directories we create get 0755/0644.
    unsafe { libc::umask(0o022) };
    let mut groups = GroupSupport {
        setgroups: plan.can_setgroups,
        tty_gid: plan.tty_gid_mapped,
    };
    if let Some(fd) = plan.sync_fd {
        let mut byte = [0u8; 1];
        match sys::read(fd, &mut byte) {
            Ok(1) => sys::close(fd),
            // The parent could not map our ids and gave up; it reports the reason itself.
            _ => sys::exit_now(EXIT_SETUP_FAILED),
        }
        if byte[0] == crate::idmap::SYNC_SINGLE_GID {
            // The parent fell back to mapping only our own gid, with setgroups denied.
            groups = GroupSupport {
                setgroups: false,
                tty_gid: false,
            };
        }
    }
    // Leave the caller's session: the caller's terminal must not be the sandbox's
    // controlling terminal (a RUN step could otherwise open /dev/tty and read the user's
    // keyboard), and terminal signals (Ctrl-C) go to the caller, which decides.
    sys::setsid().map_err(fail(SetupStep::SessionStart))?;
    // Nothing we mount may propagate back to the host.
    sys::mount_legacy(
        std::ptr::null(),
        c"/",
        std::ptr::null(),
        libc::MS_REC | libc::MS_PRIVATE,
        std::ptr::null(),
    )
    .map_err(fail(SetupStep::MakeMountsPrivate))?;

    mount_root(&plan.root)?;
    let root = sys::open(plan.root.mount_point(), libc::O_PATH | libc::O_DIRECTORY, 0)
        .map_err(fail(SetupStep::OpenRoot))?;
    mount_proc(root)?;
    mount_dev(root, groups.tty_gid)?;
    mount_sys(root)?;
    for (index, mount) in plan.mounts.iter().enumerate() {
        extra_mount(root, mount).map_err(|f| f.at(index))?;
    }
    enter_root(root)?;

    // SAFETY: the pointer and length come from a CString.
    let ret = unsafe { libc::sethostname(plan.hostname.as_ptr(), plan.hostname.as_bytes().len()) };
    if ret != 0 {
        return Err(Failure::new(SetupStep::SetHostname, sys::errno()));
    }
    if plan.network_none {
        loopback_up().map_err(fail(SetupStep::LoopbackUp))?;
    }
    let ids = resolve_ids(plan)?;
    let slash = sys::open(c"/", libc::O_PATH | libc::O_DIRECTORY, 0)
        .map_err(fail(SetupStep::CreateWorkdir))?;
    let cwd = make_path_in_root(slash, &plan.cwd, true, Some((ids.uid, ids.gid)))
        .map_err(fail(SetupStep::CreateWorkdir))?;
    sys::close(cwd);
    sys::close(slash);
    let devnull =
        sys::open(c"/dev/null", libc::O_RDONLY, 0).map_err(fail(SetupStep::OpenDevNull))?;

    let terminal = match &plan.terminal {
        Some(terminal) => Some(pty::create(terminal, ids.uid)?),
        None => None,
    };
    let streams = Streams {
        stdin: plan.stdin_fd.unwrap_or(devnull),
        terminal,
    };

    let command = sys::clone_process(0).map_err(fail(SetupStep::StartCommand))?;
    if command == 0 {
        run_command(plan, &ids, streams, groups.setgroups);
    }
    sys::close(devnull);
    // The parent sees end of file (or EIO on the terminal) once the command's tree is gone.
    for fd in [
        Some(plan.stdout_fd),
        Some(plan.stderr_fd),
        plan.stdin_fd,
        terminal,
    ]
    .into_iter()
    .flatten()
    {
        sys::close(fd);
    }
    Ok(reap_until(command))
}

/// Reaps every child (orphans are re-parented to us) until the command itself exits, and
/// returns its status. When we then exit, the kernel kills whatever is left.
fn reap_until(command: libc::pid_t) -> Report {
    loop {
        let mut status: c_int = 0;
        // SAFETY: status is a valid out pointer.
        let pid = unsafe { libc::waitpid(-1, &mut status, 0) };
        if pid < 0 {
            if sys::errno() == libc::EINTR {
                continue;
            }
            return Report::status(report::KIND_EXITED, EXIT_SETUP_FAILED);
        }
        if pid != command {
            continue;
        }
        if libc::WIFEXITED(status) {
            return Report::status(report::KIND_EXITED, libc::WEXITSTATUS(status));
        }
        if libc::WIFSIGNALED(status) {
            return Report::status(report::KIND_SIGNALED, libc::WTERMSIG(status));
        }
    }
}

/// Creates a file system with the new mount API; on failure the kernel's message is kept.
fn new_mount(
    fstype: &CStr,
    options: &[(&CStr, &CStr)],
    flags: &[&CStr],
    attrs: u64,
    step: SetupStep,
) -> Result<c_int, Failure> {
    let fs = sys::fsopen(fstype).map_err(fail(step))?;
    let configured = (|| -> SysResult<c_int> {
        // The source only names the mount in /proc/mounts.
        sys::fsconfig_string(fs, c"source", fstype)?;
        for (key, value) in options {
            sys::fsconfig_string(fs, key, value)?;
        }
        for flag in flags {
            sys::fsconfig_flag(fs, flag)?;
        }
        sys::fsconfig_create(fs)?;
        sys::fsmount(fs, attrs)
    })();
    let result = configured.map_err(|errno| {
        Failure::new(step, errno).with_message(|buf| sys::fs_context_message(fs, buf))
    });
    sys::close(fs);
    result
}

fn attach(mount: c_int, dirfd: c_int, path: &CStr, step: SetupStep) -> Result<(), Failure> {
    let result = sys::move_mount(mount, dirfd, path).map_err(fail(step));
    sys::close(mount);
    result
}

fn mount_root(root: &RootPlan) -> Result<(), Failure> {
    let step = SetupStep::MountRoot;
    match root {
        RootPlan::Dir { path } => {
            // pivot_root needs a mount point: bind the directory onto itself.
            sys::mount_legacy(
                path.as_ptr(),
                path,
                std::ptr::null(),
                libc::MS_BIND | libc::MS_REC,
                std::ptr::null(),
            )
            .map_err(fail(step))
        }
        RootPlan::Overlay {
            target,
            lowers,
            upper,
            work,
            userxattr,
            legacy_options,
        } => {
            let fs = sys::fsopen(c"overlay").map_err(fail(step))?;
            let configured = (|| -> SysResult<c_int> {
                sys::fsconfig_string(fs, c"source", c"overlay")?;
                // One lower at a time: no page-size limit on the layer count, no escaping.
                for lower in lowers {
                    sys::fsconfig_string(fs, c"lowerdir+", lower)?;
                }
                sys::fsconfig_string(fs, c"upperdir", upper)?;
                sys::fsconfig_string(fs, c"workdir", work)?;
                if *userxattr {
                    sys::fsconfig_flag(fs, c"userxattr")?;
                }
                // As the snapshotter's own mounts: whatever the host's defaults, a renamed
                // directory is copied up whole (no redirect only this mount can follow)
                // and a chmod copies the data up, so the upper directory alone is the
                // step's complete change set; layers shared between mounts get no index.
                sys::fsconfig_string(fs, c"redirect_dir", c"nofollow")?;
                sys::fsconfig_string(fs, c"metacopy", c"off")?;
                sys::fsconfig_string(fs, c"index", c"off")?;
                sys::fsconfig_create(fs)?;
                sys::fsmount(fs, 0)
            })();
            match configured {
                Ok(mount) => {
                    sys::close(fs);
                    attach(mount, libc::AT_FDCWD, target, step)
                }
                Err(errno) => {
                    let failure = Failure::new(step, errno)
                        .with_message(|buf| sys::fs_context_message(fs, buf));
                    sys::close(fs);
                    // Kernels before 6.5 lack `lowerdir+`; try the classic option string.
                    match legacy_options {
                        Some(options) => sys::mount_legacy(
                            c"overlay".as_ptr(),
                            target,
                            c"overlay".as_ptr(),
                            0,
                            options.as_ptr(),
                        )
                        .map_err(|_| failure),
                        None => Err(failure),
                    }
                }
            }
        }
    }
}

fn mount_proc(root: c_int) -> Result<(), Failure> {
    let step = SetupStep::MountProc;
    let target =
        sys::open_in_root(root, c"/proc", libc::O_PATH | libc::O_DIRECTORY).map_err(fail(step))?;
    let attrs = sys::MOUNT_ATTR_NOSUID | sys::MOUNT_ATTR_NODEV | sys::MOUNT_ATTR_NOEXEC;
    let result =
        new_mount(c"proc", &[], &[], attrs, step).and_then(|m| attach(m, target, c"", step));
    sys::close(target);
    result
}

fn mount_dev(root: c_int, tty_gid_mapped: bool) -> Result<(), Failure> {
    let step = SetupStep::MountDev;
    let target =
        sys::open_in_root(root, c"/dev", libc::O_PATH | libc::O_DIRECTORY).map_err(fail(step))?;
    let tmpfs = new_mount(
        c"tmpfs",
        &[(c"mode", c"755"), (c"size", c"65536k")],
        &[],
        sys::MOUNT_ATTR_NOSUID,
        step,
    );
    let attached = tmpfs.and_then(|m| attach(m, target, c"", step));
    sys::close(target);
    attached?;
    // Reopen: the descriptor from before the mount names the directory underneath.
    let dev =
        sys::open_in_root(root, c"/dev", libc::O_PATH | libc::O_DIRECTORY).map_err(fail(step))?;
    let result = populate_dev(dev, tty_gid_mapped);
    sys::close(dev);
    result
}

fn populate_dev(dev: c_int, tty_gid_mapped: bool) -> Result<(), Failure> {
    for (index, (name, host)) in DEVICES.iter().enumerate() {
        let step = SetupStep::BindDevice;
        // Some hosts (minimal containers) have no /dev/tty: leave out what the host lacks.
        let tree = match sys::open_tree_clone(host, false) {
            Ok(tree) => tree,
            Err(libc::ENOENT) => continue,
            Err(e) => return Err(Failure::new(step, e).at(index)),
        };
        match sys::openat(dev, name, libc::O_CREAT | libc::O_WRONLY, 0o644) {
            Ok(file) => sys::close(file),
            Err(e) => {
                sys::close(tree);
                return Err(Failure::new(step, e).at(index));
            }
        }
        attach(tree, dev, name, step).map_err(|f| f.at(index))?;
    }
    sys::mkdirat(dev, c"pts", 0o755).map_err(fail(SetupStep::MountDevpts))?;
    let options: [(&CStr, &CStr); 3] = [(c"ptmxmode", c"0666"), (c"mode", c"0620"), (c"gid", c"5")];
    let used = if tty_gid_mapped { 3 } else { 2 };
    let attrs = sys::MOUNT_ATTR_NOSUID | sys::MOUNT_ATTR_NOEXEC;
    let pts = new_mount(
        c"devpts",
        &options[..used],
        &[c"newinstance"],
        attrs,
        SetupStep::MountDevpts,
    )?;
    attach(pts, dev, c"pts", SetupStep::MountDevpts)?;
    sys::symlinkat(c"pts/ptmx", dev, c"ptmx").map_err(fail(SetupStep::MountDevpts))?;

    sys::mkdirat(dev, c"shm", 0o755).map_err(fail(SetupStep::MountShm))?;
    let attrs = sys::MOUNT_ATTR_NOSUID | sys::MOUNT_ATTR_NODEV | sys::MOUNT_ATTR_NOEXEC;
    let shm = new_mount(
        c"tmpfs",
        &[(c"mode", c"1777"), (c"size", c"65536k")],
        &[],
        attrs,
        SetupStep::MountShm,
    )?;
    attach(shm, dev, c"shm", SetupStep::MountShm)?;

    for (target, name) in [
        (c"/proc/self/fd", c"fd"),
        (c"/proc/self/fd/0", c"stdin"),
        (c"/proc/self/fd/1", c"stdout"),
        (c"/proc/self/fd/2", c"stderr"),
    ] {
        sys::symlinkat(target, dev, name).map_err(fail(SetupStep::MountDev))?;
    }
    Ok(())
}

fn mount_sys(root: c_int) -> Result<(), Failure> {
    let step = SetupStep::MountSys;
    let target =
        sys::open_in_root(root, c"/sys", libc::O_PATH | libc::O_DIRECTORY).map_err(fail(step))?;
    let attrs = sys::MOUNT_ATTR_RDONLY
        | sys::MOUNT_ATTR_NOSUID
        | sys::MOUNT_ATTR_NODEV
        | sys::MOUNT_ATTR_NOEXEC;
    let mount = match new_mount(c"sysfs", &[], &[], attrs, step) {
        Ok(mount) => Ok(mount),
        // A rootless sandbox sharing the host network may not mount sysfs: bind the host's
        // read-only instead (recursively: submounts locked by the user namespace cannot be
        // left behind).
        Err(f) if f.errno == libc::EPERM => sys::open_tree_clone(c"/sys", true)
            .and_then(|tree| match sys::mount_setattr(tree, attrs, true) {
                Ok(()) => Ok(tree),
                Err(e) => {
                    sys::close(tree);
                    Err(e)
                }
            })
            .map_err(fail(step)),
        Err(f) => Err(f),
    };
    let result = mount.and_then(|m| attach(m, target, c"", step));
    sys::close(target);
    result
}

fn extra_mount(root: c_int, mount: &MountPlan) -> Result<(), Failure> {
    let step = SetupStep::ExtraMount;
    let (source, dst, is_dir) = match mount {
        MountPlan::Bind {
            src,
            dst,
            readonly,
            is_dir,
        } => {
            let tree = sys::open_tree_clone(src, *is_dir).map_err(fail(step))?;
            if *readonly && let Err(e) = sys::mount_setattr(tree, sys::MOUNT_ATTR_RDONLY, *is_dir) {
                sys::close(tree);
                return Err(Failure::new(step, e));
            }
            (tree, dst, *is_dir)
        }
        MountPlan::Tmpfs { dst, size } => {
            let attrs = sys::MOUNT_ATTR_NOSUID | sys::MOUNT_ATTR_NODEV;
            let tmpfs = match size {
                Some(size) => new_mount(c"tmpfs", &[(c"size", size)], &[], attrs, step)?,
                None => new_mount(c"tmpfs", &[], &[], attrs, step)?,
            };
            (tmpfs, dst, true)
        }
    };
    // Stubs exist for every target; only a target nested in an earlier mount may be missing.
    let target = match make_path_in_root(root, dst, is_dir, None) {
        Ok(fd) => fd,
        Err(e) => {
            sys::close(source);
            return Err(Failure::new(step, e));
        }
    };
    let result = attach(source, target, c"", step);
    sys::close(target);
    result
}

/// Makes `root` the process's `/` and drops every view of the host's file systems.
fn enter_root(root: c_int) -> Result<(), Failure> {
    let step = SetupStep::PivotRoot;
    // SAFETY: plain syscalls on a descriptor and NUL-terminated paths.
    unsafe {
        if libc::fchdir(root) != 0 {
            return Err(Failure::new(step, sys::errno()));
        }
    }
    // pivot_root(".", ".") stacks the old root on top of the new one; detaching "." then
    // removes the old root without needing a directory to park it in.
    sys::pivot_root(c".", c".").map_err(fail(step))?;
    // SAFETY: as above.
    unsafe {
        if libc::umount2(c".".as_ptr(), libc::MNT_DETACH) != 0 || libc::chdir(c"/".as_ptr()) != 0 {
            return Err(Failure::new(step, sys::errno()));
        }
    }
    sys::close(root);
    Ok(())
}

#[repr(C)]
struct InterfaceFlagsRequest {
    name: [u8; libc::IFNAMSIZ],
    flags: libc::c_short,
    _pad: [u8; 22],
}

fn loopback_up() -> SysResult<()> {
    // SAFETY: socket/ioctl with a correctly sized ifreq-compatible struct.
    unsafe {
        let sock = libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0);
        if sock < 0 {
            return Err(sys::errno());
        }
        let mut req = InterfaceFlagsRequest {
            name: [0; libc::IFNAMSIZ],
            flags: 0,
            _pad: [0; 22],
        };
        req.name[..2].copy_from_slice(b"lo");
        let mut result = Ok(());
        if libc::ioctl(sock, libc::SIOCGIFFLAGS, &mut req) < 0 {
            result = Err(sys::errno());
        } else {
            req.flags |= libc::IFF_UP as libc::c_short;
            if libc::ioctl(sock, libc::SIOCSIFFLAGS, &req) < 0 {
                result = Err(sys::errno());
            }
        }
        sys::close(sock);
        result
    }
}

fn resolve_ids(plan: &ChildPlan) -> Result<ResolvedIds, Failure> {
    let mut passwd = users::FileLines {
        path: c"/etc/passwd",
    };
    let mut groups = users::FileLines {
        path: c"/etc/group",
    };
    let group = plan.group.as_ref().map(|g| g.as_lookup());
    users::resolve(plan.user.as_lookup(), group, &mut passwd, &mut groups).map_err(|e| {
        let mut failure = Failure::new(SetupStep::ReadUserDatabase, 0);
        match e {
            users::LookupError::UserNotFound => failure.kind = report::KIND_USER_NOT_FOUND,
            users::LookupError::GroupNotFound => failure.kind = report::KIND_GROUP_NOT_FOUND,
            users::LookupError::Io(errno) => failure.errno = errno,
        }
        failure
    })
}

/// Opens `path` below `root` (resolved as if `root` were `/`), creating what is missing
/// (directories 0755, a final file 0644) and giving created entries to `owner`. Returns an
/// `O_PATH` descriptor of the final entry.
fn make_path_in_root(
    root: c_int,
    path: &CStr,
    final_is_dir: bool,
    owner: Option<(u32, u32)>,
) -> SysResult<c_int> {
    let bytes = path.to_bytes();
    let mut prefix = [0u8; 4096];
    let mut name = [0u8; 256];
    if bytes.len() >= prefix.len() {
        return Err(libc::ENAMETOOLONG);
    }
    let mut parent: c_int = -1; // -1: the root itself
    let mut start = 0usize;
    loop {
        while start < bytes.len() && bytes[start] == b'/' {
            start += 1;
        }
        if start >= bytes.len() {
            return if parent >= 0 {
                Ok(parent)
            } else {
                sys::open_in_root(root, c"/", libc::O_PATH | libc::O_DIRECTORY)
            };
        }
        let end = bytes[start..]
            .iter()
            .position(|b| *b == b'/')
            .map_or(bytes.len(), |p| start + p);
        let is_last = bytes[end..].iter().all(|b| *b == b'/');
        let want_dir = !is_last || final_is_dir;
        let flags = if want_dir {
            libc::O_PATH | libc::O_DIRECTORY
        } else {
            libc::O_PATH
        };
        prefix[..end].copy_from_slice(&bytes[..end]);
        prefix[end] = 0;
        let prefix_c = CStr::from_bytes_with_nul(&prefix[..=end]).map_err(|_| libc::EINVAL)?;
        let opened = match sys::open_in_root(root, prefix_c, flags) {
            Err(libc::ENOENT) => {
                let component = &bytes[start..end];
                if component.len() >= name.len() {
                    return Err(libc::ENAMETOOLONG);
                }
                name[..component.len()].copy_from_slice(component);
                name[component.len()] = 0;
                let name_c = CStr::from_bytes_with_nul(&name[..=component.len()])
                    .map_err(|_| libc::EINVAL)?;
                let dirfd = if parent >= 0 { parent } else { root };
                create_entry(dirfd, name_c, want_dir, owner)?;
                sys::open_in_root(root, prefix_c, flags)
            }
            other => other,
        };
        if parent >= 0 {
            sys::close(parent);
        }
        parent = opened?;
        start = end;
    }
}

fn create_entry(dirfd: c_int, name: &CStr, dir: bool, owner: Option<(u32, u32)>) -> SysResult<()> {
    let created = if dir {
        sys::mkdirat(dirfd, name, 0o755)
    } else {
        sys::openat(
            dirfd,
            name,
            libc::O_CREAT | libc::O_EXCL | libc::O_WRONLY,
            0o644,
        )
        .map(sys::close)
    };
    match created {
        Ok(()) => {}
        Err(libc::EEXIST) => return Ok(()),
        Err(e) => return Err(e),
    }
    if let Some((uid, gid)) = owner {
        // SAFETY: name is NUL-terminated; AT_SYMLINK_NOFOLLOW: we just created a real entry.
        let ret =
            unsafe { libc::fchownat(dirfd, name.as_ptr(), uid, gid, libc::AT_SYMLINK_NOFOLLOW) };
        if ret != 0 {
            return Err(sys::errno());
        }
    }
    Ok(())
}

/// Where the command's standard streams come from.
#[derive(Clone, Copy)]
struct Streams {
    /// /dev/null or the forwarded-input pipe (unused with a terminal).
    stdin: c_int,
    /// The terminal's slave: stdin, stdout, stderr and controlling terminal.
    terminal: Option<c_int>,
}

/// The command process: drop to the user, enter the working directory, exec. Never returns.
fn run_command(plan: &ChildPlan, ids: &ResolvedIds, streams: Streams, setgroups: bool) -> ! {
    let failure = match prepare_command(plan, ids, streams, setgroups) {
        Ok(()) => Failure::new(SetupStep::Exec, exec_command(plan, ids)),
        Err(failure) => failure,
    };
    Report::failure(&failure).send(plan.report_fd);
    sys::exit_now(EXIT_EXEC_FAILED)
}

fn prepare_command(
    plan: &ChildPlan,
    ids: &ResolvedIds,
    streams: Streams,
    setgroups: bool,
) -> Result<(), Failure> {
    // SAFETY: signal-state syscalls with valid arguments. The parent (a Rust program)
    // ignores SIGPIPE, and ignored signals survive exec: restore the defaults.
    unsafe {
        for signal in 1..libc::SIGRTMIN() {
            if signal != libc::SIGKILL && signal != libc::SIGSTOP {
                libc::signal(signal, libc::SIG_DFL);
            }
        }
        let mut empty: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut empty);
        libc::sigprocmask(libc::SIG_SETMASK, &empty, std::ptr::null_mut());
    }
    match streams.terminal {
        Some(slave) => pty::attach(slave)?,
        None => {
            let io = SetupStep::OpenDevNull;
            sys::dup2(streams.stdin, 0).map_err(fail(io))?;
            sys::dup2(plan.stdout_fd, 1).map_err(fail(io))?;
            sys::dup2(plan.stderr_fd, 2).map_err(fail(io))?;
        }
    }
    // Raw system calls, not the C library's wrappers: those broadcast the change to every
    // thread the library believes exists, and in this cloned child the parent's other
    // threads exist only in its bookkeeping, so the wrappers would wait for them forever.
    // SAFETY: credential syscalls with valid arguments; order: groups, gid, then uid.
    unsafe {
        if setgroups {
            let groups = ids.supplementary();
            if libc::syscall(libc::SYS_setgroups, groups.len(), groups.as_ptr()) != 0 {
                return Err(Failure::new(SetupStep::SetGroups, sys::errno()));
            }
        }
        if libc::syscall(libc::SYS_setresgid, ids.gid, ids.gid, ids.gid) != 0 {
            return Err(Failure::new(SetupStep::SetGid, sys::errno()));
        }
        if libc::syscall(libc::SYS_setresuid, ids.uid, ids.uid, ids.uid) != 0 {
            return Err(Failure::new(SetupStep::SetUid, sys::errno()));
        }
        if libc::chdir(plan.cwd.as_ptr()) != 0 {
            return Err(Failure::new(SetupStep::ChangeDir, sys::errno()));
        }
        libc::umask(0o022);
    }
    // Descriptors the caller leaked without close-on-exec must not reach the command.
    sys::cloexec_from(3).map_err(fail(SetupStep::Exec))?;
    Ok(())
}

/// At most this many environment variables get HOME added (a fixed stack array).
const MAX_ENV_WITH_HOME: usize = 1022;

/// Executes the command, searching PATH like `execvp` when argv[0] has no slash. Returns
/// the most telling errno when nothing could be executed.
fn exec_command(plan: &ChildPlan, ids: &ResolvedIds) -> Errno {
    let program = plan.program.to_bytes();
    let argv = plan.argv_ptrs.as_ptr();
    // HOME from /etc/passwd, appended to a stack copy of the environment.
    let mut home_var = [0u8; 300];
    let mut env_with_home: [*const libc::c_char; MAX_ENV_WITH_HOME + 2] =
        [std::ptr::null(); MAX_ENV_WITH_HOME + 2];
    let count = plan.envp.len();
    let home = ids.home();
    let envp = if plan.set_home && count <= MAX_ENV_WITH_HOME && home.len() + 6 <= home_var.len() {
        home_var[..5].copy_from_slice(b"HOME=");
        home_var[5..5 + home.len()].copy_from_slice(home);
        env_with_home[..count].copy_from_slice(&plan.envp_ptrs[..count]);
        env_with_home[count] = home_var.as_ptr().cast();
        env_with_home.as_ptr()
    } else {
        plan.envp_ptrs.as_ptr()
    };
    if program.contains(&b'/') {
        // SAFETY: NUL-terminated program and null-terminated pointer arrays from the plan.
        unsafe { libc::execve(plan.program.as_ptr(), argv, envp) };
        return sys::errno();
    }
    let mut best = libc::ENOENT;
    let mut candidate = [0u8; 4096];
    for dir in plan.search_path.split(|b| *b == b':') {
        let dir: &[u8] = if dir.is_empty() { b"." } else { dir };
        let len = dir.len() + 1 + program.len();
        if len >= candidate.len() {
            continue;
        }
        candidate[..dir.len()].copy_from_slice(dir);
        candidate[dir.len()] = b'/';
        candidate[dir.len() + 1..len].copy_from_slice(program);
        candidate[len] = 0;
        // SAFETY: candidate is NUL-terminated at len; pointer arrays from the plan.
        unsafe { libc::execve(candidate.as_ptr().cast(), argv, envp) };
        match sys::errno() {
            libc::ENOENT | libc::ENOTDIR => {}
            libc::EACCES => best = libc::EACCES,
            other => return other,
        }
    }
    best
}
