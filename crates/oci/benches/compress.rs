//! Layer compression throughput: our parallel gzip and zstd against `pigz -p 2 -6` and
//! `zstd -T2 -3` on the same ~500 MB tar of /usr, in the same run.
//!
//! `cargo bench -p rbuild-oci --bench compress` (size: `RBUILD_BENCH_MB`, default 500).
//! Every contender runs as a child process (ours: this binary re-executed with `--child`),
//! measured alike with wait4: MB/s of uncompressed input, CPU seconds, peak RSS, ratio.
//! Best of `RBUILD_BENCH_RUNS` (default 3) interleaved runs, since the machine is shared.

use std::fs::File;
use std::io::{self, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use rbuild_oci::compress::{Compression, CompressionOptions, THREADS_ENV, compress_known};

/// Counts bytes written (what the compressed blob would weigh) without storing them.
struct CountingSink(u64);

impl Write for CountingSink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0 += buf.len() as u64;
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The first `megabytes` MiB of a tar of /usr, made by the shell so this process stays small
/// (a child's peak RSS as the kernel reports it starts from its parent's at spawn time).
fn make_input(path: &Path, megabytes: u64) {
    let script = format!(
        "tar cf - --ignore-failed-read /usr 2>/dev/null | head -c {} > '{}'; cat '{}' > /dev/null",
        megabytes << 20,
        path.display(),
        path.display()
    );
    let status = Command::new("sh")
        .args(["-c", &script])
        .status()
        .expect("run sh");
    assert!(status.success(), "making the input failed");
}

/// Child mode: compress `path` to standard output with our compressor, as an export does:
/// the layer's digest is already known, so it is not hashed again.
fn child(kind: &str, path: &Path) {
    let (compression, level) = match kind {
        "gzip" => (Compression::Gzip, 6),
        _ => (Compression::Zstd, 3),
    };
    let input = File::open(path).expect("open input");
    // An owned handle on fd 1, which the writing thread can take (the compressor writes
    // whole 1 MiB buffers, so no BufWriter).
    let stdout = std::os::fd::AsFd::as_fd(&io::stdout())
        .try_clone_to_owned()
        .expect("duplicate stdout");
    let mut out = File::from(stdout);
    compress_known(
        input,
        &mut out,
        CompressionOptions {
            compression,
            level: Some(level),
        },
    )
    .expect("compress");
    out.flush().expect("flush");
}

/// Runs `program` on the input; returns wall seconds, output bytes, and the child's own CPU
/// seconds and peak RSS (from wait4, so nothing else is counted).
fn tool(path: &Path, program: &str, args: &[&str]) -> Option<(f64, u64, f64, f64)> {
    let input = File::open(path).ok()?;
    let start = Instant::now();
    let mut child = Command::new(program)
        .args(args)
        .stdin(input)
        .stdout(Stdio::piped())
        .spawn()
        .ok()?;
    let mut stdout = child.stdout.take()?;
    let mut sink = CountingSink(0);
    io::copy(&mut stdout, &mut sink).ok()?;
    let pid = libc::pid_t::try_from(child.id()).ok()?;
    let mut status = 0;
    // SAFETY: wait4 writes the status and the rusage of our own child into our variables.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let secs = start.elapsed().as_secs_f64();
    if waited != pid || !libc::WIFEXITED(status) || libc::WEXITSTATUS(status) != 0 {
        return None;
    }
    let t = |tv: libc::timeval| tv.tv_sec as f64 + tv.tv_usec as f64 / 1e6;
    let cpu = t(usage.ru_utime) + t(usage.ru_stime);
    Some((secs, sink.0, cpu, usage.ru_maxrss as f64 / 1024.0))
}

fn main() {
    // Two workers, like the tools below, whatever the machine has.
    // SAFETY: set before any thread exists.
    unsafe { std::env::set_var(THREADS_ENV, "2") };
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "--list") {
        return; // `cargo test --benches` probes with --list
    }
    if let [_, flag, kind, path] = args.as_slice()
        && flag == "--child"
    {
        child(kind, Path::new(path));
        return;
    }
    let me = std::env::current_exe().expect("own path");
    let me = me.to_str().expect("UTF-8 path");
    let megabytes: u64 = std::env::var("RBUILD_BENCH_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(500);
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("usr.tar");
    make_input(&path, megabytes);
    let path_str = path.to_str().expect("UTF-8 path");
    let size = std::fs::metadata(&path).expect("stat input").len();
    let mb = size as f64 / 1e6;
    println!("input: {mb:.0} MB tar of /usr, 2 threads each");

    let runs: usize = std::env::var("RBUILD_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    println!(
        "best of {runs} runs (interleaved); CPU = user+system seconds of that run; RSS = peak"
    );
    type Contender<'a> = (&'a str, Box<dyn Fn() -> Option<(f64, u64, f64, f64)> + 'a>);
    let pairs: [[Contender<'_>; 2]; 2] = [
        [
            (
                "gzip -6 (rbuild)",
                Box::new(|| tool(&path, me, &["--child", "gzip", path_str])),
            ),
            (
                "pigz -p 2 -6",
                Box::new(|| tool(&path, "pigz", &["-p", "2", "-6", "-c"])),
            ),
        ],
        [
            (
                "zstd -3 (rbuild)",
                Box::new(|| tool(&path, me, &["--child", "zstd", path_str])),
            ),
            (
                "zstd -T2 -3",
                Box::new(|| tool(&path, "zstd", &["-T2", "-3", "-c", "-q"])),
            ),
        ],
    ];
    for pair in &pairs {
        let mut best: [Option<(f64, u64, f64, f64)>; 2] = [None, None];
        for _ in 0..runs {
            for (slot, (_, run)) in pair.iter().enumerate() {
                let Some(result) = run() else { continue };
                if best[slot].is_none_or(|b| result.0 < b.0) {
                    best[slot] = Some(result);
                }
            }
        }
        for (slot, (name, _)) in pair.iter().enumerate() {
            match best[slot] {
                Some((secs, out, cpu, rss)) => println!(
                    "{name:<18} {:>7.1} MB/s  {secs:>6.2} s  CPU {cpu:>6.2} s  ratio {:.3}  peak RSS {rss:.1} MB",
                    mb / secs,
                    out as f64 / size as f64
                ),
                None => println!("{name:<18} not available"),
            }
        }
        if let (Some(ours), Some(theirs)) = (best[0], best[1]) {
            println!(
                "  -> throughput {:.0}% of the tool (target >= 85%); CPU per byte {:.0}% of the tool",
                100.0 * theirs.0 / ours.0,
                100.0 * ours.2 / theirs.2
            );
        }
    }
}
