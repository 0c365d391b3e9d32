//! Signals while `rbuild run` waits for its container: SIGINT, SIGTERM and SIGHUP cancel the
//! run (the sandbox kills the container's whole process tree, the run removes its snapshot
//! and scratch files, the terminal is restored, rbuild exits 128+N); SIGWINCH passes this
//! terminal's new size on to the container's.
//!
//! The handler only writes the signal number to a pipe (all a handler may safely do); a
//! thread reads it and acts.

use std::io;
use std::os::fd::{FromRawFd, OwnedFd, RawFd};
use std::sync::Arc;
use std::sync::atomic::{AtomicI32, Ordering};

use rbuild_sandbox::{CancelToken, Terminal};

use super::raw_mode::window_size;

/// Write end of the pipe the handler reports to (-1: none yet).
static WAKE_FD: AtomicI32 = AtomicI32::new(-1);

extern "C" fn on_signal(signal: libc::c_int) {
    // SAFETY: errno is thread-local; saved and restored so the interrupted code sees its own.
    let saved = unsafe { *libc::__errno_location() };
    let fd = WAKE_FD.load(Ordering::SeqCst);
    if fd >= 0 {
        let byte = signal as u8;
        // SAFETY: write(2) is async-signal-safe; the end is non-blocking, so a full pipe
        // drops the byte instead of hanging the handler.
        unsafe { libc::write(fd, (&byte as *const u8).cast(), 1) };
    }
    // SAFETY: as above.
    unsafe { *libc::__errno_location() = saved };
}

/// Signals that end the run.
const CANCELLING: [libc::c_int; 3] = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP];

/// Watches signals for the rest of the process's life (rbuild exits after one run).
pub struct SignalWatcher {
    cancelled_by: Arc<AtomicI32>,
}

impl SignalWatcher {
    /// Cancels `cancel` on SIGINT/SIGTERM/SIGHUP; with `terminal`, follows SIGWINCH by
    /// reading the size of the terminal on the given descriptor.
    pub fn start(
        cancel: CancelToken,
        terminal: Option<(Terminal, RawFd)>,
    ) -> io::Result<SignalWatcher> {
        let mut fds = [0 as RawFd; 2];
        // SAFETY: fds is a valid two-element array.
        if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: fresh descriptors we own.
        let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
        // SAFETY: fcntl on a valid descriptor.
        unsafe { libc::fcntl(fds[1], libc::F_SETFL, libc::O_NONBLOCK) };
        let follow_resizes = terminal.is_some();
        let cancelled_by = Arc::new(AtomicI32::new(0));
        let seen = cancelled_by.clone();
        let mut file = std::fs::File::from(read);
        std::thread::Builder::new()
            .name("rbuild-run-signals".into())
            .spawn(move || {
                use std::io::Read;
                let mut byte = [0u8; 1];
                while let Ok(1) = file.read(&mut byte) {
                    let signal = libc::c_int::from(byte[0]);
                    if signal == libc::SIGWINCH {
                        if let Some((terminal, fd)) = &terminal
                            && let Some(size) = window_size(*fd)
                        {
                            terminal.resize(size);
                        }
                    } else {
                        let _ =
                            seen.compare_exchange(0, signal, Ordering::SeqCst, Ordering::SeqCst);
                        cancel.cancel();
                    }
                }
            })?;
        // The write end lives as long as the process: the handler may run at any time.
        WAKE_FD.store(std::os::fd::IntoRawFd::into_raw_fd(write), Ordering::SeqCst);
        let mut signals = CANCELLING.to_vec();
        if follow_resizes {
            signals.push(libc::SIGWINCH);
        }
        for signal in signals {
            // SAFETY: sigaction is plain data; the handler only calls async-signal-safe code.
            unsafe {
                let mut action: libc::sigaction = std::mem::zeroed();
                action.sa_sigaction = on_signal as *const () as libc::sighandler_t;
                action.sa_flags = libc::SA_RESTART;
                libc::sigemptyset(&mut action.sa_mask);
                if libc::sigaction(signal, &action, std::ptr::null_mut()) != 0 {
                    return Err(io::Error::last_os_error());
                }
            }
        }
        Ok(SignalWatcher { cancelled_by })
    }

    /// The signal that cancelled the run, if one did.
    pub fn cancelled_by(&self) -> Option<i32> {
        match self.cancelled_by.load(Ordering::SeqCst) {
            0 => None,
            signal => Some(signal),
        }
    }
}
