//! Layer compression: parallel gzip (the default), multithreaded zstd, or none.
//!
//! Every encoder here is deterministic: the same input and options give the same bytes, and
//! therefore the same blob digest, whatever the number of cores. For zstd that requires at
//! least one worker thread — zstd's single-threaded mode produces a different frame layout.

mod pigz;
pub(crate) mod pool;
mod write_behind;

use std::fmt;
use std::io::{self, Read, Write};
use std::str::FromStr;
use std::sync::Arc;

use rbuild_snapshotter::Digest;
use sha2::{Digest as _, Sha256};
use zstd::stream::raw::CParameter;

pub use pigz::{BLOCK_SIZE as GZIP_BLOCK_SIZE, ParallelGzipWriter};
pub use pool::{THREADS_ENV, compression_pool, compression_threads};

/// A layer compression algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Compression {
    /// gzip (deflate), what every registry and runtime understands.
    #[default]
    Gzip,
    /// zstd, faster and smaller, understood by containerd, podman and recent Docker.
    Zstd,
    /// Plain tar.
    Uncompressed,
}

impl Compression {
    /// Default level: gzip 6 (like pigz and Go's default), zstd 3 (zstd's default).
    pub fn default_level(self) -> i32 {
        match self {
            Compression::Gzip => 6,
            Compression::Zstd => 3,
            Compression::Uncompressed => 0,
        }
    }

    /// The valid level range.
    pub fn level_range(self) -> std::ops::RangeInclusive<i32> {
        match self {
            Compression::Gzip => 0..=9,
            Compression::Zstd => 1..=22,
            Compression::Uncompressed => 0..=0,
        }
    }

    /// Guesses the compression of a blob from its first bytes.
    pub fn detect(prefix: &[u8]) -> Compression {
        if prefix.starts_with(&[0x1f, 0x8b]) {
            Compression::Gzip
        } else if prefix.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Compression::Zstd
        } else {
            Compression::Uncompressed
        }
    }
}

impl fmt::Display for Compression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
            Compression::Uncompressed => "uncompressed",
        })
    }
}

/// An unknown compression name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown compression {0:?} (valid: gzip, zstd, uncompressed)")]
pub struct UnknownCompression(pub String);

impl FromStr for Compression {
    type Err = UnknownCompression;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "gzip" => Ok(Compression::Gzip),
            "zstd" => Ok(Compression::Zstd),
            "uncompressed" | "none" => Ok(Compression::Uncompressed),
            other => Err(UnknownCompression(other.to_string())),
        }
    }
}

/// How to compress a layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CompressionOptions {
    /// The algorithm.
    pub compression: Compression,
    /// The level; `None` means the algorithm's default. Out-of-range values are clamped.
    pub level: Option<i32>,
}

impl CompressionOptions {
    /// The level that will actually be used.
    pub fn effective_level(&self) -> i32 {
        let range = self.compression.level_range();
        self.level
            .unwrap_or(self.compression.default_level())
            .clamp(*range.start(), *range.end())
    }
}

/// What compressing a layer learned about its uncompressed content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompressedLayer {
    /// sha256 of the uncompressed tar: the layer's `diff_id`.
    pub diff_id: Digest,
    /// Size of the uncompressed tar.
    pub uncompressed_size: u64,
}

/// Streams `input` through the chosen compressor into `output`, hashing the uncompressed
/// bytes on the way (on a separate thread, so the hash never slows the compressor down).
/// Memory use is bounded: a few chunks in flight plus a few blocks per compression thread.
pub fn compress<R: Read, W: Write>(
    input: R,
    output: W,
    options: CompressionOptions,
) -> io::Result<CompressedLayer> {
    encode(input, output, options, hashed_copy)
}

/// Like [`compress`] for a tar whose digest is already known and trusted (a layer blob read
/// back from the content store, which verified it on the way in): no second sha256 pass,
/// which is a fifth of the CPU of zstd. The output is written by its own thread, so the
/// compressor never waits for it. Returns the number of uncompressed bytes.
pub fn compress_known<R: Read, W: Write + Send>(
    input: R,
    output: W,
    options: CompressionOptions,
) -> io::Result<u64> {
    write_behind::with_write_behind(output, |output| encode(input, output, options, plain_copy))
}

/// Runs the encoder `options` picks around `copy`, which moves the input into it.
fn encode<R: Read, W: Write, T>(
    input: R,
    output: W,
    options: CompressionOptions,
    copy: impl FnOnce(R, &mut dyn Write) -> io::Result<T>,
) -> io::Result<T> {
    let level = options.effective_level();
    match options.compression {
        Compression::Uncompressed => {
            let mut output = output;
            copy(input, &mut output)
        }
        Compression::Gzip => {
            let level = u32::try_from(level).unwrap_or(6);
            let mut encoder = ParallelGzipWriter::new(output, level)?;
            let done = copy(input, &mut encoder)?;
            encoder.finish()?.flush()?;
            Ok(done)
        }
        Compression::Zstd => {
            let mut encoder = zstd_encoder(output, level, compression_threads())?;
            let done = copy(input, &mut encoder)?;
            encoder.finish()?.flush()?;
            Ok(done)
        }
    }
}

