//! The library API's input: a builder-style description of one build.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rbuild_oci::compress::Compression;
use rbuild_oci::registry::RegistrySettings;
use rbuild_parser::plan::BuildArgs;

use super::events::BuildEvent;
use crate::request::{NamedContext, SecretSpec, SshSpec};

/// Where the Dockerfile text comes from.
#[derive(Debug, Clone)]
pub enum DockerfileSource {
    /// A file on disk (its name appears in errors).
    Path(PathBuf),
    /// Text given directly (stdin, or a library caller's string), with a display name.
    Text { name: String, text: String },
}

/// Network access of `RUN` steps (`--network`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum NetworkChoice {
    /// The host's network, like `docker build`.
    #[default]
    Default,
    None,
    Host,
}

/// Receives progress events; called from build threads.
pub type EventSink = Arc<dyn Fn(&BuildEvent) + Send + Sync>;

/// Everything a build needs to know. Build it with [`BuildOptions::new`] and the setters.
///
/// ```no_run
/// use rbuild_builder::build::{BuildOptions, build};
/// let outcome = build(
///     &BuildOptions::new("examples/hello")
///         .tag("my_first_image")
///         .build_arg("VERSION", "1.2"),
/// )?;
/// println!("{}", outcome.image_id);
/// # Ok::<(), rbuild_builder::build::BuildError>(())
/// ```
#[derive(Clone)]
pub struct BuildOptions {
    /// The context directory; `None` for a build without context (`rbuild build -`).
    pub context: Option<PathBuf>,
    /// The Dockerfile; `<context>/Dockerfile` by default.
    pub dockerfile: Option<DockerfileSource>,
    pub build_args: BuildArgs,
    pub target: Option<String>,
    /// Names to give the image in the local store (`-t`).
    pub tags: Vec<String>,
    /// Extra labels (`--label`), applied last.
    pub labels: Vec<(String, String)>,
    pub no_cache: bool,
    /// Stages whose steps must not come from the cache (`--no-cache-filter`).
    pub no_cache_filter: Vec<String>,
    /// Check the registry for newer base images (`--pull`).
    pub pull: bool,
    pub network: NetworkChoice,
    pub secrets: Vec<SecretSpec>,
    pub ssh: Vec<SshSpec>,
    pub named_contexts: Vec<(String, NamedContext)>,
    /// The store root; [`rbuild_snapshotter::default_store_root`] by default.
    pub store_root: Option<PathBuf>,
    /// Compression of the layers this build stores. Uncompressed by default: compressing
    /// is the slowest part of committing a layer, and outputs and pushes compress (once,
    /// then reuse) with their own `compression=` anyway, as BuildKit does.
    pub compression: Compression,
    /// At most this many stages do the builder's own work at once (a stage waiting for
    /// its RUN process does not count); the core count by default.
    pub jobs: Option<usize>,
    /// Clamp timestamps for reproducible layers.
    pub source_date_epoch: Option<i64>,
    pub events: Option<EventSink>,
    /// Registry mirrors and insecure registries; from the environment and
    /// `~/.config/rbuild/registries.json` when `None`.
    pub registry: Option<RegistrySettings>,
}

impl std::fmt::Debug for BuildOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BuildOptions")
            .field("context", &self.context)
            .field("dockerfile", &self.dockerfile)
            .field("target", &self.target)
            .field("tags", &self.tags)
            .finish_non_exhaustive()
    }
}

impl BuildOptions {
    /// A build of the context directory `context` with its `Dockerfile`.
    pub fn new(context: impl AsRef<Path>) -> BuildOptions {
        BuildOptions {
            context: Some(context.as_ref().to_path_buf()),
            ..BuildOptions::without_context()
        }
    }

    /// A build with no context files (the Dockerfile must be given).
    pub fn without_context() -> BuildOptions {
        BuildOptions {
            context: None,
            dockerfile: None,
            build_args: BuildArgs::new(),
            target: None,
            tags: Vec::new(),
            labels: Vec::new(),
            no_cache: false,
            no_cache_filter: Vec::new(),
            pull: false,
            network: NetworkChoice::Default,
            secrets: Vec::new(),
            ssh: Vec::new(),
            named_contexts: Vec::new(),
            store_root: None,
            compression: Compression::Uncompressed,
            jobs: None,
            source_date_epoch: None,
            events: None,
            registry: None,
        }
    }

    pub fn dockerfile(mut self, path: impl AsRef<Path>) -> Self {
        self.dockerfile = Some(DockerfileSource::Path(path.as_ref().to_path_buf()));
        self
    }

    pub fn dockerfile_text(mut self, name: impl Into<String>, text: impl Into<String>) -> Self {
        self.dockerfile = Some(DockerfileSource::Text {
            name: name.into(),
            text: text.into(),
        });
        self
    }

    pub fn tag(mut self, name: impl Into<String>) -> Self {
        self.tags.push(name.into());
        self
    }

    pub fn build_arg(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.build_args.set(name, value);
        self
    }

    pub fn target(mut self, stage: impl Into<String>) -> Self {
        self.target = Some(stage.into());
        self
    }

    pub fn label(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.labels.push((name.into(), value.into()));
        self
    }

    pub fn no_cache(mut self, yes: bool) -> Self {
        self.no_cache = yes;
        self
    }

    pub fn pull(mut self, yes: bool) -> Self {
        self.pull = yes;
        self
    }

    pub fn network(mut self, network: NetworkChoice) -> Self {
        self.network = network;
        self
    }

    pub fn store_root(mut self, root: impl AsRef<Path>) -> Self {
        self.store_root = Some(root.as_ref().to_path_buf());
        self
    }

    pub fn compression(mut self, compression: Compression) -> Self {
        self.compression = compression;
        self
    }

    pub fn secret(mut self, secret: SecretSpec) -> Self {
        self.secrets.push(secret);
        self
    }

    pub fn named_context(mut self, name: impl Into<String>, context: NamedContext) -> Self {
        self.named_contexts.push((name.into(), context));
        self
    }

    pub fn jobs(mut self, jobs: usize) -> Self {
        self.jobs = Some(jobs.max(1));
        self
    }

    pub fn source_date_epoch(mut self, epoch: i64) -> Self {
        self.source_date_epoch = Some(epoch);
        self
    }

    /// Registry settings (mirrors, insecure registries) instead of the environment's.
    pub fn registry_settings(mut self, settings: RegistrySettings) -> Self {
        self.registry = Some(settings);
        self
    }

    /// Progress events go to `sink` (from several threads when stages run in parallel).
    pub fn on_event(mut self, sink: impl Fn(&BuildEvent) + Send + Sync + 'static) -> Self {
        self.events = Some(Arc::new(sink));
        self
    }
}
