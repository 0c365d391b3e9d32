//! Host-side preparation of one run: validates the spec, writes the per-run scratch files
//! (generated /etc/hosts and /etc/resolv.conf, the overlay stub layer), creates mount-target
//! stubs, and computes the [`ChildPlan`].

use std::ffi::{CString, OsStr};
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::child::plan::{ChildPlan, MountPlan, RootPlan, UserRef};
use crate::error::{SandboxError, prepare};
use crate::idmap::IdMapping;
use crate::spec::{DEFAULT_PATH, IdOrName, Mount, Network, RootFs, SandboxSpec};
use crate::stubs::{self, TargetKind};

/// Everything a run needs before the clone; dropping it removes the scratch files.
pub(crate) struct Prepared {
    pub plan: ChildPlan,
    pub id_mapping: Option<IdMapping>,
    /// Stubs created in a plain root directory, removed after the run.
    _dir_stubs: DirStubs,
    _scratch: tempfile::TempDir,
}

/// Removes the stubs it holds when dropped, also when preparation fails half-way.
#[derive(Default)]
struct DirStubs(Vec<PathBuf>);

impl Drop for DirStubs {
    fn drop(&mut self) {
        stubs::remove_stubs(&self.0);
    }
}

fn invalid(message: impl Into<String>) -> SandboxError {
    SandboxError::InvalidSpec(message.into())
}

fn c_path(path: &Path, what: &str) -> Result<CString, SandboxError> {
    CString::new(path.as_os_str().as_bytes())
        .map_err(|_| invalid(format!("{what} {path:?} contains a NUL byte")))
}

fn c_bytes(bytes: &[u8], what: &str) -> Result<CString, SandboxError> {
    CString::new(bytes).map_err(|_| {
        invalid(format!(
            "{what} {:?} contains a NUL byte",
            String::from_utf8_lossy(bytes)
        ))
    })
}

fn require_absolute(path: &Path, what: &str) -> Result<(), SandboxError> {
    if path.is_absolute() {
        Ok(())
    } else {
        Err(invalid(format!("{what} {path:?} must be an absolute path")))
    }
}

fn require_dir(path: &Path, what: &str) -> Result<(), SandboxError> {
    match fs::metadata(path) {
        Ok(m) if m.is_dir() => Ok(()),
        Ok(_) => Err(invalid(format!("{what} {path:?} is not a directory"))),
        Err(e) => Err(invalid(format!("{what} {path:?} cannot be used: {e}"))),
    }
}

fn user_ref(value: &IdOrName) -> UserRef {
    match value {
        IdOrName::Id(id) => UserRef::Id(*id),
        IdOrName::Name(name) => UserRef::Name(name.as_bytes().to_vec()),
    }
}

/// Escapes a path for overlayfs' option string (`\`, `,` and `:` are special).
fn escape_overlay_path(path: &[u8], out: &mut Vec<u8>) {
    for &b in path {
        if matches!(b, b'\\' | b',' | b':') {
            out.push(b'\\');
        }
        out.push(b);
    }
}

fn legacy_overlay_options(
    lowers: &[PathBuf],
    upper: &Path,
    work: &Path,
    userxattr: bool,
) -> Option<CString> {
    let mut text = b"lowerdir=".to_vec();
    for (i, lower) in lowers.iter().enumerate() {
        if i > 0 {
            text.push(b':');
        }
        escape_overlay_path(lower.as_os_str().as_bytes(), &mut text);
    }
    text.extend_from_slice(b",upperdir=");
    escape_overlay_path(upper.as_os_str().as_bytes(), &mut text);
    text.extend_from_slice(b",workdir=");
    escape_overlay_path(work.as_os_str().as_bytes(), &mut text);
    if userxattr {
        text.extend_from_slice(b",userxattr");
    }
    // The same as the `fsconfig` path in `child/mod.rs` (why: there).
    text.extend_from_slice(b",redirect_dir=nofollow,metacopy=off,index=off");
    // The kernel copies at most one page of mount data.
    if text.len() >= 4096 {
        None
    } else {
        CString::new(text).ok()
    }
}

fn default_hosts(hostname: &str) -> Vec<u8> {
    format!("127.0.0.1\tlocalhost {hostname}\n::1\tlocalhost ip6-localhost ip6-loopback\n")
        .into_bytes()
}

fn write_scratch_file(dir: &Path, name: &str, contents: &[u8]) -> Result<PathBuf, SandboxError> {
    let path = dir.join(name);
    fs::write(&path, contents).map_err(prepare(format!("writing {}", path.display())))?;
    // Readable by every user inside, whatever the caller's umask.
    fs::set_permissions(&path, fs::Permissions::from_mode(0o644))
        .map_err(prepare(format!("chmod {}", path.display())))?;
    Ok(path)
}

