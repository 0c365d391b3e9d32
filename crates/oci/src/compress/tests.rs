use std::io::{Read, Write};
use std::sync::LazyLock;

use super::*;

/// Compressible but not trivial data: text-like lines with a counter.
fn sample(len: usize) -> Vec<u8> {
    let mut data = Vec::with_capacity(len + 64);
    let mut i = 0u64;
    while data.len() < len {
        data.extend_from_slice(format!("line {i} of the sample {}\n", i * 7919 % 1013).as_bytes());
        i += 1;
    }
    data.truncate(len);
    data
}

fn pool(threads: usize) -> &'static rayon::ThreadPool {
    Box::leak(Box::new(
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap(),
    ))
}

static ONE: LazyLock<&'static rayon::ThreadPool> = LazyLock::new(|| pool(1));
static FOUR: LazyLock<&'static rayon::ThreadPool> = LazyLock::new(|| pool(4));

fn gzip_with(data: &[u8], pool: &'static rayon::ThreadPool, chunk: usize) -> Vec<u8> {
    let mut writer = ParallelGzipWriter::with_pool(Vec::new(), 6, pool);
    for piece in data.chunks(chunk.max(1)) {
        writer.write_all(piece).unwrap();
    }
    writer.finish().unwrap()
}

#[test]
fn gzip_is_one_member_that_decompresses_to_the_input() {
    for len in [
        0,
        1,
        1000,
        GZIP_BLOCK_SIZE,
        GZIP_BLOCK_SIZE + 1,
        5 * GZIP_BLOCK_SIZE + 17,
    ] {
        let data = sample(len);
        let gz = gzip_with(&data, &FOUR, 10_000);
        // A single-member decoder reads everything: the blocks form one deflate stream.
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&gz[..])
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, data, "length {len}");
        assert!(len < 1000 || gz.len() < len / 2, "poor ratio at {len}");
    }
}

#[test]
fn gzip_output_does_not_depend_on_threads_or_write_sizes() {
    let data = sample(3 * GZIP_BLOCK_SIZE + 999);
    let reference = gzip_with(&data, &ONE, 7);
    assert_eq!(gzip_with(&data, &FOUR, 1 << 20), reference);
    assert_eq!(gzip_with(&data, &FOUR, 4096), reference);
}

#[test]
fn gzip_is_understood_by_the_gzip_tool() {
    let data = sample(2 * GZIP_BLOCK_SIZE + 5);
    let gz = gzip_with(&data, &FOUR, 65536);
    let mut child = match std::process::Command::new("gzip")
        .args(["-d", "-c"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
    {
        Ok(child) => child,
        Err(e) => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "gzip missing: {e}"
            );
            eprintln!("skipping: gzip not available ({e})");
            return;
        }
    };
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(&gz));
    let output = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(output.status.success());
    assert_eq!(output.stdout, data);
}

#[test]
fn zstd_output_does_not_depend_on_worker_count() {
    // Several jobs' worth, so that how jobs are cut and overlapped matters.
    let data = sample(7 << 20);
    let encode = |workers| {
        let mut enc = zstd_encoder(Vec::new(), 3, workers).unwrap();
        enc.write_all(&data).unwrap();
        enc.finish().unwrap()
    };
    let one = encode(1);
    assert_eq!(encode(3), one);
    assert_eq!(encode(0), one, "0 workers must still mean one worker");
    assert_eq!(zstd::decode_all(&one[..]).unwrap(), data);
}

#[test]
fn compress_reports_diff_id_and_round_trips_every_algorithm() {
    let data = sample(400_000);
    let expected = Digest::of_bytes(&data);
    for compression in [
        Compression::Gzip,
        Compression::Zstd,
        Compression::Uncompressed,
    ] {
        let options = CompressionOptions {
            compression,
            level: None,
        };
        let mut first = Vec::new();
        let layer = compress(&data[..], &mut first, options).unwrap();
        assert_eq!(layer.diff_id, expected);
        assert_eq!(layer.uncompressed_size, data.len() as u64);
        let mut second = Vec::new();
        compress(&data[..], &mut second, options).unwrap();
        assert_eq!(
            Digest::of_bytes(&first),
            Digest::of_bytes(&second),
            "{compression}"
        );
        let mut back = Vec::new();
        decompressing_reader(&first[..])
            .unwrap()
            .read_to_end(&mut back)
            .unwrap();
        assert_eq!(back, data, "{compression}");
    }
}

#[test]
fn levels_are_clamped_and_names_parse() {
    let o = CompressionOptions {
        compression: Compression::Gzip,
        level: Some(42),
    };
    assert_eq!(o.effective_level(), 9);
    let o = CompressionOptions {
        compression: Compression::Zstd,
        level: None,
    };
    assert_eq!(o.effective_level(), 3);
    assert_eq!("zstd".parse::<Compression>().unwrap(), Compression::Zstd);
    let err = "lz4".parse::<Compression>().unwrap_err().to_string();
    assert!(err.contains("gzip, zstd, uncompressed"), "{err}");
}
