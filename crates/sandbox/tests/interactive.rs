//! Interactive runs: input forwarded to the command's stdin, and a pseudo-terminal made
//! inside the sandbox (controlling terminal, window size, resizes, Ctrl-C as a byte).

mod common;

use std::io::Write;
use std::os::fd::OwnedFd;
use std::time::{Duration, Instant};

use common::{OverlayFixture, can_run, run};
use rbuild_sandbox::{CancelToken, Exit, SandboxSpec, Stream, Terminal, TerminalSize};

/// A pipe: what the test writes to `writer` is what the sandbox reads from `reader`.
fn pipe() -> (OwnedFd, std::fs::File) {
    let (reader, writer) = std::io::pipe().expect("pipe");
    (reader.into(), std::fs::File::from(OwnedFd::from(writer)))
}

#[test]
fn stdin_is_forwarded_until_end_of_file() {
    if !can_run("stdin_is_forwarded_until_end_of_file") {
        return;
    }
    let fx = OverlayFixture::new();
    let (reader, mut writer) = pipe();
    // More than a pipe buffer each way: forwarding must not wait for output to be drained,
    // nor draining for forwarding.
    let input: Vec<u8> = (0..1_000_000u32).map(|i| b'a' + (i % 26) as u8).collect();
    let feeder = {
        let input = input.clone();
        std::thread::spawn(move || {
            writer.write_all(&input).expect("feeding stdin");
            // Dropping the writer is end of file for `cat`.
        })
    };
    let spec = SandboxSpec::new(fx.rootfs(), ["cat"]).stdin(reader);
    let (outcome, output) = run(&spec);
    feeder.join().expect("feeder thread");
    assert_eq!(outcome.exit, Exit::Code(0));
    assert_eq!(output.bytes(Stream::Stdout).len(), input.len());
    assert!(
        output.bytes(Stream::Stdout) == input,
        "cat echoed the input"
    );
}

#[test]
fn without_a_source_stdin_is_dev_null_and_no_terminal() {
    if !can_run("without_a_source_stdin_is_dev_null_and_no_terminal") {
        return;
    }
    let fx = OverlayFixture::new();
    let spec = SandboxSpec::new(
        fx.rootfs(),
        [
            "sh",
            "-c",
            "cat; test -t 0 || echo stdin-not-tty; readlink /proc/self/fd/0; \
             (exec 3</dev/tty) 2>/dev/null || echo no-controlling-terminal",
        ],
    );
    let (outcome, output) = run(&spec);
    assert!(outcome.exit.success(), "{}", output.stderr());
    assert_eq!(
        output.stdout(),
        "stdin-not-tty\n/dev/null\nno-controlling-terminal\n"
    );
}

#[test]
fn a_command_that_ignores_its_input_still_ends() {
    if !can_run("a_command_that_ignores_its_input_still_ends") {
        return;
    }
    let fx = OverlayFixture::new();
    // The writer stays open: the run must not wait for the source to end.
    let (reader, _writer) = pipe();
    let spec = SandboxSpec::new(fx.rootfs(), ["sh", "-c", "echo done; exit 4"]).stdin(reader);
    let (outcome, output) = run(&spec);
    assert_eq!(outcome.exit, Exit::Code(4));
    assert_eq!(output.stdout(), "done\n");
}

#[test]
fn terminal_is_the_controlling_terminal_on_all_three_streams() {
    if !can_run("terminal_is_the_controlling_terminal_on_all_three_streams") {
        return;
    }
    let fx = OverlayFixture::new();
    let spec = SandboxSpec::new(
        fx.rootfs(),
        [
            "sh",
            "-c",
            "tty; test -t 0 && test -t 1 && test -t 2 && echo all-three; \
             echo to-stderr >&2; echo via-dev-tty > /dev/tty; exit 3",
        ],
    )
    .terminal(Terminal::default());
    let (outcome, output) = run(&spec);
    assert_eq!(outcome.exit, Exit::Code(3), "{}", output.stdout());
    // Everything comes through the terminal, with its newline translation.
    assert_eq!(
        output.stdout(),
        "/dev/pts/0\r\nall-three\r\nto-stderr\r\nvia-dev-tty\r\n"
    );
    assert_eq!(output.stderr(), "");
}

#[test]
fn terminal_belongs_to_the_user() {
    if !can_run("terminal_belongs_to_the_user") {
        return;
    }
    let fx = OverlayFixture::new();
    let spec = SandboxSpec::new(fx.rootfs(), ["sh", "-c", "stat -c '%u %g' $(tty)"])
        .user("app".parse().unwrap())
        .terminal(Terminal::default());
    let (outcome, output) = run(&spec);
    assert!(outcome.exit.success(), "{}", output.stdout());
    assert_eq!(output.stdout(), "1000 5\r\n");
}

