//! `rbuild pull NAME` and `rbuild push NAME [TARGET]`.

use std::path::Path;

use rbuild_oci::Reference;
use rbuild_oci::model::Platform;
use rbuild_oci::registry::RegistryClient;

use super::images::open_store;

#[derive(clap::Args)]
pub struct PullArgs {
    /// Platform to select from multi-platform images (os/arch[/variant]; default: this host)
    #[arg(long, conflicts_with = "all_platforms")]
    pub platform: Option<String>,
    /// Pull every platform of a multi-platform image and keep the whole index under the name
    #[arg(long)]
    pub all_platforms: bool,
    /// The image to pull
    pub name: String,
}

pub fn run_pull(args: PullArgs, root: Option<&Path>) -> anyhow::Result<i32> {
    let store = open_store(root)?;
    let reference = Reference::parse(&args.name)?;
    let mut client = RegistryClient::from_environment()?;
    let wanted = match &args.platform {
        Some(text) => Platform::parse(text).map_err(anyhow::Error::msg)?,
        None => Platform::host(),
    };
    client = client
        .with_platform(wanted.clone())
        .with_all_platforms(args.all_platforms);
    let report = client.pull(&store, &reference)?;
    // A single-platform image is taken as it is (like Docker), but say when it will not fit.
    let whole_index = store.stored_index(&report.manifest_digest)?;
    let config = match &whole_index {
        Some(_) => None,
        None => Some(store.image(&report.manifest_digest)?.config),
    };
    if let Some(config) = config
        && (config.os != wanted.os || config.architecture != wanted.architecture)
    {
        eprintln!(
            "warning: {} is for {}/{}, not {wanted}",
            reference.familiar(),
            config.os,
            config.architecture
        );
    }
    eprintln!(
        "pulled {} from {}: {} blobs downloaded, {} already present",
        reference.familiar(),
        report.source,
        report.downloaded.len(),
        report.already_present.len()
    );
    if let Some(index) = whole_index {
        eprintln!("platforms: {}", index.index.platforms().join(", "));
    }
    println!("Digest: {}", report.manifest_digest);
    Ok(0)
}

#[derive(clap::Args)]
pub struct PushArgs {
    /// The local image (name or ID)
    pub source: String,
    /// Where to push it (default: the source name)
    pub target: Option<String>,
}

pub fn run_push(args: PushArgs, root: Option<&Path>) -> anyhow::Result<i32> {
    let store = open_store(root)?;
    let target = Reference::parse(args.target.as_deref().unwrap_or(&args.source))?;
    let client = RegistryClient::from_environment()?;
    let report = client.push(&store, &args.source, &target)?;
    eprintln!(
        "pushed {}: {} blobs uploaded, {} already there, {} mounted",
        target.familiar(),
        report.uploaded.len(),
        report.skipped.len(),
        report.mounted.len()
    );
    println!("Digest: {}", report.manifest_digest);
    Ok(0)
}
