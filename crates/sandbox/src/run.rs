//! Running a spec: clone the init into new namespaces, map ids when rootless, then stream
//! output and wait, killing the whole tree on timeout or cancel.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::time::{Duration, Instant};

use crate::child::report::{self, REPORT_SIZE, Report};
use crate::child::{self, DEVICES, sys};
use crate::error::{SandboxError, SetupStep, prepare};
use crate::outcome::{CollectedOutput, Exit, RunOutcome, Stream};
use crate::prepare::prepare_run;
use crate::spec::{Mount, SandboxSpec};

/// How often a cancel token is checked while waiting.
const CANCEL_POLL: Duration = Duration::from_millis(10);
/// How long to keep reading output after the init died (a descriptor passed out of the
/// sandbox could otherwise keep us waiting forever).
const DRAIN_LIMIT: Duration = Duration::from_secs(2);

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

/// A close-on-exec pipe whose ends are never 0, 1 or 2 (the child dup2s onto those).
fn pipe() -> io::Result<Pipe> {
    let mut fds = [0 as RawFd; 2];
    // SAFETY: fds is a valid two-element array.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(io::Error::last_os_error());
    }
    let raise = |fd: RawFd| -> io::Result<OwnedFd> {
        // SAFETY: fd was just returned by pipe2 and is owned by nobody else.
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
    };
    Ok(Pipe {
        read: raise(fds[0])?,
        write: raise(fds[1])?,
    })
}

fn am_root() -> bool {
    // SAFETY: geteuid cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// The sandbox's init as seen from the parent. Dropping it unreaped (an error, or a panic
/// in the output sink) kills it, and with it everything in its PID namespace.
struct InitProcess {
    pid: libc::pid_t,
    reaped: bool,
}

impl InitProcess {
    fn kill(&self) {
        // SAFETY: pid is our unreaped child, so it cannot have been reused.
        unsafe { libc::kill(self.pid, libc::SIGKILL) };
    }

    /// Waits for the init to end and returns its wait status.
    fn reap(&mut self) -> i32 {
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
    if let (Some(sync), Some(mapping)) = (sync, &prepared.id_mapping) {
        drop(sync.read);
        let release = mapping.apply(pid)?;
        sys::write_all(sync.write.as_raw_fd(), &[release])
            .map_err(|errno| SandboxError::Supervise(io::Error::from_raw_os_error(errno)))?;
    }
    let watched = Watched {
        init: &mut init,
        stdout: stdout.read,
        stderr: stderr.read,
        reports: reports.read,
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

struct Watched<'a> {
    init: &'a mut InitProcess,
    stdout: OwnedFd,
    stderr: OwnedFd,
    reports: OwnedFd,
}

struct Finished {
    reports: Vec<Report>,
    killed: Option<Exit>,
    init_status: i32,
}

fn supervise(
    spec: &SandboxSpec,
    w: Watched<'_>,
    sink: &mut dyn FnMut(Stream, &[u8]),
) -> Result<Finished, SandboxError> {
    let pidfd = sys::pidfd_open(w.init.pid)
        .map_err(|errno| SandboxError::Supervise(io::Error::from_raw_os_error(errno)))?;
    // SAFETY: a new descriptor we own.
    let pidfd = unsafe { OwnedFd::from_raw_fd(pidfd) };
    let deadline = spec.timeout.map(|t| Instant::now() + t);
    let mut open = [true, true, true]; // stdout, stderr, reports
    let fds = [
        w.stdout.as_raw_fd(),
        w.stderr.as_raw_fd(),
        w.reports.as_raw_fd(),
    ];
    let mut report_bytes = Vec::new();
    let mut killed = None;
    let mut init_status = None;
    let mut drain_deadline = None;
    let mut buf = vec![0u8; 64 * 1024];
    while open.iter().any(|o| *o) || init_status.is_none() {
        let now = Instant::now();
        if drain_deadline.is_some_and(|d| now >= d) {
            break;
        }
        if killed.is_none() {
            if deadline.is_some_and(|d| now >= d) {
                killed = Some(Exit::TimedOut);
            } else if spec.cancel.as_ref().is_some_and(|c| c.is_cancelled()) {
                killed = Some(Exit::Cancelled);
            }
            if killed.is_some() {
                // Killing the PID namespace's init makes the kernel kill everything in it.
                w.init.kill();
            }
        }
        let mut wait = Duration::from_secs(3600);
        if let (Some(d), None) = (deadline, killed) {
            wait = wait.min(d.saturating_duration_since(now));
        }
        if spec.cancel.is_some() && killed.is_none() {
            wait = wait.min(CANCEL_POLL);
        }
        if let Some(d) = drain_deadline {
            wait = wait.min(d.saturating_duration_since(now));
        }
        let mut pollfds: Vec<libc::pollfd> = Vec::with_capacity(4);
        let mut which = Vec::with_capacity(4);
        for (i, fd) in fds.iter().enumerate() {
            if open[i] {
                pollfds.push(libc::pollfd {
                    fd: *fd,
                    events: libc::POLLIN,
                    revents: 0,
                });
                which.push(i);
            }
        }
        if init_status.is_none() {
            pollfds.push(libc::pollfd {
                fd: pidfd.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            });
            which.push(3);
        }
        let timeout_ms = wait.as_millis().min(i32::MAX as u128) as i32;
        // SAFETY: pollfds is a valid array of its length.
        let ready = unsafe {
            libc::poll(
                pollfds.as_mut_ptr(),
                pollfds.len() as libc::nfds_t,
                timeout_ms.max(1),
            )
        };
        if ready < 0 {
            let err = io::Error::last_os_error();
            if err.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(SandboxError::Supervise(err));
        }
        for (pfd, &index) in pollfds.iter().zip(&which) {
            if pfd.revents == 0 {
                continue;
            }
            if index == 3 {
                init_status = Some(w.init.reap());
                drain_deadline = Some(Instant::now() + DRAIN_LIMIT);
                continue;
            }
            match sys::read(fds[index], &mut buf) {
                Ok(0) | Err(_) => open[index] = false,
                Ok(n) => match index {
                    0 => sink(Stream::Stdout, &buf[..n]),
                    1 => sink(Stream::Stderr, &buf[..n]),
                    _ => report_bytes.extend_from_slice(&buf[..n]),
                },
            }
        }
    }
    let reports = report_bytes
        .chunks_exact(REPORT_SIZE)
        .filter_map(Report::from_bytes)
        .collect();
    Ok(Finished {
        reports,
        killed,
        init_status: init_status.unwrap_or(-1),
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
