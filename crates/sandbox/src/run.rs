//! Running a spec: clone the init into new namespaces, map ids when rootless, receive the
//! terminal, let `supervise` relay and wait, then turn the init's reports into a result.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::time::Instant;

use crate::child::plan::TerminalPlan;
use crate::child::report::{self, Report};
use crate::child::{self, DEVICES, sys};
use crate::error::{SandboxError, SetupStep, prepare};
use crate::outcome::{CollectedOutput, Exit, RunOutcome, Stream};
use crate::prepare::prepare_run;
use crate::relay::{InputRelay, InputTarget};
use crate::spec::{Mount, SandboxSpec};
use crate::supervise::{Finished, Watched, supervise, supervise_error};
use crate::terminal::Terminal;

impl SandboxSpec {
    /// Runs the command, calling `sink` with each chunk of output as it arrives.
    ///
    /// Returns how the command ended, or an error that says which setup step failed inside
    /// the sandbox (a missing command is [`SandboxError::Exec`]).
    pub fn run(&self, mut sink: impl FnMut(Stream, &[u8])) -> Result<RunOutcome, SandboxError> {
        run_spec(self, &mut sink)
    }

    /// Runs the command and collects its output in memory.
    pub fn run_collect(&self) -> Result<(RunOutcome, CollectedOutput), SandboxError> {
        let mut output = CollectedOutput::default();
        let outcome = self.run(|stream, data| output.push(stream, data))?;
        Ok((outcome, output))
    }
}

struct Pipe {
    read: OwnedFd,
    write: OwnedFd,
}

/// Takes ownership of a new descriptor and moves it above 2 if needed (the child dup2s onto
/// 0, 1 and 2, so none of ours may sit there).
fn owned_above_stdio(fd: RawFd) -> io::Result<OwnedFd> {
    // SAFETY: fd was just returned by the kernel and is owned by nobody else.
    let owned = unsafe { OwnedFd::from_raw_fd(fd) };
    if fd > 2 {
        return Ok(owned);
    }
    // SAFETY: F_DUPFD_CLOEXEC on a valid descriptor.
    let high = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 3) };
    if high < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: high is a new descriptor we own.
    Ok(unsafe { OwnedFd::from_raw_fd(high) })
}

/// A close-on-exec pipe whose ends are never 0, 1 or 2.
fn pipe() -> io::Result<Pipe> {
    let mut fds = [0 as RawFd; 2];
    // SAFETY: fds is a valid two-element array.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(io::Error::last_os_error());
    }
    let read = owned_above_stdio(fds[0]);
    let write = owned_above_stdio(fds[1]);
    Ok(Pipe {
        read: read?,
        write: write?,
    })
}

/// A close-on-exec unix stream socket pair (the terminal's master travels over it).
fn socket_pair() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0 as RawFd; 2];
    // SAFETY: fds is a valid two-element array.
    let ret = unsafe {
        libc::socketpair(
            libc::AF_UNIX,
            libc::SOCK_STREAM | libc::SOCK_CLOEXEC,
            0,
            fds.as_mut_ptr(),
        )
    };
    if ret != 0 {
        return Err(io::Error::last_os_error());
    }
    let ours = owned_above_stdio(fds[0]);
    let theirs = owned_above_stdio(fds[1]);
    Ok((ours?, theirs?))
}

