//! Watching a started sandbox: relay output (pipes or the terminal's master) to the sink and
//! input to the command, follow terminal resizes, collect the init's reports, and kill the
//! whole tree on timeout or cancel.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::time::{Duration, Instant};

use crate::child::report::{REPORT_SIZE, Report};
use crate::child::sys;
use crate::error::SandboxError;
use crate::outcome::{Exit, Stream};
use crate::relay::InputRelay;
use crate::run::InitProcess;
use crate::spec::SandboxSpec;
use crate::terminal::{Terminal, TerminalSize};

/// How often a cancel token is checked while waiting.
const CANCEL_POLL: Duration = Duration::from_millis(10);
/// How long to keep reading output after the init died (a descriptor passed out of the
/// sandbox could otherwise keep us waiting forever).
const DRAIN_LIMIT: Duration = Duration::from_secs(2);

pub(crate) fn supervise_error(errno: i32) -> SandboxError {
    SandboxError::Supervise(io::Error::from_raw_os_error(errno))
}

pub(crate) struct Watched<'a> {
    pub init: &'a mut InitProcess,
    pub stdout: OwnedFd,
    pub stderr: OwnedFd,
    pub reports: OwnedFd,
    /// The terminal's master (output and input), the size handle to follow, and the size
    /// the terminal was made with.
    pub terminal: Option<(OwnedFd, Terminal, TerminalSize)>,
    pub input: Option<InputRelay>,
}

pub(crate) struct Finished {
    pub reports: Vec<Report>,
    pub killed: Option<Exit>,
    pub init_status: i32,
}

/// What a polled descriptor is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Slot {
    Stdout,
    Stderr,
    Reports,
    /// The terminal's master: output to read, and input to write when pending.
    Terminal,
    /// The command's stdin pipe, polled while input is pending.
    InputPipe,
    /// The caller's input source.
    Source,
    Init,
}

/// Applies the handle's size to the terminal if it changed since last applied.
fn follow_size(master: &OwnedFd, terminal: &Terminal, applied: &mut TerminalSize) {
    let wanted = terminal.size();
    if wanted != *applied {
        let size = wanted.to_winsize();
        // The kernel sends SIGWINCH to the terminal's foreground process group.
        if sys::ioctl_ptr(master.as_raw_fd(), libc::TIOCSWINSZ, &size).is_ok() {
            *applied = wanted;
        }
    }
}