fn mount_targets(spec: &SandboxSpec) -> Result<Vec<(PathBuf, TargetKind)>, SandboxError> {
    let mut targets = vec![
        (PathBuf::from("/proc"), TargetKind::Dir),
        (PathBuf::from("/dev"), TargetKind::Dir),
        (PathBuf::from("/sys"), TargetKind::Dir),
        (PathBuf::from("/etc/hosts"), TargetKind::File),
        (PathBuf::from("/etc/resolv.conf"), TargetKind::File),
    ];
    for mount in &spec.mounts {
        let kind = match mount {
            Mount::Bind { src, .. } => match fs::metadata(src) {
                Ok(m) if m.is_dir() => TargetKind::Dir,
                Ok(_) => TargetKind::File,
                Err(e) => {
                    return Err(invalid(format!(
                        "bind mount source {src:?} cannot be used: {e}"
                    )));
                }
            },
            Mount::Tmpfs { .. } => TargetKind::Dir,
        };
        targets.push((mount.dst().to_path_buf(), kind));
    }
    Ok(targets)
}

pub(crate) fn prepare_run(spec: &SandboxSpec, rootless: bool) -> Result<Prepared, SandboxError> {
    let Some(program) = spec.argv.first() else {
        return Err(invalid("argv is empty: nothing to run"));
    };
    if program.is_empty() {
        return Err(invalid("argv[0] is empty"));
    }
    require_absolute(&spec.cwd, "working directory")?;
    for mount in &spec.mounts {
        require_absolute(mount.dst(), "mount destination")?;
        if mount.dst() == Path::new("/") {
            return Err(invalid("a mount cannot replace the root directory"));
        }
    }
    if spec.hostname.is_empty() || spec.hostname.len() > 64 {
        return Err(invalid(format!(
            "hostname {:?} must be 1 to 64 bytes",
            spec.hostname
        )));
    }
    let id_mapping = rootless.then(IdMapping::for_current_user);
    let targets = mount_targets(spec)?;

    let mut scratch_builder = tempfile::Builder::new();
    scratch_builder.prefix("rbuild-sandbox-");
    let scratch = match &spec.scratch_dir {
        Some(dir) => scratch_builder.tempdir_in(dir),
        // A few tiny files per run: memory is faster than a busy disk, fall back if absent.
        None => scratch_builder
            .tempdir_in("/dev/shm")
            .or_else(|_| scratch_builder.tempdir()),
    }
    .map_err(prepare("creating the scratch directory"))?;

    let hosts = spec
        .hosts
        .clone()
        .unwrap_or_else(|| default_hosts(&spec.hostname));
    let resolv = match &spec.resolv_conf {
        Some(text) => text.clone(),
        None => fs::read("/etc/resolv.conf").unwrap_or_default(),
    };
    let hosts_path = write_scratch_file(scratch.path(), "hosts", &hosts)?;
    let resolv_path = write_scratch_file(scratch.path(), "resolv.conf", &resolv)?;

    let mut dir_stubs = DirStubs::default();
    let root = match &spec.rootfs {
        RootFs::Dir(dir) => {
            require_absolute(dir, "root directory")?;
            require_dir(dir, "root directory")?;
            stubs::create_dir_stubs(dir, &targets, &mut dir_stubs.0)
                .map_err(prepare("creating mount points in the root directory"))?;
            RootPlan::Dir {
                path: c_path(dir, "root directory")?,
            }
        }
        RootFs::Overlay(overlay) => {
            if overlay.lowers.is_empty() {
                return Err(invalid(
                    "an overlay root needs at least one lower directory",
                ));
            }
            for lower in &overlay.lowers {
                require_absolute(lower, "overlay lower directory")?;
                require_dir(lower, "overlay lower directory")?;
            }
            require_absolute(&overlay.upper, "overlay upper directory")?;
            require_dir(&overlay.upper, "overlay upper directory")?;
            require_absolute(&overlay.work, "overlay work directory")?;
            require_dir(&overlay.work, "overlay work directory")?;
            let stub_layer = scratch.path().join("stubs");
            let target = scratch.path().join("root");
            for dir in [&stub_layer, &target] {
                fs::create_dir(dir).map_err(prepare(format!("creating {}", dir.display())))?;
            }
            let mut view_layers = vec![overlay.upper.clone()];
            view_layers.extend(overlay.lowers.iter().cloned());
            stubs::create_overlay_stubs(&view_layers, &stub_layer, &targets)
                .map_err(prepare("creating the mount-point stub layer"))?;
            let mut lowers = vec![stub_layer];
            lowers.extend(overlay.lowers.iter().cloned());
            // Unprivileged overlay mounts cannot use trusted.* xattrs.
            let userxattr = rootless;
            RootPlan::Overlay {
                target: c_path(&target, "scratch directory")?,
                legacy_options: legacy_overlay_options(
                    &lowers,
                    &overlay.upper,
                    &overlay.work,
                    userxattr,
                ),
                lowers: lowers
                    .iter()
                    .map(|l| c_path(l, "overlay lower directory"))
                    .collect::<Result<_, _>>()?,
                upper: c_path(&overlay.upper, "overlay upper directory")?,
                work: c_path(&overlay.work, "overlay work directory")?,
                userxattr,
            }
        }
    };

    let mut mounts = vec![
        MountPlan::Bind {
            src: c_path(&hosts_path, "scratch file")?,
            dst: c"/etc/hosts".into(),
            readonly: false,
            is_dir: false,
        },
        MountPlan::Bind {
            src: c_path(&resolv_path, "scratch file")?,
            dst: c"/etc/resolv.conf".into(),
            readonly: false,
            is_dir: false,
        },
    ];
    for (mount, (_, kind)) in spec.mounts.iter().zip(&targets[5..]) {
        mounts.push(match mount {
            Mount::Bind { src, dst, readonly } => MountPlan::Bind {
                src: c_path(src, "bind mount source")?,
                dst: c_path(dst, "mount destination")?,
                readonly: *readonly,
                is_dir: *kind == TargetKind::Dir,
            },
            Mount::Tmpfs { dst, size } => MountPlan::Tmpfs {
                dst: c_path(dst, "mount destination")?,
                size: size
                    .map(|s| c_bytes(s.to_string().as_bytes(), "size"))
                    .transpose()?,
            },
        });
    }

    let mut envp = Vec::new();
    let mut search_path = None;
    for (key, value) in &spec.env {
        if key.is_empty() || key.as_bytes().contains(&b'=') {
            return Err(invalid(format!(
                "environment variable name {key:?} is empty or contains '='"
            )));
        }
        if key == OsStr::new("PATH") {
            search_path = Some(value.as_bytes().to_vec());
        }
        let mut line = key.as_bytes().to_vec();
        line.push(b'=');
        line.extend_from_slice(value.as_bytes());
        envp.push(c_bytes(&line, "environment variable")?);
    }
    let search_path = match search_path {
        Some(path) => path,
        None => {
            envp.push(c_bytes(format!("PATH={DEFAULT_PATH}").as_bytes(), "PATH")?);
            DEFAULT_PATH.as_bytes().to_vec()
        }
    };

    let argv = spec
        .argv
        .iter()
        .map(|a| c_bytes(a.as_bytes(), "argument"))
        .collect::<Result<Vec<_>, _>>()?;
    let mut plan = ChildPlan {
        root,
        mounts,
        hostname: c_bytes(spec.hostname.as_bytes(), "hostname")?,
        network_none: spec.network == Network::None,
        user: user_ref(&spec.user.user),
        group: spec.user.group.as_ref().map(user_ref),
        cwd: c_path(&spec.cwd, "working directory")?,
        program: argv[0].clone(),
        search_path,
        argv,
        argv_ptrs: Vec::new(),
        envp,
        envp_ptrs: Vec::new(),
        set_home: !spec.env.iter().any(|(k, _)| k == "HOME"),
        can_setgroups: id_mapping.as_ref().is_none_or(IdMapping::can_setgroups),
        tty_gid_mapped: id_mapping.as_ref().is_none_or(|m| m.maps_gid(5)),
        stdout_fd: -1,
        stderr_fd: -1,
        report_fd: -1,
        sync_fd: None,
        stdin_fd: None,
        terminal: None,
    };
    plan.set_pointers();
    Ok(Prepared {
        plan,
        id_mapping,
        _dir_stubs: dir_stubs,
        _scratch: scratch,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlay_options_escape_and_respect_page_limit() {
        let opts = legacy_overlay_options(
            &[PathBuf::from("/a:b"), PathBuf::from("/c,d")],
            Path::new("/u"),
            Path::new("/w"),
            true,
        )
        .unwrap();
        assert_eq!(
            opts.to_bytes(),
            b"lowerdir=/a\\:b:/c\\,d,upperdir=/u,workdir=/w,userxattr,redirect_dir=nofollow,metacopy=off,index=off"
        );
        let many: Vec<PathBuf> = (0..200)
            .map(|i| PathBuf::from(format!("/var/lib/rbuild/layers/{i:064}")))
            .collect();
        assert!(legacy_overlay_options(&many, Path::new("/u"), Path::new("/w"), false).is_none());
    }

    #[test]
    fn invalid_specs_are_rejected_before_anything_runs() {
        let dir = tempfile::tempdir().unwrap();
        let root = RootFs::Dir(dir.path().to_path_buf());
        let empty: [&str; 0] = [];
        assert!(matches!(
            prepare_run(&SandboxSpec::new(root.clone(), empty), false),
            Err(SandboxError::InvalidSpec(_))
        ));
        let relative = SandboxSpec::new(root.clone(), ["true"]).cwd("relative");
        assert!(matches!(
            prepare_run(&relative, false),
            Err(SandboxError::InvalidSpec(_))
        ));
        let bad_env = SandboxSpec::new(root.clone(), ["true"]).env("A=B", "x");
        assert!(matches!(
            prepare_run(&bad_env, false),
            Err(SandboxError::InvalidSpec(_))
        ));
        let nul = SandboxSpec::new(root, ["tr\0ue"]);
        assert!(matches!(
            prepare_run(&nul, false),
            Err(SandboxError::InvalidSpec(_))
        ));
        // Nothing was left behind in the root directory.
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