/// Copies `input` to `output` in large writes (compressors work on whole blocks, so big
/// writes avoid their internal buffering copies).
fn plain_copy<R: Read>(mut input: R, output: &mut dyn Write) -> io::Result<u64> {
    const CHUNK: usize = 1 << 20;
    let mut buffer = vec![0u8; CHUNK];
    let mut total = 0u64;
    loop {
        let n = match input.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        output.write_all(&buffer[..n])?;
        total += n as u64;
    }
    output.flush()?;
    Ok(total)
}

/// Copies `input` to `output` in large chunks while a helper thread computes the sha256
/// and size of what was copied.
fn hashed_copy<R: Read>(mut input: R, output: &mut dyn Write) -> io::Result<CompressedLayer> {
    const CHUNK: usize = 1 << 20;
    const CHUNKS_IN_FLIGHT: usize = 4;
    std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Arc<Vec<u8>>>(CHUNKS_IN_FLIGHT);
        let hasher = scope.spawn(move || {
            let mut hasher = Sha256::new();
            let mut size = 0u64;
            for chunk in rx {
                hasher.update(&chunk[..]);
                size += chunk.len() as u64;
            }
            CompressedLayer {
                diff_id: Digest::from_sha256(hasher.finalize().into()),
                uncompressed_size: size,
            }
        });
        let copied = (|| -> io::Result<()> {
            loop {
                let mut chunk = vec![0u8; CHUNK];
                let mut filled = 0;
                while filled < CHUNK {
                    match input.read(&mut chunk[filled..]) {
                        Ok(0) => break,
                        Ok(n) => filled += n,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => return Err(e),
                    }
                }
                if filled == 0 {
                    return output.flush();
                }
                chunk.truncate(filled);
                let chunk = Arc::new(chunk);
                output.write_all(&chunk)?;
                tx.send(chunk)
                    .map_err(|_| io::Error::other("the hashing thread stopped"))?;
            }
        })();
        drop(tx);
        let layer = hasher
            .join()
            .map_err(|_| io::Error::other("the hashing thread panicked"))?;
        copied.map(|()| layer)
    })
}

/// Uncompressed bytes per zstd job. zstd's own choice at the default level is 8 MiB, and it
/// keeps up to eight jobs' output buffers and a ring of five jobs' input alive at once: ~110
/// MB with two workers, for a single layer. 2 MiB jobs need ~21 MB.
const ZSTD_JOB_SIZE: u32 = 2 << 20;
/// How much of the data before a job it may refer to: 8 = half of the 2 MiB window (zstd's
/// default for this level, 6, is an eighth). Smaller jobs lose the matches across their
/// starts; this overlap wins them back: on the 560 MB benchmark layer the output is within
/// 0.3 % of zstd's default job size (an eighth would be 2 % larger), at the same speed.
const ZSTD_OVERLAP_LOG: u32 = 8;

/// A zstd encoder with `workers` worker threads — at least one, because zstd's output then
/// no longer depends on the worker count (its single-threaded mode frames data differently).
/// The job size and overlap are fixed for the same reason.
fn zstd_encoder<W: Write>(
    output: W,
    level: i32,
    workers: usize,
) -> io::Result<zstd::stream::write::Encoder<'static, W>> {
    let mut encoder = zstd::stream::write::Encoder::new(output, level)?;
    encoder.multithread(u32::try_from(workers).unwrap_or(1).max(1))?;
    encoder.set_parameter(CParameter::JobSize(ZSTD_JOB_SIZE))?;
    encoder.set_parameter(CParameter::OverlapSizeLog(ZSTD_OVERLAP_LOG))?;
    Ok(encoder)
}

/// Opens a reader that undoes whatever compression `input` has (detected from its magic
/// bytes). Concatenated gzip members are read as one stream, like Go's reader does.
pub fn decompressing_reader<'a, R: Read + 'a>(input: R) -> io::Result<Box<dyn Read + 'a>> {
    let mut input = io::BufReader::with_capacity(256 * 1024, input);
    let prefix = io::BufRead::fill_buf(&mut input)?;
    Ok(match Compression::detect(prefix) {
        Compression::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(input)),
        Compression::Zstd => Box::new(zstd::stream::read::Decoder::with_buffer(input)?),
        Compression::Uncompressed => Box::new(input),
    })
}

/// A reader computing the sha256 and length of what passes through it.
pub struct HashingReader<R> {
    inner: R,
    hasher: Sha256,
    size: u64,
}

impl<R: Read> HashingReader<R> {
    /// Wraps `inner`.
    pub fn new(inner: R) -> Self {
        HashingReader {
            inner,
            hasher: Sha256::new(),
            size: 0,
        }
    }

    /// The digest and size of everything read so far.
    pub fn finish(self) -> CompressedLayer {
        CompressedLayer {
            diff_id: Digest::from_sha256(self.hasher.finalize().into()),
            uncompressed_size: self.size,
        }
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.size += n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests;
