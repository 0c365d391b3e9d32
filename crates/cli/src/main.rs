//! The `rbuild` command: a thin layer over the rbuild libraries.

mod commands;
mod rootless;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "rbuild",
    version,
    about = "Daemonless Dockerfile image builder"
)]
struct Cli {
    /// Store root (images, layers, cache); default $RBUILD_ROOT, else the system default
    #[arg(long, global = true, value_name = "DIR")]
    root: Option<std::path::PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Build an image from a Dockerfile (also `rbuild -t NAME CONTEXT`)
    Build(Box<commands::build::BuildCommandArgs>),
    /// Run an image's command in the sandbox
    Run(commands::run::RunArgs),
    /// Remove containers kept by `rbuild run --name`
    Rm(commands::run::RmArgs),
    /// Run the build checks on a Dockerfile
    Check(commands::check::CheckArgs),
    /// Print the stages, dependencies, args and targets of a Dockerfile
    Outline(commands::outline::OutlineArgs),
    /// Debugging aids
    #[command(subcommand)]
    Debug(commands::debug::DebugCommand),
    /// List images in the local store
    Images(commands::images::ImagesArgs),
    /// Give a local image another name
    Tag(commands::images::TagArgs),
    /// Remove image names from the local store (blobs stay until prune)
    Rmi(commands::images::RmiArgs),
    /// Remove blobs and layers that no image or build-cache record uses
    Prune(commands::prune::PruneArgs),
    /// Show details of local images as JSON
    Inspect(commands::images::InspectArgs),
    /// Pull an image from a registry into the local store
    Pull(commands::registry::PullArgs),
    /// Push a local image to a registry
    Push(commands::registry::PushArgs),
    /// Write images to a docker-archive or OCI archive
    Save(commands::archive::SaveArgs),
    /// Load images from a docker-archive or OCI archive
    Load(commands::archive::LoadArgs),
}

/// `rbuild -t NAME .` means `rbuild build -t NAME .`, as `docker build` users expect: when
/// the first word after the global options is not a subcommand, `build` is inserted.
fn implicit_build(mut args: Vec<std::ffi::OsString>) -> Vec<std::ffi::OsString> {
    use clap::CommandFactory;
    let command = Cli::command();
    let mut i = 1;
    while i < args.len() {
        let word = args[i].to_string_lossy();
        if word == "--root" {
            i += 2;
            continue;
        }
        if word.starts_with("--root=") {
            i += 1;
            continue;
        }
        let known = command
            .get_subcommands()
            .any(|s| s.get_name() == word || s.get_all_aliases().any(|a| a == word))
            || matches!(word.as_ref(), "help" | "-h" | "--help" | "-V" | "--version");
        if !known {
            args.insert(i, "build".into());
        }
        break;
    }
    args
}

/// The `--root DIR` / `--root=DIR` global flag, read before clap parses (rootless
/// operation must decide the store before re-executing).
fn root_flag(args: &[std::ffi::OsString]) -> Option<std::path::PathBuf> {
    let mut iter = args.iter().skip(1);
    while let Some(arg) = iter.next() {
        let text = arg.to_string_lossy();
        if text == "--root" {
            return iter.next().map(std::path::PathBuf::from);
        }
        if let Some(value) = text.strip_prefix("--root=") {
            return Some(value.into());
        }
    }
    None
}

fn main() {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if let Some(code) = rootless::reexec_if_needed(&args, root_flag(&args).as_deref()) {
        std::process::exit(code);
    }
    let cli = Cli::parse_from(implicit_build(args));
    let result = match cli.command {
        Command::Build(args) => commands::build::run(*args, cli.root.as_deref()),
        Command::Run(args) => commands::run::run(args, cli.root.as_deref()),
        Command::Rm(args) => commands::run::run_rm(args, cli.root.as_deref()),
        Command::Check(args) => commands::check::run(args),
        Command::Outline(args) => commands::outline::run(args),
        Command::Debug(cmd) => commands::debug::run(cmd),
        Command::Images(args) => commands::images::run_images(args, cli.root.as_deref()),
        Command::Tag(args) => commands::images::run_tag(args, cli.root.as_deref()),
        Command::Rmi(args) => commands::images::run_rmi(args, cli.root.as_deref()),
        Command::Prune(args) => commands::prune::run(args, cli.root.as_deref()),
        Command::Inspect(args) => commands::images::run_inspect(args, cli.root.as_deref()),
        Command::Pull(args) => commands::registry::run_pull(args, cli.root.as_deref()),
        Command::Push(args) => commands::registry::run_push(args, cli.root.as_deref()),
        Command::Save(args) => commands::archive::run_save(args, cli.root.as_deref()),
        Command::Load(args) => commands::archive::run_load(args, cli.root.as_deref()),
    };
    match result {
        Ok(code) => std::process::exit(code),
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::exit(1);
        }
    }
}
