//! What ends up in the upper directory (the layer), and extra mounts.

mod common;

use std::fs;

use common::{OverlayFixture, can_run, run, sh};
use rbuild_sandbox::{Exit, Mount, RootFs, SandboxSpec};

#[test]
fn writes_land_in_upper_but_sandbox_plumbing_does_not() {
    if !can_run("writes_land_in_upper_but_sandbox_plumbing_does_not") {
        return;
    }
    let fx = OverlayFixture::new();
    sh(
        &fx,
        "echo data > /root/file; mkdir /newdir; echo 9.9.9.9 h >> /etc/hosts; echo nameserver 1.1.1.1 >> /etc/resolv.conf; \
         touch /dev/shm/x; ls /proc /sys > /dev/null",
    );
    assert_eq!(fx.upper_entries(), ["newdir", "root", "root/file"]);
    assert_eq!(
        fs::read_to_string(fx.upper().join("root/file")).unwrap(),
        "data\n"
    );
}

#[test]
fn writing_next_to_a_stub_keeps_the_image_metadata() {
    if !can_run("writing_next_to_a_stub_keeps_the_image_metadata") {
        return;
    }
    let fx = OverlayFixture::new();
    // /etc exists in the image; /etc/hosts does not (it comes from the stub layer). Adding
    // a file to /etc copies /etc up: it must carry the image's mode, not the stub's.
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(fx.lower().join("etc"), fs::Permissions::from_mode(0o750)).unwrap();
    sh(&fx, "echo x > /etc/added");
    assert_eq!(fx.upper_entries(), ["etc", "etc/added"]);
    let mode = fs::metadata(fx.upper().join("etc"))
        .unwrap()
        .permissions()
        .mode()
        & 0o7777;
    assert_eq!(mode, 0o750);
}

#[test]
fn hosts_and_resolv_conf_are_generated() {
    if !can_run("hosts_and_resolv_conf_are_generated") {
        return;
    }
    let fx = OverlayFixture::new();
    let spec = SandboxSpec::new(fx.rootfs(), ["sh", "-c", "cat /etc/hosts /etc/resolv.conf"])
        .hosts("10.0.0.1 registry\n")
        .resolv_conf("nameserver 127.0.0.1\n");
    let (_, output) = run(&spec);
    assert_eq!(output.stdout(), "10.0.0.1 registry\nnameserver 127.0.0.1\n");
    assert!(fx.upper_entries().is_empty());
}

#[test]
fn bind_tmpfs_and_cache_mounts() {
    if !can_run("bind_tmpfs_and_cache_mounts") {
        return;
    }
    let fx = OverlayFixture::new();
    let host = tempfile::tempdir().unwrap();
    let ro = host.path().join("ro");
    let cache = host.path().join("cache");
    fs::create_dir(&ro).unwrap();
    fs::create_dir(&cache).unwrap();
    fs::write(ro.join("input"), "from host\n").unwrap();
    let single = host.path().join("single.txt");
    fs::write(&single, "one file\n").unwrap();
    let script = "cat /src/input; touch /src/nope 2>/dev/null || echo ro-refused; \
                  echo cached > /var/cache/deep/pkg/hit; \
                  echo scratch > /scratch/t; grep -c ' /scratch tmpfs' /proc/mounts; \
                  cat /config/single.txt";
    let spec = SandboxSpec::new(fx.rootfs(), ["sh", "-c", script])
        .mount(Mount::Bind {
            src: ro.clone(),
            dst: "/src".into(),
            readonly: true,
        })
        .mount(Mount::cache(&cache, "/var/cache/deep/pkg"))
        .mount(Mount::Tmpfs {
            dst: "/scratch".into(),
            size: Some(1 << 20),
        })
        .mount(Mount::Bind {
            src: single,
            dst: "/config/single.txt".into(),
            readonly: true,
        });
    let (outcome, output) = run(&spec);
    assert!(outcome.exit.success(), "{}", output.stderr());
    assert_eq!(output.stdout(), "from host\nro-refused\n1\none file\n");
    assert_eq!(fs::read_to_string(cache.join("hit")).unwrap(), "cached\n");
    assert!(!ro.join("nope").exists());
    // No mount point, tmpfs content or cache content reaches the layer.
    assert!(
        fx.upper_entries().is_empty(),
        "upper: {:?}",
        fx.upper_entries()
    );
}

