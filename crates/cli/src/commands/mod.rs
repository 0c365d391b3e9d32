//! One module per subcommand; each has an `…Args` (clap) and `run(args) -> anyhow::Result<i32>`
//! returning the process exit code.

pub mod archive;
pub mod build;
pub mod check;
pub mod debug;
pub mod images;
pub mod outline;
pub mod progress;
pub mod progress_tty;
pub mod prune;
pub mod registry;
pub mod run;
