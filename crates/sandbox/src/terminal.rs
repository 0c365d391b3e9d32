//! Interactive runs: what the caller sees of the command's pseudo-terminal.
//!
//! The terminal itself (master and slave) is created inside the sandbox, on the sandbox's own
//! devpts instance, so the command finds itself on `/dev/pts/0` as under `docker run -t`;
//! the init hands the master back to the parent over a socket. The caller keeps a
//! [`Terminal`] handle to change the window size while the command runs (on `SIGWINCH`).

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

/// A terminal window size in character cells.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TerminalSize {
    pub rows: u16,
    pub cols: u16,
}

impl TerminalSize {
    /// The size traditional terminals start with when nothing better is known.
    pub const DEFAULT: TerminalSize = TerminalSize { rows: 24, cols: 80 };

    fn pack(self) -> u32 {
        (u32::from(self.rows) << 16) | u32::from(self.cols)
    }

    fn unpack(packed: u32) -> TerminalSize {
        TerminalSize {
            rows: (packed >> 16) as u16,
            cols: packed as u16,
        }
    }

    pub(crate) fn to_winsize(self) -> libc::winsize {
        libc::winsize {
            ws_row: self.rows,
            ws_col: self.cols,
            ws_xpixel: 0,
            ws_ypixel: 0,
        }
    }
}

impl Default for TerminalSize {
    fn default() -> Self {
        TerminalSize::DEFAULT
    }
}

/// Gives the command a pseudo-terminal as its controlling terminal and its stdin, stdout and
/// stderr (everything it prints arrives as [`crate::Stream::Stdout`]). Clones share the size:
/// [`Terminal::resize`] from any thread reaches the running command, which gets `SIGWINCH`
/// from its terminal as usual.
#[derive(Clone, Debug)]
pub struct Terminal {
    size: Arc<AtomicU32>,
}

impl Terminal {
    pub fn new(size: TerminalSize) -> Terminal {
        Terminal {
            size: Arc::new(AtomicU32::new(size.pack())),
        }
    }

    /// Sets the window size; a running sandbox applies it within a few milliseconds, and
    /// always before it forwards more input.
    pub fn resize(&self, size: TerminalSize) {
        self.size.store(size.pack(), Ordering::SeqCst);
    }

    /// The size last set.
    pub fn size(&self) -> TerminalSize {
        TerminalSize::unpack(self.size.load(Ordering::SeqCst))
    }
}

impl Default for Terminal {
    fn default() -> Self {
        Terminal::new(TerminalSize::DEFAULT)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_share_the_size() {
        let terminal = Terminal::new(TerminalSize {
            rows: 40,
            cols: 132,
        });
        let handle = terminal.clone();
        handle.resize(TerminalSize {
            rows: 65535,
            cols: 1,
        });
        assert_eq!(
            terminal.size(),
            TerminalSize {
                rows: 65535,
                cols: 1
            }
        );
    }
}
