//! The `rbuild` command: a thin layer over the rbuild libraries.

mod commands;

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

fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Check(args) => commands::check::run(args),
        Command::Outline(args) => commands::outline::run(args),
        Command::Debug(cmd) => commands::debug::run(cmd),
        Command::Images(args) => commands::images::run_images(args, cli.root.as_deref()),
        Command::Tag(args) => commands::images::run_tag(args, cli.root.as_deref()),
        Command::Rmi(args) => commands::images::run_rmi(args, cli.root.as_deref()),
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