#[test]
fn the_window_size_set_by_the_parent_is_seen_inside() {
    if !can_run("the_window_size_set_by_the_parent_is_seen_inside") {
        return;
    }
    let fx = OverlayFixture::new();
    let size = TerminalSize {
        rows: 33,
        cols: 101,
    };
    let spec = SandboxSpec::new(fx.rootfs(), ["stty", "size"]).terminal(Terminal::new(size));
    let (outcome, output) = run(&spec);
    assert!(outcome.exit.success(), "{}", output.stdout());
    assert_eq!(output.stdout(), "33 101\r\n");
}

#[test]
fn input_reaches_the_terminal_and_resizes_come_before_later_input() {
    if !can_run("input_reaches_the_terminal_and_resizes_come_before_later_input") {
        return;
    }
    let fx = OverlayFixture::new();
    let (reader, writer) = pipe();
    let terminal = Terminal::new(TerminalSize { rows: 10, cols: 20 });
    let handle = terminal.clone();
    let spec = SandboxSpec::new(
        fx.rootfs(),
        [
            "sh",
            "-c",
            "stty -echo; echo ready; read a; echo got-$a; stty size; read b; stty size",
        ],
    )
    .stdin(reader)
    .terminal(terminal);
    let mut seen = String::new();
    let mut writer = Some(writer);
    let outcome = spec
        .run(|stream, data| {
            assert_eq!(stream, Stream::Stdout);
            seen.push_str(&String::from_utf8_lossy(data));
            let Some(w) = writer.as_mut() else { return };
            if seen.contains("ready") && !seen.contains("got-") && !seen.contains("sent") {
                w.write_all(b"first\n").unwrap();
                seen.push_str("[sent]");
            } else if seen.contains("10 20\r\n") {
                handle.resize(TerminalSize { rows: 50, cols: 60 });
                w.write_all(b"second\n").unwrap();
                writer = None;
            }
        })
        .unwrap();
    assert!(outcome.exit.success(), "{seen}");
    assert!(seen.contains("got-first\r\n10 20\r\n"), "{seen}");
    assert!(seen.ends_with("50 60\r\n"), "{seen}");
}

#[test]
fn ctrl_c_is_a_byte_the_terminal_turns_into_sigint() {
    if !can_run("ctrl_c_is_a_byte_the_terminal_turns_into_sigint") {
        return;
    }
    let fx = OverlayFixture::new();
    let (reader, writer) = pipe();
    let spec = SandboxSpec::new(fx.rootfs(), ["sh", "-c", "echo ready; exec sleep 30"])
        .stdin(reader)
        .terminal(Terminal::default());
    let mut writer = Some(writer);
    let started = Instant::now();
    let outcome = spec
        .run(|_, data| {
            if String::from_utf8_lossy(data).contains("ready")
                && let Some(mut w) = writer.take()
            {
                w.write_all(b"\x03").unwrap();
            }
        })
        .unwrap();
    assert_eq!(outcome.exit, Exit::Signal(libc::SIGINT));
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[test]
fn cancel_ends_a_terminal_run_promptly() {
    if !can_run("cancel_ends_a_terminal_run_promptly") {
        return;
    }
    let fx = OverlayFixture::new();
    let (reader, _writer) = pipe();
    let cancel = CancelToken::new();
    let spec = SandboxSpec::new(fx.rootfs(), ["sh", "-c", "sleep 30 & sleep 30"])
        .stdin(reader)
        .terminal(Terminal::default())
        .cancel_on(cancel.clone());
    let trigger = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        cancel.cancel();
    });
    let started = Instant::now();
    let (outcome, _) = run(&spec);
    trigger.join().unwrap();
    assert_eq!(outcome.exit, Exit::Cancelled);
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn the_init_keeps_none_of_the_callers_descriptors() {
    if !can_run("the_init_keeps_none_of_the_callers_descriptors") {
        return;
    }
    let fx = OverlayFixture::new();
    // Descriptors the caller (or its other threads) has open when the sandbox is cloned: a
    // write end kept by the init would stop that pipe's reader from ever seeing end of file.
    let held: Vec<_> = (0..16).map(|_| pipe()).collect();
    // The init closes its own copies of the output pipes just after starting the command;
    // listing before it has would race with those closes (ls then fails to stat them).
    let spec = SandboxSpec::new(fx.rootfs(), ["sh", "-c", "sleep 0.3; ls /proc/1/fd"]);
    let (outcome, output) = run(&spec);
    drop(held);
    assert!(outcome.exit.success(), "{}", output.stderr());
    let fds: Vec<u32> = output
        .stdout()
        .split_whitespace()
        .filter_map(|fd| fd.parse().ok())
        .collect();
    // 0, 1 and 2 as the caller had them, and the init's report pipe.
    assert!(
        fds.iter().filter(|fd| **fd > 2).count() <= 1,
        "the init holds {fds:?}"
    );
}
