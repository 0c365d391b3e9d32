//! Shared helpers for the integration tests: a tiny image, external tools, and a real
//! registry (Debian's `docker-registry`) started on 127.0.0.1 for the test.
#![allow(dead_code)]

pub mod registry;

use std::path::Path;
use std::process::Command;

use rbuild_oci::compress::CompressionOptions;
use rbuild_oci::model::{ContainerConfig, Descriptor, ImageConfig, RootFs};
use rbuild_oci::store::ImageStore;

/// A layer tar holding `files` (path, content), with fixed metadata.
pub fn layer_tar(files: &[(&str, &str)]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (path, content) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(content.len() as u64);
        header.set_mode(0o644);
        header.set_uid(0);
        header.set_gid(0);
        header.set_mtime(1_700_000_000);
        header.set_cksum();
        builder
            .append_data(&mut header, path, content.as_bytes())
            .unwrap();
    }
    builder.into_inner().unwrap()
}

/// Stores a two-layer image (the second layer overrides a file of the first) and returns
/// its manifest descriptor. `seed` makes distinct images.
pub fn tiny_image(store: &ImageStore, seed: &str, docker_media_types: bool) -> Descriptor {
    let options = CompressionOptions::default();
    let base = store
        .add_layer(
            &layer_tar(&[("etc/hello", "hello\n"), ("etc/seed", seed)])[..],
            options,
            !docker_media_types,
        )
        .unwrap();
    let top = store
        .add_layer(
            &layer_tar(&[("etc/hello", "hello again\n")])[..],
            options,
            !docker_media_types,
        )
        .unwrap();
    let config = ImageConfig {
        created: Some("2024-01-01T00:00:00Z".to_string()),
        architecture: "amd64".to_string(),
        os: "linux".to_string(),
        config: Some(ContainerConfig {
            env: Some(vec!["PATH=/usr/bin:/bin".into()]),
            cmd: Some(vec!["cat".into(), "/etc/hello".into()]),
            ..Default::default()
        }),
        rootfs: RootFs {
            kind: "layers".into(),
            diff_ids: vec![base.diff_id.clone(), top.diff_id.clone()],
        },
        ..Default::default()
    };
    store
        .write_image(
            &config,
            vec![base.descriptor, top.descriptor],
            docker_media_types,
        )
        .unwrap()
}

/// Whether `tool` runs; when it does not, tests must fail under CI=true and may skip
/// (printing why) otherwise.
pub fn have_tool(tool: &str) -> bool {
    let found = Command::new(tool).arg("--version").output().is_ok()
        || Command::new(tool).arg("--help").output().is_ok();
    if !found {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{tool} is required when CI=true"
        );
        eprintln!("skipping: {tool} is not installed");
    }
    found
}

/// Runs a command and returns its stdout, failing the test with its stderr on error.
pub fn run(cmd: &mut Command) -> String {
    let output = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        output.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// sha256 of a file, as `sha256:hex`.
pub fn file_digest(path: &Path) -> String {
    rbuild_snapshotter::Digest::of_bytes(&std::fs::read(path).unwrap()).to_string()
}
