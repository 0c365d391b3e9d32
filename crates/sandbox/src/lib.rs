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
//! enters the working directory, sets umask 022, takes /dev/null as stdin and execs) and
//! reaps every process until the command exits; its exit then makes the kernel kill any
//! leftovers. Setup failures come back as typed errors naming the step.
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
mod run;
mod spec;
mod stubs;

pub use error::{Result, SandboxError, SetupStep};
pub use idmap::map_current_user_into;
pub use outcome::{CollectedOutput, Exit, RunOutcome, Stream};
pub use spec::{
    CancelToken, DEFAULT_HOSTNAME, DEFAULT_PATH, IdOrName, Mount, Network, OverlayRoot, RootFs,
    SandboxSpec, UserSpec,
};
