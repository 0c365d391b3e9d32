//! The fixed-size records the sandbox's init sends to the parent over a close-on-exec pipe:
//! a setup failure (which step, errno, kernel message) or the command's final status.
//! Records are smaller than PIPE_BUF, so each write is atomic.

use std::os::raw::c_int;

use super::sys;
use crate::error::SetupStep;

pub(crate) const KIND_FAILURE: u32 = 1;
pub(crate) const KIND_EXITED: u32 = 2;
pub(crate) const KIND_SIGNALED: u32 = 3;
pub(crate) const KIND_USER_NOT_FOUND: u32 = 4;
pub(crate) const KIND_GROUP_NOT_FOUND: u32 = 5;

const MESSAGE_CAPACITY: usize = 232;

#[repr(C)]
#[derive(Clone, Copy)]
pub(crate) struct Report {
    pub kind: u32,
    pub step: u32,
    pub errno: i32,
    /// Which mount or device the step was working on, when that matters.
    pub index: u32,
    /// Exit code or signal number for status records.
    pub value: i32,
    message_len: u32,
    message: [u8; MESSAGE_CAPACITY],
}

pub(crate) const REPORT_SIZE: usize = std::mem::size_of::<Report>();
const _: () = assert!(
    REPORT_SIZE <= 512,
    "a report must fit in one atomic pipe write"
);

/// A failure inside the sandbox before or while starting the command.
#[derive(Clone, Copy)]
pub(crate) struct Failure {
    pub kind: u32,
    pub step: SetupStep,
    pub errno: sys::Errno,
    pub index: u32,
    pub message: [u8; MESSAGE_CAPACITY],
    pub message_len: usize,
}

impl Failure {
    pub(crate) fn new(step: SetupStep, errno: sys::Errno) -> Self {
        Failure {
            kind: KIND_FAILURE,
            step,
            errno,
            index: 0,
            message: [0; MESSAGE_CAPACITY],
            message_len: 0,
        }
    }

    pub(crate) fn at(mut self, index: usize) -> Self {
        self.index = index as u32;
        self
    }

    /// A buffer to fill with the kernel's own explanation (from a file system context).
    pub(crate) fn with_message(mut self, fill: impl FnOnce(&mut [u8]) -> usize) -> Self {
        let len = fill(&mut self.message);
        self.message_len = len.min(MESSAGE_CAPACITY);
        self
    }
}

impl Report {
    fn empty(kind: u32) -> Self {
        Report {
            kind,
            step: 0,
            errno: 0,
            index: 0,
            value: 0,
            message_len: 0,
            message: [0; MESSAGE_CAPACITY],
        }
    }

    pub(crate) fn failure(f: &Failure) -> Self {
        let mut r = Report::empty(f.kind);
        r.step = f.step as u32;
        r.errno = f.errno;
        r.index = f.index;
        r.message = f.message;
        r.message_len = f.message_len as u32;
        r
    }

    pub(crate) fn status(kind: u32, value: i32) -> Self {
        let mut r = Report::empty(kind);
        r.value = value;
        r
    }

    pub(crate) fn send(&self, fd: c_int) {
        // SAFETY: Report is repr(C) plain data without padding-sensitive invariants.
        let bytes = unsafe {
            std::slice::from_raw_parts((self as *const Report).cast::<u8>(), REPORT_SIZE)
        };
        // Nothing sensible is left to do if the parent stopped listening.
        let _ = sys::write_all(fd, bytes);
    }

    pub(crate) fn from_bytes(bytes: &[u8]) -> Option<Report> {
        if bytes.len() != REPORT_SIZE {
            return None;
        }
        let mut r = Report::empty(0);
        // SAFETY: the sizes match and every bit pattern is a valid Report (integers and bytes).
        unsafe {
            std::ptr::copy_nonoverlapping(
                bytes.as_ptr(),
                (&mut r as *mut Report).cast::<u8>(),
                REPORT_SIZE,
            );
        }
        Some(r)
    }

    /// The kernel's message, trimmed of trailing newlines.
    pub(crate) fn message(&self) -> String {
        let len = (self.message_len as usize).min(MESSAGE_CAPACITY);
        String::from_utf8_lossy(&self.message[..len])
            .trim_end()
            .to_string()
    }
}
