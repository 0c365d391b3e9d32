//! Building an image: the library API other tools call, and what `rbuild build` runs.
//!
//! [`build`] parses and plans the Dockerfile, resolves base images (local store, else the
//! registry through the configured mirrors), runs the stages the target needs in dependency
//! order — each step a cache hit or an execution in the sandbox — and writes the image to the
//! local store under the requested names. Progress arrives as [`BuildEvent`]s through
//! [`BuildOptions::on_event`].

mod base;
mod error;
mod events;
mod job_slots;
mod options;
mod outputs;
mod schedule;
mod session;
mod stage;
mod steps;
mod time;

use std::collections::BTreeMap;

use rbuild_oci::Reference;
use rbuild_oci::model::{ContainerConfig, ImageConfig, RootFs};
use rbuild_parser::plan::{BaseRef, PlanOptions, plan};
use rbuild_snapshotter::Digest;

pub use error::BuildError;
pub(crate) use error::io_error;
pub use events::{BuildEvent, StepId};
pub use options::{BuildOptions, DockerfileSource, EventSink, NetworkChoice};
pub use outputs::{ExportReport, export_outputs};

pub(crate) use base::unpack_image;
use session::Session;
use stage::{Source, StageResult, StageRun};

/// A suffix that makes names unique within this process and over time.
pub(crate) fn unique_suffix() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{nanos}-{}", COUNTER.fetch_add(1, Ordering::Relaxed))
}

/// What a successful build produced.
#[derive(Debug, Clone)]
pub struct BuildOutcome {
    /// The image ID (digest of the config).
    pub image_id: Digest,
    /// The manifest's digest in the local store.
    pub manifest_digest: Digest,
    pub config: ImageConfig,
    /// The names given to the image.
    pub tags: Vec<String>,
    /// Steps that ran.
    pub executed_steps: usize,
    /// Steps whose result came from the cache.
    pub cached_steps: usize,
}

/// Runs a build.
pub fn build(options: &BuildOptions) -> Result<BuildOutcome, BuildError> {
    let (name, text, identity) = read_dockerfile(options)?;
    let dockerfile = rbuild_parser::parse_dockerfile(&text, Some(&name))
        .map_err(|e| BuildError::Dockerfile(e.render(&text)))?;
    let mut plan_options = PlanOptions {
        target: options.target.clone(),
        build_args: options.build_args.clone(),
        // A `--build-context` named like a stage replaces it (buildx): the planner then
        // treats the name as an image, which `Session::base_image` finds among the named
        // contexts, and the stage is not built.
        replaced_stages: options
            .named_contexts
            .iter()
            .map(|(name, _)| name.to_ascii_lowercase())
            .collect(),
        ..PlanOptions::default()
    };
    let render_plan =
        |e: rbuild_parser::plan::PlanError| BuildError::Dockerfile(format!("{name}: {e}"));
    let first = plan(&dockerfile, &plan_options).map_err(render_plan)?;

    let session = Session::open(options)?;
    // Base images first: their environments complete the plan's expansion.
    let mut bases = BTreeMap::new();
    for stage in &first.stages {
        if let BaseRef::Image {
            reference,
            normalized,
        } = &stage.base
        {
            let key = normalized.with_default_tag();
            if bases.contains_key(&key) {
                continue;
            }
            let image = session.base_image(reference)?;
            let env = image
                .config
                .config
                .as_ref()
                .and_then(|c| c.env.clone())
                .unwrap_or_default()
                .into_iter()
                .map(|kv| match kv.split_once('=') {
                    Some((k, v)) => (k.to_string(), v.to_string()),
                    None => (kv, String::new()),
                })
                .collect();
            plan_options.base_image_env.insert(key.clone(), env);
            bases.insert(key, image);
        }
    }
    let graph = plan(&dockerfile, &plan_options).map_err(render_plan)?;
    let source = Source {
        name: &name,
        text: &text,
        identity: &identity,
    };

    let finished = schedule::run_stages(&graph, &session.job_slots, |stage, done| {
        let (config, layers, diff_ids, key) = match &stage.base {
            BaseRef::Scratch => (
                scratch_config(&graph),
                Vec::new(),
                Vec::new(),
                "scratch".to_string(),
            ),
            BaseRef::Image { normalized, .. } => {
                let base = bases.get(&normalized.with_default_tag()).ok_or_else(|| {
                    BuildError::Request(format!(
                        "base image {} was not resolved",
                        normalized.with_default_tag()
                    ))
                })?;
                (
                    base.config.clone(),
                    base.layers.clone(),
                    base.diff_ids.clone(),
                    base.manifest_digest.to_string(),
                )
            }
            BaseRef::Stage { index } => {
                let parent = done.get(index).ok_or_else(|| {
                    BuildError::Request(format!("stage {index} was not built before its child"))
                })?;
                (
                    parent.config.clone(),
                    parent.layers.clone(),
                    parent.diff_ids.clone(),
                    parent.key.clone(),
                )
            }
        };
        StageRun {
            session: &session,
            graph: &graph,
            stage,
            source: &source,
            config: crate::image_config::StageConfig::new(config),
            layers,
            diff_ids,
            key,
            args: Vec::new(),
            finished: done,
            executed: 0,
            cached: 0,
        }
        .run()
    })?;
    let mut finished = finished;
    let target = finished
        .remove(&graph.target)
        .ok_or_else(|| BuildError::Request("the target stage did not run".into()))?;
    let executed = finished.values().map(|r| r.executed).sum::<usize>() + target.executed;
    let cached = finished.values().map(|r| r.cached).sum::<usize>() + target.cached;
    write_image(&session, target, executed, cached)
}

