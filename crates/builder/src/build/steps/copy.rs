//! `COPY` and `ADD`: sources from the context (content-hashed for the cache key), from
//! another stage or an image (`--from`), or heredocs; written into a snapshot of the stage
//! with Docker's destination rules, `--chown`, `--chmod`, `--parents` and `--exclude`. `ADD`
//! unpacks local archives.

use std::path::PathBuf;

use rbuild_parser::ast::FileCopy;
use rbuild_parser::plan::PlannedInstruction;
use rbuild_snapshotter::{BackendKind, Digest, ExtractOptions, Mount, extract_layer};

mod fresh;

use self::fresh::{FreshCopy, PreviousCopy};
use super::mount_from::FromSource;
use crate::add::{
    download, fetch_repository, is_git_source, is_url, open_archive, parse_checksum,
    resolve_repository,
};
use crate::build::error::BuildError;
use crate::build::events::StepId;
use crate::build::stage::{StageRun, StepOutput};
use crate::cache::{SourceInputs, StepInputs};
use crate::context::{
    ContextEntry, EntryKind, IgnoreRules, digest_entries, expand_source, has_wildcard,
    resolve_in_root, walk_source,
};
use crate::copy::{CopyOptions, destination_kind};
use crate::image_config::join_workdir;
use crate::mounted::with_mounted;
use crate::request::NamedContext;
use crate::users::resolve_chown;

/// One source of a COPY, resolved as far as it can be before the snapshot is mounted.
enum PlannedSource {
    /// Files from the context (or a heredoc), already listed.
    Listed {
        name: String,
        entries: Vec<ContextEntry>,
    },
    /// A local archive that ADD unpacks into the destination.
    Archive { host_path: PathBuf },
    /// A path in the `--from` stage or image, resolved once it is mounted.
    InFrom { pattern: String },
    /// A URL with a known checksum: fetched only when the step runs (a cache hit needs
    /// nothing from the network).
    Url { url: String, checksum: String },
    /// A git repository whose commit is known: checked out only when the step runs.
    Git {
        url: String,
        keep_git_dir: bool,
        commit: String,
    },
}

/// Where `--from` files come from.
struct FromRoot {
    diff_ids: Vec<Digest>,
}

/// A COPY/ADD ready to run.
pub(crate) struct CopyPlan {
    sources: Vec<PlannedSource>,
    /// Absolute destination (a trailing `/` kept: it means "directory").
    dest: String,
    explicit_sources: usize,
    from: Option<FromRoot>,
    exclude: Vec<String>,
    parents: bool,
    /// Kept alive until the copy ran: heredoc files live here.
    _scratch: Option<tempfile::TempDir>,
    /// Kept alive until the copy ran: one directory per downloaded URL.
    downloads: Vec<tempfile::TempDir>,
    /// The last build of this step, when its unchanged files may be linked from it.
    pub previous: Option<PreviousCopy>,
}

