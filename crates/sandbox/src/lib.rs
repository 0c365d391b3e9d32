//! rbuild-sandbox runs one command in Linux namespaces over a prepared root file system:
//! what a Dockerfile `RUN` step (and later `rbuild run IMAGE`) needs.
//!
//! ```no_run
//! use rbuild_sandbox::{Network, OverlayRoot, RootFs, SandboxSpec, Stream};
//! let spec = SandboxSpec::new(
//!     RootFs::Overlay(OverlayRoot { lowers: vec!["/layers/base".into()], upper: "/snap/upper".into(), work: "/snap/work".into() }),
//!     ["sh", "-c", "echo hello"],
//! )
//! .user("app".parse()?)
//! .cwd("/src")
//! .network(Network::None);
//! let outcome = spec.run(|stream, bytes| match stream {
//!     Stream::Stdout => print!("{}", String::from_utf8_lossy(bytes)),
//!     Stream::Stderr => eprint!("{}", String::from_utf8_lossy(bytes)),
//! })?;
//! assert!(outcome.exit.success());
//! # Ok::<(), rbuild_sandbox::SandboxError>(())
//! ```
//!
//! # What a run does
//! The caller's thread clones an init process into new mount, PID, UTS and IPC namespaces
//! (plus network with [`Network::None`], plus user when not root: rootless runs map ids with
//! newuidmap/newgidmap and /etc/subuid ranges, or map only the caller to root). The init
//! mounts the root (an overlay it mounts itself, or a bind of a directory), /proc, a minimal
//! /dev (null, zero, full, random, urandom, tty bound from the host; devpts with its own
//! ptmx; shm), a read-only /sys, generated /etc/hosts and /etc/resolv.conf, and the extra
//! mounts; then pivot_root, hostname, loopback, user lookup in the image's /etc/passwd and
//! /etc/group, working directory creation. It forks the command (which drops privileges,
//! enters the working directory, sets umask 022, takes /dev/null or the forwarded-input pipe
//! as stdin and execs) and reaps every process until the command exits; its exit then makes
//! the kernel kill any leftovers. Setup failures come back as typed errors naming the step.
//! The init first closes every descriptor it inherited except its own pipes (the clone
//! copies the caller's, other threads' pipes included) and starts a new session, so the
//! caller's terminal is never the sandbox's controlling terminal.
//!
//! # Interactive runs
//! [`SandboxSpec::stdin`] forwards a descriptor (the caller's stdin, a pipe) to the command;
//! the command gets end of file when the source does. [`SandboxSpec::terminal`] gives the
//! command a pseudo-terminal, as `docker run -t` does: the init opens it on the sandbox's own
//! devpts after `pivot_root` (so the command is on `/dev/pts/0`), sets the size, gives the
//! slave to the command's user and sends the master to the parent over a socket; the
//! command starts a session with the slave as controlling terminal and stdin, stdout and
//! stderr. The parent relays input to the master, output from it (as [`Stream::Stdout`]) and
//! window sizes set through the [`Terminal`] handle; Ctrl-C is a byte the terminal turns
//! into SIGINT for the command. Putting the caller's own terminal in raw mode is the
//! caller's business. Writes to a closed input pipe raise SIGPIPE unless it is ignored (Rust
//! programs ignore it).
//!
//! ```no_run
//! use std::os::fd::AsFd;
//! use rbuild_sandbox::{RootFs, SandboxSpec, Terminal, TerminalSize};
//! let terminal = Terminal::new(TerminalSize { rows: 24, cols: 80 });
//! let spec = SandboxSpec::new(RootFs::Dir("/containers/c1/rootfs".into()), ["sh"])
//!     .stdin(std::io::stdin().as_fd().try_clone_to_owned()?)
//!     .terminal(terminal.clone());
//! // On SIGWINCH, from another thread: terminal.resize(new_size);
//! let outcome = spec.run(|_, bytes| print!("{}", String::from_utf8_lossy(bytes)))?;
//! println!("{}", outcome.exit);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Invariants
//! - Nothing leaks into the layer: mount targets missing from the image are provided by a
//!   stub lower layer of the sandbox's own (overlay roots) or created and removed again
//!   (directory roots); /etc/hosts and /etc/resolv.conf are bind mounts of scratch files.
//! - Nothing is mounted in the host's mount namespace, and rlimits are never raised.
//! - The child side never allocates (the caller may be multi-threaded): see `child`.
//! - Cancel and timeout kill the PID namespace's init, so the whole tree dies.
//!
//! # Requirements
//! Linux 5.12 or newer (the new mount API and `mount_setattr`; overlay roots use
//! `lowerdir+` from 6.5 and fall back to the classic option string before that). Rootless
//! runs need unprivileged user namespaces; cgroups are not used and rlimits never raised.
//!
//! Interactive use (stdin, a terminal) is not supported yet; stdin is /dev/null.

mod child;
mod error;
mod idmap;
mod outcome;
mod prepare;
mod relay;
mod run;
mod spec;
mod stubs;
mod supervise;
mod terminal;

pub use error::{Result, SandboxError, SetupStep};
pub use idmap::map_current_user_into;
pub use outcome::{CollectedOutput, Exit, RunOutcome, Stream};
pub use spec::{
    CancelToken, DEFAULT_HOSTNAME, DEFAULT_PATH, IdOrName, Mount, Network, OverlayRoot, RootFs,
    SandboxSpec, UserSpec,
};
pub use terminal::{Terminal, TerminalSize};