/// The config of `FROM scratch`: the target platform and BuildKit's default `PATH`.
fn scratch_config(graph: &rbuild_parser::plan::StageGraph) -> ImageConfig {
    let p = &graph.target_platform;
    ImageConfig {
        architecture: p.architecture.clone(),
        os: p.os.clone(),
        variant: Some(p.variant.clone()).filter(|v| !v.is_empty()),
        config: Some(ContainerConfig {
            env: Some(vec![format!("PATH={}", rbuild_parser::plan::DEFAULT_PATH)]),
            ..Default::default()
        }),
        rootfs: RootFs {
            kind: "layers".into(),
            diff_ids: Vec::new(),
        },
        ..Default::default()
    }
}

fn write_image(
    session: &Session,
    target: StageResult,
    executed: usize,
    cached: usize,
) -> Result<BuildOutcome, BuildError> {
    let options = session.options;
    let mut config = target.config;
    config.created = match options.source_date_epoch {
        Some(epoch) => Some(time::rfc3339(epoch)),
        None => stage::fill_history_times(&mut config.history)
            .or_else(|| Some(time::rfc3339(time::now_or(None)))),
    };
    config.rootfs.kind = "layers".into();
    config.rootfs.diff_ids = target.diff_ids;
    if !options.labels.is_empty() {
        let labels = config
            .config
            .get_or_insert_with(ContainerConfig::default)
            .labels
            .get_or_insert_with(BTreeMap::new);
        for (k, v) in &options.labels {
            labels.insert(k.clone(), v.clone());
        }
    }
    let manifest = session.images.write_image(&config, target.layers, false)?;
    let stored = session.images.image(&manifest.digest)?;
    let mut tags = Vec::new();
    for tag in &options.tags {
        let reference = Reference::parse(tag)
            .map_err(|e| BuildError::Request(format!("invalid tag {tag:?}: {e}")))?;
        session.images.tag(&reference, &manifest.digest)?;
        tags.push(reference.to_string());
    }
    if tags.is_empty() {
        session.images.keep_untagged(&manifest.digest)?;
    }
    session.emit(BuildEvent::ImageWritten {
        id: stored.id().to_string(),
        manifest: manifest.digest.to_string(),
        tags: tags.clone(),
    });
    Ok(BuildOutcome {
        image_id: stored.id().clone(),
        manifest_digest: manifest.digest,
        config: stored.config,
        tags,
        executed_steps: executed,
        cached_steps: cached,
    })
}

/// The Dockerfile's display name, text, and a stable identity for cache explanations.
fn read_dockerfile(options: &BuildOptions) -> Result<(String, String, String), BuildError> {
    let path = match &options.dockerfile {
        Some(DockerfileSource::Text { name, text }) => {
            let identity = format!(
                "text:{name}:{}",
                options
                    .context
                    .as_ref()
                    .map(|c| c.display().to_string())
                    .unwrap_or_default()
            );
            return Ok((name.clone(), text.clone(), identity));
        }
        Some(DockerfileSource::Path(p)) => p.clone(),
        None => match &options.context {
            Some(ctx) => ctx.join("Dockerfile"),
            None => {
                return Err(BuildError::Request(
                    "no Dockerfile given and no context to find one in".into(),
                ));
            }
        },
    };
    let bytes =
        std::fs::read(&path).map_err(error::io_error("cannot read Dockerfile", path.display()))?;
    let text = String::from_utf8(bytes)
        .map_err(|_| BuildError::Request(format!("{} is not UTF-8 text", path.display())))?;
    let identity = std::fs::canonicalize(&path)
        .unwrap_or(path.clone())
        .display()
        .to_string();
    let name = path.display().to_string();
    Ok((name, text, identity))
}
