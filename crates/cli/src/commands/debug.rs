//! `rbuild debug …` (being written).

#[derive(clap::Subcommand)]
pub enum DebugCommand {
    /// Print the AST of a Dockerfile
    Parse {},
}

pub fn run(_cmd: DebugCommand) -> anyhow::Result<i32> {
    anyhow::bail!("rbuild debug parse: not implemented yet")
}
