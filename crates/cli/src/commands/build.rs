//! `rbuild build` (also `rbuild -t NAME CONTEXT`): docker build's flags over the builder's
//! library API.

use std::io::Read;
use std::path::PathBuf;

use anyhow::Context;
use rbuild_builder::build::{BuildOptions, NetworkChoice, build, export_outputs};
use rbuild_builder::request::{
    ContextSpec, DockerfileSpec, parse_secret, parse_ssh, prepare_build_context,
    prepare_context_arg,
};
use rbuild_oci::output::{OutputKind, OutputSpec};
use rbuild_parser::plan::BuildArgs;

use super::progress::{Progress, ProgressMode, Terminal};

#[derive(clap::Args)]
pub struct BuildCommandArgs {
    /// Name and optionally a tag (name:tag); repeatable
    #[arg(short = 't', long = "tag", value_name = "NAME")]
    pub tags: Vec<String>,
    /// The Dockerfile (default: CONTEXT/Dockerfile; `-` reads standard input)
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub file: Option<String>,
    /// Set a build-time variable (NAME=VALUE, or NAME to take it from the environment)
    #[arg(long = "build-arg", value_name = "NAME[=VALUE]")]
    pub build_args: Vec<String>,
    /// The stage to build
    #[arg(long)]
    pub target: Option<String>,
    /// Do not use the cache
    #[arg(long)]
    pub no_cache: bool,
    /// Do not use the cache for these stages
    #[arg(long = "no-cache-filter", value_name = "STAGE")]
    pub no_cache_filter: Vec<String>,
    /// Always look for newer base images in the registry
    #[arg(long)]
    pub pull: bool,
    /// Target platform (only the native one is supported)
    #[arg(long)]
    pub platform: Option<String>,
    /// Add a label to the image (KEY=VALUE)
    #[arg(long = "label", value_name = "KEY=VALUE")]
    pub labels: Vec<String>,
    /// Secret for RUN --mount=type=secret (id=ID,src=FILE | id=ID,env=VAR)
    #[arg(long = "secret")]
    pub secrets: Vec<String>,
    /// SSH agent socket or keys for RUN --mount=type=ssh (default | ID=PATH)
    #[arg(long = "ssh")]
    pub ssh: Vec<String>,
    /// Output destination (type=oci|docker|registry|local|tar,dest=...)
    #[arg(short = 'o', long = "output")]
    pub outputs: Vec<String>,
    /// Push the image to its registry (type=registry)
    #[arg(long)]
    pub push: bool,
    /// Write the image ID to this file
    #[arg(long)]
    pub iidfile: Option<PathBuf>,
    /// Write build metadata (JSON) to this file
    #[arg(long = "metadata-file")]
    pub metadata_file: Option<PathBuf>,
    /// Print only the image ID
    #[arg(short, long)]
    pub quiet: bool,
    /// Progress output: auto, tty, plain or rawjson
    #[arg(long, default_value = "auto")]
    pub progress: String,
    /// After the build, list every step that missed the cache and why (also with -q)
    #[arg(long = "explain-cache")]
    pub explain_cache: bool,
    /// Extra named contexts (NAME=DIR | docker-image://REF | oci-layout://PATH[:TAG] | GIT-URL | TAR-URL)
    #[arg(long = "build-context", value_name = "NAME=VALUE")]
    pub build_contexts: Vec<String>,
    /// Network for RUN steps: default, none or host
    #[arg(long, default_value = "default")]
    pub network: String,
    /// Stages doing rbuild's own work at once; stages waiting for a RUN do not count
    /// (default: the number of cores)
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Compression of the layers stored locally: uncompressed, gzip or zstd (outputs and
    /// pushes compress with their own compression= option, gzip by default)
    #[arg(long, default_value = "uncompressed")]
    pub compression: String,
    /// The build context: a directory, a Dockerfile, `-` (Dockerfile on standard input), a git
    /// URL (REPO.git#REF:SUBDIR) or the URL of a tarball or Dockerfile
    #[arg(value_name = "CONTEXT")]
    pub context: String,
}

pub fn run(args: BuildCommandArgs, root: Option<&std::path::Path>) -> anyhow::Result<i32> {
    let store_root = super::images::store_root(root);
    // A git or URL context is fetched into the store's scratch area; `prepared` (and
    // `fetched_contexts` for --build-context) keep it there until the build is over.
    let prepared = prepare_context_arg(&args.context, args.file.as_deref(), &store_root)?;
    let mut options = match &prepared.context {
        ContextSpec::Directory(dir) => BuildOptions::new(dir),
        ContextSpec::Empty => BuildOptions::without_context(),
    };
    options = match prepared.dockerfile.clone() {
        DockerfileSpec::File(path) => options.dockerfile(path),
        DockerfileSpec::Text { name, text } => options.dockerfile_text(name, text),
        DockerfileSpec::Stdin => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .context("reading the Dockerfile from standard input")?;
            options.dockerfile_text("Dockerfile (stdin)", text)
        }
    };
    if let Some(platform) = &args.platform {
        let host = rbuild_parser::plan::Platform::host();
        let wanted = rbuild_parser::plan::Platform::parse(platform)?;
        if wanted.os != host.os || wanted.architecture != host.architecture {
            anyhow::bail!(
                "--platform {platform}: rbuild builds for the native platform only ({host}); cross-platform builds need emulation, which is not supported"
            );
        }
    }
    options.build_args = BuildArgs::from_cli(&args.build_args, |k| std::env::var(k).ok())?;
    options.target = args.target.clone();
    options.tags = args.tags.clone();
    options.no_cache = args.no_cache;
    options.no_cache_filter = args.no_cache_filter.clone();
    options.pull = args.pull;
    options.jobs = args.jobs;
    options.store_root = Some(super::images::store_root(root));
    options.compression = args.compression.parse()?;
    options.network = match args.network.as_str() {
        "default" => NetworkChoice::Default,
        "none" => NetworkChoice::None,
        "host" => NetworkChoice::Host,
        other => anyhow::bail!("--network {other}: expected default, none or host"),
    };
    for label in &args.labels {
        let (k, v) = label
            .split_once('=')
            .with_context(|| format!("--label {label:?}: expected KEY=VALUE"))?;
        options.labels.push((k.to_string(), v.to_string()));
    }
    for s in &args.secrets {
        options.secrets.push(parse_secret(s)?);
    }
    let agent = std::env::var("SSH_AUTH_SOCK").ok();
    for s in &args.ssh {
        options.ssh.push(parse_ssh(s, agent.as_deref())?);
    }
    let mut fetched_contexts = Vec::new();
    for c in &args.build_contexts {
        let (name, context, fetched) = prepare_build_context(c, &store_root)?;
        fetched_contexts.extend(fetched);
        options.named_contexts.push((name, context));
    }
    let mut outputs = Vec::new();
    for o in &args.outputs {
        outputs.push(OutputSpec::parse(o)?);
    }
    if args.push {
        let names = args
            .tags
            .iter()
            .map(|t| rbuild_oci::Reference::parse(t))
            .collect::<Result<Vec<_>, _>>()?;
        if names.is_empty() {
            anyhow::bail!("--push needs a name to push to: give one with -t");
        }
        outputs.push(OutputSpec {
            kind: OutputKind::Image { names, push: true },
            compression: Default::default(),
            oci_media_types: None,
            force_compression: false,
        });
    }

