//! `RUN`: the command in the sandbox over a snapshot of the stage, with the stage's
//! environment, user and working directory, and its `--mount`s.

use std::collections::BTreeMap;
use std::path::PathBuf;

use rbuild_parser::ast::{MountType, NetworkMode, Run};
use rbuild_parser::plan::PlannedInstruction;
use rbuild_sandbox::{Exit, Mount as SandboxMount, Network, RunOutcome, SandboxSpec, Stream};

use super::mount_from::{FromBind, with_from_binds};

use crate::build::error::BuildError;
use crate::build::events::{BuildEvent, StepId};
use crate::build::options::NetworkChoice;
use crate::build::stage::{StageRun, StepOutput};
use crate::cache::StepInputs;
use crate::request::SecretSource;

/// How much of a failing command's output is repeated in the error.
const OUTPUT_TAIL_BYTES: usize = 4096;

impl StageRun<'_, '_> {
    /// The environment of a `RUN`: the image's `ENV`, then the stage's `ARG`s that no `ENV`
    /// overrides, then proxy build args (which never reach the image or its history).
    fn run_env(&self) -> Vec<(String, String)> {
        let mut env = self.config.env();
        for (name, value) in &self.args {
            if let Some(value) = value
                && !env.iter().any(|(k, _)| k == name)
            {
                env.push((name.clone(), value.clone()));
            }
        }
        for (name, value) in &self.graph.proxy_env {
            if !env.iter().any(|(k, _)| k == name) {
                env.push((name.clone(), value.clone()));
            }
        }
        env
    }

    pub(super) fn prepare_run(
        &self,
        planned: &PlannedInstruction,
        run: &Run,
        inputs: &mut StepInputs,
    ) -> Result<String, BuildError> {
        let argv = self.run_argv(run);
        inputs.instruction = format!("RUN {}", serde_json::to_string(&argv).unwrap_or_default());
        for (k, v) in self.config.env() {
            inputs.variables.insert(k, Some(v));
        }
        for (k, v) in &self.args {
            inputs
                .variables
                .entry(k.clone())
                .or_insert_with(|| v.clone());
        }
        let c = self.config.image.config.as_ref();
        inputs.options.insert(
            "user".into(),
            c.and_then(|c| c.user.clone()).unwrap_or_default(),
        );
        inputs
            .options
            .insert("workdir".into(), self.config.workdir());
        inputs
            .options
            .insert("network".into(), format!("{:?}", self.network_for(run)));
        if !run.mounts.is_empty() {
            inputs
                .options
                .insert("mounts".into(), format!("{:?}", run.mounts));
        }
        // What a bind mount shows is part of the step's input: a stage's or image's
        // identity, or the content of the directory (context or named) it comes from.
        for (i, m) in run.mounts.iter().enumerate() {
            if m.mount_type != MountType::Bind {
                continue;
            }
            let identity = match self.bind_directory(planned, m)? {
                Some((dir, ignore)) => {
                    let src = m.source.clone().unwrap_or_else(|| ".".into());
                    self.directory_digest(planned, &dir, &src, ignore)?
                }
                None => match &m.from {
                    Some(from) => self.resolve_from_source(planned, from)?.identity,
                    None => continue,
                },
            };
            inputs.options.insert(format!("mount-source-{i}"), identity);
        }
        // History shows the build args the command saw, like BuildKit: `RUN |1 V=2 cmd`.
        let with_values: Vec<String> = self
            .args
            .iter()
            .map(|(k, v)| format!("{k}={}", v.clone().unwrap_or_default()))
            .collect();
        let mut shown = Vec::new();
        if !with_values.is_empty() {
            shown.push(format!("|{}", with_values.len()));
            shown.extend(with_values);
        }
        shown.extend(argv);
        Ok(format!("RUN {} # buildkit", shown.join(" ")))
    }

    fn run_argv(&self, run: &Run) -> Vec<String> {
        match (&run.command, run.heredocs.first()) {
            // `RUN <<EOF` with a script: the heredoc body is the shell's script.
            (rbuild_parser::ast::CommandForm::Shell(line), Some(doc))
                if line.trim_start().starts_with("<<") =>
            {
                let mut argv = self.config.shell();
                argv.push(doc.content.clone());
                argv
            }
            (form, _) => self.config.argv(form),
        }
    }

    fn network_for(&self, run: &Run) -> Network {
        match (run.network, self.session.options.network) {
            (Some(NetworkMode::None), _) | (_, NetworkChoice::None) => Network::None,
            _ => Network::Host,
        }
    }

