//! A writer that hands full buffers to a thread which writes them out, so a compressor
//! never waits for its output's destination (a pipe to a slow reader, a busy disk): the
//! compressing thread and the writing thread overlap, as the zstd and pigz tools do with
//! their own I/O threads. At most `BUFFERS_IN_FLIGHT` buffers are queued: memory stays
//! bounded.

use std::io::{self, Write};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

const BUFFER: usize = 1 << 20;
const BUFFERS_IN_FLIGHT: usize = 4;

/// Runs `body` with a writer whose bytes reach `output` through a writing thread; returns
/// what `body` returned once everything is written and flushed.
pub fn with_write_behind<W, T>(
    output: W,
    body: impl FnOnce(&mut dyn Write) -> io::Result<T>,
) -> io::Result<T>
where
    W: Write + Send,
{
    std::thread::scope(|scope| {
        let (tx, rx) = sync_channel::<Vec<u8>>(BUFFERS_IN_FLIGHT);
        let writer = scope.spawn(move || drain(rx, output));
        let mut front = Front {
            tx: Some(tx),
            buffer: Vec::with_capacity(BUFFER),
        };
        let result = body(&mut front).and_then(|t| front.send().map(|()| t));
        drop(front);
        let written = writer
            .join()
            .map_err(|_| io::Error::other("the writing thread panicked"))?;
        // The writer's error explains a send failure better than "thread stopped".
        written?;
        result
    })
}

fn drain<W: Write>(rx: Receiver<Vec<u8>>, mut output: W) -> io::Result<()> {
    for buffer in rx {
        output.write_all(&buffer)?;
    }
    output.flush()
}

struct Front {
    tx: Option<SyncSender<Vec<u8>>>,
    buffer: Vec<u8>,
}

impl Front {
    fn send(&mut self) -> io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let full = std::mem::replace(&mut self.buffer, Vec::with_capacity(BUFFER));
        match &self.tx {
            Some(tx) => tx
                .send(full)
                .map_err(|_| io::Error::other("the writing thread stopped")),
            None => Err(io::Error::other("writer already finished")),
        }
    }
}

impl Write for Front {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        let room = BUFFER - self.buffer.len();
        let n = bytes.len().min(room);
        self.buffer.extend_from_slice(&bytes[..n]);
        if self.buffer.len() == BUFFER {
            self.send()?;
        }
        Ok(n)
    }

    /// Hands over what is buffered; the writing thread flushes `output` at the end.
    fn flush(&mut self) -> io::Result<()> {
        self.send()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_byte_arrives_in_order() {
        let data: Vec<u8> = (0..(3 * BUFFER + 12345))
            .map(|i| (i * 7 % 251) as u8)
            .collect();
        let mut out = Vec::new();
        let n = with_write_behind(&mut out, |w| {
            for piece in data.chunks(70_000) {
                w.write_all(piece)?;
            }
            Ok(data.len())
        })
        .unwrap();
        assert_eq!(n, data.len());
        assert_eq!(out, data);
    }

    struct Failing;
    impl Write for Failing {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::Error::new(io::ErrorKind::StorageFull, "disk full"))
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn the_destination_error_is_reported() {
        let err = with_write_behind(Failing, |w| {
            for _ in 0..(BUFFERS_IN_FLIGHT + 3) {
                w.write_all(&vec![1u8; BUFFER])?;
            }
            Ok(())
        })
        .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::StorageFull);
    }
}