    let mode = ProgressMode::choose(&args.progress, args.quiet, Terminal::detect())?;
    let progress = Progress::new(mode);
    let sink = progress.sink();
    let misses = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let collect = misses.clone();
    let explain = args.explain_cache;
    options = options.on_event(move |event| {
        if explain
            && let rbuild_builder::build::BuildEvent::StepMissed { step, reasons } = event
            && let Ok(mut list) = collect.lock()
        {
            list.push(format!(
                "[{} {}/{}] {} (line {}): {}",
                step.stage,
                step.index,
                step.total,
                step.text,
                step.line,
                reasons.join("; ")
            ));
        }
        sink(event)
    });
    let print_misses = || {
        if !explain {
            return;
        }
        let list = misses.lock().map(|l| l.clone()).unwrap_or_default();
        if list.is_empty() {
            eprintln!("cache: every step was a hit");
        } else {
            eprintln!("cache misses:");
            for line in list {
                eprintln!("  {line}");
            }
        }
    };
    let started = std::time::Instant::now();
    let outcome = match build(&options) {
        Ok(outcome) => outcome,
        Err(err) => {
            progress.fail();
            print_misses();
            // Dockerfile syntax errors arrive rendered with their own `error:` heading.
            let text = err.to_string();
            eprintln!("ERROR: {}", text.strip_prefix("error: ").unwrap_or(&text));
            return Ok(1);
        }
    };
    let store = super::images::open_store(root)?;
    for report in export_outputs(&store, &outcome.manifest_digest, &outputs)? {
        progress.note(&format!("exported {}", report.description));
    }
    progress.finish();
    print_misses();
    if let Some(path) = &args.iidfile {
        std::fs::write(path, outcome.image_id.to_string())
            .with_context(|| format!("writing {}", path.display()))?;
    }
    if let Some(path) = &args.metadata_file {
        let meta = serde_json::json!({
            "containerimage.config.digest": outcome.image_id.to_string(),
            "containerimage.digest": outcome.manifest_digest.to_string(),
            "image.name": outcome.tags.join(","),
        });
        std::fs::write(path, serde_json::to_vec_pretty(&meta)?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    if args.quiet {
        println!("{}", outcome.image_id);
    } else {
        eprintln!(
            "built {} in {:.2}s ({} steps ran, {} cached){}",
            outcome.image_id,
            started.elapsed().as_secs_f64(),
            outcome.executed_steps,
            outcome.cached_steps,
            if outcome.tags.is_empty() {
                String::new()
            } else {
                format!(", named {}", outcome.tags.join(", "))
            }
        );
    }
    Ok(0)
}