    pub(super) fn execute_run(
        &self,
        planned: &PlannedInstruction,
        run: &Run,
        step: &StepId,
    ) -> Result<StepOutput, BuildError> {
        let argv = self.run_argv(run);
        let snapshot = self.prepare_snapshot("run")?;
        let result = self.run_in_snapshot(planned, run, &argv, &snapshot, step);
        match result {
            Ok(dir_targets) if dir_targets.is_empty() => Ok(StepOutput {
                layer: self.commit_snapshot(snapshot)?,
                fresh_tree: None,
            }),
            Ok(dir_targets) => {
                // BuildKit leaves the mount points of directory mounts in the image as
                // empty directories; so does rbuild, for the same image.
                let scratch = self.session.scratch_dir(&snapshot.key);
                let root = scratch.clone();
                let result = crate::mounted::with_mounted(
                    &[(snapshot.mount.clone(), scratch.clone())],
                    move || create_mount_points(&root, &dir_targets),
                );
                let _ = std::fs::remove_dir(&scratch);
                self.finish_mounted_step(planned, snapshot, result)
            }
            Err(e) => {
                self.discard_snapshot(&snapshot);
                Err(e)
            }
        }
    }

    fn run_in_snapshot(
        &self,
        planned: &PlannedInstruction,
        run: &Run,
        argv: &[String],
        snapshot: &super::commit::StepSnapshot,
        step: &StepId,
    ) -> Result<Vec<PathBuf>, BuildError> {
        let root = self.sandbox_root(snapshot)?;
        let c = self.config.image.config.as_ref();
        let mut spec = SandboxSpec::new(root, argv.iter().map(String::as_str))
            .envs(self.run_env())
            .cwd(self.config.workdir())
            .network(self.network_for(run))
            .scratch_dir(self.session.root.join("run").join("sandbox"));
        if let Some(user) = c.and_then(|c| c.user.clone()).filter(|u| !u.is_empty()) {
            spec = spec.user(user.parse().map_err(|e: rbuild_sandbox::SandboxError| {
                self.step_error(planned, e.to_string())
            })?);
        }
        if let Ok(resolv) = std::fs::read("/etc/resolv.conf") {
            spec = spec.resolv_conf(resolv);
        }
        let mut secret_env = BTreeMap::new();
        let mut secret_files = SecretFiles(Vec::new());
        let mut from_binds = FromBinds {
            session: self.session,
            binds: Vec::new(),
        };
        let mut dir_targets = Vec::new();
        for mount in self.run_mounts(
            planned,
            run,
            &mut secret_env,
            &mut secret_files,
            &mut from_binds.binds,
        )? {
            dir_targets.extend(directory_mount_point(&mount));
            spec = spec.mount(mount);
        }
        spec = spec.envs(secret_env);

        let run_spec = |spec: SandboxSpec| -> Result<(RunOutcome, Vec<u8>), BuildError> {
            let mut tail: Vec<u8> = Vec::new();
            // The process runs on its own: this stage's job slot is free while it does.
            let outcome = self.session.job_slots.released_while(|| {
                spec.run(|stream, data| {
                    tail.extend_from_slice(data);
                    if tail.len() > 2 * OUTPUT_TAIL_BYTES {
                        tail.drain(..tail.len() - OUTPUT_TAIL_BYTES);
                    }
                    self.session.emit(BuildEvent::StepOutput {
                        step: step.clone(),
                        stderr: stream == Stream::Stderr,
                        data: data.to_vec(),
                    });
                })
            })?;
            Ok((outcome, tail))
        };
        let (outcome, tail) = if from_binds.binds.is_empty() {
            run_spec(spec)?
        } else {
            with_from_binds(&from_binds.binds, |mounts| {
                // The sources are only visible on this thread: look at them here.
                dir_targets.extend(mounts.iter().filter_map(directory_mount_point));
                run_spec(mounts.into_iter().fold(spec, |spec, m| spec.mount(m)))
            })
            .map_err(|e| self.step_error(planned, e.to_string()))??
        };
        drop(from_binds);
        if outcome.exit.success() {
            return Ok(dir_targets);
        }
        let status = match outcome.exit {
            Exit::Code(code) => format!("exit code: {code}"),
            Exit::Signal(sig) => format!("killed by signal {sig}"),
            Exit::TimedOut => "timed out".to_string(),
            Exit::Cancelled => "cancelled".to_string(),
        };
        let start = tail.len().saturating_sub(OUTPUT_TAIL_BYTES);
        let text = String::from_utf8_lossy(&tail[start..])
            .trim_end()
            .to_string();
        Err(BuildError::RunFailed {
            location: self.location(planned),
            command: argv.join(" "),
            status,
            snippet: self.snippet(planned),
            output: if text.is_empty() {
                String::new()
            } else {
                format!("output (last lines):\n{text}")
            },
        })
    }

