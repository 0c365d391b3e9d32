//! Output is streamed as it is produced, tagged by stream, in order.

mod common;

use std::time::{Duration, Instant};

use common::{OverlayFixture, can_run};
use rbuild_sandbox::{SandboxSpec, Stream};

#[test]
fn chunks_arrive_in_order_and_tagged() {
    if !can_run("chunks_arrive_in_order_and_tagged") {
        return;
    }
    let fx = OverlayFixture::new();
    let spec = SandboxSpec::new(
        fx.rootfs(),
        [
            "sh",
            "-c",
            "echo a; sleep 0.15; echo b >&2; sleep 0.15; echo c",
        ],
    );
    let mut chunks = Vec::new();
    let outcome = spec
        .run(|stream, data| chunks.push((stream, String::from_utf8_lossy(data).into_owned())))
        .unwrap();
    assert!(outcome.exit.success());
    assert_eq!(
        chunks,
        [
            (Stream::Stdout, "a\n".to_string()),
            (Stream::Stderr, "b\n".to_string()),
            (Stream::Stdout, "c\n".to_string())
        ]
    );
}

#[test]
fn output_is_live_not_buffered_until_exit() {
    if !can_run("output_is_live_not_buffered_until_exit") {
        return;
    }
    let fx = OverlayFixture::new();
    let spec = SandboxSpec::new(
        fx.rootfs(),
        ["sh", "-c", "echo early; sleep 0.6; echo late"],
    );
    let start = Instant::now();
    let mut first = None;
    let outcome = spec
        .run(|_, _| {
            first.get_or_insert_with(|| start.elapsed());
        })
        .unwrap();
    assert!(outcome.exit.success());
    let total = start.elapsed();
    let first = first.expect("no output");
    assert!(
        total - first >= Duration::from_millis(400),
        "first chunk at {first:?} of {total:?}"
    );
}

#[test]
fn large_output_is_complete() {
    if !can_run("large_output_is_complete") {
        return;
    }
    let fx = OverlayFixture::new();
    let spec = SandboxSpec::new(
        fx.rootfs(),
        [
            "sh",
            "-c",
            "head -c 3000000 /dev/zero; head -c 100000 /dev/zero >&2",
        ],
    );
    let (outcome, output) = spec.run_collect().unwrap();
    assert!(outcome.exit.success());
    assert_eq!(output.bytes(Stream::Stdout).len(), 3_000_000);
    assert_eq!(output.bytes(Stream::Stderr).len(), 100_000);
}

#[test]
fn parallel_runs_from_many_threads() {
    if !can_run("parallel_runs_from_many_threads") {
        return;
    }
    // The caller is multi-threaded (like a builder running stages in parallel): runs must
    // not interfere or deadlock.
    let handles: Vec<_> = (0..6)
        .map(|i| {
            std::thread::spawn(move || {
                let fx = OverlayFixture::new();
                let spec = SandboxSpec::new(fx.rootfs(), ["sh", "-c", &format!("echo run{i}")]);
                let (outcome, output) = spec.run_collect().unwrap();
                assert!(outcome.exit.success());
                assert_eq!(output.stdout(), format!("run{i}\n"));
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
}
