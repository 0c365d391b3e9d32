//! `rbuild run`: an image's entrypoint and command in the sandbox, over a throwaway
//! snapshot of its layers (kept under the container's name without `--rm`).

use std::io::Write;
use std::os::fd::AsFd;

use rbuild_oci::ImageStore;
use rbuild_sandbox::{
    CancelToken, Exit, Network, OverlayRoot, RootFs, SandboxSpec, Stream, Terminal,
};
use rbuild_snapshotter::{BackendKind, Snapshotter};

use crate::build::BuildError;
use crate::build::unpack_image;

/// What to run.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Image name or ID in the local store.
    pub image: String,
    /// Replaces the image's `CMD` when not empty.
    pub command: Vec<String>,
    /// Replaces the image's `ENTRYPOINT` when set.
    pub entrypoint: Option<String>,
    /// Extra environment (`-e K=V`).
    pub env: Vec<(String, String)>,
    /// `--name`: keep the container's file system under this name.
    pub name: Option<String>,
    /// `--rm`: remove the container's file system afterwards.
    pub remove: bool,
    pub network_none: bool,
    /// `-u`: overrides the image's `USER`.
    pub user: Option<String>,
    /// `-w`: overrides the image's working directory.
    pub workdir: Option<String>,
    /// `-i`: forward this process's stdin to the command (else it reads /dev/null).
    pub interactive: bool,
    /// `-t`: run the command on a pseudo-terminal; keep a clone to forward window sizes.
    /// Putting this process's own terminal in raw mode is the caller's job.
    pub terminal: Option<Terminal>,
    /// Kills the container's whole process tree when cancelled (the CLI's SIGINT/SIGTERM);
    /// the run then cleans up as after a normal exit.
    pub cancel: Option<CancelToken>,
}

/// Runs the image; stdout and stderr go to this process's (with a terminal, everything comes
/// through stdout). Returns the exit code (128+N for a signal, like a shell; 137 when
/// cancelled).
pub fn run_image(store_root: &std::path::Path, options: &RunOptions) -> Result<i32, BuildError> {
    let scratch = store_root.join("run").join("sandbox");
    std::fs::create_dir_all(&scratch)
        .map_err(crate::build::io_error("create", scratch.display()))?;
    let images = ImageStore::open(store_root)?;
    // Shared for the whole run: `rbuild prune` waits instead of removing its layers.
    let _store_lock = rbuild_snapshotter::FileLock::acquire(
        &rbuild_snapshotter::store_lock_path(store_root),
        rbuild_snapshotter::LockMode::Shared,
    )?;
    let snapshots = Snapshotter::open(store_root)?;
    let image = images.resolve(&options.image)?;
    let base = unpack_image(&images, &snapshots, &image)?;
    let config = base.config.config.clone().unwrap_or_default();

    let mut argv: Vec<String> = match &options.entrypoint {
        Some(e) if e.is_empty() => Vec::new(),
        Some(e) => vec![e.clone()],
        None => config.entrypoint.clone().unwrap_or_default(),
    };
    if !options.command.is_empty() {
        argv.extend(options.command.iter().cloned());
    } else if options.entrypoint.is_none() || options.entrypoint.as_deref() == Some("") {
        argv.extend(config.cmd.clone().unwrap_or_default());
    }
    if argv.is_empty() {
        return Err(BuildError::Request(format!(
            "image {} has no ENTRYPOINT or CMD: give a command to run",
            options.image
        )));
    }

    let key = match &options.name {
        Some(name) => {
            if snapshots.info(&container_key(name)).is_ok() {
                return Err(BuildError::Request(format!(
                    "a container named {name:?} already exists: remove it with `rbuild rm {name}` or pick another --name"
                )));
            }
            container_key(name)
        }
        None => format!(
            "run-{}-{}",
            std::process::id(),
            super::build::unique_suffix()
        ),
    };
    snapshots.prepare(&key, &base.diff_ids)?;
    let writable = snapshots.writable_dir(&key)?;
    let root = if snapshots.backend() == BackendKind::Copy || base.diff_ids.is_empty() {
        RootFs::Dir(writable)
    } else {
        let work = writable
            .parent()
            .map(|p| p.join("work"))
            .unwrap_or_default();
        RootFs::Overlay(OverlayRoot {
            lowers: base
                .diff_ids
                .iter()
                .rev()
                .map(|d| snapshots.layers().layer_path(d))
                .collect(),
            upper: writable,
            work,
        })
    };
    let mut spec = SandboxSpec::new(root, argv.iter().map(String::as_str))
        .network(if options.network_none {
            Network::None
        } else {
            Network::Host
        })
        .scratch_dir(scratch);
    for kv in config.env.clone().unwrap_or_default() {
        if let Some((k, v)) = kv.split_once('=') {
            spec = spec.env(k, v);
        }
    }
    let image_sets_term = config
        .env
        .iter()
        .flatten()
        .any(|kv| kv.starts_with("TERM="));
    if options.terminal.is_some() && !image_sets_term {
        // What `docker run -t` sets, so programs know what the terminal understands.
        spec = spec.env("TERM", "xterm");
    }
    for (k, v) in &options.env {
        spec = spec.env(k, v);
    }
    if options.interactive {
        let stdin = std::io::stdin()
            .as_fd()
            .try_clone_to_owned()
            .map_err(crate::build::io_error("duplicate", "standard input"))?;
        spec = spec.stdin(stdin);
    }
    if let Some(terminal) = &options.terminal {
        spec = spec.terminal(terminal.clone());
    }
    if let Some(cancel) = &options.cancel {
        spec = spec.cancel_on(cancel.clone());
    }
    if let Some(wd) = options
        .workdir
        .clone()
        .or(config.working_dir.clone())
        .filter(|w| !w.is_empty())
    {
        spec = spec.cwd(wd);
    }
    if let Some(user) = options
        .user
        .clone()
        .or(config.user.clone())
        .filter(|u| !u.is_empty())
    {
        spec = spec.user(user.parse()?);
    }
    if let Ok(resolv) = std::fs::read("/etc/resolv.conf") {
        spec = spec.resolv_conf(resolv);
    }
    let result = spec.run(|stream, data| {
        // Flushed at once: prompts and echo are not whole lines.
        let _ = match stream {
            Stream::Stdout => {
                let mut out = std::io::stdout().lock();
                out.write_all(data).and_then(|()| out.flush())
            }
            Stream::Stderr => std::io::stderr().write_all(data),
        };
    });
    if options.remove || options.name.is_none() {
        let _ = snapshots.remove(&key);
    }
    let outcome = result?;
    Ok(match outcome.exit {
        Exit::Code(code) => code,
        Exit::Signal(sig) => 128 + sig,
        Exit::TimedOut | Exit::Cancelled => 137,
    })
}

/// Removes a named container's file system (`rbuild rm`).
pub fn remove_container(store_root: &std::path::Path, name: &str) -> Result<(), BuildError> {
    let snapshots = Snapshotter::open(store_root)?;
    snapshots
        .info(&container_key(name))
        .map_err(|_| BuildError::Request(format!("no container named {name:?}")))?;
    snapshots.remove(&container_key(name))?;
    Ok(())
}

fn container_key(name: &str) -> String {
    format!("container-{name}")
}
