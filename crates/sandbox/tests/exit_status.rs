//! Exit codes, signals, timeouts, cancellation, orphan reaping and setup errors.

mod common;

use std::fs;
use std::thread;
use std::time::{Duration, Instant};

use common::{OverlayFixture, can_run, run, sh};
use rbuild_sandbox::{CancelToken, Exit, SandboxError, SandboxSpec, UserSpec};

#[test]
fn exit_codes_are_returned() {
    if !can_run("exit_codes_are_returned") {
        return;
    }
    let fx = OverlayFixture::new();
    for code in [0, 1, 3, 255] {
        let (outcome, _) = run(&SandboxSpec::new(
            fx.rootfs(),
            ["sh", "-c", &format!("exit {code}")],
        ));
        assert_eq!(outcome.exit, Exit::Code(code));
    }
}

#[test]
fn death_by_signal_is_reported() {
    if !can_run("death_by_signal_is_reported") {
        return;
    }
    let fx = OverlayFixture::new();
    let (outcome, _) = run(&SandboxSpec::new(
        fx.rootfs(),
        ["sh", "-c", "kill -TERM $$"],
    ));
    assert_eq!(outcome.exit, Exit::Signal(libc::SIGTERM));
    let (outcome, _) = run(&SandboxSpec::new(
        fx.rootfs(),
        ["sh", "-c", "kill -KILL $$"],
    ));
    assert_eq!(outcome.exit, Exit::Signal(libc::SIGKILL));
}

/// Host processes whose command line is `sleep <marker>`.
fn host_sleepers(marker: &str) -> usize {
    let wanted = format!("sleep\0{marker}\0");
    fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| fs::read(e.ok()?.path().join("cmdline")).ok())
        .filter(|cmdline| cmdline == wanted.as_bytes())
        .count()
}

#[test]
fn timeout_kills_the_whole_tree_quickly() {
    if !can_run("timeout_kills_the_whole_tree_quickly") {
        return;
    }
    let fx = OverlayFixture::new();
    let marker = "987654";
    let script = format!("sleep {marker} & (sleep {marker} &) ; sleep {marker}");
    let spec =
        SandboxSpec::new(fx.rootfs(), ["sh", "-c", &script]).timeout(Duration::from_millis(300));
    let start = Instant::now();
    let (outcome, _) = run(&spec);
    assert_eq!(outcome.exit, Exit::TimedOut);
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "took {:?}",
        start.elapsed()
    );
    assert_eq!(host_sleepers(marker), 0, "sleepers survived the timeout");
}

#[test]
fn cancel_kills_the_whole_tree() {
    if !can_run("cancel_kills_the_whole_tree") {
        return;
    }
    let fx = OverlayFixture::new();
    let marker = "876543";
    let token = CancelToken::new();
    let spec = SandboxSpec::new(
        fx.rootfs(),
        ["sh", "-c", &format!("sleep {marker} & sleep {marker}")],
    )
    .cancel_on(token.clone());
    let canceller = thread::spawn(move || {
        thread::sleep(Duration::from_millis(200));
        token.cancel();
    });
    let start = Instant::now();
    let (outcome, _) = run(&spec);
    canceller.join().unwrap();
    assert_eq!(outcome.exit, Exit::Cancelled);
    assert!(start.elapsed() < Duration::from_secs(3));
    assert_eq!(host_sleepers(marker), 0);
}

#[test]
fn orphans_are_reaped_by_the_init() {
    if !can_run("orphans_are_reaped_by_the_init") {
        return;
    }
    let fx = OverlayFixture::new();
    // The inner shell exits at once, orphaning its sleep, which is re-parented to PID 1 and
    // exits 50 ms later. Without a reaping init it would stay a zombie.
    let out = sh(
        &fx,
        "sh -c 'sleep 0.05 &'; sleep 0.5; cat /proc/[0-9]*/stat | awk '{print $3}' | grep -c Z || true",
    );
    assert_eq!(out.trim(), "0", "zombies left: {out}");
}

#[test]
fn missing_program_is_a_clear_error() {
    if !can_run("missing_program_is_a_clear_error") {
        return;
    }
    let fx = OverlayFixture::new();
    let err = SandboxSpec::new(fx.rootfs(), ["no-such-tool", "x"])
        .run(|_, _| {})
        .unwrap_err();
    assert!(matches!(err, SandboxError::Exec { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains("\"no-such-tool\"") && text.contains("not found in PATH="),
        "{text}"
    );
    assert!(text.contains("No such file or directory"), "{text}");

    let err = SandboxSpec::new(fx.rootfs(), ["/opt/tool"])
        .run(|_, _| {})
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("no such file in the root file system"),
        "{err}"
    );

    fs::write(fx.upper().join("script"), "plain text").unwrap();
    let err = SandboxSpec::new(fx.rootfs(), ["/script"])
        .run(|_, _| {})
        .unwrap_err();
    assert!(err.to_string().contains("not executable"), "{err}");
}

#[test]
fn unknown_user_and_group_are_clear_errors() {
    if !can_run("unknown_user_and_group_are_clear_errors") {
        return;
    }
    let fx = OverlayFixture::new();
    let user: UserSpec = "ghost".parse().unwrap();
    let err = SandboxSpec::new(fx.rootfs(), ["true"])
        .user(user)
        .run(|_, _| {})
        .unwrap_err();
    assert!(
        matches!(&err, SandboxError::UnknownUser { name } if name == "ghost"),
        "{err:?}"
    );
    let user: UserSpec = "app:ghosts".parse().unwrap();
    let err = SandboxSpec::new(fx.rootfs(), ["true"])
        .user(user)
        .run(|_, _| {})
        .unwrap_err();
    assert!(
        matches!(&err, SandboxError::UnknownGroup { name } if name == "ghosts"),
        "{err:?}"
    );
    assert!(err.to_string().contains("/etc/group"));
}

#[test]
fn setup_failures_name_the_step() {
    if !can_run("setup_failures_name_the_step") {
        return;
    }
    let fx = OverlayFixture::new();
    // overlayfs refuses a work directory on another file system than the upper one.
    let elsewhere = tempfile::tempdir_in("/dev/shm").unwrap();
    let rootfs = rbuild_sandbox::RootFs::Overlay(rbuild_sandbox::OverlayRoot {
        lowers: vec![fx.lower()],
        upper: fx.upper(),
        work: elsewhere.path().to_path_buf(),
    });
    let err = SandboxSpec::new(rootfs, ["true"])
        .run(|_, _| {})
        .unwrap_err();
    let text = err.to_string();
    assert!(
        matches!(
            err,
            SandboxError::Setup {
                step: rbuild_sandbox::SetupStep::MountRoot,
                ..
            }
        ),
        "{text}"
    );
    assert!(text.contains("mounting the root file system"), "{text}");
    assert!(
        text.contains("kernel: ") || text.contains("dmesg"),
        "points at the kernel's reason: {text}"
    );
    // Quick sanity that the fixture itself works.
    assert_eq!(sh(&fx, "echo ok"), "ok\n");
}

#[test]
fn a_panicking_output_sink_still_kills_the_tree() {
    if !can_run("a_panicking_output_sink_still_kills_the_tree") {
        return;
    }
    let fx = OverlayFixture::new();
    let marker = "765432";
    let spec = SandboxSpec::new(
        fx.rootfs(),
        ["sh", "-c", &format!("echo go; sleep {marker}")],
    );
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        spec.run(|_, _| panic!("sink gave up"))
    }));
    assert!(result.is_err());
    assert_eq!(
        host_sleepers(marker),
        0,
        "the sandbox outlived its caller's panic"
    );
}