pub(crate) fn supervise(
    spec: &SandboxSpec,
    mut w: Watched<'_>,
    sink: &mut dyn FnMut(Stream, &[u8]),
) -> Result<Finished, SandboxError> {
    let pidfd = sys::pidfd_open(w.init.pid).map_err(supervise_error)?;
    // SAFETY: a new descriptor we own.
    let pidfd = unsafe { OwnedFd::from_raw_fd(pidfd) };
    let deadline = spec.timeout.map(|t| Instant::now() + t);
    let mut stdout_open = true;
    let mut stderr_open = true;
    let mut reports_open = true;
    let mut terminal_open = w.terminal.is_some();
    let mut applied_size = w
        .terminal
        .as_ref()
        .map(|(_, _, made_with)| *made_with)
        .unwrap_or_default();
    let mut report_bytes = Vec::new();
    let mut killed = None;
    let mut init_status = None;
    let mut drain_deadline = None;
    let mut buf = vec![0u8; 64 * 1024];
    while stdout_open || stderr_open || reports_open || terminal_open || init_status.is_none() {
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
        if let Some((master, terminal, _)) = &w.terminal {
            follow_size(master, terminal, &mut applied_size);
        }
        let mut wait = Duration::from_secs(3600);
        if let (Some(d), None) = (deadline, killed) {
            wait = wait.min(d.saturating_duration_since(now));
        }
        // Cancel tokens and terminal sizes are shared memory: look at them regularly.
        if (spec.cancel.is_some() && killed.is_none()) || w.terminal.is_some() {
            wait = wait.min(CANCEL_POLL);
        }
        if let Some(d) = drain_deadline {
            wait = wait.min(d.saturating_duration_since(now));
        }
        let mut pollfds: Vec<libc::pollfd> = Vec::with_capacity(7);
        let mut slots = Vec::with_capacity(7);
        let mut watch = |fd: RawFd, events: libc::c_short, slot: Slot| {
            pollfds.push(libc::pollfd {
                fd,
                events,
                revents: 0,
            });
            slots.push(slot);
        };
        for (open, fd, slot) in [
            (stdout_open, &w.stdout, Slot::Stdout),
            (stderr_open, &w.stderr, Slot::Stderr),
            (reports_open, &w.reports, Slot::Reports),
        ] {
            if open {
                watch(fd.as_raw_fd(), libc::POLLIN, slot);
            }
        }
        let writing = w.input.as_ref().is_some_and(InputRelay::wants_to_write);
        if let (true, Some((master, _, _))) = (terminal_open, &w.terminal) {
            let events = if writing {
                libc::POLLIN | libc::POLLOUT
            } else {
                libc::POLLIN
            };
            watch(master.as_raw_fd(), events, Slot::Terminal);
        }
        if let Some(input) = &w.input {
            if writing
                && w.terminal.is_none()
                && let Some(fd) = input.target_fd()
            {
                watch(fd, libc::POLLOUT, Slot::InputPipe);
            }
            if input.wants_input() && init_status.is_none() {
                watch(input.source_fd(), libc::POLLIN, Slot::Source);
            }
        }
        if init_status.is_none() {
            watch(pidfd.as_raw_fd(), libc::POLLIN, Slot::Init);
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
        for (pfd, &slot) in pollfds.iter().zip(&slots) {
            if pfd.revents == 0 {
                continue;
            }
            match slot {
                Slot::Init => {
                    init_status = Some(w.init.reap());
                    drain_deadline = Some(Instant::now() + DRAIN_LIMIT);
                    // Nobody is left to read input.
                    if let Some(input) = &mut w.input {
                        input.target_closed();
                    }
                }
                Slot::Source => {
                    if let (Some((master, terminal, _)), Some(_)) = (&w.terminal, &w.input) {
                        // A resize must reach the command before input typed after it.
                        follow_size(master, terminal, &mut applied_size);
                    }
                    if let Some(input) = &mut w.input {
                        input.read_source(&mut buf);
                    }
                }
                Slot::InputPipe => {
                    if let Some(input) = &mut w.input {
                        input.write_pending();
                    }
                }
                Slot::Terminal => {
                    if pfd.revents & libc::POLLOUT != 0
                        && let Some(input) = &mut w.input
                    {
                        input.write_pending();
                    }
                    if pfd.revents & !libc::POLLOUT == 0 {
                        continue;
                    }
                    let Some((master, _, _)) = &w.terminal else {
                        continue;
                    };
                    match sys::read(master.as_raw_fd(), &mut buf) {
                        Ok(n) if n > 0 => sink(Stream::Stdout, &buf[..n]),
                        Err(libc::EAGAIN) => {}
                        // EIO: every slave descriptor is closed, the command's tree is gone.
                        _ => {
                            terminal_open = false;
                            if let Some(input) = &mut w.input {
                                input.target_closed();
                            }
                        }
                    }
                }
                Slot::Stdout | Slot::Stderr | Slot::Reports => {
                    let (fd, open) = match slot {
                        Slot::Stdout => (&w.stdout, &mut stdout_open),
                        Slot::Stderr => (&w.stderr, &mut stderr_open),
                        _ => (&w.reports, &mut reports_open),
                    };
                    match sys::read(fd.as_raw_fd(), &mut buf) {
                        Ok(0) | Err(_) => *open = false,
                        Ok(n) => match slot {
                            Slot::Stdout => sink(Stream::Stdout, &buf[..n]),
                            Slot::Stderr => sink(Stream::Stderr, &buf[..n]),
                            _ => report_bytes.extend_from_slice(&buf[..n]),
                        },
                    }
                }
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
