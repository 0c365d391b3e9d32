//! `rbuild run` and `rbuild rm`: run an image's command in the sandbox, like `docker run`,
//! interactively with `-i` (stdin forwarded) and `-t` (a terminal inside, this one in raw
//! mode while relaying).

mod raw_mode;
mod signals;

use std::os::fd::RawFd;

use rbuild_builder::run_image::{RunOptions, remove_container, run_image};
use rbuild_sandbox::{CancelToken, Terminal, TerminalSize};

use raw_mode::{RawMode, window_size};
use signals::SignalWatcher;

#[derive(clap::Args)]
#[command(trailing_var_arg = true)]
pub struct RunArgs {
    /// Remove the container's file system when the command ends
    #[arg(long)]
    pub rm: bool,
    /// Keep the container's file system under this name
    #[arg(long)]
    pub name: Option<String>,
    /// Set an environment variable (KEY=VALUE, or KEY to copy it from here)
    #[arg(short = 'e', long = "env", value_name = "KEY=VALUE")]
    pub env: Vec<String>,
    /// Network: host (default) or none
    #[arg(long, default_value = "host")]
    pub network: String,
    /// Override the image's ENTRYPOINT
    #[arg(long)]
    pub entrypoint: Option<String>,
    /// Run as this user (name|uid[:group|gid])
    #[arg(short = 'u', long = "user")]
    pub user: Option<String>,
    /// Working directory inside the container
    #[arg(short = 'w', long = "workdir")]
    pub workdir: Option<String>,
    /// Keep stdin open and forward it to the container's command
    #[arg(short = 'i', long)]
    pub interactive: bool,
    /// Give the command a pseudo-terminal (with -i and a terminal here: raw mode relaying)
    #[arg(short = 't', long)]
    pub tty: bool,
    /// The image (name or ID)
    pub image: String,
    /// Command and arguments (replace the image's CMD); they may start with a dash, as in
    /// `--entrypoint sh IMAGE -c 'echo hi'`
    #[arg(allow_hyphen_values = true)]
    pub command: Vec<String>,
}

pub fn run(args: RunArgs, root: Option<&std::path::Path>) -> anyhow::Result<i32> {
    let mut env = Vec::new();
    for item in &args.env {
        match item.split_once('=') {
            Some((k, v)) => env.push((k.to_string(), v.to_string())),
            None => {
                if let Ok(v) = std::env::var(item) {
                    env.push((item.clone(), v));
                }
            }
        }
    }
    let network_none = match args.network.as_str() {
        "host" | "default" => false,
        "none" => true,
        other => anyhow::bail!("--network {other}: expected host or none"),
    };
    let options = RunOptions {
        image: args.image,
        command: args.command,
        entrypoint: args.entrypoint,
        env,
        name: args.name,
        remove: args.rm,
        network_none,
        user: args.user,
        workdir: args.workdir,
        interactive: args.interactive,
        terminal: None,
        cancel: None,
    };
    run_attached(options, args.tty, &super::images::store_root(root))
}

const STDIN: RawFd = 0;
const STDOUT: RawFd = 1;

/// Runs with this process's signals and terminal wired to the container.
fn run_attached(
    mut options: RunOptions,
    tty: bool,
    store: &std::path::Path,
) -> anyhow::Result<i32> {
    // Docker's rule: piped input to a terminal would never end (a terminal has no end of
    // file), so -it needs a terminal here; -t alone or -i alone work with anything.
    // SAFETY: isatty on a descriptor number is harmless.
    if tty && options.interactive && unsafe { libc::isatty(STDIN) } != 1 {
        anyhow::bail!(
            "the input device is not a TTY: -it needs a terminal on stdin; use -i without -t to pipe input"
        );
    }
    // The container's terminal starts at this one's size (stdin's, else stdout's).
    let here = [STDIN, STDOUT]
        .into_iter()
        .find_map(|fd| window_size(fd).map(|size| (fd, size)));
    let terminal = tty.then(|| Terminal::new(here.map_or(TerminalSize::DEFAULT, |(_, s)| s)));
    let cancel = CancelToken::new();
    let watcher =
        SignalWatcher::start(cancel.clone(), terminal.clone().zip(here.map(|(fd, _)| fd)))
            .map_err(|e| anyhow::anyhow!("installing signal handlers: {e}"))?;
    options.terminal = terminal;
    options.cancel = Some(cancel);
    // Raw only when keys are forwarded to a container terminal; otherwise Ctrl-C stays a
    // signal to rbuild, which cancels the run.
    let raw = if tty && options.interactive {
        RawMode::enable(STDIN)
            .map_err(|e| anyhow::anyhow!("putting the terminal in raw mode: {e}"))?
    } else {
        None
    };
    let result = run_image(store, &options);
    drop(raw);
    let code = result?;
    Ok(match watcher.cancelled_by() {
        Some(signal) => 128 + signal,
        None => code,
    })
}

#[derive(clap::Args)]
pub struct RmArgs {
    /// Containers (as named with `rbuild run --name`)
    #[arg(required = true)]
    pub names: Vec<String>,
}

pub fn run_rm(args: RmArgs, root: Option<&std::path::Path>) -> anyhow::Result<i32> {
    let store = super::images::store_root(root);
    for name in &args.names {
        remove_container(&store, name)?;
        println!("{name}");
    }
    Ok(0)
}