    /// `RUN --mount`s as sandbox mounts. Secrets with `env=` are returned in `env` instead.
    fn run_mounts(
        &self,
        planned: &PlannedInstruction,
        run: &Run,
        env: &mut BTreeMap<String, String>,
        secret_files: &mut SecretFiles,
        from_binds: &mut Vec<FromBind>,
    ) -> Result<Vec<SandboxMount>, BuildError> {
        let mut out = Vec::new();
        let workdir = self.config.workdir();
        let target_of = |t: &Option<String>| -> PathBuf {
            match t {
                Some(t) if t.starts_with('/') => PathBuf::from(t),
                Some(t) => PathBuf::from(crate::image_config::join_workdir(&workdir, t)),
                None => PathBuf::from(&workdir),
            }
        };
        for m in &run.mounts {
            match m.mount_type {
                MountType::Tmpfs => out.push(SandboxMount::Tmpfs {
                    dst: target_of(&m.target),
                    size: match &m.size {
                        Some(rbuild_parser::ast::Deferred::Literal(n)) => Some(*n),
                        _ => None,
                    },
                }),
                MountType::Cache => {
                    let id =
                        m.id.clone()
                            .or_else(|| m.target.clone())
                            .unwrap_or_else(|| "default".into());
                    let dir = self
                        .session
                        .root
                        .join("cache")
                        .join("mounts")
                        .join(hex_id(&id));
                    std::fs::create_dir_all(&dir).map_err(crate::build::error::io_error(
                        "create cache mount",
                        dir.display(),
                    ))?;
                    out.push(SandboxMount::cache(dir, target_of(&m.target)));
                }
                MountType::Bind => {
                    if let Some((dir, _)) = self.bind_directory(planned, m)? {
                        let src = m.source.clone().unwrap_or_else(|| ".".into());
                        if m.read_only {
                            let host = crate::context::resolve_in_root(&dir, &src, true)
                                .map_err(|e| self.step_error(planned, e.to_string()))?;
                            out.push(SandboxMount::Bind {
                                src: host,
                                dst: target_of(&m.target),
                                readonly: true,
                            });
                        } else {
                            // `rw`: writes are discarded, so they go to a throw-away upper
                            // directory of an overlay, never into the host directory.
                            let bind = FromBind::host_dir_overlay(
                                &self.session.root.join("run"),
                                &dir,
                                src,
                                target_of(&m.target),
                            )
                            .map_err(crate::build::error::io_error(
                                "create a throw-away overlay over",
                                dir.display(),
                            ))?;
                            from_binds.push(bind);
                        }
                        continue;
                    }
                    if let Some(from) = &m.from {
                        let source = self.resolve_from_source(planned, from)?;
                        let key = self.session.unique_key("mount-from");
                        // `rw` gets a writable snapshot whose changes are thrown away.
                        let mount = if m.read_only {
                            self.session.snapshots.view(&key, &source.diff_ids)?
                        } else {
                            self.session.snapshots.prepare(&key, &source.diff_ids)?
                        };
                        from_binds.push(FromBind {
                            scratch: self.session.scratch_dir(&key),
                            snapshot_key: Some(key),
                            throwaway: None,
                            mount,
                            source: m.source.clone().unwrap_or_else(|| "/".into()),
                            dst: target_of(&m.target),
                            readonly: m.read_only,
                        });
                        continue;
                    }
                    return Err(
                        self.step_error(planned, "RUN --mount=type=bind needs a build context")
                    );
                }
                MountType::Secret => {
                    let id = m.id.clone().or_else(|| {
                        m.target
                            .as_ref()
                            .and_then(|t| t.rsplit('/').next().map(str::to_string))
                    });
                    let Some(id) = id else {
                        return Err(self.step_error(planned, "secret mount needs id= or target="));
                    };
                    let spec = self.session.options.secrets.iter().find(|s| s.id == id);
                    let Some(spec) = spec else {
                        if m.required {
                            return Err(self.step_error(
                                planned,
                                format!("secret {id} is required but was not given (use --secret id={id},src=FILE)"),
                            ));
                        }
                        continue;
                    };
                    if let Some(var) = &m.env {
                        let value = match &spec.source {
                            SecretSource::File(p) => std::fs::read_to_string(p).map_err(|e| {
                                self.step_error(planned, format!("cannot read secret {id}: {e}"))
                            })?,
                            SecretSource::Env(v) => std::env::var(v).unwrap_or_default(),
                        };
                        env.insert(var.clone(), value);
                        if m.target.is_none() {
                            continue;
                        }
                    }
                    let src = match &spec.source {
                        SecretSource::File(p) => p.clone(),
                        SecretSource::Env(v) => {
                            // Secrets from the environment go through a private file in the
                            // store's scratch space, removed when the build ends.
                            let dir = self.session.scratch_dir("secrets");
                            std::fs::create_dir_all(&dir)
                                .map_err(crate::build::error::io_error("create", dir.display()))?;
                            let unique = crate::build::unique_suffix();
                            let path =
                                dir.join(hex_id(&format!("{}-{id}-{unique}", std::process::id())));
                            secret_files.0.push(path.clone());
                            write_private(&path, std::env::var(v).unwrap_or_default().as_bytes())
                                .map_err(crate::build::error::io_error(
                                "write secret",
                                path.display(),
                            ))?;
                            path
                        }
                    };
                    let dst = match &m.target {
                        Some(t) => target_of(&Some(t.clone())),
                        None => PathBuf::from("/run/secrets").join(&id),
                    };
                    out.push(SandboxMount::Bind {
                        src,
                        dst,
                        readonly: true,
                    });
                }
                MountType::Ssh => {
                    let id = m.id.clone().unwrap_or_else(|| "default".into());
                    let Some(spec) = self.session.options.ssh.iter().find(|s| s.id == id) else {
                        if m.required {
                            return Err(self.step_error(
                                planned,
                                format!("ssh {id} is required but was not given (use --ssh {id})"),
                            ));
                        }
                        continue;
                    };
                    let Some(sock) = spec.paths.first() else {
                        continue;
                    };
                    let dst = m
                        .target
                        .clone()
                        .map(PathBuf::from)
                        .unwrap_or_else(|| PathBuf::from("/run/buildkit/ssh_agent.0"));
                    env.insert("SSH_AUTH_SOCK".into(), dst.display().to_string());
                    out.push(SandboxMount::Bind {
                        src: sock.clone(),
                        dst,
                        readonly: false,
                    });
                }
            }
        }
        Ok(out)
    }
}

