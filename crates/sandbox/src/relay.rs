//! Forwarding the caller's input to the command: from the spec's stdin source to the pipe
//! that is the command's stdin, or to the terminal's master.
//!
//! The supervisor's poll loop drives it: the source is read only when the previous chunk has
//! been written, and the target is non-blocking, so a command that does not read its input
//! never stops the loop from draining its output (which would deadlock both).

use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::sync::Arc;

use crate::child::sys;

/// Where forwarded input goes.
pub(crate) enum InputTarget {
    /// The write end of the command's stdin pipe; dropped (end of file for the command) when
    /// the source ends.
    Pipe(Option<OwnedFd>),
    /// The terminal's master, owned by the supervisor (it carries the output too).
    Terminal(RawFd),
}

pub(crate) struct InputRelay {
    source: Arc<OwnedFd>,
    source_open: bool,
    target: InputTarget,
    target_open: bool,
    pending: Vec<u8>,
    written: usize,
}

impl InputRelay {
    /// `target` must be non-blocking.
    pub(crate) fn new(source: Arc<OwnedFd>, target: InputTarget) -> InputRelay {
        InputRelay {
            source,
            source_open: true,
            target,
            target_open: true,
            pending: Vec::new(),
            written: 0,
        }
    }

    pub(crate) fn source_fd(&self) -> RawFd {
        self.source.as_raw_fd()
    }

    /// The descriptor to poll for writability while input is pending.
    pub(crate) fn target_fd(&self) -> Option<RawFd> {
        match &self.target {
            InputTarget::Pipe(fd) => fd.as_ref().map(|fd| fd.as_raw_fd()),
            InputTarget::Terminal(fd) => Some(*fd),
        }
    }

    fn has_pending(&self) -> bool {
        self.written < self.pending.len()
    }

    /// Whether the source should be polled for input now.
    pub(crate) fn wants_input(&self) -> bool {
        self.source_open && self.target_open && !self.has_pending()
    }

    /// Whether the target should be polled for room now.
    pub(crate) fn wants_to_write(&self) -> bool {
        self.target_open && self.has_pending()
    }

    /// Reads one chunk from the source (after poll said it is readable) and tries to write it.
    pub(crate) fn read_source(&mut self, buf: &mut [u8]) {
        match sys::read(self.source.as_raw_fd(), buf) {
            // A source someone made non-blocking: poll was early, nothing is lost.
            Err(libc::EAGAIN) => {}
            Ok(0) | Err(_) => {
                self.source_open = false;
                self.close_pipe_if_done();
            }
            Ok(n) => self.queue(&buf[..n]),
        }
    }

    fn queue(&mut self, bytes: &[u8]) {
        self.pending.clear();
        self.pending.extend_from_slice(bytes);
        self.written = 0;
        self.write_pending();
    }

    /// Writes what is pending as far as the target takes it without blocking.
    pub(crate) fn write_pending(&mut self) {
        let Some(fd) = self.target_fd() else { return };
        while self.target_open && self.has_pending() {
            // SAFETY: the pointer and length come from the pending slice.
            let n = unsafe {
                libc::write(
                    fd,
                    self.pending[self.written..].as_ptr().cast(),
                    self.pending.len() - self.written,
                )
            };
            if n >= 0 {
                self.written += n as usize;
                continue;
            }
            match sys::errno() {
                libc::EINTR => continue,
                libc::EAGAIN => return,
                // EPIPE: the command closed its stdin; EIO: the terminal is gone.
                _ => self.target_closed(),
            }
        }
        self.close_pipe_if_done();
    }

    /// The target cannot take input any more (the command closed it or ended).
    pub(crate) fn target_closed(&mut self) {
        self.target_open = false;
        self.pending.clear();
        self.written = 0;
        if let InputTarget::Pipe(fd) = &mut self.target {
            fd.take();
        }
    }

    /// Forwards end of file to a pipe target once everything read has been written. A
    /// terminal has no end of file to forward (typing Ctrl-D for the user is unreliable: a
    /// program that switches the terminal's mode after it arrived loses it), so the command
    /// keeps its terminal, as under `docker run -t`.
    fn close_pipe_if_done(&mut self) {
        if !self.source_open
            && !self.has_pending()
            && let InputTarget::Pipe(fd) = &mut self.target
        {
            fd.take();
            self.target_open = false;
        }
    }
}
