//! A block-parallel gzip writer in the style of pigz.
//!
//! The input is cut into fixed-size blocks. Each block is deflated on its own (on the
//! compression thread pool) with the last 32 KiB of the previous block as preset dictionary and
//! ends with a sync flush, so the raw deflate outputs concatenate into ONE valid deflate stream
//! inside a single gzip member. Per-block CRCs are combined in order.
//!
//! Why not a crate: gzp's dictionary mode needs C zlib (libz-sys) for its checks, which would
//! replace the zlib-rs backend for the whole workspace.
//!
//! Determinism: the output depends only on the input bytes, the level and [`BLOCK_SIZE`] —
//! never on the thread count or on how the caller splits its writes.
//! Memory: at most `max_in_flight` blocks (input and output) are held at once.

use std::collections::VecDeque;
use std::io::{self, Write};
use std::sync::mpsc;

use flate2::{Compress, Compression, Crc, FlushCompress, Status};

use super::pool::compression_pool;

/// Input bytes per independently compressed block (pigz's default).
pub const BLOCK_SIZE: usize = 128 * 1024;
const DICT_SIZE: usize = 32 * 1024;
/// gzip header: magic, deflate, no flags, mtime 0, no extra flags, OS "unknown" — fixed so
/// digests never depend on when or where a layer was compressed.
const GZIP_HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];

type BlockResult = io::Result<(Vec<u8>, Crc)>;

/// Writes a gzip stream to `W`, compressing blocks in parallel.
pub struct ParallelGzipWriter<W: Write> {
    inner: Option<W>,
    pool: &'static rayon::ThreadPool,
    level: u32,
    block: Vec<u8>,
    dictionary: Option<Vec<u8>>,
    pending: VecDeque<mpsc::Receiver<BlockResult>>,
    max_in_flight: usize,
    crc: Crc,
    header_written: bool,
}

impl<W: Write> ParallelGzipWriter<W> {
    /// A writer compressing at `level` (0–9, clamped).
    pub fn new(inner: W, level: u32) -> io::Result<Self> {
        Ok(Self::with_pool(inner, level, compression_pool()?))
    }

    /// A writer compressing on `pool` instead of the process-wide compression pool.
    pub fn with_pool(inner: W, level: u32, pool: &'static rayon::ThreadPool) -> Self {
        let threads = pool.current_num_threads();
        ParallelGzipWriter {
            pool,
            inner: Some(inner),
            level: level.min(9),
            block: Vec::with_capacity(BLOCK_SIZE),
            dictionary: None,
            pending: VecDeque::new(),
            max_in_flight: 2 * threads + 2,
            crc: Crc::new(),
            header_written: false,
        }
    }

    /// Compresses what is left, writes the trailer and returns the inner writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.submit_block(true)?;
        while !self.pending.is_empty() {
            self.write_oldest()?;
        }
        let mut inner = self.take_inner()?;
        inner.write_all(&self.crc.sum().to_le_bytes())?;
        inner.write_all(&self.crc.amount().to_le_bytes())?;
        Ok(inner)
    }

    fn take_inner(&mut self) -> io::Result<W> {
        self.inner
            .take()
            .ok_or_else(|| io::Error::other("gzip writer already finished"))
    }

    fn inner(&mut self) -> io::Result<&mut W> {
        self.inner
            .as_mut()
            .ok_or_else(|| io::Error::other("gzip writer already finished"))
    }

    fn submit_block(&mut self, last: bool) -> io::Result<()> {
        let input = std::mem::replace(&mut self.block, Vec::with_capacity(BLOCK_SIZE));
        let next_dictionary =
            (!last).then(|| input[input.len().saturating_sub(DICT_SIZE)..].to_vec());
        let dictionary = std::mem::replace(&mut self.dictionary, next_dictionary);
        let level = self.level;
        let (tx, rx) = mpsc::sync_channel(1);
        self.pool.spawn_fifo(move || {
            let result = deflate_block(&input, dictionary.as_deref(), level, last);
            // The receiver only disappears when the writer was dropped after an error.
            let _ = tx.send(result);
        });
        self.pending.push_back(rx);
        while self.pending.len() >= self.max_in_flight {
            self.write_oldest()?;
        }
        Ok(())
    }

    fn write_oldest(&mut self) -> io::Result<()> {
        let Some(rx) = self.pending.pop_front() else {
            return Ok(());
        };
        let (bytes, crc) = rx
            .recv()
            .map_err(|_| io::Error::other("gzip compression worker stopped"))??;
        if !self.header_written {
            self.header_written = true;
            self.inner()?.write_all(&GZIP_HEADER)?;
        }
        self.crc.combine(&crc);
        self.inner()?.write_all(&bytes)
    }
}

impl<W: Write> Write for ParallelGzipWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let room = BLOCK_SIZE - self.block.len();
        let taken = room.min(buf.len());
        self.block.extend_from_slice(&buf[..taken]);
        if self.block.len() == BLOCK_SIZE {
            self.submit_block(false)?;
        }
        Ok(taken)
    }

    /// Flushing does not cut a block (that would make the output depend on flush timing); it
    /// only pushes finished blocks to the inner writer.
    fn flush(&mut self) -> io::Result<()> {
        self.inner()?.flush()
    }
}

/// Deflates one block as a raw deflate fragment; `last` ends the deflate stream.
fn deflate_block(input: &[u8], dictionary: Option<&[u8]>, level: u32, last: bool) -> BlockResult {
    let mut crc = Crc::new();
    crc.update(input);
    let mut compress = Compress::new(Compression::new(level), false);
    if let Some(dictionary) = dictionary {
        compress
            .set_dictionary(dictionary)
            .map_err(|e| io::Error::other(format!("deflate dictionary: {e}")))?;
    }
    let flush = if last {
        FlushCompress::Finish
    } else {
        FlushCompress::Sync
    };
    let mut out = Vec::with_capacity(input.len() / 2 + 1024);
    loop {
        if out.len() == out.capacity() {
            out.reserve(out.capacity().max(4096));
        }
        let consumed = usize::try_from(compress.total_in()).unwrap_or(usize::MAX);
        let rest = input.get(consumed..).unwrap_or_default();
        let status = compress
            .compress_vec(rest, &mut out, flush)
            .map_err(|e| io::Error::other(format!("deflate: {e}")))?;
        let all_in = compress.total_in() as usize == input.len();
        let done = match status {
            Status::StreamEnd => true,
            // With room left in the output after a sync flush, the flush is complete.
            Status::Ok | Status::BufError => !last && all_in && out.len() < out.capacity(),
        };
        if done {
            return Ok((out, crc));
        }
    }
}
