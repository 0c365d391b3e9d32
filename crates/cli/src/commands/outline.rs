//! `rbuild outline` (being written).

#[derive(clap::Args)]
pub struct OutlineArgs {}

pub fn run(_args: OutlineArgs) -> anyhow::Result<i32> {
    anyhow::bail!("rbuild outline: not implemented yet")
}
