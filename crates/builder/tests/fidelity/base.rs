//! The suite's busybox base image, made the way the peer lab's base-images.sh makes the
//! busybox image BuildKit and buildah built on: Debian's static busybox, one absolute
//! symlink per applet from `busybox --list-full`, the lab's /etc/passwd and /etc/group,
//! and the same directories and modes. testdata/fidelity/base.json records the lab image;
//! `base_matches_the_lab_image` checks this one against it.

use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::Path;

/// The lab image's config: `Env` PATH and `Cmd ["sh"]`.
pub const PATH_ENV: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Writes the base's build context (a rootfs/ directory and a FROM-scratch Dockerfile) into `dir`.
pub fn write_context(dir: &Path) -> std::io::Result<()> {
    let root = dir.join("rootfs");
    std::fs::create_dir(&root)?;
    for d in [
        "bin",
        "sbin",
        "usr/bin",
        "usr/sbin",
        "etc",
        "root",
        "home",
        "var/spool/mail",
        "var/www",
        "dev",
        "proc",
        "sys",
    ] {
        std::fs::create_dir_all(root.join(d))?;
    }
    walk_chmod(&root)?;
    std::fs::create_dir(root.join("tmp"))?;
    std::fs::set_permissions(root.join("tmp"), std::fs::Permissions::from_mode(0o1777))?;
    std::fs::copy("/bin/busybox", root.join("bin/busybox"))?;
    std::fs::set_permissions(
        root.join("bin/busybox"),
        std::fs::Permissions::from_mode(0o755),
    )?;
    let list = std::process::Command::new("/bin/busybox")
        .arg("--list-full")
        .output()?;
    for applet in String::from_utf8_lossy(&list.stdout).lines() {
        let at = root.join(applet);
        if applet == "bin/busybox" || at.symlink_metadata().is_ok() {
            continue;
        }
        symlink("/bin/busybox", at)?;
    }
    std::fs::write(
        root.join("etc/passwd"),
        "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n",
    )?;
    std::fs::write(root.join("etc/group"), "root:x:0:\nnogroup:x:65534:\n")?;
    for f in ["etc/passwd", "etc/group"] {
        std::fs::set_permissions(root.join(f), std::fs::Permissions::from_mode(0o644))?;
    }
    std::fs::write(
        dir.join("Dockerfile"),
        format!("FROM scratch\nCOPY rootfs/ /\nENV PATH={PATH_ENV}\nCMD [\"sh\"]\n"),
    )
}

/// Directories 0755, whatever the test's umask.
fn walk_chmod(dir: &Path) -> std::io::Result<()> {
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755))?;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_type()?.is_dir() {
            walk_chmod(&entry.path())?;
        }
    }
    Ok(())
}
