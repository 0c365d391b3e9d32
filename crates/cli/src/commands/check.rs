//! `rbuild check` (being written).

#[derive(clap::Args)]
pub struct CheckArgs {}

pub fn run(_args: CheckArgs) -> anyhow::Result<i32> {
    anyhow::bail!("rbuild check: not implemented yet")
}