impl StageRun<'_, '_> {
    pub(super) fn prepare_copy(
        &self,
        planned: &PlannedInstruction,
        fc: &FileCopy,
        is_add: bool,
        inputs: &mut StepInputs,
    ) -> Result<(String, CopyPlan), BuildError> {
        let verb = if is_add { "ADD" } else { "COPY" };
        let created_by = format!("{verb} {} {} # buildkit", fc.sources.join(" "), fc.dest);
        inputs.instruction = describe_copy(verb, fc);
        for doc in &fc.heredocs {
            use sha2::Digest as _;
            let digest = hex::encode(sha2::Sha256::digest(doc.content.as_bytes()));
            inputs
                .options
                .insert(format!("heredoc:{}", doc.name), digest);
        }
        let dest = absolute_dest(&self.config.workdir(), &fc.dest);
        inputs.options.insert("dest".into(), dest.clone());
        let exclude_rules = IgnoreRules::from_lines(fc.exclude.iter().map(String::as_str))
            .map_err(|e| self.step_error(planned, format!("invalid --exclude: {e}")))?;

        let mut scratch = None;
        let mut downloads = Vec::new();
        let mut sources = Vec::new();
        // `--from=NAME` of a directory `--build-context` reads it like the build context.
        let named_dir = match fc.from.as_deref().map(|f| self.session.named_context(f)) {
            Some(Some(NamedContext::Directory(dir))) => Some(dir.clone()),
            _ => None,
        };
        let from = match (&fc.from, &named_dir) {
            (Some(from), None) => Some(self.resolve_from(planned, from, inputs)?),
            _ => None,
        };
        if let (Some(name), Some(dir)) = (&fc.from, &named_dir) {
            inputs
                .options
                .insert("from".into(), format!("context:{name}"));
            if !dir.is_dir() {
                return Err(self.step_error(
                    planned,
                    format!(
                        "--build-context {name}={} is not a directory",
                        dir.display()
                    ),
                ));
            }
        }
        let no_ignore = IgnoreRules::none();
        let ignore = if named_dir.is_some() {
            &no_ignore
        } else {
            &self.session.ignore
        };
        for src in &fc.sources {
            if let Some(doc) = heredoc_for(fc, src) {
                let dir = match &mut scratch {
                    Some(d) => d,
                    None => scratch.insert(
                        tempfile::Builder::new()
                            .prefix("heredoc")
                            .tempdir_in(self.session.root.join("run"))
                            .map_err(crate::build::error::io_error("create", "heredoc scratch"))?,
                    ),
                };
                let name = doc.name.clone();
                let path = dir.path().join(&name);
                std::fs::write(&path, &doc.content)
                    .map_err(crate::build::error::io_error("write", path.display()))?;
                let entries = walk_source(&name, &path, &IgnoreRules::none())
                    .map_err(|e| self.step_error(planned, e.to_string()))?;
                sources.push(PlannedSource::Listed { name, entries });
                continue;
            }
            if is_add && is_git_source(src) {
                // BuildKit's ADD of a git repository: the commit keys the cache, asked with
                // `git ls-remote`, so a cache hit checks nothing out.
                let resolved = resolve_repository(src, fc.checksum.as_deref())
                    .map_err(|e| self.step_error(planned, e.to_string()))?;
                let commit = match resolved {
                    Some(commit) => {
                        sources.push(PlannedSource::Git {
                            url: src.clone(),
                            keep_git_dir: fc.keep_git_dir,
                            commit: commit.clone(),
                        });
                        commit
                    }
                    None => {
                        let (source, commit) = self.fetch_git(
                            planned,
                            src,
                            fc.keep_git_dir,
                            fc.checksum.as_deref(),
                            &mut downloads,
                        )?;
                        sources.push(source);
                        commit
                    }
                };
                inputs.sources.insert(
                    src.clone(),
                    SourceInputs {
                        digest: format!("git:{commit}"),
                        ..Default::default()
                    },
                );
                continue;
            }
            if is_url(src) {
                if !is_add {
                    return Err(self.step_error(
                        planned,
                        format!(
                            "COPY cannot fetch a URL ({src}): use ADD, or download it in a RUN step"
                        ),
                    ));
                }
                // With --checksum the content is known without fetching it, so a cache hit
                // downloads nothing; without, the content must be fetched to be keyed.
                let digest = match &fc.checksum {
                    Some(checksum) => {
                        let checksum = parse_checksum(checksum)
                            .map_err(|e| self.step_error(planned, e.to_string()))?;
                        sources.push(PlannedSource::Url {
                            url: src.clone(),
                            checksum: checksum.clone(),
                        });
                        checksum
                    }
                    None => {
                        let (source, digest) =
                            self.fetch_url(planned, src, None, &mut downloads)?;
                        sources.push(source);
                        digest
                    }
                };
                inputs.sources.insert(
                    src.clone(),
                    SourceInputs {
                        digest,
                        ..Default::default()
                    },
                );
                continue;
            }
            if from.is_some() {
                sources.push(PlannedSource::InFrom {
                    pattern: src.clone(),
                });
                continue;
            }
            let Some(context) = named_dir.as_ref().or(self.session.options.context.as_ref()) else {
                return Err(self.step_error(
                    planned,
                    format!("{verb} {src}: this build has no context (it was read from standard input); give a context directory"),
                ));
            };
            let matches =
                expand_source(context, src).map_err(|e| self.step_error(planned, e.to_string()))?;
            if matches.is_empty() && !has_wildcard(src) {
                return Err(
                    self.step_error(planned, format!("{src:?} not found in the build context"))
                );
            }
            let mut source_inputs = SourceInputs::default();
            // Each match's entries are walked once and kept for the copy; the digest reads
            // them through references (a large context is not held twice).
            let first_new_source = sources.len();
            let mut archive_entries = Vec::new();
            for rel in matches {
                if rel != "." && ignore.is_excluded(&rel) {
                    return Err(self.step_error(
                        planned,
                        format!("{rel:?} is excluded by .dockerignore, so {verb} cannot use it (remove it from .dockerignore or add an exception `!{rel}`)"),
                    ));
                }
                let host = resolve_in_root(context, &rel, true)
                    .map_err(|e| self.step_error(planned, e.to_string()))?;
                if std::fs::symlink_metadata(&host).is_err() {
                    return Err(
                        self.step_error(planned, format!("{rel:?} not found in the build context"))
                    );
                }
                let mut entries = walk_source(&rel, &host, ignore)
                    .map_err(|e| self.step_error(planned, e.to_string()))?;
                if !exclude_rules.is_empty() {
                    let prefix = format!("{rel}/");
                    entries.retain(|e| {
                        let below = e.path.strip_prefix(&prefix).unwrap_or(&e.path);
                        e.path == rel
                            || !(exclude_rules.is_excluded(below)
                                || exclude_rules.is_excluded(&e.path))
                    });
                }
                let name = rel.rsplit('/').next().unwrap_or(&rel).to_string();
                let is_archive = is_add
                    && entries.first().is_some_and(|e| e.kind == EntryKind::File)
                    && fc.unpack != Some(false)
                    && matches!(open_archive(&host), Ok(Some(_)));
                if is_archive {
                    archive_entries.extend(entries);
                    sources.push(PlannedSource::Archive { host_path: host });
                } else {
                    sources.push(PlannedSource::Listed { name, entries });
                }
            }
            let digest = {
                let mut cache = self
                    .session
                    .stat_cache
                    .lock()
                    .unwrap_or_else(|p| p.into_inner());
                let combined: Vec<&ContextEntry> = sources[first_new_source..]
                    .iter()
                    .flat_map(|source| match source {
                        PlannedSource::Listed { entries, .. } => entries.iter(),
                        _ => [].iter(),
                    })
                    .chain(archive_entries.iter())
                    .collect();
                digest_entries(&combined, &mut cache)
                    .map_err(|e| self.step_error(planned, e.to_string()))?
            };
            source_inputs.digest = digest.digest.to_string();
            source_inputs.entries = digest.entries;
            inputs.sources.insert(src.clone(), source_inputs);
        }
        Ok((
            created_by,
            CopyPlan {
                sources,
                dest,
                explicit_sources: fc.sources.len(),
                from,
                exclude: fc.exclude.clone(),
                parents: fc.parents,
                _scratch: scratch,
                downloads,
                previous: None,
            },
        ))
    }

