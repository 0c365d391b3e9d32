//! The `rbuild` command: a thin layer over the rbuild libraries.

mod commands;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "rbuild", version, about = "Daemonless Dockerfile image builder")]
struct Cli {
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
}

fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Check(args) => commands::check::run(args),
        Command::Outline(args) => commands::outline::run(args),
        Command::Debug(cmd) => commands::debug::run(cmd),
    };
    match result {
        Ok(code) => std::process::exit(code),
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::exit(1);
        }
    }
}
