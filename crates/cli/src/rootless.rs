//! Rootless operation: a non-root `rbuild` re-executes itself inside a new user namespace
//! (and mount namespace) where it is root, with the subordinate id ranges of /etc/subuid
//! and /etc/subgid mapped when the setuid helpers allow it. Everything after that — overlay
//! mounts (with `userxattr`), the sandbox, ownership changes — happens inside, as root of
//! that namespace, and nothing needs a daemon or real root.
//!
//! The child cannot map itself: between `unshare` and `exec` it sends its pid to a thread
//! of the parent, which runs newuidmap/newgidmap (or writes a single-id map) and releases
//! it. The store root is decided before re-executing, from the real user's environment.

use std::ffi::OsString;
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::Command;

/// Set in the re-executed child so that it does not try again.
const INSIDE_ENV: &str = "RBUILD_IN_USERNS";

/// Commands that work without namespaces (they read files or talk to registries only).
const UNPRIVILEGED: &[&str] = &[
    "check",
    "outline",
    "debug",
    "help",
    "--help",
    "-h",
    "--version",
    "-V",
];

/// Re-executes this process in a user namespace when that is needed; returns the child's
/// exit code to exit with, or None to carry on in this process.
pub fn reexec_if_needed(args: &[OsString], root_flag: Option<&std::path::Path>) -> Option<i32> {
    if rustix::process::geteuid().is_root() || std::env::var_os(INSIDE_ENV).is_some() {
        return None;
    }
    let first = args
        .iter()
        .skip(1)
        .map(|a| a.to_string_lossy())
        .find(|a| !a.starts_with("--root"));
    if first.as_deref().is_some_and(|a| UNPRIVILEGED.contains(&a)) {
        return None;
    }
    match run_child(args, root_flag) {
        Ok(code) => Some(code),
        Err(e) => {
            eprintln!("error: cannot enter a user namespace for rootless operation: {e}");
            eprintln!(
                "hint: check that unprivileged user namespaces are enabled and newuidmap is installed (Debian: uidmap)"
            );
            Some(1)
        }
    }
}

fn pipe() -> std::io::Result<(OwnedFd, OwnedFd)> {
    let (r, w) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC)?;
    Ok((r, w))
}

fn run_child(args: &[OsString], root_flag: Option<&std::path::Path>) -> std::io::Result<i32> {
    let root = root_flag
        .map(|p| p.to_path_buf())
        .unwrap_or_else(rbuild_snapshotter::default_store_root);
    let (pid_read, pid_write) = pipe()?;
    let (go_read, go_write) = pipe()?;
    let mut command = Command::new("/proc/self/exe");
    command
        .args(&args[1..])
        .env(INSIDE_ENV, "1")
        .env(rbuild_snapshotter::ROOT_ENV, &root);
    let pid_write_fd = pid_write.as_raw_fd();
    let go_read_fd = go_read.as_raw_fd();
    // SAFETY: the closure runs in the forked child before exec and only makes raw system
    // calls (no allocation, no locks), which is what `pre_exec` requires.
    unsafe {
        command.pre_exec(move || {
            // Killing this wrapper (SIGTERM, SIGHUP) must reach the real rbuild, which
            // cancels a `rbuild run` cleanly; otherwise its container would outlive us.
            libc::prctl(
                libc::PR_SET_PDEATHSIG,
                libc::SIGTERM as libc::c_ulong,
                0,
                0,
                0,
            );
            if libc::unshare(libc::CLONE_NEWUSER | libc::CLONE_NEWNS) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            let pid = libc::getpid().to_ne_bytes();
            if libc::write(pid_write_fd, pid.as_ptr().cast(), pid.len()) != pid.len() as isize {
                return Err(std::io::Error::last_os_error());
            }
            let mut go = [0u8; 1];
            if libc::read(go_read_fd, go.as_mut_ptr().cast(), 1) != 1 || go[0] == b'X' {
                return Err(std::io::Error::other(
                    "the parent could not map the user namespace",
                ));
            }
            if libc::setresgid(0, 0, 0) != 0 || libc::setresuid(0, 0, 0) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    // The mapper thread answers the child while this thread waits in spawn() for the exec.
    let mapper = std::thread::spawn(move || -> std::io::Result<()> {
        let mut pid_read = std::fs::File::from(pid_read);
        let mut go_write = std::fs::File::from(go_write);
        let mut bytes = [0u8; 4];
        if pid_read.read_exact(&mut bytes).is_err() {
            return Ok(()); // the child failed before unsharing; spawn() reports why
        }
        let pid = i32::from_ne_bytes(bytes);
        match rbuild_sandbox::map_current_user_into(pid) {
            Ok(_) => go_write.write_all(b"G"),
            Err(e) => {
                let _ = go_write.write_all(b"X");
                Err(std::io::Error::other(e.to_string()))
            }
        }
    });
    let spawned = command.spawn();
    // The child holds its own copies of the pipe ends; drop ours so the mapper sees EOF if
    // the child died early.
    drop(pid_write);
    drop(go_read);
    let mut child = match spawned {
        Ok(child) => child,
        Err(e) => {
            let mapped = mapper.join();
            return Err(match mapped {
                Ok(Err(map_error)) => map_error,
                _ => e,
            });
        }
    };
    let _ = mapper.join();
    let status = child.wait()?;
    use std::os::unix::process::ExitStatusExt;
    Ok(status
        .code()
        .unwrap_or_else(|| 128 + status.signal().unwrap_or(0)))
}
