//! What a run produces: output chunks as they come, and how the command ended.

use std::time::Duration;

/// Which output stream a chunk came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Stream {
    Stdout,
    Stderr,
}

/// How the command ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// It exited with this code.
    Code(i32),
    /// It was killed by this signal.
    Signal(i32),
    /// The spec's timeout expired; the whole process tree was killed.
    TimedOut,
    /// The cancel token fired; the whole process tree was killed.
    Cancelled,
}

impl Exit {
    pub fn success(self) -> bool {
        self == Exit::Code(0)
    }
}

impl std::fmt::Display for Exit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Exit::Code(code) => write!(f, "exit code {code}"),
            Exit::Signal(signal) => write!(f, "killed by signal {signal}"),
            Exit::TimedOut => f.write_str("timed out"),
            Exit::Cancelled => f.write_str("cancelled"),
        }
    }
}

/// The result of a run that got as far as starting the command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RunOutcome {
    pub exit: Exit,
    /// Wall time from the start of preparation to the end of teardown.
    pub elapsed: Duration,
}

/// A run's output collected in memory, with the chunk order kept.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CollectedOutput {
    pub chunks: Vec<(Stream, Vec<u8>)>,
}

impl CollectedOutput {
    pub fn push(&mut self, stream: Stream, data: &[u8]) {
        self.chunks.push((stream, data.to_vec()));
    }

    /// Everything written to `stream`, concatenated.
    pub fn bytes(&self, stream: Stream) -> Vec<u8> {
        self.chunks
            .iter()
            .filter(|(s, _)| *s == stream)
            .flat_map(|(_, d)| d.iter().copied())
            .collect()
    }

    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.bytes(Stream::Stdout)).into_owned()
    }

    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.bytes(Stream::Stderr)).into_owned()
    }
}