fn set_nonblocking(fd: &OwnedFd) -> io::Result<()> {
    // SAFETY: fcntl on a valid descriptor.
    unsafe {
        let flags = libc::fcntl(fd.as_raw_fd(), libc::F_GETFL);
        if flags < 0 || libc::fcntl(fd.as_raw_fd(), libc::F_SETFL, flags | libc::O_NONBLOCK) < 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

fn am_root() -> bool {
    // SAFETY: geteuid cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// The sandbox's init as seen from the parent. Dropping it unreaped (an error, or a panic
/// in the output sink) kills it, and with it everything in its PID namespace.
pub(crate) struct InitProcess {
    pub(crate) pid: libc::pid_t,
    reaped: bool,
}

impl InitProcess {
    pub(crate) fn kill(&self) {
        // SAFETY: pid is our unreaped child, so it cannot have been reused.
        unsafe { libc::kill(self.pid, libc::SIGKILL) };
    }

    /// Waits for the init to end and returns its wait status.
    pub(crate) fn reap(&mut self) -> i32 {
        let mut status = 0;
        // SAFETY: status is a valid out pointer; pid is our child.
        while unsafe { libc::waitpid(self.pid, &mut status, 0) } < 0 {
            if io::Error::last_os_error().kind() != io::ErrorKind::Interrupted {
                break;
            }
        }
        self.reaped = true;
        status
    }
}

impl Drop for InitProcess {
    fn drop(&mut self) {
        if !self.reaped {
            self.kill();
            self.reap();
        }
    }
}

fn run_spec(
    spec: &SandboxSpec,
    sink: &mut dyn FnMut(Stream, &[u8]),
) -> Result<RunOutcome, SandboxError> {
    let started = Instant::now();
    let rootless = !am_root();
    let mut prepared = prepare_run(spec, rootless)?;
    let stdout = pipe().map_err(prepare("creating the stdout pipe"))?;
    let stderr = pipe().map_err(prepare("creating the stderr pipe"))?;
    let reports = pipe().map_err(prepare("creating the report pipe"))?;
    let sync = if rootless {
        Some(pipe().map_err(prepare("creating the sync pipe"))?)
    } else {
        None
    };
    prepared.plan.stdout_fd = stdout.write.as_raw_fd();
    prepared.plan.stderr_fd = stderr.write.as_raw_fd();
    prepared.plan.report_fd = reports.write.as_raw_fd();
    prepared.plan.sync_fd = sync.as_ref().map(|p| p.read.as_raw_fd());
    // Input goes through a pipe, or with a terminal through its master.
    let stdin = match (&spec.stdin, &spec.terminal) {
        (Some(_), None) => Some(pipe().map_err(prepare("creating the stdin pipe"))?),
        _ => None,
    };
    prepared.plan.stdin_fd = stdin.as_ref().map(|p| p.read.as_raw_fd());
    // The size the terminal starts with; a resize after this point is applied by supervise.
    let initial_size = spec.terminal.as_ref().map(Terminal::size);
    let console = match initial_size {
        Some(size) => {
            let (ours, theirs) = socket_pair().map_err(prepare("creating the terminal socket"))?;
            prepared.plan.terminal = Some(TerminalPlan {
                size: size.to_winsize(),
                socket_fd: theirs.as_raw_fd(),
            });
            Some((ours, theirs))
        }
        None => None,
    };

    let mut flags =
        libc::CLONE_NEWNS | libc::CLONE_NEWPID | libc::CLONE_NEWUTS | libc::CLONE_NEWIPC;
    if prepared.plan.network_none {
        flags |= libc::CLONE_NEWNET;
    }
    if rootless {
        flags |= libc::CLONE_NEWUSER;
    }
    let pid = sys::clone_process(flags).map_err(|errno| SandboxError::Prepare {
        what: "creating the sandbox namespaces (clone)".into(),
        source: io::Error::from_raw_os_error(errno),
    })?;
    if pid == 0 {
        child::init_main(&prepared.plan);
    }
    let mut init = InitProcess { pid, reaped: false };
    drop(stdout.write);
    drop(stderr.write);
    drop(reports.write);
    let stdin = stdin.map(|p| p.write);
    let console = console.map(|(ours, _theirs)| ours);
    if let (Some(sync), Some(mapping)) = (sync, &prepared.id_mapping) {
        drop(sync.read);
        let release = mapping.apply(pid)?;
        sys::write_all(sync.write.as_raw_fd(), &[release]).map_err(supervise_error)?;
    }
    // The init sends the master once the sandbox's /dev/pts exists; if setup fails first,
    // it exits and the socket ends empty (the report says why).
    let master = match &console {
        Some(socket) => sys::recv_fd(socket.as_raw_fd())
            .map_err(supervise_error)?
            // SAFETY: a descriptor the kernel just installed for us.
            .map(|fd| unsafe { OwnedFd::from_raw_fd(fd) }),
        None => None,
    };
    drop(console);
    let input = match (&spec.stdin, &master, stdin) {
        (Some(source), Some(master), _) => Some(InputRelay::new(
            source.clone(),
            InputTarget::Terminal(master.as_raw_fd()),
        )),
        (Some(source), None, Some(pipe)) => {
            set_nonblocking(&pipe).map_err(SandboxError::Supervise)?;
            Some(InputRelay::new(
                source.clone(),
                InputTarget::Pipe(Some(pipe)),
            ))
        }
        _ => None,
    };
    if let Some(master) = &master {
        set_nonblocking(master).map_err(SandboxError::Supervise)?;
    }
    let watched = Watched {
        init: &mut init,
        stdout: stdout.read,
        stderr: stderr.read,
        reports: reports.read,
        terminal: master.map(|m| {
            let handle = spec.terminal.clone().unwrap_or_default();
            (m, handle, initial_size.unwrap_or_default())
        }),
        input,
    };
    let result = supervise(spec, watched, sink);
    // The init (and its mounts of the scratch files) must be gone before the scratch files.
    drop(init);
    drop(prepared);
    let finished = result?;
    let exit = interpret(spec, finished)?;
    Ok(RunOutcome {
        exit,
        elapsed: started.elapsed(),
    })
}

fn describe_status(status: i32) -> String {
    if libc::WIFEXITED(status) {
        format!("exit code {}", libc::WEXITSTATUS(status))
    } else if libc::WIFSIGNALED(status) {
        format!("signal {}", libc::WTERMSIG(status))
    } else {
        format!("wait status {status}")
    }
}

fn interpret(spec: &SandboxSpec, finished: Finished) -> Result<Exit, SandboxError> {
    if let Some(failure) = finished.reports.iter().find(|r| {
        matches!(
            r.kind,
            report::KIND_FAILURE | report::KIND_USER_NOT_FOUND | report::KIND_GROUP_NOT_FOUND
        )
    }) {
        return Err(failure_error(spec, failure));
    }
    if let Some(killed) = finished.killed {
        return Ok(killed);
    }
    match finished
        .reports
        .iter()
        .find(|r| matches!(r.kind, report::KIND_EXITED | report::KIND_SIGNALED))
    {
        Some(r) if r.kind == report::KIND_EXITED => Ok(Exit::Code(r.value)),
        Some(r) => Ok(Exit::Signal(r.value)),
        None => Err(SandboxError::InitLost(describe_status(
            finished.init_status,
        ))),
    }
}

fn name_of(value: &crate::spec::IdOrName) -> String {
    match value {
        crate::spec::IdOrName::Id(id) => id.to_string(),
        crate::spec::IdOrName::Name(name) => name.clone(),
    }
}

fn failure_error(spec: &SandboxSpec, r: &Report) -> SandboxError {
    match r.kind {
        report::KIND_USER_NOT_FOUND => {
            return SandboxError::UnknownUser {
                name: name_of(&spec.user.user),
            };
        }
        report::KIND_GROUP_NOT_FOUND => {
            let name = spec.user.group.as_ref().map(name_of).unwrap_or_default();
            return SandboxError::UnknownGroup { name };
        }
        _ => {}
    }
    let source = io::Error::from_raw_os_error(r.errno);
    let Some(step) = SetupStep::from_u32(r.step) else {
        return SandboxError::InitLost(format!("unknown setup step {} failed: {source}", r.step));
    };
    if step == SetupStep::Exec {
        return exec_error(spec, r.errno, source);
    }
    let index = r.index as usize;
    let detail = match step {
        SetupStep::BindDevice => DEVICES.get(index).map(|(_, host)| format!(" {}", host.to_string_lossy())).unwrap_or_default(),
        SetupStep::ExtraMount => match index {
            0 => " /etc/hosts".to_string(),
            1 => " /etc/resolv.conf".to_string(),
            i => match spec.mounts.get(i - 2) {
                Some(Mount::Bind { src, dst, readonly }) => {
                    format!(" {} (bind from {}{})", dst.display(), src.display(), if *readonly { ", read-only" } else { "" })
                }
                Some(Mount::Tmpfs { dst, .. }) => format!(" {} (tmpfs)", dst.display()),
                None => String::new(),
            },
        },
        SetupStep::ChangeDir | SetupStep::CreateWorkdir => format!(" {}", spec.cwd.display()),
        SetupStep::SetUid | SetupStep::SetGid if r.errno == libc::EINVAL => {
            " (the id is not mapped in this rootless sandbox; add a range for your user to /etc/subuid and /etc/subgid)"
                .to_string()
        }
        _ => String::new(),
    };
    let message = r.message();
    let kernel = match (message.is_empty(), step) {
        (false, _) => format!(" (kernel: {message})"),
        // overlayfs explains most refusals only in the kernel log.
        (true, SetupStep::MountRoot) => " (the kernel log, dmesg, may say why)".to_string(),
        (true, _) => String::new(),
    };
    SandboxError::Setup {
        step,
        detail,
        kernel,
        source,
    }
}

fn exec_error(spec: &SandboxSpec, errno: i32, source: io::Error) -> SandboxError {
    let program = spec
        .argv
        .first()
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_default();
    let path = spec
        .env
        .iter()
        .find(|(k, _)| k == "PATH")
        .map(|(_, v)| v.to_string_lossy().into_owned())
        .unwrap_or_else(|| crate::spec::DEFAULT_PATH.to_string());
    let hint = match errno {
        libc::ENOENT if program.contains('/') => {
            "; no such file in the root file system (or its interpreter or dynamic loader is missing)".to_string()
        }
        libc::ENOENT => format!("; not found in PATH={path} of the root file system"),
        libc::EACCES => "; the file is not executable or a directory on the way is not searchable".to_string(),
        libc::ENOEXEC => "; not a binary for this machine and no #! line".to_string(),
        _ => String::new(),
    };
    SandboxError::Exec {
        program,
        hint,
        source,
    }
}