#[test]
fn missing_bind_source_is_an_invalid_spec() {
    if !can_run("missing_bind_source_is_an_invalid_spec") {
        return;
    }
    let fx = OverlayFixture::new();
    let spec = SandboxSpec::new(fx.rootfs(), ["true"]).mount(Mount::Bind {
        src: "/definitely/not/here".into(),
        dst: "/x".into(),
        readonly: false,
    });
    let err = spec.run(|_, _| {}).unwrap_err();
    assert!(err.to_string().contains("/definitely/not/here"), "{err}");
}

#[test]
fn directory_root_gets_writes_and_loses_its_stubs() {
    if !can_run("directory_root_gets_writes_and_loses_its_stubs") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    common::build_busybox_rootfs(dir.path());
    let before: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    let spec = SandboxSpec::new(
        RootFs::Dir(dir.path().to_path_buf()),
        [
            "sh",
            "-c",
            "echo hi > /root/out; ls /proc/1 > /dev/null; cat /etc/hosts",
        ],
    )
    .mount(Mount::Tmpfs {
        dst: "/mnt/scratch".into(),
        size: None,
    });
    let (outcome, output) = run(&spec);
    assert_eq!(outcome.exit, Exit::Code(0), "{}", output.stderr());
    assert!(output.stdout().contains("localhost"));
    assert_eq!(
        fs::read_to_string(dir.path().join("root/out")).unwrap(),
        "hi\n"
    );
    let mut after: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    let mut before = before;
    before.sort();
    after.sort();
    assert_eq!(before, after, "stubs (proc, dev, sys, mnt) must be removed");
    assert!(!dir.path().join("etc/hosts").exists());
}

#[test]
fn symlinked_mount_targets_resolve_inside_the_root() {
    if !can_run("symlinked_mount_targets_resolve_inside_the_root") {
        return;
    }
    let fx = OverlayFixture::new();
    // Like Debian: /var/run -> /run (absolute). And a hostile /etc/resolv.conf pointing at
    // an absolute path that also exists on the host.
    let host_victim = tempfile::NamedTempFile::new().unwrap();
    fs::write(host_victim.path(), "host content\n").unwrap();
    fs::create_dir_all(fx.lower().join("run")).unwrap();
    fs::create_dir_all(fx.lower().join("var")).unwrap();
    std::os::unix::fs::symlink("/run", fx.lower().join("var/run")).unwrap();
    std::os::unix::fs::symlink(host_victim.path(), fx.lower().join("etc/resolv.conf")).unwrap();

    let script = "grep -c ' /run/lock tmpfs' /proc/mounts; cat /etc/resolv.conf; echo written > /etc/resolv.conf";
    let spec = SandboxSpec::new(fx.rootfs(), ["sh", "-c", script])
        .resolv_conf("nameserver 127.0.0.53\n")
        .mount(Mount::Tmpfs {
            dst: "/var/run/lock".into(),
            size: None,
        });
    let (outcome, output) = run(&spec);
    assert!(outcome.exit.success(), "{}", output.stderr());
    assert_eq!(output.stdout(), "1\nnameserver 127.0.0.53\n");
    assert_eq!(
        fs::read_to_string(host_victim.path()).unwrap(),
        "host content\n",
        "a host file was touched"
    );
    assert!(
        fx.upper_entries().is_empty(),
        "upper: {:?}",
        fx.upper_entries()
    );
}
