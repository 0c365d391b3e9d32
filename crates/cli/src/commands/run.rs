//! `rbuild run` and `rbuild rm`: run an image's command in the sandbox.

use rbuild_builder::run_image::{RunOptions, remove_container, run_image};

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
    /// The image (name or ID)
    pub image: String,
    /// Command and arguments (replace the image's CMD)
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
    };
    Ok(run_image(&super::images::store_root(root), &options)?)
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