    /// `--from=` names a stage (by name or index), or else an image.
    fn resolve_from(
        &self,
        planned: &PlannedInstruction,
        from: &str,
        inputs: &mut StepInputs,
    ) -> Result<FromRoot, BuildError> {
        let source = self.resolve_from_source(planned, from)?;
        inputs.options.insert("from".into(), source.identity);
        Ok(FromRoot {
            diff_ids: source.diff_ids,
        })
    }

    /// The file system a `--from=`/`from=` names: a stage (by name or index) of this
    /// Dockerfile, or else an image.
    pub(super) fn resolve_from_source(
        &self,
        planned: &PlannedInstruction,
        from: &str,
    ) -> Result<FromSource, BuildError> {
        let lower = from.to_ascii_lowercase();
        // A `--build-context` of that name wins over a stage of that name (as in buildx).
        let named = self.session.named_context(from).is_some();
        let stage = self.graph.stages.iter().find(|s| {
            !named
                && (s.name.as_deref() == Some(lower.as_str())
                    || from.parse::<usize>().ok() == Some(s.index))
        });
        if let Some(stage) = stage {
            let Some(result) = self.finished.get(&stage.index) else {
                return Err(self.step_error(
                    planned,
                    format!("stage {from} has not been built before this step"),
                ));
            };
            return Ok(FromSource {
                diff_ids: result.diff_ids.clone(),
                identity: format!("stage:{}", result.key),
            });
        }
        let image = self
            .session
            .base_image(from)
            .map_err(|e| self.step_error(planned, format!("from {from}: {e}")))?;
        Ok(FromSource {
            identity: format!("image:{}", image.manifest_digest),
            diff_ids: image.diff_ids,
        })
    }

