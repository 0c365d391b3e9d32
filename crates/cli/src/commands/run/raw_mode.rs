//! This process's terminal while `rbuild run -it` relays it: raw mode (every key, Ctrl-C
//! included, goes to the container's terminal, which does its own echo and line editing),
//! restored when the guard is dropped, and its window size.

use std::os::fd::RawFd;

use rbuild_sandbox::TerminalSize;

/// Puts a terminal in raw mode until dropped. Dropping happens on every way out of
/// `rbuild run`: normal return, error, panic unwinding, and the signals it handles (they
/// cancel the run instead of killing the process).
pub struct RawMode {
    fd: RawFd,
    saved: libc::termios,
}

impl RawMode {
    /// Raw mode on `fd` if it is a terminal; `None` (nothing to restore) otherwise.
    pub fn enable(fd: RawFd) -> std::io::Result<Option<RawMode>> {
        // SAFETY: isatty on any descriptor number is harmless.
        if unsafe { libc::isatty(fd) } != 1 {
            return Ok(None);
        }
        // SAFETY: termios is plain data, filled by tcgetattr before use.
        let mut saved: libc::termios = unsafe { std::mem::zeroed() };
        // SAFETY: a valid out pointer.
        if unsafe { libc::tcgetattr(fd, &mut saved) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        let mut raw = saved;
        // SAFETY: raw is a valid termios.
        unsafe { libc::cfmakeraw(&mut raw) };
        // TCSANOW, not TCSAFLUSH: keys typed ahead of the container's start are kept.
        // SAFETY: a valid termios.
        if unsafe { libc::tcsetattr(fd, libc::TCSANOW, &raw) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(Some(RawMode { fd, saved }))
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        // SAFETY: restoring the settings read in enable.
        unsafe { libc::tcsetattr(self.fd, libc::TCSANOW, &self.saved) };
    }
}

/// The window size of the terminal on `fd`, if it is one and knows its size.
pub fn window_size(fd: RawFd) -> Option<TerminalSize> {
    // SAFETY: winsize is plain data.
    let mut size: libc::winsize = unsafe { std::mem::zeroed() };
    // SAFETY: TIOCGWINSZ fills a winsize.
    if unsafe { libc::ioctl(fd, libc::TIOCGWINSZ, &mut size) } != 0 || size.ws_row == 0 {
        return None;
    }
    Some(TerminalSize {
        rows: size.ws_row,
        cols: size.ws_col,
    })
}
