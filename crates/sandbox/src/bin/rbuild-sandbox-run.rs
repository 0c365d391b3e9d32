//! A small command-line front end to the sandbox, for tests (rootless runs as another user)
//! and for trying things by hand:
//!
//! ```text
//! rbuild-sandbox-run (--dir ROOT | --lower DIR... --upper DIR --work DIR)
//!     [--user SPEC] [--cwd DIR] [--hostname NAME] [--net none|host] [--env K=V]...
//!     [--bind SRC:DST[:ro]]... [--tmpfs DST]... [--timeout-ms N]
//!     [--stdin inherit] [--tty ROWSxCOLS] -- COMMAND [ARG]...
//! ```
//! `--stdin inherit` forwards this process's stdin; `--tty` runs the command on a terminal
//! of that size (this process's terminal, if any, is left as it is).
//! Output is passed through; the exit code is the command's, 128+N for signal N, 124 for a
//! timeout and 125 for a sandbox error (printed on stderr).

use std::io::Write;
use std::os::fd::AsFd;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use rbuild_sandbox::{
    Exit, Mount, Network, OverlayRoot, RootFs, SandboxSpec, Stream, Terminal, TerminalSize,
};

fn parse_size(text: &str) -> Option<TerminalSize> {
    let (rows, cols) = text.split_once('x')?;
    Some(TerminalSize {
        rows: rows.parse().ok()?,
        cols: cols.parse().ok()?,
    })
}

fn usage(message: &str) -> ExitCode {
    eprintln!("rbuild-sandbox-run: {message}");
    eprintln!(
        "usage: rbuild-sandbox-run (--dir ROOT | --lower DIR... --upper DIR --work DIR) [--user SPEC] [--cwd DIR] \
         [--hostname NAME] [--net none|host] [--env K=V]... [--bind SRC:DST[:ro]]... [--tmpfs DST]... \
         [--timeout-ms N] [--stdin inherit] [--tty ROWSxCOLS] -- COMMAND [ARG]..."
    );
    ExitCode::from(125)
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let (mut dir, mut lowers, mut upper, mut work) = (None, Vec::new(), None, None);
    let mut settings: Vec<(String, String)> = Vec::new();
    let mut argv = Vec::new();
    while let Some(flag) = args.next() {
        if flag == "--" {
            argv.extend(args.by_ref());
            break;
        }
        let Some(value) = args.next() else {
            return usage(&format!("{flag} needs a value"));
        };
        match flag.as_str() {
            "--dir" => dir = Some(PathBuf::from(value)),
            "--lower" => lowers.push(PathBuf::from(value)),
            "--upper" => upper = Some(PathBuf::from(value)),
            "--work" => work = Some(PathBuf::from(value)),
            _ => settings.push((flag, value)),
        }
    }
    let rootfs = match (dir, upper, work) {
        (Some(dir), None, None) if lowers.is_empty() => RootFs::Dir(dir),
        (None, Some(upper), Some(work)) if !lowers.is_empty() => RootFs::Overlay(OverlayRoot {
            lowers,
            upper,
            work,
        }),
        _ => return usage("give either --dir, or --lower/--upper/--work"),
    };
    let mut spec = SandboxSpec::new(rootfs, argv);
    for (flag, value) in settings {
        spec = match flag.as_str() {
            "--user" => match value.parse() {
                Ok(user) => spec.user(user),
                Err(e) => return usage(&e.to_string()),
            },
            "--cwd" => spec.cwd(value),
            "--hostname" => spec.hostname(value),
            "--net" if value == "none" => spec.network(Network::None),
            "--net" if value == "host" => spec.network(Network::Host),
            "--env" => match value.split_once('=') {
                Some((k, v)) => spec.env(k, v),
                None => return usage("--env needs K=V"),
            },
            "--bind" => {
                let parts: Vec<&str> = value.split(':').collect();
                match parts.as_slice() {
                    [src, dst] => spec.mount(Mount::Bind {
                        src: src.into(),
                        dst: dst.into(),
                        readonly: false,
                    }),
                    [src, dst, "ro"] => spec.mount(Mount::Bind {
                        src: src.into(),
                        dst: dst.into(),
                        readonly: true,
                    }),
                    _ => return usage("--bind needs SRC:DST[:ro]"),
                }
            }
            "--tmpfs" => spec.mount(Mount::Tmpfs {
                dst: value.into(),
                size: None,
            }),
            "--timeout-ms" => match value.parse() {
                Ok(ms) => spec.timeout(Duration::from_millis(ms)),
                Err(_) => return usage("--timeout-ms needs a number"),
            },
            "--stdin" if value == "inherit" => {
                match std::io::stdin().as_fd().try_clone_to_owned() {
                    Ok(fd) => spec.stdin(fd),
                    Err(e) => return usage(&format!("cannot duplicate stdin: {e}")),
                }
            }
            "--tty" => match parse_size(&value) {
                Some(size) => spec.terminal(Terminal::new(size)),
                None => return usage("--tty needs ROWSxCOLS, e.g. 24x80"),
            },
            other => return usage(&format!("unknown option {other}")),
        };
    }
    let result = spec.run(|stream, bytes| {
        let _ = match stream {
            Stream::Stdout => {
                let mut out = std::io::stdout().lock();
                out.write_all(bytes).and_then(|()| out.flush())
            }
            Stream::Stderr => std::io::stderr().write_all(bytes),
        };
    });
    match result {
        Ok(outcome) => match outcome.exit {
            Exit::Code(code) => ExitCode::from(code.clamp(0, 255) as u8),
            Exit::Signal(signal) => ExitCode::from((128 + signal).clamp(0, 255) as u8),
            Exit::TimedOut | Exit::Cancelled => ExitCode::from(124),
        },
        Err(e) => {
            eprintln!("rbuild-sandbox-run: {e}");
            ExitCode::from(125)
        }
    }
}