/// The snapshots and scratch directories of a step's `from=` bind mounts; removed when the
/// step ends, whatever happens.
struct FromBinds<'a, 'o> {
    session: &'a crate::build::session::Session<'o>,
    binds: Vec<FromBind>,
}

impl Drop for FromBinds<'_, '_> {
    fn drop(&mut self) {
        for bind in &mut self.binds {
            if let Some(key) = &bind.snapshot_key {
                let _ = self.session.snapshots.remove(key);
            }
            let _ = std::fs::remove_dir(&bind.scratch);
            // The overlay's upper directory holds what the command wrote: thrown away.
            if let Some(dir) = bind.throwaway.take() {
                let _ = dir.close();
            }
        }
    }
}

/// The mount point a directory mount needs in the image (tmpfs, cache, binds of
/// directories); file mounts (secrets, sockets, single files) leave nothing, as in BuildKit.
fn directory_mount_point(mount: &SandboxMount) -> Option<PathBuf> {
    match mount {
        SandboxMount::Tmpfs { dst, .. } => Some(dst.clone()),
        SandboxMount::Bind { src, dst, .. } if src.is_dir() => Some(dst.clone()),
        SandboxMount::Bind { .. } => None,
    }
}

/// Creates missing mount points (and their parents) as empty root-owned 0755 directories,
/// resolving every path inside `root`.
fn create_mount_points(root: &std::path::Path, targets: &[PathBuf]) -> Result<(), String> {
    for target in targets {
        crate::copy::mkdir_all(root, &target.to_string_lossy(), 0, 0).map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Secret values written to files for a step; removed when the step ends, whatever happens.
pub(super) struct SecretFiles(Vec<PathBuf>);

impl Drop for SecretFiles {
    fn drop(&mut self) {
        for path in &self.0 {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// Writes a file only its owner can read.
fn write_private(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(bytes)
}

/// A file-name-safe identifier for a cache or secret id.
fn hex_id(id: &str) -> String {
    use sha2::Digest as _;
    hex::encode(&sha2::Sha256::digest(id.as_bytes())[..16])
}
