//! The services one build uses: stores, snapshotter, cache index, registry client, and
//! the event sink — opened once and shared by every stage.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rbuild_oci::ImageStore;
use rbuild_oci::registry::RegistryClient;
use rbuild_snapshotter::Snapshotter;

use super::error::BuildError;
use super::events::BuildEvent;
use super::options::BuildOptions;
use crate::cache::CacheIndex;
use crate::context::{IgnoreRules, StatCache, find_ignore_file};

pub(crate) struct Session<'a> {
    pub options: &'a BuildOptions,
    pub root: PathBuf,
    pub images: ImageStore,
    pub snapshots: Snapshotter,
    pub cache: CacheIndex,
    pub stat_cache: Mutex<StatCache>,
    /// The context's `.dockerignore` (or `<Dockerfile>.dockerignore`) rules.
    pub ignore: IgnoreRules,
    registry: Mutex<Option<RegistryClient>>,
    /// `--jobs` slots for the stages' own work.
    pub job_slots: super::job_slots::JobSlots,
    /// Held shared for the whole build, so `rbuild prune` (exclusive) never removes what
    /// this build has written but not yet recorded.
    _store_lock: rbuild_snapshotter::FileLock,
}

impl<'a> Session<'a> {
    pub fn open(options: &'a BuildOptions) -> Result<Session<'a>, BuildError> {
        let root = options
            .store_root
            .clone()
            .unwrap_or_else(rbuild_snapshotter::default_store_root);
        std::fs::create_dir_all(&root)
            .map_err(super::error::io_error("create store root", root.display()))?;
        for dir in ["run/sandbox", "run/mnt"] {
            let path = root.join(dir);
            std::fs::create_dir_all(&path)
                .map_err(super::error::io_error("create", path.display()))?;
        }
        let images = ImageStore::open(&root)?;
        let store_lock = rbuild_snapshotter::FileLock::acquire(
            &rbuild_snapshotter::store_lock_path(&root),
            rbuild_snapshotter::LockMode::Shared,
        )?;
        let snapshots = Snapshotter::open(&root)?;
        let cache = CacheIndex::open(&root)?;
        let stat_cache = match &options.context {
            // A fetched remote context lives in run/ for one build: a saved cache would
            // never be read again.
            Some(ctx) if !ctx.starts_with(root.join("run")) => {
                StatCache::load(&stat_cache_file(&root, ctx))
            }
            _ => StatCache::in_memory(),
        };
        let dockerfile_path = match &options.dockerfile {
            Some(super::options::DockerfileSource::Path(p)) => Some(p.clone()),
            _ => options.context.as_ref().map(|c| c.join("Dockerfile")),
        };
        let ignore = match &options.context {
            Some(ctx) => match find_ignore_file(ctx, dockerfile_path.as_deref()) {
                Some(file) => {
                    IgnoreRules::read(&file).map_err(|e| BuildError::Request(e.to_string()))?
                }
                None => IgnoreRules::none(),
            },
            None => IgnoreRules::none(),
        };
        Ok(Session {
            options,
            ignore,
            root,
            images,
            snapshots,
            cache,
            stat_cache: Mutex::new(stat_cache),
            registry: Mutex::new(None),
            job_slots: super::job_slots::JobSlots::new(options.jobs.unwrap_or_else(|| {
                std::thread::available_parallelism()
                    .map(|n| n.get())
                    .unwrap_or(1)
            })),
            _store_lock: store_lock,
        })
    }

    pub fn emit(&self, event: BuildEvent) {
        if let Some(sink) = &self.options.events {
            sink(&event);
        }
    }

    /// The registry client, created on first use (most cached builds never need it).
    pub fn with_registry<T>(
        &self,
        f: impl FnOnce(&RegistryClient) -> Result<T, BuildError>,
    ) -> Result<T, BuildError> {
        let mut guard = self.registry.lock().unwrap_or_else(|p| p.into_inner());
        if guard.is_none() {
            *guard = Some(match &self.options.registry {
                Some(settings) => RegistryClient::new(settings.clone())?,
                None => RegistryClient::from_environment()?,
            });
        }
        match guard.as_ref() {
            Some(client) => f(client),
            None => Err(BuildError::Request("no registry client".into())),
        }
    }

    /// A snapshot key no other step or process uses.
    pub fn unique_key(&self, prefix: &str) -> String {
        format!("{prefix}-{}-{}", std::process::id(), super::unique_suffix())
    }

    /// A scratch directory for mount points and temporary files of this build.
    pub fn scratch_dir(&self, name: &str) -> PathBuf {
        self.root.join("run").join("mnt").join(name)
    }
}

/// The stat cache of a context lives in the store, keyed by the context's absolute path.
fn stat_cache_file(root: &Path, context: &Path) -> PathBuf {
    use sha2::Digest as _;
    let abs = std::fs::canonicalize(context).unwrap_or_else(|_| context.to_path_buf());
    let id = hex::encode(sha2::Sha256::digest(abs.as_os_str().as_encoded_bytes()));
    root.join("cache").join("stat").join(id)
}