    /// Downloads a URL into its own directory under the store's `run/` (a URL download
    /// is never unpacked). Returns the source to copy and the content's digest.
    fn fetch_url(
        &self,
        planned: &PlannedInstruction,
        url: &str,
        checksum: Option<&str>,
        downloads: &mut Vec<tempfile::TempDir>,
    ) -> Result<(PlannedSource, String), BuildError> {
        let dir = tempfile::Builder::new()
            .prefix("download")
            .tempdir_in(self.session.root.join("run"))
            .map_err(crate::build::error::io_error(
                "create",
                "download directory",
            ))?;
        let fetched = download(url, dir.path(), checksum)
            .map_err(|e| self.step_error(planned, e.to_string()))?;
        let entries = walk_source(&fetched.file_name, &fetched.path, &IgnoreRules::none())
            .map_err(|e| self.step_error(planned, e.to_string()))?;
        downloads.push(dir);
        Ok((
            PlannedSource::Listed {
                name: fetched.file_name,
                entries,
            },
            fetched.digest,
        ))
    }

    /// Checks out a git repository for ADD into the store's `run/`; returns its contents as
    /// a source and the commit.
    fn fetch_git(
        &self,
        planned: &PlannedInstruction,
        url: &str,
        keep_git_dir: bool,
        checksum: Option<&str>,
        downloads: &mut Vec<tempfile::TempDir>,
    ) -> Result<(PlannedSource, String), BuildError> {
        let repo = fetch_repository(url, keep_git_dir, checksum, &self.session.root)
            .map_err(|e| self.step_error(planned, e.to_string()))?;
        let entries = walk_source(".", &repo.directory, &IgnoreRules::none())
            .map_err(|e| self.step_error(planned, e.to_string()))?;
        downloads.push(repo.scratch);
        let source = PlannedSource::Listed {
            name: ".".into(),
            entries,
        };
        Ok((source, repo.commit))
    }

    pub(super) fn execute_copy(
        &self,
        planned: &PlannedInstruction,
        fc: &FileCopy,
        mut plan: CopyPlan,
        step: &StepId,
    ) -> Result<StepOutput, BuildError> {
        for i in 0..plan.sources.len() {
            if let PlannedSource::Url { url, checksum } = &plan.sources[i] {
                let (url, checksum) = (url.clone(), checksum.clone());
                let (source, _) =
                    self.fetch_url(planned, &url, Some(&checksum), &mut plan.downloads)?;
                plan.sources[i] = source;
            }
            if let PlannedSource::Git {
                url,
                keep_git_dir,
                commit,
            } = &plan.sources[i]
            {
                let (url, keep, commit) = (url.clone(), *keep_git_dir, commit.clone());
                // The keyed commit is the checksum: a ref that moved since is an error.
                let (source, _) =
                    self.fetch_git(planned, &url, keep, Some(&commit), &mut plan.downloads)?;
                plan.sources[i] = source;
            }
        }
        let snapshot = self.prepare_snapshot("copy")?;
        let mut from_snapshot = None;
        let scratch = self.session.scratch_dir(&snapshot.key);
        let root = scratch.join("root");
        let from_root = scratch.join("from");
        let mut mounts = vec![(snapshot.mount.clone(), root.clone())];
        if let Some(from) = &plan.from {
            let key = self.session.unique_key("from");
            let view: Mount = self.session.snapshots.view(&key, &from.diff_ids)?;
            mounts.push((view, from_root.clone()));
            from_snapshot = Some(key);
        }
        let chown = fc.chown.clone();
        let chmod = match &fc.chmod {
            Some(text) => Some(
                u32::from_str_radix(text, 8)
                    .ok()
                    .filter(|m| *m <= 0o7777)
                    .ok_or_else(|| {
                        self.step_error(
                            planned,
                            format!("invalid --chmod={text}: expected an octal mode like 755"),
                        )
                    })?,
            ),
            None => None,
        };
        // A fresh destination can be written straight into the overlay's upper directory
        // (see `FreshCopy`): only with the overlay backend, whose upper holds just the
        // step's changes.
        let fresh_lowers = (self.session.snapshots.backend() == BackendKind::Overlay).then(|| {
            let layers = self.session.snapshots.layers();
            self.diff_ids.iter().map(|d| layers.layer_path(d)).collect()
        });
        let previous = plan.previous.take();
        let job = CopyJob {
            root: root.clone(),
            from_root: from_root.clone(),
            chown,
            chmod,
            plan,
            fresh_lowers,
        };
        let result = with_mounted(&mounts, move || job.run());
        if let Some(key) = from_snapshot {
            let _ = self.session.snapshots.remove(&key);
        }
        let _ = std::fs::remove_dir(&root);
        let _ = std::fs::remove_dir(&from_root);
        let _ = std::fs::remove_dir(&scratch);
        // The overlay is unmounted now: the fresh tree is written into the upper directory.
        let mut fresh_tree = None;
        let result = match result {
            Ok(Ok(Some(fresh))) => {
                let previous = previous
                    .filter(|p| p.dest == fresh.target_dir)
                    .map(|p| p.tree);
                fresh_tree = Some(fresh.target_dir.clone());
                Ok(self
                    .session
                    .snapshots
                    .writable_dir(&snapshot.key)
                    .map_err(|e| e.to_string())
                    .and_then(|upper| fresh.run(&upper, previous.as_ref()))
                    .map(|stats| self.report_linked(step, &stats)))
            }
            Ok(Ok(None)) => Ok(Ok(())),
            Ok(Err(message)) => Ok(Err(message)),
            Err(e) => Err(e),
        };
        let mut output = self.finish_mounted_step(planned, snapshot, result)?;
        output.fresh_tree = fresh_tree;
        Ok(output)
    }
}

/// The part of a COPY that runs inside the private mount namespace.
struct CopyJob {
    root: PathBuf,
    from_root: PathBuf,
    chown: Option<String>,
    chmod: Option<u32>,
    plan: CopyPlan,
    /// The layers below the snapshot, when a fresh tree may be written into its upper
    /// directory (the overlay backend).
    fresh_lowers: Option<Vec<PathBuf>>,
}

impl CopyJob {
    /// Copies everything, or prepares a [`FreshCopy`] to be run once the overlay is
    /// unmounted.
    fn run(mut self) -> Result<Option<FreshCopy>, String> {
        let owner = match &self.chown {
            Some(spec) => Some(resolve_chown(&self.root, spec).map_err(|e| e.to_string())?),
            None => None,
        };
        let opts = CopyOptions {
            chown: owner,
            chmod: self.chmod,
            // Files from another stage or image keep their owners; context files do not.
            preserve_owner: self.plan.from.is_some(),
        };
        // The walked entries move out of the plan: a large context's list is megabytes.
        let sources = std::mem::take(&mut self.plan.sources);
        let plan = &self.plan;
        // Resolve `--from` patterns now that the source is mounted.
        let mut listed: Vec<(String, Vec<ContextEntry>)> = Vec::new();
        let mut archives = Vec::new();
        for source in sources {
            match source {
                PlannedSource::Listed { name, entries } => listed.push((name, entries)),
                PlannedSource::Archive { host_path } => archives.push(host_path),
                PlannedSource::Url { url, .. } | PlannedSource::Git { url, .. } => {
                    let url = crate::remote::redact_url(&url);
                    return Err(format!("internal error: {url} was not downloaded"));
                }
                PlannedSource::InFrom { pattern } => {
                    let matches =
                        expand_source(&self.from_root, &pattern).map_err(|e| e.to_string())?;
                    for rel in matches {
                        let host = resolve_in_root(&self.from_root, &rel, true)
                            .map_err(|e| e.to_string())?;
                        if std::fs::symlink_metadata(&host).is_err() {
                            return Err(format!("{pattern:?} not found in the --from source"));
                        }
                        let mut entries = walk_source(&rel, &host, &IgnoreRules::none())
                            .map_err(|e| e.to_string())?;
                        if !plan.exclude.is_empty() {
                            let rules =
                                IgnoreRules::from_lines(plan.exclude.iter().map(String::as_str))
                                    .map_err(|e| e.to_string())?;
                            let prefix = format!("{rel}/");
                            entries.retain(|e| {
                                e.path == rel
                                    || !rules.is_excluded(
                                        e.path.strip_prefix(&prefix).unwrap_or(&e.path),
                                    )
                            });
                        }
                        let name = rel.rsplit('/').next().unwrap_or(&rel).to_string();
                        listed.push((name, entries));
                    }
                }
            }
        }
        let matched = listed.len() + archives.len();
        let any_dir = listed
            .iter()
            .any(|(_, e)| e.first().is_some_and(|e| e.kind == EntryKind::Dir));
        if archives.is_empty()
            && let Some(fresh) = self.fresh_copy(&mut listed, &opts)?
        {
            return Ok(Some(fresh));
        }
        let plan = &self.plan;
        for (name, entries) in &listed {
            let dest = if plan.parents {
                let parent = entries
                    .first()
                    .and_then(|e| e.path.rsplit_once('/').map(|(p, _)| p.to_string()))
                    .unwrap_or_default();
                format!("{}/{parent}/", plan.dest.trim_end_matches('/'))
            } else {
                plan.dest.clone()
            };
            let existing_dir = resolve_in_root(&self.root, &dest, true)
                .map(|p| p.is_dir())
                .unwrap_or(false);
            let kind =
                destination_kind(&dest, plan.explicit_sources, matched, any_dir, existing_dir)
                    .map_err(|e| e.to_string())?;
            crate::copy::copy_selection(&self.root, entries, name, &dest, kind, &opts)
                .map_err(|e| e.to_string())?;
        }
        for archive in archives {
            let target =
                resolve_in_root(&self.root, &plan.dest, true).map_err(|e| e.to_string())?;
            std::fs::create_dir_all(&target)
                .map_err(|e| format!("cannot create {}: {e}", plan.dest))?;
            let Some((_, reader)) = open_archive(&archive).map_err(|e| e.to_string())? else {
                return Err(format!("{} is no longer an archive", archive.display()));
            };
            extract_layer(reader, &target, &ExtractOptions::default())
                .map_err(|e| e.to_string())?;
        }
        Ok(None)
    }
}

/// The instruction as a readable line for the cache key and its explanations: every flag
/// that changes the result, then sources and destination (already expanded).
fn describe_copy(verb: &str, fc: &FileCopy) -> String {
    let mut words = vec![verb.to_string()];
    let flag = |name: &str, value: &Option<String>| value.as_ref().map(|v| format!("--{name}={v}"));
    words.extend(flag("from", &fc.from));
    words.extend(flag("chown", &fc.chown));
    words.extend(flag("chmod", &fc.chmod));
    words.extend(flag("checksum", &fc.checksum));
    if let Some(unpack) = fc.unpack {
        words.push(format!("--unpack={unpack}"));
    }
    for (set, name) in [
        (fc.link, "--link"),
        (fc.parents, "--parents"),
        (fc.keep_git_dir, "--keep-git-dir"),
    ] {
        if set {
            words.push(name.to_string());
        }
    }
    words.extend(fc.exclude.iter().map(|e| format!("--exclude={e}")));
    // Words with blanks are quoted, so that no two source lists read alike.
    let quoted = |w: &String| {
        if w.contains(char::is_whitespace) {
            format!("{w:?}")
        } else {
            w.clone()
        }
    };
    words.extend(fc.sources.iter().map(quoted));
    words.push(quoted(&fc.dest));
    words.join(" ")
}

/// `COPY x rel/` is relative to the working directory; the trailing `/` is kept because it
/// decides whether the destination is a directory.
fn absolute_dest(workdir: &str, dest: &str) -> String {
    let trailing = dest.ends_with('/') || dest.ends_with("/.") || dest == ".";
    let joined = join_workdir(workdir, dest);
    if trailing && !joined.ends_with('/') {
        format!("{joined}/")
    } else {
        joined
    }
}

/// The heredoc a COPY source names (`<<EOF`, `<<-EOF`, `<<"EOF"`).
fn heredoc_for<'a>(fc: &'a FileCopy, src: &str) -> Option<&'a rbuild_parser::ast::Heredoc> {
    let name = src
        .strip_prefix("<<")?
        .trim_start_matches('-')
        .trim_matches(['"', '\'']);
    fc.heredocs.iter().find(|h| h.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn destinations() {
        assert_eq!(absolute_dest("/app", "."), "/app/");
        assert_eq!(absolute_dest("/app", "x"), "/app/x");
        assert_eq!(absolute_dest("/", "/usr/bin/"), "/usr/bin/");
        assert_eq!(absolute_dest("/a", "../b/"), "/b/");
    }
}
